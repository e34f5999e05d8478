"""The API against its own contract (issue 13, point 3): Schemathesis, run on the tracker
served by gunicorn (as `make run` serves it) over a database with an item of every kind
(test_route_permissions.world), with a personal API token of each role.

Every operation of /api/v1/openapi.json gets generated requests, valid and invalid; every
response must not be a server error and must match the document (status code, content
type, headers, body schema), invalid requests must be refused, requests without the token
must be refused, and undocumented methods must answer 405. Only positive_data_acceptance is
left out: the registration's rules (a unit that exists, dates in order, a number not yet
used) cannot be written in a JSON Schema, so a request the schema allows may still be
refused, as the document says (409, 422).

Kept short for `make test`: the fuzzing and stateful phases with a few examples per
operation for every role, the coverage phase (boundary and edge values of every parameter)
for one role that sees everything; a fixed seed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

# every role that has API tokens: a deputy has none (test_deputies: the API refuses one)
from test_route_permissions import STAFF as ROLES
from test_route_permissions import api_token, world  # noqa: F401 (world is a fixture)

ROOT = Path(__file__).resolve().parents[1]
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
EXAMPLES = 5
SEED = 1
WITH_COVERAGE = {"liaison"}

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(app, port: int, log) -> subprocess.Popen:
    """gunicorn on the test's database, files and pinned day, with no rate limit to hit."""
    config = app.config
    env = {
        **os.environ,
        "TRACKER_DATABASE_URL": config["DATABASE_URL"],
        "TRACKER_INDEX_DIR": config["INDEX_DIR"],
        "TRACKER_UPLOAD_DIR": config["UPLOAD_DIR"],
        "TRACKER_SECRET_KEY": "contract",
        "TRACKER_TODAY": config["TODAY"],
        "TRACKER_JOB_SPAWN": "false",
        "TRACKER_API_RATE_LIMIT": "1000000",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4"]
        + ["--bind", f"127.0.0.1:{port}", "--timeout", "120", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait_until_up(url: str, server: subprocess.Popen, log: Path) -> None:
    for _ in range(600):
        if server.poll() is not None:
            pytest.fail(f"gunicorn stopped:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"gunicorn did not answer:\n{log.read_text(errors='replace')}")


def _run(spec_url: str, role: str, token: str, folder: Path) -> dict:
    phases = "coverage,fuzzing,stateful" if role in WITH_COVERAGE else "fuzzing,stateful"
    report = folder / f"{role}.json"
    result = subprocess.run(
        [str(SCHEMATHESIS), "run", spec_url]
        + ["--header", f"Authorization: Bearer {token}"]
        + ["--phases", phases, "--max-examples", str(EXAMPLES), "--seed", str(SEED)]
        + ["--checks", "all", "--exclude-checks", "positive_data_acceptance"]
        + ["--no-shrink", "--generation-database", "none", "--workers", "1"]
        + ["--report", "json", "--report-json-path", str(report)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=900,
    )
    answer = json.loads(report.read_text()) if report.exists() else {}
    answer["output"] = result.stdout + result.stderr
    answer["returncode"] = result.returncode
    return answer


def test_every_operation_keeps_to_the_document_for_every_role(app, world, tmp_path):  # noqa: F811
    with app.app_context():
        tokens = {role: api_token(role) for role in ROLES}
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        server = _serve(app, port, output)
    spec_url = f"http://127.0.0.1:{port}/api/v1/openapi.json"
    try:
        _wait_until_up(spec_url, server, log)
        with ThreadPoolExecutor(max_workers=2) as pool:
            runs = dict(
                zip(
                    ROLES,
                    pool.map(lambda role: _run(spec_url, role, tokens[role], tmp_path), ROLES),
                    strict=True,
                )
            )
    finally:
        server.terminate()
        server.wait(timeout=60)
    lines = []
    for role, run in runs.items():
        cases = run.get("test_cases", {})
        operations = run.get("operations", {})
        lines.append(
            f"{role}: {operations.get('tested')} operations, {cases.get('generated')} cases, "
            f"{cases.get('with_failures')} failing, {len(run.get('errors', []))} errors"
        )
    summary = "\n".join(lines)
    print("schemathesis:\n" + summary)
    for role, run in runs.items():
        assert run["returncode"] == 0 and run.get("failures") == [], (
            f"{role}:\n{run['output'][-6000:]}"
        )
        assert run["operations"]["tested"] == run["operations"]["total"] >= 11, summary
        assert run["test_cases"]["generated"] >= 50, summary
    assert "Traceback" not in log.read_text(errors="replace")
