"""Settings and servers shared by the whole suite."""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.pgcluster import Cluster, start_cluster

# Property tests check behaviour, never speed: a busy CI machine must not fail
# them on hypothesis's per-example deadline (speed lives in tests/bench/).
settings.register_profile("tillkit", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("tillkit")

PG_TEMPLATE = "tillkit_template"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A PostgreSQL cluster on 127.0.0.1 for this test session (each xdist worker has its own),
    with a migrated template database. Started from the Debian `postgresql` package that
    `make setup` installs; a test that needs it is never skipped."""
    from acquirer.storage.postgres import migrate_postgres

    cluster = start_cluster(os.environ.get("TILLKIT_PG_DIR"))
    try:
        cluster.psql(f'CREATE DATABASE "{PG_TEMPLATE}"')
        migrate_postgres(cluster.url(PG_TEMPLATE))
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> str:
    """A fresh, migrated database of its own for one test."""
    return pg_cluster.create_database(template=PG_TEMPLATE)
