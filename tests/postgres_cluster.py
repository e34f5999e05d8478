"""The PostgreSQL server of the test session (``tracker.pgcluster``).

``TRACKER_TEST_POSTGRES_URL`` (a server URL) uses a running server, on which the tests
create and drop databases of their own; otherwise a throwaway cluster is started from the
installed binaries (Debian: ``apt-get install postgresql-15 postgresql-15-rum``). Without
either, the tests that need PostgreSQL fail and say what to install: every test runs. The
throwaway cluster's files are in memory when there is room (scratch.py).
"""

from __future__ import annotations

import os

import pytest
from scratch import memory_folder

from tracker.pgcluster import Cluster, binaries

ENV = "TRACKER_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def pg_server():
    """The session's server (a test module takes it as ``pg_server = pg_server``)."""
    url = os.environ.get(ENV)
    if not url and binaries() is None:
        pytest.fail(
            f"these tests need PostgreSQL: install it (Debian: apt-get install postgresql-15 "
            f"postgresql-15-rum) or set {ENV} to a server they may create databases on"
        )
    folder = memory_folder()
    cluster = Cluster(url, parent=str(folder) if folder else None)
    yield cluster
    cluster.stop()
