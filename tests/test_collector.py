"""The garbage collector of the web workers and the job runner (tracker/collector.py): on
CPython 3.11 it runs from a thread of its own, between that thread's bytecodes, and still frees
cycles. Each check runs in a fresh interpreter: the test's own process keeps its collector."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CYCLE = """
import gc, os, sys, threading, time, weakref
from tracker import collector

class Node:
    pass

def cycle_freed(seconds=5.0):
    '''Whether a cycle nobody holds is freed, among enough others to pass the threshold
    (only cycles stay counted: other objects are freed as they are let go).'''
    ref = None
    for _ in range(2000):
        a, b = Node(), Node()
        a.other, b.other = b, a
        ref = ref or weakref.ref(a)
    del a, b
    deadline = time.monotonic() + seconds
    while ref() is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    return ref() is None
"""


def run(body: str) -> str:
    script = CYCLE + textwrap.dedent(body)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow  # a fresh interpreter each
def test_the_collector_thread_frees_cycles_with_automatic_collection_off():
    out = run(
        """
        started = collector.collect_at_safe_points(needed=True)
        names = [t.name for t in threading.enumerate()]
        print(started, gc.isenabled(), "gc-at-safe-points" in names, cycle_freed())
        """
    )
    assert out.split() == ["True", "False", "True", "True"]


@pytest.mark.slow  # a fresh interpreter each
def test_without_the_thread_a_cycle_stays_so_the_thread_is_what_frees_it():
    out = run(
        """
        gc.disable()
        print(collector.collect_at_safe_points(needed=True), cycle_freed(seconds=0.5))
        """
    )
    assert out.split() == ["False", "False"]


@pytest.mark.slow  # a fresh interpreter each
def test_a_process_forked_from_a_worker_collects_too():
    out = run(
        """
        collector.collect_at_safe_points(needed=True)
        pid = os.fork()
        if pid == 0:
            names = [t.name for t in threading.enumerate()]
            ok = "gc-at-safe-points" in names and not gc.isenabled() and cycle_freed()
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
        """
    )
    assert out.split() == ["0"]


@pytest.mark.slow  # a fresh interpreter each
def test_only_cpython_before_3_12_needs_it():
    out = run(
        """
        print(collector.collect_at_safe_points(), gc.isenabled())
        """
    )
    needed = sys.implementation.name == "cpython" and sys.version_info < (3, 12)
    assert out.split() == ([str(needed), str(not needed)])


@pytest.mark.slow  # a fresh interpreter each
def test_the_production_entry_point_starts_it(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "TRACKER_SECRET_KEY": "test",
        "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
        "TRACKER_INDEX_DIR": str(tmp_path / "index"),
        "TRACKER_UPLOAD_DIR": str(tmp_path / "uploads"),
    }
    script = (
        "import gc, threading, wsgi; "
        "print(not gc.isenabled(), any(t.name == 'gc-at-safe-points' "
        "for t in threading.enumerate()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    needed = sys.implementation.name == "cpython" and sys.version_info < (3, 12)
    assert done.stdout.split() == [str(needed), str(needed)]


@pytest.mark.slow  # a fresh interpreter
def test_a_fork_during_a_collection_leaves_the_child_a_collector_that_works():
    out = run(
        """
        class Slow:
            def __del__(self):
                time.sleep(0.5)  # a finalizer that lets the GIL go mid-collection

        collector.collect_at_safe_points(needed=True)
        s = Slow()
        s.self = s
        for _ in range(800):  # past the threshold, a slow finalizer among the cycles
            n = Node()
            n.self = n
        del s, n
        time.sleep(0.2)  # the thread is in the collection, in a finalizer
        pid = os.fork()
        if pid == 0:
            os._exit(0 if cycle_freed() else 1)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
        """
    )
    assert out.split() == ["0"]


@pytest.mark.slow  # a fresh interpreter
def test_a_job_runner_collects_from_the_thread_too(tmp_path):
    out = run(
        f"""
        from tracker import create_app
        app = create_app({{
            "SECRET_KEY": "test",
            "DATABASE_URL": "sqlite:///{tmp_path / "tracker.db"}",
            "INDEX_DIR": "{tmp_path / "index"}",
            "UPLOAD_DIR": "{tmp_path / "uploads"}",
        }})
        result = app.test_cli_runner().invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        result = app.test_cli_runner().invoke(args=["run-jobs"])
        assert result.exit_code == 0, result.output
        names = [t.name for t in threading.enumerate()]
        print(not gc.isenabled(), "gc-at-safe-points" in names)
        """
    )
    needed = sys.implementation.name == "cpython" and sys.version_info < (3, 12)
    assert out.split() == [str(needed), str(needed)]
