"""Document numbers (发文字号) per GB/T 9704-2012: 机关代字〔年份〕序号号 — the full year in
lenticular brackets, the serial without leading zeros and without 第."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Brackets seen in the wild: 〔〕 is the standard; [] and 【】 and （） occur and are corrected.
_NUMBER_RE = re.compile(
    r"^(?P<prefix>[\u4e00-\u9fffA-Za-z]{1,20})\s*[〔\[【(（]\s*(?P<year>\d{4})\s*[〕\]】)）]"
    r"\s*(?P<first>第)?(?P<serial>\d{1,6})\s*号$"
)


class DocNumberError(ValueError):
    """The message says, in Chinese, what is wrong with a document number."""


@dataclass(frozen=True)
class DocNumber:
    prefix: str
    year: int
    serial: int

    def __str__(self) -> str:
        return format_doc_number(self.prefix, self.year, self.serial)


def format_doc_number(prefix: str, year: int, serial: int) -> str:
    if not prefix:
        raise DocNumberError("单位未设置机关代字（文号前缀），请管理员在单位设置中填写。")
    if serial < 1:
        raise DocNumberError("文号序号须为正整数。")
    return f"{prefix}〔{year}〕{serial}号"


# an input method's full-width digits (２０２２) are the digits: the checks below (a leading
# zero, a serial's length) and the stored number read them as such
_ASCII_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def parse_doc_number(
    text: str, *, expected_prefix: str | None = None, expected_year: int | None = None
) -> DocNumber:
    """Read a manually entered number and check it against GB/T 9704."""
    value = (text or "").translate(_ASCII_DIGITS).strip()
    if not value:
        raise DocNumberError("请填写文号。")
    match = _NUMBER_RE.match(value)
    if match is None:
        raise DocNumberError("文号格式应为“机关代字〔年份〕序号号”，如：穗教案〔2022〕119号。")
    if match.group("first"):
        raise DocNumberError("文号序号前不加“第”字，如：穗教案〔2022〕119号。")
    serial_text = match.group("serial")
    if serial_text.startswith("0"):
        raise DocNumberError("文号序号不编虚位（不加前导零），如：119号而不是0119号。")
    number = DocNumber(match.group("prefix"), int(match.group("year")), int(serial_text))
    if expected_prefix and number.prefix != expected_prefix:
        raise DocNumberError(f"本单位的机关代字是“{expected_prefix}”。")
    if expected_year and number.year != expected_year:
        raise DocNumberError(f"文号年份应为成文年份{expected_year}。")
    return number


_BRACKETED_YEAR_RE = re.compile(r"[〔\[【(（]\s*(\d+)\s*[〕\]】)）]")
MAX_SERIAL_DIGITS = 6


def check_recorded_number(text: str, letter_year: int) -> str:
    """A number copied from a letter issued elsewhere (on paper, by another system): its
    layout is the issuing office's (穗卫函〔2019〕30-17号 occurs), so only what no office
    prints is refused — a bracketed year other than the letter's, or a serial of more than
    six digits."""
    value = " ".join((text or "").translate(_ASCII_DIGITS).split())
    year = _BRACKETED_YEAR_RE.search(value)
    if year and int(year.group(1)) != letter_year:
        raise DocNumberError(f"文号年份应为成文年份{letter_year}。")
    rest = value[year.end() :] if year else value
    if any(len(digits) > MAX_SERIAL_DIGITS for digits in re.findall(r"\d+", rest)):
        raise DocNumberError(f"文号序号最多{MAX_SERIAL_DIGITS}位数字，如：穗教案〔2022〕119号。")
    return value
