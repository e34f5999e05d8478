"""The loadtest's own safeguards (the figures are make loadtest's, not the suite's)."""

from __future__ import annotations

import socket

import pytest

from tracker import loadtest


def test_a_port_another_server_holds_is_refused_not_measured(tmp_path):
    # a gunicorn left from an earlier run kept answering on the port: the new one could not
    # bind it, /healthz answered from the old one, and its figures (its database, its code)
    # were printed as the new run's
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert loadtest.port_in_use(port)
        with pytest.raises(SystemExit, match=f"port {port} is in use"):
            loadtest.serve(loadtest._settings(tmp_path), port, 1)
    assert not loadtest.port_in_use(port)
