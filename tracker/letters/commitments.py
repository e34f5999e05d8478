"""Commitments (承诺事项) promised by a reply letter, with due-date and target inference.

Pure standard library: no Flask, no database. Text is folded as the parser folds it
(``text.fold``), and the shapes of a letter (numbered items, the closing paragraph) are the
parser's (``patterns``).
"""

from __future__ import annotations

import calendar
import functools
import re
from datetime import date

from tracker.rules.chinese import cn_to_int

from . import patterns as P
from .text import DROPPED_RE, fold, squeeze

__all__ = [
    "arabicize_dates",
    "extract_target",
    "find_commitments",
    "infer_due_on",
    "split_sentences",
]

# --------------------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------------------

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


@functools.lru_cache(maxsize=4096)
def _prepare(text: str) -> str:
    """The text the due-date and commitment rules read: half-width, no titles in 《》,
    Arabic dates, simplified characters."""
    return arabicize_dates(strip_book_titles(DROPPED_RE.sub("", fold(text))))


_SENTENCE_SPLIT_RE = re.compile(r"[。；;!?！？\n]+")


def split_sentences(text: str) -> list[str]:
    """Split on 。；; (and line breaks); strip whitespace; drop empty pieces."""
    return [s.strip() for s in _SENTENCE_SPLIT_RE.split(text) if s.strip()]


# --------------------------------------------------------------------------------------
# Due dates
# --------------------------------------------------------------------------------------

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


def plan_period_end(n: str) -> int:
    """The last year of the five-year plan 十N五: 十二五 (2011-2015) → 2015, 十五五 → 2030."""
    return 1970 + 5 * (7 + cn_to_int(n))


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _half_end(year: int, half: str) -> date:
    return date(year, 6, 30) if half == "上半年" else date(year, 12, 31)


def _quarter_end(year: int, quarter: str) -> date:
    return _month_end(year, cn_to_int(quarter) * 3)


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
        return date(plan_period_end(g["fy_n"]), 12, 31)
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


# every time expression above names a year, a month, a quarter or a plan period
_TIME_HINT_RE = re.compile(r"[年月季]|十[一二三四五六七八九]五")


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


@functools.lru_cache(maxsize=1024)
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
    s = strip_book_titles(fold(text))
    spec = _SPEC_RE.search(s)
    if spec:
        return squeeze(spec.group(0))
    # Clauses reporting past work ("2021年已建成12所") are a last resort.
    clauses = list(_CLAUSE_RE.finditer(s))
    ordered = [c for c in clauses if not _PAST_RE.search(c.group(0))]
    ordered += [c for c in clauses if _PAST_RE.search(c.group(0))]
    for clause in ordered:
        pct = _PCT_RE.search(clause.group(0))
        if pct:
            return squeeze(pct.group(0))
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
        return squeeze(standard["std"]) if standard else None
    return squeeze(min(candidates)[2])


# --------------------------------------------------------------------------------------
# Finding commitments
# --------------------------------------------------------------------------------------
#
# A supervisor reads the whole letter: a promise may stand under 下一步工作安排 or in the
# middle of a paragraph about work done ("…已启动研究论证工作，争取尽快开工建设").  The
# finder reads clauses (the pieces of a sentence between commas):
#
# - a clause reporting work done (已, 已经, 先后, 截至, 以来, 近年来, 建成了, a year or a
#   plan period before the letter's year …) promises nothing and sets no due date; a
#   sentence that opens with such a time ("近年来，…", "2020年，…") reports throughout;
# - a clause with a marker of future work promises: strong markers (将…, 拟…, 计划…,
#   力争, 预计, 待…后, 有望, 即将, a deadline such as 年底前, 明年, 6月底前) always, weak
#   ones (争取, 继续, 逐步, 正在, 予以…, 列入…计划 …) only when no clause about work done
#   follows (a report runs from work done to what comes next, not the other way round);
# - in a forward-looking part of the letter (a 下一步 section or sub-heading, a paragraph
#   that opens with 下一步, a list announced as "将从以下几个方面…") every sentence not
#   about work done is a commitment.
#
# A sentence holding two promises with their own dates or targets ("今年先进行可行性研究
# …，争取…列入明后年的政府投资项目") gives two commitments.  Candidates are ranked (a due
# date, a target, a strong marker, a forward-looking place; generic courtesies last) and
# only the best ``limit`` are kept, in letter order, so a long letter does not bury its
# real promises.

