"""Moving the test database's schema to a migration and back, for tests of a data migration."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def migrate_to_latest() -> None:
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.fixture
def latest_schema_after():
    """The tests after this one run on the latest schema again."""
    yield
    migrate_to_latest()
