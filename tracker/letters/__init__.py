"""Reply-letter parsing and commitment inference (pure Python, no Flask, no database)."""

from .commitments import extract_target, find_commitments, infer_due_on
from .parser import NotALetter, ParsedLetter, parse_file, parse_letter

__all__ = [
    "NotALetter",
    "ParsedLetter",
    "extract_target",
    "find_commitments",
    "infer_due_on",
    "parse_file",
    "parse_letter",
]
