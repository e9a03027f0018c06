import pytest
from django.db import connection

from tests import factories


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need PostgreSQL; on SQLite they are skipped with the reason."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="需要 PostgreSQL（设置 DATABASE_URL）")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


REFERENCE_DATA = [
    ("leads.migrations.0002_default_grade_cycles", "create_cycles"),
    ("leads.migrations.0004_default_scoring_rules", "create_rules"),
    ("leads.migrations.0006_default_invalid_reasons", "create"),
    ("leads.migrations.0009_assignment_reason_defeat_reasons", "create_defeat_reasons"),
    ("leads.migrations.0010_lifecycle_rules_silence_directed", "create_rules"),
    ("dealers.migrations.0003_seed_work_calendar", "seed"),
]


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Transactional tests flush the database after each test, data migrations included; put
    the reference data (grade cycles, scoring rules, invalid reasons, work calendar) back."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    from importlib import import_module

    from django.apps import apps

    for module, function in REFERENCE_DATA:
        getattr(import_module(module), function)(apps, None)


@pytest.fixture
def dealer(db):
    return factories.DealerFactory()


@pytest.fixture
def advisor(dealer):
    return factories.AdvisorFactory(dealer=dealer)


@pytest.fixture
def hq_admin(db):
    return factories.UserFactory(is_staff=True, is_superuser=True, username="hq_admin")
