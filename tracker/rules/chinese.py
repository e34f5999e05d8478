"""Numbers and dates as Chinese official text writes them, in one place: one reader of
Chinese numerals (the letter parser, the commitment finder and the deadline settings all
read them) and one way to write a date (pages, reminders, audit messages, letters).

Pure standard library.
"""

from __future__ import annotations

from datetime import date

__all__ = ["DIGITS", "ZEROS", "cn_date", "cn_to_int"]

# Characters that stand for nought in a written year: 〇 (the proper one), ○ (a circle), 零,
# and the letter O or the digit 0 typed in their place ("二O一七", "二0一七").
ZEROS = "〇○零O0"
# Every digit a numeral may hold: 两 and its traditional form 兩 count as 2 ("两个月").
DIGITS: dict[str, int] = dict.fromkeys(ZEROS, 0)
DIGITS.update(zip("一二两兩三四五六七八九", (1, 2, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
DIGITS.update({str(d): d for d in range(1, 10)})


def cn_to_int(token: str) -> int:
    """A number written in Chinese numerals, digit by digit ("二〇二二", "二0一七") or with
    十 ("十", "十二", "二十六", "两"), or in Arabic digits ("2022"); ValueError otherwise."""
    s = token.strip()
    if not s:
        raise ValueError("empty number")
    if s.isascii() and s.isdigit():
        return int(s)
    if "十" in s:
        head, _, tail = s.partition("十")
        if len(head) > 1 or len(tail) > 1:
            raise ValueError(f"not a small Chinese number: {token!r}")
        try:
            return (DIGITS[head] if head else 1) * 10 + (DIGITS[tail] if tail else 0)
        except KeyError as exc:
            raise ValueError(f"not a Chinese number: {token!r}") from exc
    value = 0
    for ch in s:
        if ch not in DIGITS:
            raise ValueError(f"not a Chinese number: {token!r}")
        value = value * 10 + DIGITS[ch]
    return value


def cn_date(day: date | None) -> str:
    """``2024-02-29`` → ``2024年2月29日`` (no leading zeros, as letters print dates); "" for
    no date."""
    if day is None:
        return ""
    return f"{day.year}年{day.month}月{day.day}日"
