"""The file name rule (rules.filenames): names users chose, cut by bytes of UTF-8 as file
systems count them, the extension kept, never a character split."""

from __future__ import annotations

import pytest

from tracker.rules.filenames import MAX_BYTES, cut_bytes, file_name, own_name

LONG = "关于进一步加强广州市中小学生心理健康管理工作的建议" * 4  # 100 characters, 300 bytes


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("C证培训情况通报.pdf", "C证培训情况通报.pdf"),
        ("  .hidden.txt. ", "hidden.txt"),
        ('a<b>c:d|e?f*g"h.docx', "abcdefgh.docx"),
        ("通报\x00\x1f\x7f\x85.pdf", "通报.pdf"),
        ("..", "file"),
        ("", "file"),
        (None, "file"),
        ("../../etc/passwd", "etcpasswd"),
        ("x" * 255, "x" * 255),
    ],
)
def test_a_name_keeps_what_a_file_system_takes(raw, expected):
    assert file_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "suffix"),
    [
        (LONG + ".pdf", ".pdf"),
        (LONG + ".docx", ".docx"),
        ("x" + LONG + ".jpeg", ".jpeg"),  # 1 + 3n bytes: the cut falls inside a character
        ("xx" + LONG + ".xlsx", ".xlsx"),
        (LONG + LONG, ""),
        (LONG + "." + "扩展名" * 10, ""),  # 30 bytes after the dot: not an extension
    ],
)
def test_a_long_name_is_cut_by_bytes_with_its_extension(raw, suffix):
    name = file_name(raw)
    assert len(name.encode("utf-8")) <= MAX_BYTES
    assert len(name.encode("utf-8")) > MAX_BYTES - 3  # no more than one character short
    assert name.endswith(suffix)
    assert raw.startswith(name[: len(name) - len(suffix)])


def test_a_smaller_limit_and_a_fallback():
    assert file_name(LONG + ".pdf", max_bytes=20) == "关于进一步.pdf"
    assert file_name("//", fallback="evidence") == "evidence"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("C:\\Users\\张三\\Desktop\\通报.pdf", "通报.pdf"),
        ("/home/张三/通报.pdf", "通报.pdf"),
        ("通报.pdf", "通报.pdf"),
        (None, ""),
    ],
)
def test_own_name_drops_the_folders_a_browser_sent(raw, expected):
    assert own_name(raw) == expected


def test_cut_bytes_never_splits_a_character():
    assert cut_bytes("心理健康", 7) == "心理"
    assert cut_bytes("心理健康", 0) == ""
    assert cut_bytes("心理健康", 100) == "心理健康"