# A paragraph that opens by looking ahead looks ahead to its end.
_FORWARD_LEAD_RE = re.compile(r"^(?:下一步|下步|下一阶段|下阶段|今后|接下来|未来|以后)")
# A sentence announcing a list of measures: "将从以下几个方面…", "活动具体计划如下:".
_LIST_INTRO_RE = re.compile(r"以下|下列|如下")
_LIST_INTRO_FUTURE_RE = re.compile(r"计划|打算|安排|设想|今后|以后|下一步|下步")
_REPLY_FORMULA_RE = re.compile(r"答复|函复|回复|复函|报告如下|说明如下|汇报如下|介绍如下")
_COURTESY_RE = re.compile(r"感谢|谢谢|致谢")
# Footer and signature lines that a parser may leave in the text.
_FOOTER_RE = re.compile(
    r"^(?:联系|抄送|抄报|附件|邮政编码|邮编|地址|电话|主办|承办|签发|网站|版权)"
    r"|^[\d\s年月日号.:/-]+$"
    r"|^[\u4e00-\u9fff]{2,16}(?:局|委员会|委|厅|人民政府|政府|办公室|中心)$"
)
# A request to others is not the unit's promise ("请…", "建议协调…", "希望…").
_REQUEST_RE = re.compile(
    r"^(?:同时|另外|此外|并|也|为此)?[，,]?(?:请|恳请|敬请|烦请|希望|望您|建议)"
)
_ENUM_RE = re.compile(r"^[一二三四五六七八九十]是")
# A phase label heading its content: "第一阶段:2022年上半年，…".
_PHASE_RE = re.compile(r"^(?:第[一二三四五六七八九十\d]{1,2}(?:阶段|步|期)|近期|中期|远期|短期)$")
# (a half-width full stop too, typed between two sentences: "已完成.下一步", not "1.6亿元")
_FULL_STOP_RE = re.compile(r"(?<=[。!?！？])|(?<=[^\d\s.]\.)(?=[\u4e00-\u9fff])")
_PIECE_SPLIT_RE = re.compile(r"[；;]+")
_CLAUSE_SPLIT_RE = re.compile(r"(?<=[，,：:])(?![\d])")
_TERMINAL = "。；;！!？?：:"
_CLAUSE_MARK_RE = re.compile(r"[，,：:]")
_HEAD_CUT_RE = re.compile(r"[。：:]")

