""".zip archives of letters: member names, limits, reading (pure Python, no Flask, no database).

Member names are flagged UTF-8 (bit 11) by current tools; Chinese Windows tools write
them in GBK without the flag, which `zipfile` then reads as cp437: such names are
re-encoded and decoded as UTF-8 or else GB18030. Names are only labels here: nothing is
written to disk under a member's name, and "..", drive letters and absolute paths are
dropped from what is shown. Folders, `__MACOSX`, dotfiles and Office lock files (~$…)
are left out. Limits against zip bombs: the number of entries, the total unpacked size,
and each member's size; a member is never read past its declared size.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass

from tracker.letters.formats import ReadOptions, Unreadable, too_large

UTF8_FLAG = 0x800
ENCRYPTED_FLAG = 0x1
JUNK = {"thumbs.db", "desktop.ini", "__macosx"}


@dataclass(frozen=True)
class Member:
    entry: str  # the name zipfile knows the member by
    path: str  # the decoded, cleaned path inside the archive: "folder/b.pdf"
    size: int  # declared unpacked size


def decoded_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author wrote it."""
    if info.flag_bits & UTF8_FLAG:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:  # not a name zipfile decoded as cp437
        return info.filename
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def clean_path(name: str) -> str | None:
    """Folders joined by "/", without "..", "." or a drive; None for what is left out."""
    parts = [part for part in re.split(r"[/\\]+", name) if part not in ("", ".", "..")]
    if parts and re.fullmatch(r"[A-Za-z]:", parts[0]):
        parts = parts[1:]
    if not parts:
        return None
    if any(part.startswith((".", "~$")) or part.lower() in JUNK for part in parts):
        return None
    return "/".join(parts)


def members(archive: zipfile.ZipFile, options: ReadOptions) -> list[Member]:
    """The archive's files, in its own order; raises Unreadable for an archive over the
    limits (checked on the declared sizes, before anything is unpacked)."""
    entries = archive.infolist()
    if len(entries) > options.max_archive_files:
        raise Unreadable(
            f"压缩包内文件过多（{len(entries)} 个，上限 {options.max_archive_files} 个）"
        )
    found = []
    for info in entries:
        if info.is_dir():
            continue
        path = clean_path(decoded_name(info))
        if path is None:
            continue
        found.append(Member(info.filename, path, info.file_size))
    total = sum(m.size for m in found)
    if total > options.max_archive_bytes:
        raise too_large("压缩包解压后", total, options.max_archive_bytes)
    return found


def open_archive(path: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError) as error:
        raise Unreadable("压缩包已损坏或不是 zip 文件") from error


def list_archive(path: str, options: ReadOptions) -> list[Member]:
    with open_archive(path) as archive:
        return members(archive, options)


def read_member(archive: zipfile.ZipFile, entry: str, options: ReadOptions) -> bytes:
    """One member's bytes; raises Unreadable."""
    try:
        info = archive.getinfo(entry)
    except KeyError as error:
        raise Unreadable("压缩包中找不到该文件") from error
    if info.flag_bits & ENCRYPTED_FLAG:
        raise Unreadable("压缩包中的文件已加密，需要密码；请解密后重新打包导入")
    if info.file_size > options.max_file_bytes:
        raise too_large("文件", info.file_size, options.max_file_bytes)
    try:
        with archive.open(info) as member:
            # zipfile stops at the declared size and checks the CRC: a lying header fails
            return member.read(options.max_file_bytes + 1)
    except NotImplementedError as error:  # Deflate64 (Windows' own zipping of large files)
        raise Unreadable(
            "压缩包中的文件使用了不支持的压缩方式，请用常规的 zip 压缩方式重新打包"
        ) from error
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        # (zipfile's message is English, with the name as it decoded it: cp437 for a GBK one)
        raise Unreadable("压缩包中的文件已损坏，无法解压") from error
