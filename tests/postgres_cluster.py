"""The PostgreSQL server of the test session (``tracker.pgcluster``).

``TRACKER_TEST_POSTGRES_URL`` (a server URL) uses a running server, on which the tests
create and drop databases of their own; otherwise a throwaway cluster is started from the
installed binaries. Without either, the tests that need PostgreSQL are skipped: they never
are where the binaries exist.
"""

from __future__ import annotations

import os

import pytest

from tracker.pgcluster import Cluster, binaries

ENV = "TRACKER_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def pg_server():
    """The session's server (a test module takes it as ``pg_server = pg_server``)."""
    url = os.environ.get(ENV)
    if not url and binaries() is None:
        pytest.skip(f"PostgreSQL is not installed (no initdb/pg_ctl, no {ENV})")
    cluster = Cluster(url)
    yield cluster
    cluster.stop()
