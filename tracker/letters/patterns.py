"""The shapes of a reply letter, written once: headings, closings, dates, document numbers,
grades, disclosure, the closing notes' labels and unit names.

The parser, the commitment finder, the letter layout on screen and the export all read
letters; they share these patterns. Patterns accept full-width and half-width punctuation
alike (``（一）`` and ``(一)``, ``：`` and ``:``), so they work on printed text as well as on
the parser's folded copy. Pure standard library.
"""

from __future__ import annotations

import re

from tracker.rules.chinese import ZEROS as CN_ZERO

CN_DIGITS = "一二三四五六七八九十"
CJK = "\u4e00-\u9fff"

# -- headings inside the letter ---------------------------------------------------------
# 一、 first level; （一） second; 1. or 1、 third. A first-level mark followed by a digit
# ("一.5亿") is no heading.
HEADING_RES = {
    # (一、, and 一, as a text typed with half-width punctuation has it)
    1: re.compile(rf"^[{CN_DIGITS}]{{1,3}}\s*[、.．,，](?!\d)"),
    2: re.compile(rf"^[（(\[][{CN_DIGITS}]{{1,3}}[）)\]]"),
    3: re.compile(r"^\d{1,2}\s*[、.．](?!\d)"),
}
HEADING_MAX = 40  # a heading line is short; a numbered paragraph is not a heading
# the numbering a heading or an item starts with, whatever its level: 一、 （一） (1) 1. 1、
ITEM_MARK_RE = re.compile(
    rf"^\s*(?:[(（][{CN_DIGITS}\d]{{1,3}}[)）]|\d{{1,2}}\s*[、.．](?!\d)|[{CN_DIGITS}]{{1,3}}\s*[、.．])\s*"
)
# the numbering of second- and third-level items: （一） (1) 1. 1、
SUBITEM_MARK_RE = re.compile(rf"^\s*(?:[(（][{CN_DIGITS}\d]{{1,3}}[)）]|\d{{1,2}}\s*[、.．](?!\d))")


def heading_mark(line: str) -> int | None:
    """The level of the numbering a line starts with (1 for 一、, 2 for （一）, 3 for 1.),
    whatever follows it; None for a line that starts with none."""
    return next((level for level, rx in HEADING_RES.items() if rx.match(line)), None)


def heading_level(line: str) -> int | None:
    """1, 2 or 3 for a short numbered heading line, else None."""
    return heading_mark(line) if len(line) <= HEADING_MAX else None


# the heading of the part of a reply that looks ahead (二、下一步工作安排, 今后工作打算): its
# sentences are the letter's commitments, and a B or C reply must have one
FORWARD_HEADING_RE = re.compile(
    r"下一步|下步|今后|接下来|打算|工作计划|计划安排|工作安排|工作思路|努力方向|工作措施|将来|未来"
)


# -- the closing paragraph ----------------------------------------------------------------
CLOSING_RE = re.compile(
    r"^(?:感谢|衷心感谢|诚挚感谢|再次感谢|非常感谢|最后.{0,4}感谢|欢迎|特此|专此|此复|以上答复|"
    r"再次对您|如有.{0,8}(?:疑问|问题|意见)|若有|对以上答复|希望.{0,6}(?:多提|继续)|请您一如既往)"
)

# -- dates ------------------------------------------------------------------------------------
YEAR = rf"(?:\d{{4}}|[{CN_ZERO}一二三四五六七八九]{{4}})"
MONTH_DAY = rf"(?:\d{{1,2}}|[{CN_DIGITS}]{{1,3}})"
DATE_RE = re.compile(rf"(?P<y>{YEAR})\s*年\s*(?P<m>{MONTH_DAY})\s*月\s*(?P<d>{MONTH_DAY})\s*[日号]")
# a line that is only a written date ("2022年5月7日", "二〇二二年五月七日")
DATE_LINE_RE = re.compile(rf"^{YEAR}\s*年\s*{MONTH_DAY}\s*月\s*{MONTH_DAY}\s*日$")


