"""The suite's own rules (issue 11, point 6).

- Every test runs: none is skipped or expected to fail, and a skip at run time (a missing
  tool or package) fails the suite (conftest's pytest_runtest_makereport).
- A test that starts processes itself is marked ``slow`` (``make test-fast`` leaves them
  out; ``make test`` and CI run them).
- No test asserts on how long something took: speed is the benchmark's (``make bench``).
- The template databases that the ``app`` fixture copies hold the models' schema, the
  default vocabularies and, for ``people``, the seven standard users.
- An app a test closes is freed: nothing keeps the apps of a worker's session in memory.
- The tests' files and the throwaway PostgreSQL cluster are in memory when there is room;
  the collector leaves the objects of the session's start alone.
"""

from __future__ import annotations

import ast
import functools
import gc
import os
import weakref
from pathlib import Path
from types import SimpleNamespace

import pytest
import sources
from conftest import ON_POSTGRES, close, new_app, pytest_runtest_makereport
from scratch import memory_folder
from sqlalchemy import create_engine, inspect, text

from tracker.extensions import db
from tracker.models import User, VocabularyTerm
from tracker.services.pgsearch import schema

TESTS = Path(__file__).resolve().parent
SKIPS = {"skip", "skipif", "xfail", "importorskip"}
CLOCKS = {"time", "monotonic", "perf_counter", "process_time", "thread_time"}
PROCESSES = {"multiprocessing", "subprocess", "Process", "get_context", "Popen", "spawn"}


@functools.cache
def _modules() -> list[tuple[Path, ast.Module]]:
    return [
        (path, sources.tree(path))
        for path in sorted(TESTS.glob("*.py"))
        if path.name != Path(__file__).name
    ]


@functools.cache
def _tests() -> list[tuple[Path, ast.FunctionDef]]:
    return [
        (path, node)
        for path, module in _modules()
        if path.name.startswith("test_")
        for node in module.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    ]


def _names(node: ast.AST) -> set[str]:
    """Every name and attribute used inside `node`."""
    found = set()
    for child in sources.nodes(node):
        if isinstance(child, ast.Name):
            found.add(child.id)
        elif isinstance(child, ast.Attribute):
            found.add(child.attr)
    return found


def _marks(test: ast.FunctionDef) -> set[str]:
    """The pytest marks on a test: @pytest.mark.<name> or @pytest.mark.<name>(...)."""
    marks = set()
    for decorator in test.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Attribute)
            and target.value.attr == "mark"
        ):
            marks.add(target.attr)
    return marks


def test_no_test_is_skipped_or_expected_to_fail():
    found = [
        f"{path.name}:{node.lineno} {node.attr}"
        for path, module in _modules()
        for node in sources.nodes(module)
        if isinstance(node, ast.Attribute)
        and node.attr in SKIPS
        and isinstance(node.value, ast.Name | ast.Attribute)
        and (
            getattr(node.value, "id", None) == "pytest" or getattr(node.value, "attr", "") == "mark"
        )
    ]
    assert found == []


def test_a_skip_at_run_time_fails_the_test():
    item = SimpleNamespace(nodeid="tests/test_x.py::test_y")
    skipped = pytest.TestReport(
        nodeid=item.nodeid,
        location=("tests/test_x.py", 1, "test_y"),
        keywords={},
        outcome="skipped",
        longrepr=("tests/test_x.py", 2, "Skipped: pdftotext is not installed"),
        when="call",
    )
    hook = pytest_runtest_makereport(item, None)
    next(hook)
    with pytest.raises(StopIteration) as done:
        hook.send(skipped)
    report = done.value.value
    assert report.failed and not report.skipped
    assert "Skipped: pdftotext is not installed" in str(report.longrepr)
    assert "every test must run" in str(report.longrepr)


def test_no_test_asserts_on_elapsed_time():
    found = [
        f"{path.name}:{node.lineno} in {test.name}"
        for path, test in _tests()
        for node in sources.nodes(test)
        if isinstance(node, ast.Assert)
        and any(
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr in CLOCKS
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id == "time"
            for call in sources.nodes(node)
        )
    ]
    assert found == []


def test_no_test_leaves_a_logger_changed():
    """A logger is the process's, not the app's: a test that quiets one (a 500's traceback
    kept out of its output) does it through monkeypatch, which puts it back. Three tests set
    ``app.logger.disabled = True`` and left the "tracker" logger off for every later test of
    the worker: a test of what warm_up logs failed or passed by the order the tests ran in."""
    found = [
        f"{path.name}:{node.lineno}"
        for path, module in _modules()
        for node in sources.nodes(module)
        if (
            isinstance(node, ast.Assign)
            and any(
                isinstance(t, ast.Attribute) and t.attr in ("disabled", "propagate", "level")
                for t in node.targets
            )
        )
        or (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("setLevel", "addHandler", "removeHandler")
        )
    ]
    assert found == []


