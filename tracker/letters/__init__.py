"""Reply-letter parsing and commitment inference (pure Python, no Flask, no database)."""

from .commitments import extract_target, find_commitments, infer_due_on
from .parser import NotALetter, decode_bytes, parse_file, parse_letter

__all__ = [
    "NotALetter",
    "decode_bytes",
    "extract_target",
    "find_commitments",
    "infer_due_on",
    "parse_file",
    "parse_letter",
]
