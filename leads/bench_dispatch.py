"""Dispatch figures for `make bench`: latency through the running task cluster, and the
morning sweep of 100k leads all due at 08:30."""

import datetime
import os
import subprocess
import sys
import time

from django.conf import settings
from django.db import connection
from django.utils import timezone

from channels.models import Channel
from dealers.models import Dealer, DispatchWindow, Region
from leads.models import Customer, Lead, Status
from leads.services.dispatch import leads_dispatch_due
from leads.services.intake import IntakeLookups, lead_intake

SWEEP_LEADS = 100_000
LATENCY_LEADS = 300


def _always_open_dealers(count: int) -> list[Dealer]:
    """Bench dealers open all day, every day (holidays too), so the figure does not depend on
    the hour the bench runs."""
    region = Region.objects.order_by("pk").first() or Region.objects.create(code="B", name="B")
    dealers = []
    for i in range(count):
        dealer, _created = Dealer.objects.get_or_create(
            code=f"BENCH{i:03d}",
            defaults={
                "name": f"基准经销商{i}",
                "region": region,
                "province": "北京",
                "city": "北京",
            },
        )
        DispatchWindow.objects.filter(dealer=dealer).delete()
        DispatchWindow.objects.bulk_create(
            DispatchWindow(
                dealer=dealer,
                weekday=day,
                opens_at=datetime.time(0, 0),
                closes_at=datetime.time(23, 59, 59),
            )
            for day in range(8)
        )
        dealers.append(dealer)
    return dealers


def _trusted_channel() -> Channel:
    parent = Channel.objects.filter(level=2).order_by("pk").first()
    channel, _created = Channel.objects.get_or_create(
        code="BENCH_TRUSTED",
        defaults={
            "name": "基准直连渠道",
            "level": 3,
            "parent": parent,
            "needs_cleansing": False,
            "score_weight": 100,
        },
    )
    return channel


def bench_dispatch_latency() -> dict:
    """Leads qualified at intake are dispatched by the task cluster (enqueued on commit)."""
    dealers = _always_open_dealers(5)
    channel = _trusted_channel()
    env = {**os.environ}
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(3)  # let the workers start
        lookups = IntakeLookups()
        ids = []
        for i in range(LATENCY_LEADS):
            result = lead_intake(
                channel=channel,
                source="api",
                lookups=lookups,
                data={
                    "external_id": f"LAT-{i}",
                    "mobile": f"1590000{i:04d}",
                    "dealer_code": dealers[i % 5].code,
                    "consent": True,
                    "name": "基准",
                    "city": "北京",
                    "purchase_timeframe": "2w",
                },
            )
            ids.append(result.lead_id)
        deadline = time.time() + 120
        while time.time() < deadline:
            waiting = Lead.objects.filter(pk__in=ids, status=Status.QUALIFIED).count()
            if not waiting:
                break
            time.sleep(0.5)
    finally:
        cluster.terminate()
        try:
            cluster.wait(timeout=30)
        except subprocess.TimeoutExpired:
            cluster.kill()
    rows = Lead.objects.filter(pk__in=ids, status=Status.DISPATCHED).values_list(
        "eligible_at", "dispatched_at"
    )
    delays = sorted((dispatched - eligible).total_seconds() for eligible, dispatched in rows)
    if not delays:
        return {"dispatch_p95_s": None, "dispatch_dispatched": 0}
    return {
        "dispatch_p95_s": delays[max(0, int(len(delays) * 0.95) - 1)],
        "dispatch_p50_s": delays[len(delays) // 2],
        "dispatch_dispatched": len(delays),
        "dispatch_leads": LATENCY_LEADS,
    }


def bench_sweep() -> dict:
    """100k qualified leads due at 08:30, one sweep call."""
    dealers = _always_open_dealers(20)
    channel = _trusted_channel()
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    due = timezone.make_aware(datetime.datetime.combine(today, datetime.time(8, 30)), tz)
    created = due - datetime.timedelta(hours=8)
    Customer.objects.bulk_create(
        [
            Customer(mobile=f"1580{i:07d}", name="基准", created_at=created)
            for i in range(SWEEP_LEADS)
        ],
        batch_size=5000,
    )
    customer_ids = list(
        Customer.objects.filter(mobile__startswith="1580")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    Lead.objects.bulk_create(
        [
            Lead(
                customer_id=cid,
                dealer=dealers[i % 20],
                channel=channel,
                status=Status.QUALIFIED,
                consent_dealer=dealers[i % 20],
                consent_at=created,
                score=90,
                created_at=created,
                qualified_at=created,
                dispatch_at=due,
                eligible_at=due,
            )
            for i, cid in enumerate(customer_ids)
        ],
        batch_size=5000,
    )
    connection.close()
    start = time.perf_counter()
    totals = leads_dispatch_due(now=due + datetime.timedelta(seconds=30))
    elapsed = time.perf_counter() - start
    return {
        "sweep_100k_seconds": elapsed,
        "sweep_dispatched": totals["dispatched"],
        "sweep_leads_per_s": totals["dispatched"] / elapsed,
    }