# Work done: 已 (not 不已/而已), 已经, 先后, 截至, 以来, a verb with 了 (not 为了, 了解) …
_DONE_RE = re.compile(
    r"(?<![不而得])已|先后|截至|截止|以来|近年|近几年|历年|此前|去年|前年|上年|曾经|"
    r"(?<=[\u4e00-\u9fff])(?<![为除罢])了(?!解)|成功(?=入选|申报|创建|获批|争取)"
)
# A sentence opening with the time of work done reports throughout.
_DONE_TOPIC_RE = re.compile(
    r"^(?:近年来|近几年来?|多年来|近来|历年来|长期以来|一直以来|今年以来|去年|前年|上年|"
    r"\d{4}\s*年|[“\"]?十[一二三四五六七八九]五|截至|截止|此前|过去)"
)
# 将 as a future auxiliary.  将 + noun + 纳入/列入/作为 … is the 把 construction, which
# reports work as often as it promises it, so it is no marker by itself.
_JIANG_RE = re.compile(r"(?<![即必])将(?!近|军|士|领|帅|相|来)")
# Adverbs, modals and prepositions after 将 mark the future whatever follows; otherwise
# 将 + a noun or 这/该/其… + 纳入/列入 … is the 把 construction ("将新建学校纳入…" reports).
_JIANG_ADVERB_RE = re.compile(
    r"继续|进一步|逐步|积极|及时|尽快|尽早|尽全力|全力|认真|全面|加快|加大|加强|持续|不断|"
    r"切实|努力|主动|适时|视情|会|要|于|在|再|按|根据|依据|依托|结合|从|通过|由|对|与|向|以|把|"
    r"会同|联合|牵头|力争|争取|依法|严格|重点|着力|大力|统筹|立即|马上|陆续|优先|同步|抓紧|密切|"
    r"针对|围绕"
)
_JIANG_OBJECT_RE = re.compile(r"其|该|此|这|那|上述|相关|有关|所有|部分|原有|现有")
_DISPOSAL_RE = re.compile(
    r"纳入|列入|列为|作为|转为|改为|变为|定为|提交|报送|上报|交由|交给|移交|转交|划归|划入|划出|"
    r"调出|调入|迁出|写入|并入|归入|分解|落实到|明确为|整合为|合并|调整为|更名为|升级为|"
    r"(?:扩大|提高|增加|延伸|扩展)(?:到|至)"
)
_STRONG_RE = re.compile(
    r"(?<![草模虚比])拟(?![定稿办任人写])|力争|预计|有望|即将|打算|准备(?=[于在将对把启开实建])|"
    r"(?<![期接对等看招款优虐善有])待[^，,。；;]{1,20}?后|"
    r"(?<![度作设造展动施资目项划的育产购训生体])计划(?=[\u4e00-\u9fff\d])(?![的中内外书表单和与及生如])|"
    r"(?:^|(?<=[，,：:]))(?:下一步|下步|下一阶段|下阶段|今后|接下来)"
)
_WEAK_RE = re.compile(
    r"继续|持续|逐步|分步|分批|分阶段|正在|还在|仍在|(?<![为以])确保|"
    r"(?<![解究议])决定(?=今年|明年|于|在|先|从|对|将|自)|"
    r"争取(?![到了])(?=[^，,。；;:：]{2})|予以(?!答复|回复|说明|肯定|表扬|表彰)|"
    r"(?:列入|纳入)[^，,。；;]{0,25}?(?:项目|计划|规划|预算|库|范围)"
)
# A trend, not work promised: "覆盖率逐步提高", "保有量逐年持续增加".
_TREND_RE = re.compile(
    r"(?:逐步|持续|不断|逐年|稳步|日益|逐渐)(?:增加|提高|提升|改善|缩小|下降|减少|扩大|好转|增长|"
    r"上升|完善|显现|加大|加快|优化|规范)\s*(?=[，,。；;]|$)"
)
# The effect of work done: "村容村貌明显改善", "取得较好效果".
_RESULT_RE = re.compile(
    r"明显改善|显著改善|明显提升|显著提升|成效明显|成效显著|效果明显|"
    r"取得(?:了)?(?:较好|明显|显著|积极|阶段性|良好)?(?:的)?(?:效果|成效|进展|成果)"
)
_NEGATION_RE = re.compile(r"未|没|不|无法|暂无")
# A clause continuing the one before it ("已纳入…，并纳入…", "…，同时…").
_AND_RE = re.compile(r"^\s*(?:并|且|同时|还|也|以及)")
_FILLER_RE = re.compile(
    r"目前|当前|现阶段|同时|此外|另外|其中|首先|其次|最后|为此|对此|因此|另|并|还|"
    r"下一步|下步|今后|接下来|以来|期间|起|[一二三四五六七八九十]是|[\s，,：:、]"
)
_VAGUE_RE = re.compile(r"参考|吸收|借鉴|研究您|您提出的|反馈|关注")


# The characters each marker pattern starts with: a character-class scan is much faster
# than trying every alternative of a long pattern at every position of every clause.
_STRONG_HINT = re.compile("[拟力预有即打准待计下今接]")
_DONE_HINT = re.compile("[已先截以近历此去前上曾了成]")
_WEAK_HINT = re.compile("[继持逐分正还仍确决争予列纳]")


