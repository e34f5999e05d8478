"""File names a user chose (an uploaded file's own name, a letter's title as a download's
name) made into names any file system takes.

File systems count a name's length in bytes (255 on ext4, XFS and most others), not in
characters: a Chinese character is three bytes in UTF-8, so 86 of them are already too many.
A name is cut to MAX_BYTES bytes of UTF-8 at a character boundary, keeping its extension."""

from __future__ import annotations

import re
import unicodedata

MAX_BYTES = 255
MAX_SUFFIX_BYTES = 16  # ".docx", ".xlsx", ".jpeg": longer "extensions" are part of the name

# control characters, path separators and what Windows forbids in a name
_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f-\x9f/\\<>:"|?*]')
_SUFFIX = re.compile(r"\.[^.\s]+$")


def own_name(raw: str | None) -> str:
    """An uploaded file's own name without the folders some browsers send with it."""
    return re.split(r"[/\\]", raw or "")[-1]


def cut_bytes(text: str, max_bytes: int) -> str:
    """`text` cut to at most `max_bytes` bytes of UTF-8, never inside a character."""
    return text.encode("utf-8")[: max(max_bytes, 0)].decode("utf-8", "ignore")


def file_name(raw: str | None, *, fallback: str = "file", max_bytes: int = MAX_BYTES) -> str:
    """`raw` as a file's name: NFC, without control characters, path separators or
    characters Windows forbids, no leading or trailing dots and spaces, at most `max_bytes`
    bytes of UTF-8 with its extension kept; `fallback` when nothing is left."""
    name = _FORBIDDEN.sub("", unicodedata.normalize("NFC", raw or "")).strip(" .")
    if not name:
        return fallback
    if len(name.encode("utf-8")) <= max_bytes:
        return name
    found = _SUFFIX.search(name)
    suffix = found.group() if found else ""
    if len(suffix.encode("utf-8")) > MAX_SUFFIX_BYTES:
        suffix = ""
    stem = name[: len(name) - len(suffix)]
    stem = cut_bytes(stem, max_bytes - len(suffix.encode("utf-8"))).rstrip(" .")
    if not stem:
        stem = cut_bytes(fallback, max_bytes - len(suffix.encode("utf-8")))
    return stem + suffix
