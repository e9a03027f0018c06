"""Row locks hold under real concurrency (PostgreSQL; SQLite ignores select_for_update)."""

import threading

import pytest
from django.db import connection

from config.errors import DomainError
from leads import services
from leads.models import Lead, Status
from tests.factories import AdvisorFactory, lead_at_dealer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_managers_assigning_one_lead_at_once_assign_it_once():
    lead = lead_at_dealer(Status.DISPATCHED)
    advisors = [AdvisorFactory(dealer=lead.dealer) for _ in range(8)]
    barrier = threading.Barrier(len(advisors))
    outcomes: list[str] = []

    def assign(advisor):
        try:
            barrier.wait()
            services.lead_assign(lead_id=lead.pk, advisor_id=advisor.pk)
            outcomes.append("ok")
        except DomainError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=assign, args=(a,)) for a in advisors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    lead.refresh_from_db()
    assert sorted(outcomes) == ["ok"] + ["refused"] * 7
    assert lead.status == Status.ASSIGNED
    assert lead.events.filter(action="assign").count() == 1
    assert Lead.objects.filter(pk=lead.pk, advisor__isnull=False).count() == 1