_DONE_BEFORE_RE = re.compile(r"(?:已经?|均已|业已)\s*$")
_YEAR_RE = re.compile(r"(?<!\d)(\d{4})\s*年")
_PLAN_PERIOD_RE = re.compile(r"十([一二三四五六七八九])五")
_PROGRESS_NOTE_RE = re.compile(r"^(?:目前|现在|现已|现|截至目前)")


def _jiang_is_future(probe: str, m: re.Match) -> bool:
    if _DONE_BEFORE_RE.search(probe, 0, m.start()):
        return False  # 已将 …: the 把 construction reporting work done
    rest = probe[m.end() :]
    if _JIANG_ADVERB_RE.match(rest):
        return True
    return not (_JIANG_OBJECT_RE.match(rest) or _DISPOSAL_RE.search(rest))


def _future_jiang(probe: str) -> list[int]:
    """Offsets of 将 used as a future auxiliary."""
    return [m.start() for m in _JIANG_RE.finditer(probe) if _jiang_is_future(probe, m)]


def _weak_markers(probe: str) -> bool:
    if not _WEAK_HINT.search(probe) or not _WEAK_RE.search(probe):
        return False
    probe = _TREND_RE.sub("", probe)
    return any(
        not _NEGATION_RE.search(probe[max(0, m.start() - 4) : m.start()])
        for m in _WEAK_RE.finditer(probe)
    )


def _years(probe: str) -> list[int]:
    """Years a clause speaks of, including the last year of a plan period (十三五 → 2020)."""
    years = [int(y) for y in _YEAR_RE.findall(probe)]
    return years + [plan_period_end(n) for n in _PLAN_PERIOD_RE.findall(probe)]


class _Clause:
    """One comma-separated piece of a sentence, classified."""

    __slots__ = ("due", "marker", "past", "result", "strong", "text", "topic", "weak")

    def __init__(self, text: str, letter_date: date | None):
        self.text = text
        probe = _prepare(text).strip()
        # (each look is skipped where the characters it needs are absent: a long letter
        # has thousands of clauses)
        years = _years(probe) if "年" in probe or "五" in probe else []
        old = letter_date is not None and bool(years) and max(years) < letter_date.year
        dues = _due_expressions(probe, letter_date)
        # lexical markers of future work, with their offsets
        words = (
            [m.start() for m in _STRONG_RE.finditer(probe)] if _STRONG_HINT.search(probe) else []
        )
        marks = words + (_future_jiang(probe) if "将" in probe else [])
        pasts = [m.end() for m in _DONE_RE.finditer(probe)] if _DONE_HINT.search(probe) else []
        goal = "目标" in probe and bool(dues)  # "明确了2018年实现…的目标": a goal to meet
        self.past = (bool(pasts) or old) and not goal
        if self.past and (words if old else marks) and min(marks) >= max(pasts, default=0):
            # "今年以来，我县计划…": the plan comes after the report; "拟将…纳入2018年…计划"
            # in a letter of 2019 still promises (a 将 in a past year does not)
            self.past = False
        self.marker = bool(marks) and not self.past
        if self.past:
            # work done sets no due date, unless it went into a later year's plan
            dues = [d for d in dues if letter_date is not None and d[0].year > letter_date.year]
        self.strong = self.marker or goal or any(deadline for _, deadline in dues)
        self.weak = not self.past and _weak_markers(probe)
        self.due = min((due for due, _ in dues), default=None)
        self.topic = self.past and bool(_DONE_TOPIC_RE.match(probe))
        self.result = self.past or (not self.marker and bool(_RESULT_RE.search(probe)))

    def make_past(self) -> None:
        self.past, self.strong, self.weak, self.marker, self.due = True, False, False, False, None


