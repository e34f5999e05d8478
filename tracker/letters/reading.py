"""Reading and parsing letter files, without the database: the part of an import that runs
in worker processes (this module imports only the parser, so workers start fast)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from tracker.letters.parser import NotALetter, ParsedLetter, decode_bytes, parse_letter


@dataclass
class Parsed:
    """The result of reading one file: parsed fields, or unchanged (None), or an error."""

    name: str
    digest: str = ""
    parsed: ParsedLetter | None = None
    error: str | None = None


def read_and_parse(path: str, known_hash: str | None = None) -> Parsed:
    """Read, hash and parse one file (no database): safe to run in another process."""
    name = Path(path).name
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        return Parsed(name, error=f"cannot read: {error.strerror or error}")
    digest = hashlib.sha256(data).hexdigest()
    if known_hash == digest:
        return Parsed(name, digest)
    try:
        return Parsed(name, digest, parse_letter(decode_bytes(data)))
    except NotALetter as error:
        return Parsed(name, digest, error=str(error))


def read_and_parse_job(job: tuple[str, str | None]) -> Parsed:
    return read_and_parse(*job)