def is_date_line(line: str) -> bool:
    return bool(DATE_LINE_RE.match(line.strip()))


# -- document numbers (文号) -----------------------------------------------------------------
# 机关代字〔年份〕序号号: 〔〕 per GB/T 9704, also [] 【】 () ﹝﹞ and 第 before the number.
DOC_NUMBER_RE = re.compile(
    rf"(?P<doc>[{CJK}]{{0,12}}\s*[〔\[【(（［]\s*(?:19|20)\d\d\s*[〕\]】)）］]\s*第?\s*\d+"
    r"(?:\s*-\s*\d+)*\s*号)"
)
# the same, damaged on the way to the page: no brackets ("X字202252"), no closing bracket
# or no 号 ("X函〔202410"). Read only where the line holds nothing else.
DOC_NUMBER_LOOSE_RE = re.compile(
    rf"^(?P<doc>[{CJK}]{{1,12}}(?:[〔\[【(（［]\s*(?:19|20)\d\d\s*[〕\]】)）］]?|"
    rf"(?<=[字函发办复])(?:19|20)\d\d)\s*第?\d{{1,5}}\s*号?)$"
)

# -- grades (答复类别) -------------------------------------------------------------------------
GRADE_WORDS = "解决采纳|列入计划|正在解决|留作参考|已经解决|基本解决|已解决"
GRADE_LETTER = r"[A-Da-d甲乙丙丁]"
# a grade mark on its own: "A类", "（B类）", "(B)", "乙类", "B1类", "列入计划", "解决采纳类"
GRADE_MARK_RE = re.compile(
    rf"^[（(\[【]?\s*(?:(?P<g>{GRADE_LETTER})\s*\d?\s*类|(?P<w>{GRADE_WORDS})\s*类?|(?P<b>[A-D]))"
    r"\s*[）)\]】]?$"
)
# the national scheme's grades printed as their definitions ("所提问题已经解决或者基本解决"),
# as a grade's value or before its letter ("…基本解决(A类)")
GRADE_DEFINITIONS = (
    ("A", r"(?:所提问题)?已经?解决或者?基本解决"),
    ("B", r"(?:所提问题)?正在解决或者?列入(?:规划|计划)(?:逐步|拟逐步)?解决"),
    ("C", r"(?:所提问题)?因(?:目前)?条件限制或者?其[他它]原因需?(?:要)?待以后解决"),
)
_GRADE_DEFINITION_RE = re.compile(
    "^(?:" + "|".join(f"(?P<{g}>{rx})" for g, rx in GRADE_DEFINITIONS) + r")[。.]?$"
)
# a definition or a word label followed by its letter: "所提问题已经解决或基本解决(A类)"
_GRADE_AFTER_WORDS_RE = re.compile(
    rf"^(?P<words>[^()（）\[\]【】]{{2,30}}?)\s*[（(\[【]\s*(?P<g>{GRADE_LETTER})\s*类?\s*[）)\]】]$"
)
# a sentence saying the grade: "本件为B类。", "此件答复属A类", "该建议列为乙类"
GRADE_SENTENCE_RE = re.compile(
    r"^(?:本|此|该)(?:件|建议|提案|议案|答复|复函|件建议|件提案)(?:答复|办理)?"
    rf"(?:为|属|属于|列为|定为|确定为|系)\s*(?P<g>{GRADE_LETTER})\s*类(?:答复|办理)?件?[。.]?$"
)
# keys that introduce a grade: 答复类别 / 办复类别 / 类别 / 分类 / 办理结果
GRADE_KEY_RE = re.compile(
    r"^(?:(?:办复|答复|办理|复文|建议|提案|议案)?类别|分类|办理结果|答复类型)$"
)


