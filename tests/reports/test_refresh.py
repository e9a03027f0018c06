"""The rollup refresh: idempotent, incremental through the audit trail, nightly in full,
logged, scheduled."""

import datetime

import pytest
import time_machine
from django.core.management import call_command

from leads import services
from leads.models import FollowUp, Lead
from reports import selectors as s
from reports.models import LeadRollup, LeadTiming, ReasonRollup, RollupRun
from reports.services import (
    changed_days,
    rollups_refresh_nightly,
    rollups_refresh_range,
    rollups_refresh_recent,
)
from tests.reports.conftest import SH

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 25, 12, 0, tzinfo=SH)


def _snapshot():
    fields = [f.name for f in LeadRollup._meta.fields if f.name != "id"]
    return (
        sorted(tuple(str(v) for v in row) for row in LeadRollup.objects.values_list(*fields)),
        ReasonRollup.objects.count(),
        LeadTiming.objects.count(),
    )


def test_refreshing_twice_gives_the_same_rows(refreshed):
    before = _snapshot()

    rollups_refresh_range(first=datetime.date(2026, 9, 1), last=datetime.date(2026, 11, 30))

    assert _snapshot() == before
    assert before[0]


def test_a_refresh_is_logged_with_its_days_and_rows(refreshed):
    run = RollupRun.objects.get()

    assert run.mode == RollupRun.Mode.MANUAL and run.error == ""
    assert (run.day_from, run.day_to, run.days) == (
        datetime.date(2026, 9, 1),
        datetime.date(2026, 11, 30),
        91,
    )
    assert (
        run.rows
        == LeadRollup.objects.count() + ReasonRollup.objects.count() + LeadTiming.objects.count()
    )
    assert run.finished_at is not None and run.seconds >= 0


def test_a_failed_refresh_is_logged_and_changes_nothing(refreshed, monkeypatch):
    before = _snapshot()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("reports.services._refresh_month_timing", broken)
    with pytest.raises(RuntimeError):
        rollups_refresh_range(first=datetime.date(2026, 10, 1), last=datetime.date(2026, 10, 2))

    failed = RollupRun.objects.order_by("-started_at").first()
    assert "disk full" in failed.error and failed.finished_at is None
    assert _snapshot() == before


def test_recent_refresh_recomputes_a_day_whose_lead_changed_through_a_service(
    refreshed, network_query
):
    """A follow-up today on L8 (created 10-12) changes October: the 5-minute refresh finds the
    day from the lead's audit event, with no hook in the pipeline."""
    with time_machine.travel(NOW, tick=False):
        services.lead_follow_up_record(
            lead_id=refreshed.l8.pk,
            method=FollowUp.Method.PHONE,
            result=FollowUp.Result.REACHED,
            actor=refreshed.c1.user,
        )
        run = rollups_refresh_recent()

    assert run.day_from == datetime.date(2026, 10, 12) and run.days == 3
    assert s.kpi_totals(network_query())["followed"] == 5
    assert s.kpi_totals(network_query())["followed_24h"] == 3  # weeks after its assignment


def test_changed_days_are_the_lead_creation_and_raw_receipt_days(refreshed):
    with time_machine.travel(NOW, tick=False):
        services.lead_follow_up_record(
            lead_id=refreshed.l3.pk,
            method=FollowUp.Method.PHONE,
            result=FollowUp.Result.INVITED,
            actor=refreshed.b1.user,
        )
    days = changed_days(NOW - datetime.timedelta(minutes=1))

    # L3 was created on 10-06 (local); its raw leads came on 10-06 and 10-08.
    assert days == {datetime.date(2026, 10, 6), datetime.date(2026, 10, 8)}


def test_recent_refresh_covers_today_and_yesterday(refreshed):
    with time_machine.travel(NOW, tick=False):
        run = rollups_refresh_recent()

    assert run.mode == RollupRun.Mode.RECENT
    assert (run.day_from, run.day_to) == (datetime.date(2026, 11, 24), datetime.date(2026, 11, 25))


def test_a_bulk_update_outside_the_services_waits_for_the_nightly_recompute(
    refreshed, network_query
):
    with time_machine.travel(NOW, tick=False):
        Lead.objects.filter(pk=refreshed.l7.pk).update(status="invalid")  # no audit event
        rollups_refresh_recent()
        stale = s.kpi_totals(network_query())["invalid"]
        run = rollups_refresh_nightly()

    assert stale == 1
    assert s.kpi_totals(network_query())["invalid"] == 2
    assert run.mode == RollupRun.Mode.NIGHTLY and run.days == 92


def test_the_tasks_run_the_refreshes(refreshed):
    from reports.tasks import (
        reports_rollup_nightly_task,
        reports_rollup_refresh_range_task,
        reports_rollup_refresh_task,
    )

    with time_machine.travel(NOW, tick=False):
        assert reports_rollup_refresh_task()["days"] >= 2
        assert reports_rollup_nightly_task()["days"] == 92
    ranged = reports_rollup_refresh_range_task("2026-10-01", "2026-10-31", refreshed.c1.user_id)

    assert ranged["days"] == 31
    assert RollupRun.objects.get(pk=ranged["run"]).triggered_by == refreshed.c1.user


def test_the_schedules_are_declared(db):
    from django_q.models import Schedule

    call_command("setup_schedules", stdout=None)

    every_five = Schedule.objects.get(name="reports-rollup-refresh")
    nightly = Schedule.objects.get(name="reports-rollup-nightly")
    assert (every_five.func, every_five.minutes) == ("reports.tasks.reports_rollup_refresh_task", 5)
    assert (nightly.schedule_type, nightly.cron) == (Schedule.CRON, "30 2 * * *")


def test_the_refresh_command(refreshed, capsys):
    call_command("reports_refresh", "--from", "2026-10-01", "--to", "2026-10-03")

    assert "2026-10-01 ~ 2026-10-03" in capsys.readouterr().out
