"""Files sent to the browser: one way to name a download, for every export a view sends.

Services produce the bytes (``services.tabular``, ``services.exporting``) or keep the file
(``services.commitments.evidence_path``); the response and its headers are the web layer's
business. Every name is made one a file system takes (rules.filenames.file_name: no path
separators or characters Windows forbids, at most 255 bytes of UTF-8 with the extension
kept), so a letter's long Chinese title still saves as a file."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import quote

from flask import Response, send_file, stream_with_context

from tracker.rules.filenames import file_name
from tracker.services import tabular


def attachment(
    data: bytes | Iterable[bytes], content_type: str, name: str, *, ascii_name: str = ""
) -> Response:
    """A download saved as `name` (may be Chinese); browsers that cannot read the UTF-8 name
    use `ascii_name`, by default `name` with every other character replaced by _. `data`
    may be pieces, sent as they come (a streamed response)."""
    name = file_name(name, fallback=ascii_name or "download")
    if not ascii_name:
        stem, dot, ext = name.rpartition(".")
        stem = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in stem)
        ascii_name = f"{stem.strip('_') or 'export'}{dot}{ext}"
    ascii_name = file_name(ascii_name, fallback="download")
    response = Response(data, content_type=content_type)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    )
    return response


def table(sheets: tabular.Sheet | Sequence[tabular.Sheet], fmt: str, filename: str) -> Response:
    """A table as .xlsx or .csv; ``filename`` without extension. CSV takes the first sheet
    only. The file is streamed: rows given as an iterator are read from the database while
    the response is sent (the request's context, and its session, stay until the end)."""
    chunks = stream_with_context(tabular.table_chunks(sheets, fmt))
    return attachment(chunks, tabular.FORMATS[fmt], f"{filename}.{fmt}")


def stored_file(path: Path, name: str) -> Response:
    """A file kept on disk (an uploaded evidence file), saved as `name`."""
    return send_file(path, as_attachment=True, download_name=file_name(name, fallback=path.name))
