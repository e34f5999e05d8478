"""Commitments (承诺事项) promised by a reply letter, with due-date and target inference.

Pure standard library: no Flask, no database.  The small text helpers at the top
(``normalize``, ``cn_to_int``, ``arabicize_dates``) are shared with the parser.
"""

from __future__ import annotations

import calendar
import functools
import re
from datetime import date

__all__ = [
    "arabicize_dates",
    "cn_to_int",
    "extract_target",
    "find_commitments",
    "infer_due_on",
    "normalize",
    "split_sentences",
]

# --------------------------------------------------------------------------------------
# Text helpers (shared with the parser)
# --------------------------------------------------------------------------------------

# Length-preserving normalisation: full-width ASCII forms become half-width, odd spaces
# become plain spaces, dashes become "-".  Because every character maps to exactly one
# character, offsets in the normalised text are offsets in the original text.
_TRANSLATION: dict[int, str] = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}
_TRANSLATION.update(
    {
        0x3000: " ",  # ideographic space
        0x00A0: " ",  # no-break space
        0x200B: " ",  # zero-width space
        0xFEFF: " ",  # BOM / zero-width no-break space
        0x0009: " ",
        0x2013: "-",
        0x2014: "-",
        0x2212: "-",
        0xFE5D: "〔",  # small tortoise shell brackets
        0xFE5E: "〕",
    }
)
_TRANSLATION.update(dict.fromkeys(range(8192, 8203), " "))


_FOLD = {chr(cp): ch for cp, ch in _TRANSLATION.items()}
# A regex substitution touches only the characters to fold; much faster than
# str.translate, which looks up every character of a mostly-CJK text.
_FOLD_RE = re.compile("[" + "".join(re.escape(ch) for ch in sorted(_FOLD)) + "]")


def _fold(match: re.Match) -> str:
    return _FOLD[match.group(0)]


def normalize(text: str) -> str:
    """Return ``text`` with full-width ASCII and odd spaces folded; same length."""
    return _FOLD_RE.sub(_fold, text)