def _split_clauses(sentence: str, letter_date: date | None, past_topic: bool) -> list[_Clause]:
    """Clauses of a sentence.  A clause that only sets the time or the topic ("2020年，",
    "下一步，", "目前，") is joined to the next one; after a time of work done ("近年来，")
    and after work done continued ("已纳入…，并纳入…") the clauses report too."""
    pieces = [p for p in _CLAUSE_SPLIT_RE.split(sentence) if p]
    merged: list[str] = []
    carry = ""
    for n, piece in enumerate(pieces):
        if len(carry + piece) <= 24 and n < len(pieces) - 1:
            content = _prepare(carry + piece)
            if _TIME_HINT_RE.search(content):
                content = _DUE_RE.sub("", content)
            content = _FILLER_RE.sub("", content)
        else:
            content = "long enough"
        if len(content) <= 2:
            carry += piece
            continue
        merged.append(carry + piece)
        carry = ""
    clauses = [_Clause(p, letter_date) for p in merged]
    inherited = past_topic  # from the piece before a "；"
    past_topic = past_topic or bool(clauses and clauses[0].topic)
    for k, clause in enumerate(clauses):
        if clause.marker or (clause.strong and clause.due):
            past_topic = False  # "…，将再安排": the report is over
        else:
            reporting = past_topic and (k or inherited)
            continued = k and clauses[k - 1].past and _AND_RE.match(clause.text)
            if reporting or continued:
                clause.make_past()
        if _REQUEST_RE.match(clause.text.lstrip()):
            clause.strong = clause.weak = clause.marker = False  # "建议由贵单位牵头…"
    return clauses


def _info(clauses: list[_Clause]) -> bool:
    """A due date or a target of its own."""
    return any(c.due for c in clauses) or _target_of(clauses) is not None


def _target_of(clauses: list[_Clause]) -> str | None:
    return extract_target("".join(c.text for c in clauses if not c.past))


def _segments(clauses: list[_Clause], marked: list[bool]) -> list[list[_Clause]]:
    """Cut a sentence before each marked clause, then glue back every piece without a
    due date or target of its own: two promises make two commitments only when each has
    its own date or target.  A lead-in between two such promises ("争取在…支持的情况下，")
    goes with the one after it."""
    pieces: list[list[_Clause]] = []
    for k, clause in enumerate(clauses):
        if not pieces or (marked[k] and k > 0):
            pieces.append([clause])
        else:
            pieces[-1].append(clause)
    info = [_info(p) for p in pieces]
    out: list[list[_Clause]] = []
    out_info: list[bool] = []
    lead_in: list[_Clause] = []
    for n, piece in enumerate(pieces):
        piece = lead_in + piece
        lead_in = []
        if not out or (out_info[-1] and info[n]):
            out.append(piece)
            out_info.append(info[n])
        elif not info[n] and out_info[-1] and n + 1 < len(pieces) and info[n + 1]:
            lead_in = piece
        else:
            out[-1].extend(piece)
            out_info[-1] = out_info[-1] or info[n]
    return out


class _Candidate:
    __slots__ = ("due", "forward", "index", "section", "strong", "target", "text", "weak")

    def __init__(self, text: str, clauses: list[_Clause], section, forward: bool, index: int):
        self.text = text
        self.section = section
        self.forward = forward
        self.index = index
        self.due = min((c.due for c in clauses if c.due), default=None)
        self.target = _target_of(clauses)
        self.strong = any(c.strong for c in clauses)
        self.weak = any(c.weak for c in clauses)

    def score(self) -> int:
        value = 4 * (self.due is not None) + 2 * (self.target is not None)
        value += 2 * self.strong + self.weak + self.forward
        return value - 2 * bool(_VAGUE_RE.search(self.text))

    def as_dict(self) -> dict:
        return {
            "text": self.text,
            "due_on": self.due.isoformat() if self.due else None,
            "target": self.target,
            "section": self.section,
        }


def _may_promise(probe: str, letter_date: date | None) -> bool:
    """A quick look: could any clause of the sentence hold a marker of future work?"""
    return bool(
        (_STRONG_HINT.search(probe) and _STRONG_RE.search(probe))
        or ("将" in probe and _JIANG_RE.search(probe))
        or (_WEAK_HINT.search(probe) and _WEAK_RE.search(probe))
        or ("目标" in probe and _TIME_HINT_RE.search(probe))
        or any(deadline for _, deadline in _due_expressions(probe, letter_date))
    )


