"""`make bench`: figures measured in one run against a scratch PostgreSQL database, each next to
a raw baseline measured in the same run (never a timed assertion in the test suite).

Later work adds its figures by appending to FIGURES (name → function returning a dict)."""

import http.client
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import Count

from channels.models import Channel
from channels.services import channel_token_rotate
from dealers.models import Dealer
from leads.models import RawLead, VehicleModel
from leads.services.intake import IntakeLookups, lead_intake

ROWS_COPY = 50_000
ROWS_INSERT = 2_000
LEADS_BATCH = 3_000
BATCH_SIZE = 500
API_CLIENTS = 16
API_REQUESTS = 3_200
API_SECONDS = 60


def _dsn() -> str:
    db = settings.DATABASES["default"]
    return (
        f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} dbname={db['NAME']} "
        f"user={db['USER'] or 'postgres'}"
        + (f" password={db['PASSWORD']}" if db["PASSWORD"] else "")
    )


VALID_PREFIXES = [
    str(p)
    for p in (
        *range(130, 140),
        150,
        151,
        152,
        153,
        155,
        156,
        157,
        158,
        159,
        *range(180, 190),
        198,
        199,
    )
]


class LeadRows:
    """Lead-shaped submissions: real dealer and model codes, 20% repeated customers, 5% bad
    mobiles; the same generator feeds the baselines and the pipeline."""

    def __init__(self, seed: int = 7):
        self.rng = random.Random(seed)
        self.dealers = list(
            Dealer.objects.filter(status=Dealer.Status.ACTIVE).values_list("code", flat=True)
        )
        self.models = list(VehicleModel.objects.values_list("code", flat=True))
        self.issued: list[tuple[str, str]] = []
        self.counter = 0

    def next(self, prefix: str) -> dict:
        self.counter += 1
        roll = self.rng.random()
        if roll < 0.05:
            mobile, dealer = f"12{self.rng.randrange(10**8, 10**9)}", self.rng.choice(self.dealers)
        elif roll < 0.25 and self.issued:
            mobile, dealer = self.rng.choice(self.issued)
        else:
            head = self.rng.choice(VALID_PREFIXES)
            mobile = f"{head}{self.rng.randrange(10**7, 10**8)}"
            dealer = self.rng.choice(self.dealers)
            self.issued.append((mobile, dealer))
        return {
            "external_id": f"{prefix}-{self.counter}",
            "mobile": mobile,
            "name": self.rng.choice(["张伟", "王芳", "李娜", "刘洋", "陈静"]),
            "dealer_code": dealer,
            "model_code": self.rng.choice(self.models),
            "city": "北京",
            "purchase_timeframe": self.rng.choice(["2w", "1m", "3m", "6m"]),
            "consent": True,
        }


def _tuple(row: dict) -> tuple:
    return (
        row["external_id"],
        row["mobile"],
        row["name"],
        row["dealer_code"],
        row["model_code"],
        row["city"],
        json.dumps(row, ensure_ascii=False),
    )


SCRATCH = """CREATE TEMP TABLE bench_rows (external_id text, mobile text, name text,
dealer_code text, model_code text, city text, payload jsonb)"""


def bench_copy(rows: LeadRows) -> dict:
    data = [_tuple(rows.next("C")) for _ in range(ROWS_COPY)]
    with psycopg.connect(_dsn()) as conn, conn.cursor() as cur:
        cur.execute(SCRATCH)
        start = time.perf_counter()
        with cur.copy("COPY bench_rows FROM STDIN") as copy:
            for row in data:
                copy.write_row(row)
        conn.commit()
        elapsed = time.perf_counter() - start
    return {"copy_rows_per_s": ROWS_COPY / elapsed}