_CN_DIGIT = {
    "〇": 0,
    "○": 0,
    "零": 0,
    "O": 0,
    "0": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
for _d in "123456789":
    _CN_DIGIT[_d] = int(_d)


def cn_to_int(token: str) -> int:
    """Convert "2022", "二〇二二", "二0一七", "十", "十二", "二十六", "三十一" to int.

    Raises ValueError for anything else.
    """
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
            tens = _CN_DIGIT[head] if head else 1
            ones = _CN_DIGIT[tail] if tail else 0
        except KeyError as exc:
            raise ValueError(f"not a Chinese number: {token!r}") from exc
        return tens * 10 + ones
    value = 0
    for ch in s:
        if ch not in _CN_DIGIT:
            raise ValueError(f"not a Chinese number: {token!r}")
        value = value * 10 + _CN_DIGIT[ch]
    return value


_CN_YEAR_RE = re.compile(r"([〇○零O0一二三四五六七八九]{4})(\s*年)")
_CN_MONTH_RE = re.compile(r"(?<![一二三四五六七八九十个几每])([一二三四五六七八九十]{1,2})(\s*月)")
_CN_DAY_RE = re.compile(r"(?<=月)(\s*)([一二三四五六七八九十]{1,3})(\s*[日号])")


def _sub_number(match: re.Match, group: int) -> str:
    try:
        value = str(cn_to_int(match.group(group)))
    except ValueError:
        return match.group(0)
    parts = list(match.groups())
    parts[group - 1] = value
    return "".join(parts)


_CN_NUMERAL_RE = re.compile("[〇○零一二三四五六七八九十]")


def arabicize_dates(text: str) -> str:
    """Rewrite Chinese-numeral years, months and days as Arabic digits.

    "二〇二三年六月底" -> "2023年6月底"; "五年内" (not a 4-digit year) is left alone.
    The result is not length-preserving.
    """
    if not _CN_NUMERAL_RE.search(text):
        return text
    text = _CN_YEAR_RE.sub(lambda m: _sub_number(m, 1), text)
    text = _CN_MONTH_RE.sub(lambda m: _sub_number(m, 1), text)
    return _CN_DAY_RE.sub(lambda m: _sub_number(m, 2), text)


_BOOK_TITLE_RE = re.compile(r"《[^《》]*(?:《[^《》]*》[^《》]*)*》")


def strip_book_titles(text: str) -> str:
    """Blank out titles in 《》 (plan names such as 《行动计划(2021-2023年)》 carry no due date)."""
    return _BOOK_TITLE_RE.sub("《》", text)


# Letters reposted in traditional characters: the characters the rules below look at.
_TRADITIONAL = str.maketrans(
    "將擬劃計爭預繼續經後於會進與對謝來為實規現設納確決還據積極動導調議號個項萬億達標"
    "準開發體務門處區縣鎮鄉廳辦電話聯係報這沒無盡並當時間應該從過關啟產業園歲級",
    "将拟划计争预继续经后于会进与对谢来为实规现设纳确决还据积极动导调议号个项万亿达标"
    "准开发体务门处区县镇乡厅办电话联系报这没无尽并当时间应该从过关启产业园岁级",
)


_TRADITIONAL_RE = re.compile("[" + "".join(chr(cp) for cp in _TRADITIONAL) + "]")


@functools.lru_cache(maxsize=4096)
def _prepare(text: str) -> str:
    """The text the due-date and commitment rules read: half-width, no titles in 《》,
    Arabic dates, simplified characters."""
    text = arabicize_dates(strip_book_titles(normalize(text)))
    return text.translate(_TRADITIONAL) if _TRADITIONAL_RE.search(text) else text


_SENTENCE_SPLIT_RE = re.compile(r"[。；;!?！？\n]+")


def split_sentences(text: str) -> list[str]:
    """Split on 。；; (and line breaks); strip whitespace; drop empty pieces."""
    return [s.strip() for s in _SENTENCE_SPLIT_RE.split(text) if s.strip()]


# --------------------------------------------------------------------------------------
# Due dates
# --------------------------------------------------------------------------------------

_QUARTER = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}

# The leading look-ahead lists the first characters of all the alternatives: it lets the
# scan skip the other positions quickly (about 15 times faster on a letter).
_DUE_RE = re.compile(
    r"""
    (?=[\d明后今本年上下第一二三四五六七八九十两预计力争确准将拟])
    (?:
    (?P<ymd>(?P<ymd_y>\d{4})\s*年\s*(?P<ymd_m>\d{1,2})\s*月\s*(?P<ymd_d>\d{1,2})\s*[日号])
  | (?P<ym>(?P<ym_y>\d{4})\s*年\s*(?P<ym_m>\d{1,2})\s*月)
  | (?P<yh>(?P<yh_y>\d{4})\s*年\s*(?:(?P<yh_h>上半年|下半年)|第?(?P<yh_q>[一二三四1-4])季度))
  | (?P<yy>(?<![\d.])(?P<yy_y>\d{4})\s*年(?!\s*\d|以来|来|起|开始|以前|初|春|期间|度以来))
  | (?P<nm>明年\s*(?P<nm_m>\d{1,2})\s*月(?:\s*(?P<nm_d>\d{1,2})\s*[日号])?)
  | (?P<nx>明年(?:(?P<nx_h>上半年|下半年)|第?(?P<nx_q>[一二三四])季度)?)
  | (?P<ah>后年)
  | (?P<cm>(?:今年|本年)\s*(?P<cm_m>\d{1,2})\s*月(?:\s*(?P<cm_d>\d{1,2})\s*[日号])?)
  | (?P<cy>(?:今年|本年度?)(?:(?P<cy_h>上半年|下半年)|第?(?P<cy_q>[一二三四])季度)?(?!以来|来|初|春))
  | (?P<ye>(?<![\d年明去前后一二三四五六七八九十两几多])年(?:底|末|内))
  | (?P<bh>(?<![年\d])(?P<bh_h>上半年|下半年))
  | (?P<bq>(?<![年\d])第?(?P<bq_q>[一二三四])季度)
  | (?P<bm>本月(?:底|末|内)?)
  | (?P<mi>(?P<mi_n>\d{1,2}|[一二三四五六七八九十两])\s*个月内)
  | (?P<md>(?<![\d.])(?P<md_m>\d{1,2})\s*月\s*(?P<md_d>\d{1,2})\s*[日号])
  | (?P<mo>(?<![\d.])(?P<mo_m>\d{1,2})\s*月(?:份)?(?=\s*(?:底|末|前|之前|份前|中旬|上旬|下旬)))
  | (?P<fy>(?<![\d一二三四五六七八九十第])十(?P<fy_n>[一二三四五六七八九])五[”"’']?
        \s*(?:期间|时期|期内|末|内))
  | (?P<tm>今明两年)
  | (?P<em>(?:预计|计划|力争|争取|确保|准备|[将拟]于|[将拟]在)\s*(?P<em_m>\d{1,2})\s*月(?:份)?
        (?!\s*\d|\s*[日号]))
  | (?P<cp>今年以来(?=[^。；;已]{0,16}?(?:计划|拟)))
    )
    """,
    re.VERBOSE,
)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _half_end(year: int, half: str) -> date:
    return date(year, 6, 30) if half == "上半年" else date(year, 12, 31)