def grade_value(text: str, keyed: bool = True) -> str | None:
    """The grade a mark or a key's value gives: "A"…"D", 甲…丁, or a word label as printed.
    A bare letter counts after a key ("分类：A") or in brackets ("（B）"), not on its own:
    a lone "A" on a page is as likely a font-size button."""
    text = text.strip()
    m = GRADE_MARK_RE.match(text)
    if m and not (m["b"] and not keyed and text[:1] not in "（(【["):
        letter = m["g"] or m["b"]
        return letter.upper() if letter else m["w"]
    definition = _GRADE_DEFINITION_RE.match(_unspaced(text))
    if definition:
        return definition.lastgroup
    after = _GRADE_AFTER_WORDS_RE.match(text)
    if after and (
        GRADE_MARK_RE.match(after["words"].strip())
        or _GRADE_DEFINITION_RE.match(_unspaced(after["words"]))
    ):
        return after["g"].upper()
    return None


def _unspaced(text: str) -> str:  # (text.squeeze, which imports this module)
    return re.sub(r"\s+", "", text)


# -- disclosure (公开方式) --------------------------------------------------------------------
DISCLOSURE_TERMS = "主动公开|依申请公开|不予公开|不公开|免予公开|同意公开|公开发布|可公开"
DISCLOSURE_KEY_RE = re.compile(r"^(?:公开(?:方式|属性|类别|类型|形式|选项|情况))$")
# the label at the start of a disclosure line ("公开方式：主动公开")
DISCLOSURE_LABEL_RE = re.compile(r"^(公开(?:方式|属性|类别|类型|形式|选项))\s*[:：]?")
# a disclosure phrase standing alone: "（此件主动公开）", "(此回复件公开)", "注：“主动公开”。"
DISCLOSURE_PHRASE_RE = re.compile(
    r"^(?:注\s*[:：]\s*)?[（(\[【“\"]*\s*"
    rf"(?P<v>此(?:回复|答复|复函)?件(?:{DISCLOSURE_TERMS}|公开)|{DISCLOSURE_TERMS})"
    r"\s*[）)\]】”\"]*[。.]?[）)\]】]*$"
)


def disclosure_mode(printed: str | None) -> str | None:
    """The disclosure vocabulary's code for a printed phrase: 主动公开, 依申请公开 or
    不予公开; None where the phrase says none of them."""
    if not printed:
        return None
    if "依申请" in printed:
        return "依申请公开"
    if re.search(r"不予公开|不公开|免予公开|不宜公开", printed):
        return "不予公开"
    if re.search(r"主动公开|同意公开|公开发布|可公开|件公开", printed):
        return "主动公开"
    return None


# -- the closing notes -------------------------------------------------------------------------
# lines that follow the signature: contact, disclosure, grade, cc (and that a screen or an
# export lays out apart from the letter's text)
FOOTER_RE = re.compile(
    r"^[（(]?\s*(?:联\s*系\s*人|承\s*办\s*人|经办人|联系电话|联系单位|公开方式|公开属性|公开类别|"
    r"抄\s*[送报]|办复类别|答复类别)"
)
CC_RE = re.compile(r"^抄\s*[送报]\s*[:：]?\s*(?P<v>.*)$")

# -- units --------------------------------------------------------------------------------------
UNIT_SUFFIX_RE = re.compile(
    r"(?:局|委|委员会|厅|办|办公室|院|中心|公司|集团|政府|部|署|会|处|所|站|室|队|馆|社|行|街道|"
    r"镇|乡|府|科|组|区|司|学校|大学|医院|监狱|管委会|工委|军区|支队|大队)$"
)

# -- marks of a reply ------------------------------------------------------------------------
REPLY_PHRASE_RE = re.compile(
    r"收悉|(?:答|回|函)?复(?:函)?如下|现答复|现回复|现将.{0,30}?(?:答复|回复|函复|函告)|"
    r"特此函复|此复|专此函复|专此函达|答复你们|答复您|会办意见如下|协办意见|会办意见|"
    r"提出以下答复|办理意见如下|答复意见"
)
REPLY_TITLE_RE = re.compile(
    r"(?:答复|回复|复函|答复函|会办意见|协办意见|办理意见|办理情况|办理单|办理结果)"
)
