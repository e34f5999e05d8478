"""Files sent to the browser: one way to name a download, for every export a view sends.

Services produce the bytes (``services.tabular``, ``services.exporting``); the response
and its headers are the web layer's business."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from flask import Response

from tracker.services import tabular


def attachment(data: bytes, content_type: str, name: str, *, ascii_name: str = "") -> Response:
    """A download saved as `name` (may be Chinese); browsers that cannot read the UTF-8 name
    use `ascii_name`, by default `name` with every other character replaced by _."""
    if not ascii_name:
        stem, dot, ext = name.rpartition(".")
        stem = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in stem)
        ascii_name = f"{stem.strip('_') or 'export'}{dot}{ext}"
    response = Response(data, content_type=content_type)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    )
    return response


def table(sheets: tabular.Sheet | Sequence[tabular.Sheet], fmt: str, filename: str) -> Response:
    """A table as .xlsx or .csv; ``filename`` without extension. CSV takes the first sheet
    only."""
    return attachment(tabular.table_bytes(sheets, fmt), tabular.FORMATS[fmt], f"{filename}.{fmt}")
