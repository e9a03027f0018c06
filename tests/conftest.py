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


@pytest.fixture
def dealer(db):
    return factories.DealerFactory()


@pytest.fixture
def advisor(dealer):
    return factories.AdvisorFactory(dealer=dealer)


@pytest.fixture
def hq_admin(db):
    return factories.UserFactory(is_staff=True, is_superuser=True, username="hq_admin")