def _quarter_end(year: int, quarter: str) -> date:
    return _month_end(year, _QUARTER[quarter] * 3)


def _roll(candidate: date, letter_date: date) -> date:
    """A month/day with no year that has already passed means next year."""
    if candidate < letter_date:
        try:
            return candidate.replace(year=candidate.year + 1)
        except ValueError:  # 29 Feb
            return candidate.replace(year=candidate.year + 1, day=28)
    return candidate


def _resolve(m: re.Match, letter_date: date | None) -> date | None:  # noqa: C901 - a flat table
    g = m.groupdict()
    ld = letter_date
    if g["ymd"]:
        return date(int(g["ymd_y"]), int(g["ymd_m"]), int(g["ymd_d"]))
    if g["ym"]:
        return _month_end(int(g["ym_y"]), int(g["ym_m"]))
    if g["yh"]:
        year = int(g["yh_y"])
        return _half_end(year, g["yh_h"]) if g["yh_h"] else _quarter_end(year, g["yh_q"])
    if g["yy"]:
        return date(int(g["yy_y"]), 12, 31)
    if g["fy"]:  # the N-th five-year plan (十二五 = 2011-2015) ends in 1970 + 5 * (N - 3)
        return date(1970 + 5 * (10 + _CN_DIGIT[g["fy_n"]] - 3), 12, 31)
    if ld is None:
        return None  # everything below is relative to the letter date
    if g["nm"]:
        if g["nm_d"]:
            return date(ld.year + 1, int(g["nm_m"]), int(g["nm_d"]))
        return _month_end(ld.year + 1, int(g["nm_m"]))
    if g["nx"]:
        if g["nx_h"]:
            return _half_end(ld.year + 1, g["nx_h"])
        if g["nx_q"]:
            return _quarter_end(ld.year + 1, g["nx_q"])
        return date(ld.year + 1, 12, 31)
    if g["ah"]:
        return date(ld.year + 2, 12, 31)
    if g["cm"]:
        if g["cm_d"]:
            return date(ld.year, int(g["cm_m"]), int(g["cm_d"]))
        return _month_end(ld.year, int(g["cm_m"]))
    if g["cy"]:
        if g["cy_h"]:
            return _half_end(ld.year, g["cy_h"])
        if g["cy_q"]:
            return _quarter_end(ld.year, g["cy_q"])
        return date(ld.year, 12, 31)
    if g["ye"]:
        return date(ld.year, 12, 31)
    if g["bh"]:
        return _roll(_half_end(ld.year, g["bh_h"]), ld)
    if g["bq"]:
        return _roll(_quarter_end(ld.year, g["bq_q"]), ld)
    if g["bm"]:
        return _month_end(ld.year, ld.month)
    if g["mi"]:
        return _add_months(ld, cn_to_int(g["mi_n"]))
    if g["md"]:
        day = date(ld.year, int(g["md_m"]), int(g["md_d"]))
        # "9月1日前" means the next 1 September; a bare "3月30日" is a day that was
        return _roll(day, ld) if _DEADLINE_AFTER_RE.match(m.string, m.end()) else day
    if g["mo"] or g["em"]:
        month = int(g["mo_m"] or g["em_m"])
        return _month_end(ld.year + (1 if month < ld.month else 0), month)
    if g["tm"]:
        return date(ld.year + 1, 12, 31)
    if g["cp"]:  # "今年以来，我县计划…": this year's plan
        return date(ld.year, 12, 31)
    return None


