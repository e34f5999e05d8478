"""The cyclic garbage collector of a threaded worker, run only where it is safe on CPython 3.11.

CPython 3.11 starts a collection wherever a container is allocated, which may be in the
middle of a C function (a SQLite cursor building a row, the ORM building an object). The
collection runs finalizers and weakref callbacks (SQLAlchemy's, for the objects of a closed
session), which are Python code and may hand the GIL to another thread while that C
function is half done. Under load, gunicorn's threaded workers died of it: on 100,000
letters, 8 connections to 2 workers of 4 threads, a worker died with SIGSEGV in its first
seconds in every run (the heap corrupted; seen in `_pysqlite_fetch_one_row`, psycopg's
rows, SQLAlchemy's loading: on SQLite and PostgreSQL alike, with or without the C
extensions of SQLAlchemy, MarkupSafe and lxml), never with the collector off, with one
thread per worker or on CPython 3.12, which starts a collection only between two bytecodes
of the thread that triggers it.

``collect_at_safe_points`` does that on 3.11: automatic collection off, and a thread that
collects as the thresholds say, from its own loop: between its bytecodes, while the other
threads are stopped where they let the GIL go, never inside a C call. The web workers
(wsgi.py) and the job runner (`tracker run-jobs`: a job and its heartbeat thread) start it.
Pure: no Flask."""

from __future__ import annotations

import gc
import os
import sys
import threading
import time

NEEDED = sys.implementation.name == "cpython" and sys.version_info < (3, 12)
INTERVAL = 0.01  # seconds between looks at the allocation counts

_started = False
# held by the thread while it collects, and by a fork while it forks: a child forked in the
# middle of a collection (whose finalizers may let the GIL go) would inherit the
# interpreter's "collecting" state, and its own collections would never run
_collecting = threading.RLock()  # re-entrant: a finalizer that forks does not wait on itself


def collect_at_safe_points(interval: float = INTERVAL, *, needed: bool = NEEDED) -> bool:
    """On CPython 3.11, turn automatic collection off and collect from a thread of this
    process (and again in each process forked from it, e.g. gunicorn --preload); whether it
    did. Where the interpreter collects safely by itself (3.12 on), or the collector is
    already off, nothing changes."""
    global _started
    if not needed or _started or not gc.isenabled():
        return False
    _started = True
    thresholds = gc.get_threshold()
    gc.disable()
    _start(thresholds, interval)
    os.register_at_fork(
        before=_collecting.acquire,
        after_in_parent=_collecting.release,
        after_in_child=lambda: (_collecting.release(), _start(thresholds, interval)),
    )
    return True


def _start(thresholds: tuple[int, int, int], interval: float) -> None:
    threading.Thread(
        target=_collect, args=(thresholds, interval), name="gc-at-safe-points", daemon=True
    ).start()


def _collect(thresholds: tuple[int, int, int], interval: float) -> None:
    """The interpreter's own schedule (gc.set_threshold): the youngest generation once
    its count of new objects passes the first threshold, an older one once it has been
    passed over as many times as its threshold."""
    young, middle, old = thresholds
    while True:
        time.sleep(interval)
        new, passes, middle_passes = gc.get_count()
        if new <= young:
            continue
        with _collecting:
            gc.collect(2 if middle_passes > old else 1 if passes > middle else 0)