def test_tests_that_start_processes_are_marked_slow():
    unmarked = [
        f"{path.name}::{test.name}"
        for path, test in _tests()
        if _names(test) & PROCESSES and "slow" not in _marks(test)
    ]
    assert unmarked == []
    marked = {test.name for _path, test in _tests() if "slow" in _marks(test)}
    assert "test_concurrent_writers_lose_no_update" in marked


def test_the_slow_mark_is_registered(pytestconfig):
    registered = [line.split(":")[0] for line in pytestconfig.getini("markers")]
    assert "slow" in registered
    assert pytestconfig.getoption("strict_markers") or "--strict-markers" in (
        pytestconfig.getini("addopts")
    )


@pytest.mark.parametrize("name", ["empty", "people"])
def test_the_template_databases_hold_the_models_schema(database_templates, name):
    engine = create_engine(database_templates[name].url)
    try:
        found = inspect(engine)
        tables = {t: {c["name"] for c in found.get_columns(t)} for t in found.get_table_names()}
    finally:
        engine.dispose()
    expected = {t.name: {c.name for c in t.columns} for t in db.metadata.sorted_tables}
    if ON_POSTGRES:  # made by `tracker init-db`: the migrations' mark and the search tables
        search = (schema.TABLE, schema.STATE)
        assert {"alembic_version", *search} <= set(tables)
        tables = {t: c for t, c in tables.items() if t not in ("alembic_version", *search)}
    assert tables == expected


def test_each_app_starts_from_the_template_with_the_standard_people(app, people):
    with app.app_context():
        users = db.session.execute(db.select(User).order_by(User.id)).scalars().all()
        assert {u.username: u.id for u in users} == {
            name.replace("_", "-"): user_id for name, user_id in people.items()
        }
        assert {u.username: (u.role, u.unit.name if u.unit else None) for u in users} == {
            "admin": ("admin", None),
            "liaison": ("liaison", None),
            "supervisor": ("supervisor", "广州市教育局"),
            "clerk": ("clerk", "广州市教育局"),
            "duban": ("supervisor", "广州市人民政府办公厅"),
            "clerk-health": ("clerk", "广州市卫生健康委员会"),
            "clerk-civil": ("clerk", "广州市民政局"),
        }
        assert db.session.execute(db.select(db.func.count(VocabularyTerm.id))).scalar() > 0


def test_an_app_without_people_has_no_users_but_the_vocabularies(app):
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(User.id))).scalar() == 0
        assert db.session.execute(db.select(db.func.count(VocabularyTerm.id))).scalar() > 0


@pytest.mark.parametrize("run", [1, 2])
def test_what_one_test_writes_the_next_does_not_see(app, people, run):
    """Run twice, each on its own copy of the template: the second never sees the first's
    row (nor the first the second's)."""
    with app.app_context():
        query = db.select(VocabularyTerm.code).filter_by(vocabulary="contact_channel")
        assert "信鸽" not in set(db.session.execute(query).scalars())
        db.session.add(VocabularyTerm(vocabulary="contact_channel", code="信鸽", label="信鸽"))
        db.session.commit()
        assert "信鸽" in set(db.session.execute(query).scalars())


def test_closed_apps_are_freed(tmp_path, template):
    """Flask-SQLAlchemy keeps each app's engine in a WeakKeyDictionary: when a listener of
    the engine held the app (SQLite's write-lock check did), the entry never went, and a
    worker kept every app of its session (800 MB; its exit took seconds). Only the last app
    made may stay: flask-talisman's one instance remembers the app it was last given."""
    template.copy_to(tmp_path)
    freed = []
    for _ in range(2):
        app = new_app(tmp_path)
        with app.app_context():
            db.session.execute(text("SELECT 1"))  # the engine and its listeners are made
            db.session.commit()
        close(app)
        freed.append(weakref.ref(app))
        del app
    gc.collect()
    assert freed[0]() is None


def test_the_tests_and_their_postgresql_write_in_memory_when_there_is_room(
    tmp_path, pytestconfig, pg_server
):
    """Unless --basetemp says where, tmp_path is in memory when scratch.memory_folder()
    finds room there, and so is the throwaway PostgreSQL cluster."""
    memory = memory_folder()
    given = " ".join([*pytestconfig.invocation_params.args, os.environ.get("PYTEST_ADDOPTS", "")])
    if memory is None:
        assert not str(tmp_path).startswith("/dev/shm/")
        return
    if "--basetemp" not in given:
        assert tmp_path.is_relative_to(memory)
    if pg_server.folder is not None:  # a cluster of the session's own
        assert pg_server.folder.is_relative_to(memory)


def test_the_collector_leaves_the_sessions_start_alone():
    """conftest.pytest_collection_finish: the objects of the imports and the collection are
    frozen, and the collector's thresholds raised."""
    assert gc.get_freeze_count() > 100_000
    assert gc.get_threshold() == (20_000, 10, 100)