# Words after a date that make it a deadline: "9月1日前", "年底", "6月底前".
_DEADLINE_AFTER_RE = re.compile(r"\s*(?:底|末|前|之前|以前|内|以内|起|开始)")
# Expressions that always look ahead (明年, 6月底前, 十四五期间 …).
_DEADLINE_GROUPS = ("nm", "nx", "ah", "fy", "tm", "em", "ye", "bh", "bq", "mo", "mi", "yh", "cm")
# A year dating a document or a meeting, not work to do: "2025年印发的《…》".
_DOCUMENT_YEAR_RE = re.compile(
    r"\d{4}\s*年(?:\s*\d{1,2}\s*月)?(?:\s*\d{1,2}\s*[日号])?\s*"
    r"(?:印发|发布|出台|颁布|公布|召开|制定|批复|下达)(?:了|的)"
)


_TIME_HINT_RE = re.compile(r"[\d年月季]|十[一二三四五六七八九]五|今明")


def _due_expressions(s: str, letter_date: date | None) -> list[tuple[date, bool]]:
    """(due date, is a deadline) of each time expression in the prepared text ``s`` that
    resolves to a date not before the letter date."""
    out: list[tuple[date, bool]] = []
    if not _TIME_HINT_RE.search(s):
        return out  # (most clauses name no time: spare the long pattern)
    for m in _DUE_RE.finditer(_DOCUMENT_YEAR_RE.sub("", s)):
        try:
            due = _resolve(m, letter_date)
        except ValueError:  # 2月30日 and the like
            continue
        if due is None or (letter_date is not None and due < letter_date):
            continue  # unresolvable, or a past date (background, not a due date)
        deadline = (
            m.lastgroup in _DEADLINE_GROUPS
            or bool(_DEADLINE_AFTER_RE.match(m.string, m.end()))
            or (letter_date is not None and due.year > letter_date.year)
        )
        out.append((due, deadline))
    return out


def infer_due_on(text: str, letter_date: date | None) -> date | None:
    """Infer the due date a commitment sentence sets, relative to the letter date.

    Of the time expressions that resolve to a date not before the letter date, the
    earliest wins ("10月底前公布名单，明年全覆盖" is due at the end of October: that is
    when follow-up starts).  Expressions relative to the letter (今年底, 明年, 10月底 …) need
    ``letter_date``; without it only absolute ones (2023年6月底前) resolve.  A plan period
    ("十二五"期间) is due at its end, a year's project ("纳入2024年…项目") at the year's
    end.  Open-ended promises (逐步, 长期, 持续) have no date and give None.
    """
    if not text:
        return None
    dues = _due_expressions(_prepare(text), letter_date)
    return min((due for due, _ in dues), default=None)


# --------------------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------------------