def _sentence_candidates(
    sentence: str, letter_date: date | None, forward: bool, past_topic: bool
) -> tuple[list[tuple[str, list[_Clause]]], bool]:
    """The commitments one sentence makes (none, one, or one per dated promise), and
    whether it opened with the time of work done (which then goes on after a "；")."""
    if not forward and not _may_promise(_prepare(sentence), letter_date):
        head = _CLAUSE_SPLIT_RE.split(sentence, maxsplit=1)[0]
        # only a clause opening with a time of work done can be a topic
        topic = (
            bool(_DONE_TOPIC_RE.match(_prepare(head).strip())) and _Clause(head, letter_date).topic
        )
        return [], past_topic or topic
    clauses = _split_clauses(sentence, letter_date, past_topic)
    topic = past_topic or bool(clauses and clauses[0].topic)
    if not clauses or _REQUEST_RE.match(clauses[0].text.lstrip()):
        return [], topic
    marked = []
    for k, clause in enumerate(clauses):
        later_past = any(c.result for c in clauses[k + 1 :])
        marked.append(clause.strong or (clause.weak and not later_past))
    all_past = all(c.past for c in clauses)
    if not any(marked) and not (forward and not all_past):
        return [], topic
    if not any(marked) and _FOOTER_RE.search(_prepare(sentence)):
        return [], topic
    promising = {id(c) for c, m in zip(clauses, marked, strict=True) if m}
    out = []
    for piece in _segments(clauses, marked):
        is_marked = any(id(c) in promising for c in piece)
        if not is_marked and (not forward or all(c.past for c in piece)):
            continue  # background around the promise: work done, or no promise at all
        text = "".join(c.text for c in piece).strip(" ，,：:")
        if len(text) >= 6:
            out.append((text, piece))
    return out, topic


def _join_wrapped(lines: list[str]) -> list[str]:
    """Join lines broken in mid-sentence by a fixed-width layout."""
    out: list[str] = []
    for line in lines:
        prev = out[-1].rstrip() if out else ""
        if (
            len(prev) >= 20
            and prev[-1] not in _TERMINAL
            and not P.ITEM_MARK_RE.match(prev)
            and not P.ITEM_MARK_RE.match(line)
            and not _ENUM_RE.match(line.strip())
        ):
            out[-1] = prev + line.strip()
        else:
            out.append(line)
    return out


def _is_fragment_heading(sentence: str) -> bool:
    """True for a numbered sub-heading such as "(一)健全完善工作体系": not a promise itself."""
    m = P.ITEM_MARK_RE.match(sentence)
    if not m:
        return False
    rest = sentence[m.end() :]
    return len(rest) <= 20 and not _CLAUSE_MARK_RE.search(rest)


def _is_list_intro(sentence: str) -> bool:
    """ "我委将从以下几个方面…", "在以后工作中作出以下措施:", "活动具体计划如下:"."""
    probe = _prepare(sentence)
    if not _LIST_INTRO_RE.search(probe) or _REPLY_FORMULA_RE.search(probe):
        return False
    if _DONE_RE.search(probe):
        return False
    return bool(_LIST_INTRO_FUTURE_RE.search(probe) or _future_jiang(probe))


def _heading_label(heading: str) -> str:
    return P.ITEM_MARK_RE.sub("", heading).strip()


_TITLE_RE = re.compile(r"^关于|(?:情况|安排|打算|思路|方向|成效|进展|问题|建议|提案|意见)$")


def _is_item_heading(heading: str | None) -> bool:
    """A heading that is a sentence of its own ("三、投入资金更新部分道路树木"), not a title
    ("二、下一步工作安排", "一、关于场地开放问题")."""
    if not heading:
        return False
    label = _heading_label(heading)
    return (
        len(label) >= 10 and not _TITLE_RE.search(label) and not P.FORWARD_HEADING_RE.search(label)
    )


def _sentences(line: str) -> list[tuple[str, bool]]:
    """(sentence, starts a new full sentence) for the pieces of a line split at 。；."""
    out = []
    for full in _FULL_STOP_RE.split(line):
        for n, piece in enumerate(_PIECE_SPLIT_RE.split(full)):
            piece = piece.strip().rstrip("。.!?！？").strip()
            if piece:
                out.append((piece, n == 0))
    return out