def bench_insert_commit(rows: LeadRows) -> dict:
    data = [_tuple(rows.next("I")) for _ in range(ROWS_INSERT)]
    with psycopg.connect(_dsn(), autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(SCRATCH)
        start = time.perf_counter()
        for row in data:
            cur.execute("INSERT INTO bench_rows VALUES (%s, %s, %s, %s, %s, %s, %s)", row)
        elapsed = time.perf_counter() - start
    return {"insert_commit_rows_per_s": ROWS_INSERT / elapsed}


def bench_intake_batch(rows: LeadRows, channel: Channel) -> dict:
    data = [rows.next("B") for _ in range(LEADS_BATCH)]
    start = time.perf_counter()
    for offset in range(0, len(data), BATCH_SIZE):
        lookups = IntakeLookups()
        for item in data[offset : offset + BATCH_SIZE]:
            lead_intake(channel=channel, data=item, source=RawLead.Source.API, lookups=lookups)
    elapsed = time.perf_counter() - start
    outcomes = dict(
        RawLead.objects.filter(external_id__startswith="B-")
        .order_by()
        .values_list("outcome")
        .annotate(n=Count("id"))
    )
    return {"intake_batch_leads_per_s": LEADS_BATCH / elapsed, "intake_batch_outcomes": outcomes}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_api_single(rows: LeadRows, channel: Channel) -> dict:
    token = channel_token_rotate(channel=channel)
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "CHANNEL_RATE": "1000000/min",
        "LOG_LEVEL": "WARNING",
    }
    workers = str(max(2, (os.cpu_count() or 2) * 2))
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "-w",
            workers,
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=settings.BASE_DIR,
    )
    try:
        _wait_for(port)
        payloads = [json.dumps(rows.next("A")).encode() for _ in range(API_REQUESTS)]
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        deadline = time.perf_counter() + API_SECONDS
        cursor = iter(payloads)

        def client():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            while time.perf_counter() < deadline:
                with lock:
                    body = next(cursor, None)
                if body is None:
                    break
                started = time.perf_counter()
                try:
                    conn.request(
                        "POST",
                        "/api/v1/leads/",
                        body=body,
                        headers={
                            "Authorization": f"Token {token}",
                            "Content-Type": "application/json",
                            "X-Forwarded-Proto": "https",
                        },
                    )
                    response = conn.getresponse()
                    answer = response.read()
                    ok = response.status == 201
                except OSError as error:
                    ok, conn = False, http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    response, answer = error, b""
                took = time.perf_counter() - started
                with lock:
                    latencies.append(took)
                    if not ok:
                        errors.append(f"{getattr(response, 'status', response)} {answer[:200]!r}")
            conn.close()

        threads = [threading.Thread(target=client) for _ in range(API_CLIENTS)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(timeout=30)
    latencies.sort()
    return {
        "api_single_leads_per_s": len(latencies) / elapsed,
        "api_single_p50_ms": statistics.median(latencies) * 1000,
        "api_single_p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "api_single_requests": len(latencies),
        "api_single_errors": len(errors),
        "api_single_error_samples": sorted(set(errors))[:5],
        "api_clients": API_CLIENTS,
        "api_workers": int(workers),
    }


def _wait_for(port: int) -> None:
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def run(out: Path, only: set[str] | None = None) -> dict:
    """Seed the demo network into this (scratch) database and measure every figure (or only
    the named groups: intake, api, dispatch …)."""
    call_command("migrate", verbosity=0)
    call_command("seed_demo", leads=0, verbosity=0, if_empty=True)
    channel = (
        Channel.objects.filter(level=Channel.Level.SOURCE, is_active=True).order_by("code").first()
    )
    figures: dict = {"database": connection.vendor, "cpus": os.cpu_count()}

    def wanted(group: str) -> bool:
        return not only or group in only

    # Each step gets its own generator, so that its 20% repeats are customers it sent itself.
    if wanted("intake") or wanted("api"):
        figures.update(bench_copy(LeadRows(seed=1)))
        figures.update(bench_insert_commit(LeadRows(seed=2)))
    if wanted("intake"):
        figures.update(bench_intake_batch(LeadRows(seed=3), channel))
        figures["intake_batch_vs_copy"] = (
            figures["intake_batch_leads_per_s"] / figures["copy_rows_per_s"]
        )
    connection.close()
    if wanted("api"):
        figures.update(bench_api_single(LeadRows(seed=4), channel))
        figures["api_single_vs_insert_commit"] = (
            figures["api_single_leads_per_s"] / figures["insert_commit_rows_per_s"]
        )
    if wanted("dispatch"):
        from leads.bench_dispatch import bench_dispatch_latency, bench_sweep

        figures.update(bench_dispatch_latency())
        figures.update(bench_sweep())
    if wanted("excel"):
        from leads.bench_excel import bench_excel

        figures.update(bench_excel())
    if wanted("reports"):
        from reports.bench import bench_reports

        figures.update(bench_reports())
    out.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return figures


GOALS = [
    ("intake_batch_vs_copy", ">=", 0.15, "批量入库 ≥ 0.15 × COPY"),
    ("api_single_vs_insert_commit", ">=", 0.25, "单条接口 ≥ 0.25 × INSERT+commit"),
    ("api_single_p99_ms", "<=", 100, "单条接口 p99 ≤ 100 ms"),
    ("api_single_errors", "<=", 0, "接口错误 = 0"),
    ("dispatch_p95_s", "<=", 2, "派发延迟 p95 ≤ 2 s"),
    ("sweep_100k_seconds", "<=", 60, "10万条 08:30 扫描 ≤ 60 s"),
    ("excel_100k_seconds", "<=", 20, "Excel 10万行导入（解析到提交）≤ 20 s"),
    ("excel_peak_rss_mb", "<=", 1024, "Excel 10万行导入峰值内存 ≤ 1024 MB"),
    ("excel_vs_peer", ">=", 2.5, "Excel 导入 ≥ 2.5 × import-export ModelResource"),
    ("report_month_10m_seconds", "<=", 1, "KPI看板 一个月·全部经销商·1000万线索 ≤ 1 s"),
    ("report_month_3m_seconds", "<=", 1, "KPI看板 一个月·全部经销商·300万线索 ≤ 1 s"),
]


def table(figures: dict) -> str:
    lines = [f"{'figure':34} {'value':>14}"]
    for key, value in figures.items():
        if isinstance(value, float):
            lines.append(f"{key:34} {value:14.3f}")
        elif isinstance(value, int):
            lines.append(f"{key:34} {value:14d}")
        else:
            lines.append(f"{key:34} {value!s:>14}")
    lines.append("")
    for key, op, goal, label in GOALS:
        if key not in figures:
            continue
        value = figures.get(key)
        met = value is not None and (value >= goal if op == ">=" else value <= goal)
        lines.append(
            f"{'MET ' if met else 'MISS'} {label}: {value:.3f}"
            if value is not None
            else f"MISS {label}: n/a"
        )
    return "\n".join(lines)
