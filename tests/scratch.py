"""Where the suite writes its files: in memory when the machine has room there.

Each test copies a database, and many write a search index; the PostgreSQL tests create
and drop a database each. On a virtual disk those writes were most of a test's time (a
CREATE DATABASE 150-350 ms, 20-35 ms in memory), though nothing is kept: on Linux,
/dev/shm (a tmpfs, in memory) takes them when it has room for the run (conftest removes
them when the run passes)."""

from __future__ import annotations

import os
from pathlib import Path

MEMORY = Path("/dev/shm")
ROOM = 4 * 2**30  # bytes free to ask for (a run writes some 300 MB: room to spare)


def memory_folder() -> Path | None:
    """/dev/shm if it exists, may be written to and has ROOM free; else None."""
    try:
        stats = os.statvfs(MEMORY)
    except OSError:
        return None
    if not os.access(MEMORY, os.W_OK | os.X_OK):
        return None
    return MEMORY if stats.f_bavail * stats.f_frsize >= ROOM else None
