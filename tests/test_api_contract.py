"""The API against its own contract (issue 13, point 3): Schemathesis, run in the test's
process on the tracker's WSGI app (the app gunicorn serves, without the sockets) over a
database with an item of every kind (test_route_permissions.world), with a personal API
token of each role, one test per role.

Every operation of /api/v1/openapi.json gets generated requests, valid and invalid; every
response must not be a server error and must match the document (status code, content
type, headers, body schema), invalid requests must be refused, requests without the token
must be refused, and undocumented methods must answer 405. Only positive_data_acceptance is
left out: the registration's rules (a unit that exists, dates in order, a number not yet
used) cannot be written in a JSON Schema, so a request the schema allows may still be
refused, as the document says (409, 422). An exception in a view is not turned into a
500 here (the test app propagates it): Schemathesis records it as an error, and a run with
an error fails.

Kept short for `make test`: the fuzzing and stateful phases with a few examples per
operation for every role, the coverage phase (boundary and edge values of every parameter)
for one role that sees everything; a fixed seed. (Run in a process of its own, with a
gunicorn to serve it, each role cost twice the CPU: most of it starting Schemathesis,
gunicorn and their imports, and the HTTP between them.)"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema
from schemathesis.transport.wsgi import WSGITransport
from test_route_permissions import STAFF, api_token, world  # noqa: F401 (world is a fixture)

# every role that has API tokens, once: a deputy has none (test_deputies: the API refuses
# one); the clerks of other units (clerk-health, clerk-civil) get the clerk's answers for
# their own unit's items, which test_route_permissions and test_api check
ROLES = [user for user in STAFF if user not in ("clerk-health", "clerk-civil")]

EXAMPLES = 5
SEED = 1
WITH_COVERAGE = {"liaison"}

pytestmark = pytest.mark.slow


@dataclass
class Outcome:
    """What a run found, as Schemathesis's JSON report counts it."""

    documented: set[str] = field(default_factory=set)  # the document's operations
    operations: set[str] = field(default_factory=set)  # those tested
    cases: int = 0
    failures: Counter = field(default_factory=Counter)  # "operation: check" → failing cases
    errors: list[str] = field(default_factory=list)
    finished: bool = False

    def summary(self, role: str) -> str:
        return (
            f"{role}: {len(self.operations)} operations, {self.cases} cases, "
            f"{sum(self.failures.values())} failing, {len(self.errors)} errors"
        )


def _config(role: str, token: str) -> SchemathesisConfig:
    """What `schemathesis run --header … --phases … --max-examples 5 --seed 1 --checks all
    --exclude-checks positive_data_acceptance --no-shrink --generation-database none
    --workers 1` sets."""
    config = SchemathesisConfig()
    config.update(seed=SEED, max_failures=None)
    project = config.projects.override
    project.update(headers={"Authorization": f"Bearer {token}"}, workers=1)
    phases = (
        ["coverage", "fuzzing", "stateful"] if role in WITH_COVERAGE else ["fuzzing", "stateful"]
    )
    project.phases.update(phases=phases)
    project.checks.update(
        included_check_names=["all"], excluded_check_names=["positive_data_acceptance"]
    )
    project.generation.update(max_examples=EXAMPLES, no_shrink=True, database="none")
    return config


def _run(app, role: str, token: str) -> Outcome:
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", app, config=_config(role, token)
    )
    outcome = Outcome()
    labels = {result.ok().label for result in schema.get_all_operations()}
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            if event.status != Status.SKIP and recorder.label in labels:
                outcome.operations.add(recorder.label)
            outcome.cases += len(recorder.cases)
            for checks in recorder.checks.values():
                for check in checks:
                    if check.status == Status.FAILURE:
                        outcome.failures[f"{recorder.label}: {check.name}"] += 1
                        failure = check.failure_info.failure if check.failure_info else None
                        outcome.errors.append(f"{recorder.label} {check.name}: {failure}")
        elif isinstance(event, events.NonFatalError):
            outcome.errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            outcome.errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            outcome.finished = True
    outcome.documented = labels
    return outcome


# Settings of a network connection, which the in-process transport drops when it is given a
# session but passes on to werkzeug's client (which refuses them) for the request of the
# ignored_auth check, sent without one (Schemathesis 4.32).
SOCKET_SETTINGS = ("max_redirects", "verify", "cert", "proxies")


@pytest.fixture
def in_process_probes(monkeypatch):
    send = WSGITransport.send

    def without_socket_settings(self, case, *, session=None, **kwargs):
        for name in SOCKET_SETTINGS:
            kwargs.pop(name, None)
        return send(self, case, session=session, **kwargs)

    monkeypatch.setattr(WSGITransport, "send", without_socket_settings)


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_keeps_to_the_document(app, world, role, in_process_probes):  # noqa: F811
    app.config["API_RATE_LIMIT"] = 1_000_000  # the limit is test_api's; nothing here hits it
    with app.app_context():
        token = api_token(role)
    outcome = _run(app, role, token)
    summary = outcome.summary(role)
    print("schemathesis:", summary)
    assert outcome.finished, summary
    assert not outcome.errors, summary + "\n" + "\n".join(outcome.errors[:20])
    assert not outcome.failures, summary
    assert outcome.operations == outcome.documented and len(outcome.documented) >= 11, summary
    assert outcome.cases >= (1000 if role in WITH_COVERAGE else 50), summary
