"""Text as letters come: a normalised view for matching that maps back to the print.

Letters are typed with full-width and half-width punctuation mixed, odd spaces, zero-width
characters, sometimes converted to traditional characters with pinyin readings glued on
("答復(fù)") by the site that copied them. The parser matches its patterns on a folded copy
and takes every value it returns from the original at the same place, so a value comes out
as printed.

``Text`` is one line in both forms: ``norm`` for matching, ``raw`` as printed, and the map
between them (``None`` while they have the same length, the usual case).

Pure standard library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from tracker.rules.chinese import cn_to_int

from .hant import SIMPLIFIED, TRADITIONAL
from .patterns import MONTH_DAY, YEAR

__all__ = ["DROPPED_RE", "Text", "fold", "read_date", "squeeze"]

# One character for one: full-width ASCII → half-width, odd spaces → space, dashes → "-",
# small tortoise-shell brackets → 〔〕, traditional → simplified characters.
_FOLD: dict[str, str] = {chr(cp): chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}
_FOLD.update(dict.fromkeys("\u3000\u00a0\t\u202f\u205f", " "))
_FOLD.update(dict.fromkeys(map(chr, range(0x2000, 0x200B)), " "))
_FOLD.update(dict.fromkeys("\u2013\u2014\u2212\u2010\u2011\u2012", "-"))
_FOLD.update({"\ufe5d": "〔", "\ufe5e": "〕", "丨": "|", "｜": "|"})
_FOLD.update(zip(TRADITIONAL, SIMPLIFIED, strict=True))
# A regex substitution touches only the characters to fold: much faster than
# str.translate, which looks up every character of a mostly-CJK text.
_FOLD_RE = re.compile("[" + "".join(re.escape(ch) for ch in sorted(_FOLD)) + "]")

# Removed from the matching copy: zero-width characters, and the pinyin reading some
# converters glue after a character ("關(guān)", "(tái)"): letters with a tone mark in brackets.
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
DROPPED_RE = re.compile(
    "[\u200b\u200c\u200d\u2060\ufeff\u00ad]"
    rf"|(?<=[\u4e00-\u9fff])[(（][a-zü]*[{_TONED}][a-zü]*[)）]"
)


def _fold_char(match: re.Match) -> str:
    return _FOLD[match.group(0)]


# Words whose traditional form keeps a character that is also simplified (覆 "cover"):
# folded as words, two characters for two.
_WORDS = {"答覆": "答复", "回覆": "回复", "函覆": "函复", "覆函": "复函", "批覆": "批复"}
_WORDS_RE = re.compile("|".join(_WORDS))


def fold(text: str) -> str:
    """``text`` with the one-for-one folds applied (same length)."""
    text = _FOLD_RE.sub(_fold_char, text)
    return _WORDS_RE.sub(lambda m: _WORDS[m.group(0)], text) if "覆" in text else text


_SPACE_RE = re.compile(r"\s+")


def squeeze(text: str) -> str:
    """``text`` without any whitespace."""
    return _SPACE_RE.sub("", text)


@dataclass(frozen=True)
class Text:
    """A line as printed (``raw``) and as matched (``norm``).

    ``starts[i]`` is where norm character ``i`` begins in ``raw`` (with a last entry
    ``len(raw)``); characters dropped from the matching copy belong to the character before
    them. ``None`` when both have the same length.
    """

    raw: str
    norm: str
    starts: tuple[int, ...] | None = None

    @classmethod
    def of(cls, raw: str) -> Text:
        folded = fold(raw)
        if not DROPPED_RE.search(folded):
            return cls(raw, folded)
        kept: list[str] = []
        starts: list[int] = []
        position = 0
        for match in DROPPED_RE.finditer(folded):
            kept.append(folded[position : match.start()])
            starts.extend(range(position, match.start()))
            position = match.end()
        kept.append(folded[position:])
        starts.extend(range(position, len(folded)))
        starts.append(len(raw))
        return cls(raw, "".join(kept), tuple(starts))

    def _at(self, i: int) -> int:
        return i if self.starts is None else self.starts[i]

    def printed(self, start: int = 0, end: int | None = None) -> str:
        """The printed text of ``norm[start:end]``."""
        end = len(self.norm) if end is None else end
        return self.raw[self._at(start) : self._at(end)]

    def part(self, start: int = 0, end: int | None = None) -> Text:
        """The piece ``norm[start:end]`` as a Text of its own, whitespace stripped."""
        end = len(self.norm) if end is None else end
        norm = self.norm[start:end]
        start += len(norm) - len(norm.lstrip())
        end -= len(norm) - len(norm.rstrip())
        if end <= start:
            return Text("", "")
        if self.starts is None:
            return Text(self.raw[start:end], self.norm[start:end])
        base = self.starts[start]
        starts = tuple(s - base for s in self.starts[start:end])
        raw = self.raw[base : self.starts[end]]
        # a dropped reading after the last character stays with it; trailing space does not
        raw = raw.rstrip()
        return Text(raw, self.norm[start:end], (*starts, len(raw)))

    def __bool__(self) -> bool:
        return bool(self.norm)


# --------------------------------------------------------------------------------------
# Numbers and dates
# --------------------------------------------------------------------------------------

_DATE_WRITTEN_RE = re.compile(
    rf"^(?P<y>{YEAR})\s*年\s*(?P<m>{MONTH_DAY})\s*月\s*(?P<d>{MONTH_DAY})\s*[日号]?$"
)
_DATE_ISO_RE = re.compile(r"^(?P<y>\d{4})\s*[-/.]\s*(?P<m>\d{1,2})\s*[-/.]\s*(?P<d>\d{1,2})$")
# A date whose 年/月/日 were lost on the way to the page: "2019615", "20246月14", "2023831日".
_DATE_GLUED_RE = re.compile(r"^(?P<y>(?:19|20)\d\d)年?(?P<rest>\d{1,4}|\d{1,2}月\d{1,2})日?$")


def _day(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d) if 1949 <= y <= 2099 else None
    except ValueError:
        return None


def read_date(text: str) -> tuple[date | None, bool]:
    """Read a date written on its own: ``(date, True)``; ``(None, True)`` for what looks like
    a date but cannot be read for sure ("2023111": 1 Nov or 11 Jan); ``(None, False)`` for
    anything else. Dates whose separators were lost are read only where one reading is a
    valid date."""
    s = squeeze(text)
    for pattern in (_DATE_WRITTEN_RE, _DATE_ISO_RE):
        m = pattern.match(s)
        if m:
            try:
                return _day(cn_to_int(m["y"]), cn_to_int(m["m"]), cn_to_int(m["d"])), True
            except ValueError:
                return None, True
    m = _DATE_GLUED_RE.match(s)
    if not m:
        return None, False
    year, rest = int(m["y"]), m["rest"]
    if "月" in rest:
        month, day = rest.split("月")
        return _day(year, int(month), int(day)), True
    readings = {
        found
        for cut in (1, 2)
        # a day padded with 0 after a month that is not ("1" + "05") is no reading
        if 0 < cut < len(rest) and not (rest[cut] == "0" and cut == 1)
        for found in [_day(year, int(rest[:cut]), int(rest[cut:]))]
        if found
    }
    return (readings.pop(), True) if len(readings) == 1 else (None, True)