_UNITS = (
    "万平方米|平方公里|平方米|公顷|亩|公里|千米|米|万人次|人次|万册|册|所|个|家|座|张|间|条|项|"
    "套|台|辆|户|床|场|次|名|人|篇|节|讲|期|批|件|处|栋|班|门|支|株|棵|吨|亿元|万元|元|盏|块|本|部"
)
_PCT_RE = re.compile(r"\d+(?:\.\d+)?\s*%")
_COUNT_RE = re.compile(
    r"(?<![\d.A-Za-z])(?P<n>\d+(?:\.\d+)?)\s*(?P<mag>[万亿千百]?)\s*(?P<unit>" + _UNITS + r")"
    r"(?!月|工作日|小时|周|星期|以上的|以下的)"
)
_CLAUSE_RE = re.compile(r"[^,，;；。]+")
_PAST_RE = re.compile(r"已|截至|截止|以来")
_TARGET_VERB_RE = re.compile(
    r"(?:达到|达|建成|新建|新增|增加|增至|提高|提升|完成|实现|覆盖|累计|不少于|不低于|至少|超过|"
    r"突破|培训|开展|举办|改造|配备|建设|打造|创建|培育|扩建|改扩建|招聘|补充|新改扩建)[^，,。；;]{0,8}$"
)


# A specification of several dimensions: "路基加宽至6.5米、路面加宽至5.5米".
_SPEC_ITEM = (
    r"(?:(?![为是将把对使的和及与])[\u4e00-\u9fff]){1,4}"
    r"(?:加宽|拓宽|扩宽|加高|加深|加长|延长|提高|提升|增加|扩大|降低|缩短|减少|控制)(?:至|到)"
    r"\s*\d+(?:\.\d+)?\s*(?:%|" + _UNITS + r")"
)
_SPEC_RE = re.compile(_SPEC_ITEM + r"(?:\s*[、和及]\s*" + _SPEC_ITEM + r")+")
# A grade of standard to build to: "按照三级公路标准", "达到国家一级标准".
_STANDARD_RE = re.compile(
    r"(?:按照|按|达到|执行|参照)(?P<std>[^\s，,。；;、按照]{0,8}?[一二三四五六七八九\dA-Z]+[级星A]"
    r"[^\s，,。；;、]{0,6}?标准)"
)


def extract_target(text: str | None) -> str | None:
    """Return the measurable target in a sentence: "80%", "550所", "137公里", "3万册"…

    A specification of several dimensions ("路基加宽至6.5米、路面加宽至5.5米") is kept
    whole; otherwise a percentage wins; otherwise a count with a unit, preferably one
    right after a target verb (达到, 建成, 新增 …); otherwise a graded standard
    ("三级公路标准").  Counts after 每/第 ("每两周1节", "第3批") are rates or ordinals, not
    targets.  Returned in half-width form without inner spaces.
    """
    if not text:
        return None
    s = strip_book_titles(normalize(text))
    spec = _SPEC_RE.search(s)
    if spec:
        return re.sub(r"\s+", "", spec.group(0))
    # Clauses reporting past work ("2021年已建成12所") are a last resort.
    clauses = list(_CLAUSE_RE.finditer(s))
    ordered = [c for c in clauses if not _PAST_RE.search(c.group(0))]
    ordered += [c for c in clauses if _PAST_RE.search(c.group(0))]
    for clause in ordered:
        pct = _PCT_RE.search(clause.group(0))
        if pct:
            return re.sub(r"\s+", "", pct.group(0))
    candidates = []
    for clause in ordered:
        for m in _COUNT_RE.finditer(s, clause.start(), clause.end()):
            before = s[max(0, m.start() - 3) : m.start()]
            if "每" in before or before.endswith("第"):
                continue
            verb = bool(_TARGET_VERB_RE.search(s[max(clause.start(), m.start() - 12) : m.start()]))
            candidates.append((not verb, len(candidates), m.group(0)))
    if not candidates:
        standard = _STANDARD_RE.search(s)
        return re.sub(r"\s+", "", standard["std"]) if standard else None
    return re.sub(r"\s+", "", min(candidates)[2])


# --------------------------------------------------------------------------------------
# Finding commitments
# --------------------------------------------------------------------------------------

