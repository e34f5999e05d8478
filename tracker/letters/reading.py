"""Reading and parsing letter files, without the database: the part of an import that runs
in worker processes (this module imports only the parser and the format readers, so
workers start fast).

An import is a sequence of `Source`s: a file on disk, or a member of a .zip archive on
disk. `load` reads their bytes in order (one archive open at a time) and
`read_and_parse` hashes, extracts the text and parses one of them."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tracker.letters import archives, formats
from tracker.letters.formats import ReadOptions, Unreadable
from tracker.letters.parser import NotALetter, ParsedLetter, parse_letter


@dataclass(frozen=True)
class Source:
    """One letter file to import."""

    path: str  # the file on disk; for an archive's member, the archive
    # the letter's key (ReplyLetter.source_file): the file's own name; an archive member's
    # path inside the archive ("教育局/答复函.docx" and "交通局/答复函.docx" are two letters)
    name: str
    label: str  # what the report shows: "a.docx", "archive.zip/folder/b.pdf"
    entry: str | None = None  # the archive member, as zipfile names it
    error: str | None = None  # known to be unreadable before reading (a broken archive)

    @property
    def fmt(self) -> str:
        return formats.format_of(self.name)


@dataclass
class Parsed:
    """The result of reading one file: parsed fields, or unchanged (None), or an error."""

    name: str
    digest: str = ""
    parsed: ParsedLetter | None = None
    error: str | None = None
    label: str = ""
    fmt: str = ""
    ahead: object = None  # what the job's `then` made of the parsed letter


def sources(path: str, name: str | None = None, options: ReadOptions | None = None):
    """The letters in one file: the file itself, or each member of a .zip archive.
    `name` is the file's own name when `path` is not (an upload saved under another)."""
    options = options or ReadOptions()
    name = name or Path(path).name
    if formats.suffix_of(name) not in formats.ARCHIVES:
        yield Source(path, name, name)
        return
    try:
        found = archives.list_archive(path, options)
    except Unreadable as error:
        yield Source(path, name, name, error=str(error))
        return
    except OSError as error:
        yield Source(path, name, name, error=f"无法读取：{error.strerror or error}")
        return
    if not found:
        yield Source(path, name, name, error="压缩包中没有文件")
    for member in found:
        yield Source(path, member_key(member.path), f"{name}/{member.path}", member.entry)


KEY_CHARS = 300  # ReplyLetter.source_file


def member_key(path: str) -> str:
    """An archive member's key: its path inside the archive, its last KEY_CHARS characters
    when longer (the file's name and the folders nearest it)."""
    return path[-KEY_CHARS:]


def legacy_key(name: str) -> str | None:
    """The key an archive member had before members were known by their path: the file's
    own name (None for a file that is no archive member)."""
    return name.rsplit("/", 1)[1] if "/" in name else None


def load(items: Iterable[Source], options: ReadOptions) -> Iterator[tuple[Source, bytes | str]]:
    """Each source with its bytes, or with why they cannot be read (a message)."""
    archive: zipfile.ZipFile | None = None
    try:
        for source in items:
            if source.error:
                yield source, source.error
                continue
            try:
                if source.entry is None:
                    yield source, _read_file(source.path, options)
                    continue
                if archive is None or archive.filename != source.path:
                    if archive is not None:
                        archive.close()
                    archive = None
                    archive = archives.open_archive(source.path)
                yield source, archives.read_member(archive, source.entry, options)
            except Unreadable as error:
                yield source, str(error)
            except OSError as error:
                yield source, f"无法读取：{error.strerror or error}"
    finally:
        if archive is not None:
            archive.close()


def _read_file(path: str, options: ReadOptions) -> bytes:
    size = Path(path).stat().st_size
    if size > options.max_file_bytes:
        raise formats.too_large("文件", size, options.max_file_bytes)
    return Path(path).read_bytes()


def read_and_parse(
    source: Source, data: bytes | str, known_hash: str | None, options: ReadOptions
) -> Parsed:
    """Hash, extract and parse one loaded file (no database): safe in another process.
    A file whose hash is `known_hash` is unchanged and not parsed again."""
    result = Parsed(source.name, label=source.label, fmt=source.fmt)
    if isinstance(data, str):
        result.error = data
        return result
    result.digest = hashlib.sha256(data).hexdigest()
    if known_hash == result.digest:
        return result
    if formats.suffix_of(source.name) in formats.ARCHIVES:
        result.error = "压缩包中的压缩包不会展开：请解压后再导入"
        return result
    try:
        result.parsed = parse_letter(formats.extract(data, source.name, options).text)
    except (Unreadable, NotALetter) as error:
        result.error = str(error)
    return result


def read_and_parse_job(
    job: tuple[Source, bytes | str, str | None, ReadOptions, Callable[[ParsedLetter], object]]
    | tuple[Source, bytes | str, str | None, ReadOptions],
) -> Parsed:
    """read_and_parse in a worker; a fifth item, a function of the parsed letter (such as
    its search index row), is applied there too and its result kept in ``ahead``."""
    result = read_and_parse(*job[:4])
    if len(job) > 4 and job[4] is not None and result.parsed is not None:
        result.ahead = job[4](result.parsed)
    return result