def find_commitments(
    sections: list[dict], letter_date: date | None, limit: int | None = 12
) -> list[dict]:
    """Return the commitments made in a letter, as a supervisor would list them.

    ``sections`` are ``{"heading", "text"}`` dicts as produced by the parser (the
    preamble as a section with no heading).  Every sentence of a forward-looking part
    (下一步工作安排, a paragraph opening with 下一步, a list of measures announced as
    such) is a commitment unless it reports work done; elsewhere a sentence must promise
    (将…, 拟…, 计划…, 力争, 争取…, 待…后实施, 列入…计划, 年底前 …).  At most ``limit``
    candidates are returned (None: all), the best ranked, in letter order.  Each result is
    ``{"text", "due_on" (ISO date or None), "target", "section"}``.
    """
    found: list[_Candidate] = []
    seen: set[str] = set()
    list_forward = False
    # a list whose items are single sentences printed as headings ("一、成立道路巡逻队。")
    headings_are_items = any(
        _is_item_heading(s.get("heading")) and not (s.get("text") or "").strip() for s in sections
    )
    for section in sections:
        heading = section.get("heading")
        lines = (section.get("text") or "").splitlines()
        forward = bool(heading and P.FORWARD_HEADING_RE.search(heading)) or list_forward
        if heading:
            label = _heading_label(heading)
            if _PHASE_RE.match(label) and lines:
                lines[0] = f"{label}:{lines[0].lstrip()}"
            elif headings_are_items and _is_item_heading(heading):
                lines.insert(0, heading)
        sub_forward = False
        for line in _join_wrapped(lines):
            if P.SUBITEM_MARK_RE.match(line):
                head = _HEAD_CUT_RE.split(line, maxsplit=1)[0]
                sub_forward = bool(P.FORWARD_HEADING_RE.search(head))
            line_forward = False
            previous: _Candidate | None = None
            past_topic = False
            pieces = _sentences(line)
            for n, (sentence, new_sentence) in enumerate(pieces):
                past_topic = past_topic and not new_sentence
                if _is_fragment_heading(sentence) and not (headings_are_items and forward):
                    continue
                clean = P.ITEM_MARK_RE.sub("", sentence, count=1).strip(" ，,：:")
                clean = _ENUM_RE.sub("", clean) if len(clean) > 8 else clean
                probe = _prepare(clean)
                line_forward = line_forward or bool(_FORWARD_LEAD_RE.match(probe))
                if n == len(pieces) - 1 and _is_list_intro(clean):
                    list_forward = forward = True
                    if line.rstrip()[-1:] in ":：":
                        continue  # "活动具体计划如下:" announces, the items promise
                if (
                    len(clean) < 6
                    or clean in seen
                    or P.CLOSING_RE.match(probe)
                    or _COURTESY_RE.search(probe)
                    or (_REPLY_FORMULA_RE.search(probe) and "如下" in probe)
                ):
                    continue
                seen.add(clean)
                in_forward = forward or sub_forward or line_forward
                made, past_topic = _sentence_candidates(clean, letter_date, in_forward, past_topic)
                news = [
                    _Candidate(text, part, heading, in_forward, len(found) + k)
                    for k, (text, part) in enumerate(made)
                ]
                dated = [c.due for c in news if c.due]
                if (
                    previous is not None
                    and previous.due is None
                    and dated
                    and _PROGRESS_NOTE_RE.match(probe)
                ):
                    # a progress note with a date ("目前已形成方案，预计8月份建成") dates
                    # the promise before it
                    previous.text = f"{previous.text}。{clean}"
                    previous.due = min(dated)
                    previous.target = previous.target or next(
                        (c.target for c in news if c.target), None
                    )
                    previous = None
                    continue
                found.extend(news)
                previous = news[-1] if news else None
    if limit is not None and len(found) > limit:
        ranked = sorted(found, key=lambda c: (-c.score(), c.due or date.max, c.index))
        keep = {id(c) for c in ranked[:limit]}
        found = [c for c in found if id(c) in keep]
    return [c.as_dict() for c in found]