_FORWARD_HEADING_RE = re.compile(
    r"下一步|下步|今后|接下来|打算|工作计划|计划安排|工作安排|工作思路|努力方向|工作措施|将来|未来"
)
# Markers of a promise in a sentence outside the forward-looking section.  A bare 将 is
# too weak (将X纳入… describes past work), so 将 must be followed by a verb-like word.
_PROMISE_RE = re.compile(
    r"将(?:继续|进一步|会|于|在|按照|根据|结合|加快|加大|加强|积极|持续|不断|全面|大力|着力|重点|"
    r"抓紧|尽快|适时|认真|统筹|推动|推进|完善|组织|开展|研究|配合|协调|争取|启动|督促|指导|联合|"
    r"会同|牵头|逐步|深入|切实|努力|坚持|强化|进行|做好|落实|实施|探索|及时|主动|依法|严格|密切|"
    r"针对|围绕|视情|力争|优化|提升|提高|扩大|建立|健全|出台|制定|修订|新建|建成|完成|实现|安排|"
    r"对|把|与|向|以)"
    r"|力争|争取在|争取于|计划于|计划在|计划\d|拟于|拟在|拟将|预计|年底前|年内|今年底|今年内|明年|"
    r"下一步|下步|今后|逐步|列入[^。；;，,]{0,20}?计划|\d{4}\s*年(?:\s*\d{1,2}\s*月)?(?:底)?前|月底前"
)
_STRONG_RE = re.compile(r"将|力争|计划|拟|预计|下一步|今后|年底前|年内")
_CLOSING_RE = re.compile(r"^(?:感谢|衷心感谢|再次感谢|非常感谢|欢迎|特此|专此|此复|以上答复)")
_MARKER_RE = re.compile(
    r"^\s*(?:[(（][一二三四五六七八九十\d]{1,3}[)）]|\d{1,2}\s*[、.．](?!\d)|[一二三四五六七八九十]{1,3}\s*[、.．])\s*"
)
_SUBHEAD_LINE_RE = re.compile(
    r"^\s*(?:[(（][一二三四五六七八九十\d]{1,3}[)）]|\d{1,2}\s*[、.．](?!\d))"
)


def _is_fragment_heading(sentence: str) -> bool:
    """True for a numbered sub-heading such as "(一)健全完善工作体系": not a promise itself."""
    m = _MARKER_RE.match(sentence)
    if not m:
        return False
    rest = sentence[m.end() :]
    return len(rest) <= 20 and not re.search(r"[，,：:]", rest)


def find_commitments(sections: list[dict], letter_date: date | None) -> list[dict]:
    """Return the commitments made in a letter's sections.

    ``sections`` are ``{"heading", "text"}`` dicts as produced by the parser.  Every
    sentence of a forward-looking section (下一步工作安排, 今后工作 …) is a commitment;
    elsewhere only sentences that promise future work (将继续, 力争, 计划于, 年底前 …).
    Each result is ``{"text", "due_on" (ISO date or None), "target", "section"}``.
    """
    results: list[dict] = []
    seen: set[str] = set()
    for section in sections:
        heading = section.get("heading")
        text = section.get("text") or ""
        section_forward = bool(heading and _FORWARD_HEADING_RE.search(heading))
        sub_forward = False
        for line in text.splitlines():
            if _SUBHEAD_LINE_RE.match(line):
                head = re.split(r"[。：:]", line, maxsplit=1)[0]
                sub_forward = bool(_FORWARD_HEADING_RE.search(head))
            forward = section_forward or sub_forward
            for sentence in split_sentences(line):
                if _is_fragment_heading(sentence):
                    continue
                clean = _MARKER_RE.sub("", sentence, count=1).strip(" ，,：:")
                if len(clean) < 6 or _CLOSING_RE.match(clean) or clean in seen:
                    continue
                if not forward:
                    probe = strip_book_titles(normalize(clean))
                    if not _PROMISE_RE.search(probe):
                        continue
                    if _PAST_RE.search(probe) and not _STRONG_RE.search(probe):
                        continue
                due = infer_due_on(clean, letter_date)
                seen.add(clean)
                results.append(
                    {
                        "text": clean,
                        "due_on": due.isoformat() if due else None,
                        "target": extract_target(clean),
                        "section": heading,
                    }
                )
    return results
