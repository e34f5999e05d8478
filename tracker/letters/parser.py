"""Read reply letters (答复函) to deputies' suggestions and CPPCC proposals.

Input is plain text as found in the wild: a published web page with menus, metadata tables
and footers around the letter, a letter flattened into one table cell, a co-handling
opinion (会办意见) sent to the lead unit, a copy on a third-party site. ``parse_letter``
reads it the way a clerk does, in order:

1. lines: physical lines, table cells and run-on paragraphs become logical lines;
2. page chrome: menus, breadcrumbs, share links, site footers are set aside, and what the
   page says about the letter (发布机构, 文号, 公开方式 … as "key: value", pipe rows or
   one label per line) is kept as page metadata;
3. the addressee line (XX代表：, XX等N位代表, 尊敬的XX委员, 贵党派, a unit) or, in a form
   layout, the 代表姓名 field; the header above it (heading, document number, grade,
   disclosure, letterhead, 签发人) and the body below it;
4. the closing: the date line (also "2019615" where one reading is possible), the signature,
   the closing notes (contact, phone, disclosure, grade, cc);
5. sections and the proposal the letter answers (title, number, session, kind), the issuer,
   co-handling units, contacts with the proposer and the promises made;
6. whether it is a reply at all.

Every value is taken from the printed text (see ``text.Text``); a field the letter does not
print is None or empty, and where the letter prints a field that could not be read, its
name is in ``unread`` so that a person can look. Pure standard library.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from tracker.rules.chinese import cn_to_int

from . import formats
from . import patterns as P
from .commitments import find_commitments
from .page import (
    CJK_RE,
    CONTACT_LABEL,
    NOTE_LABEL_RE,
    PAGE_END_RE,
    PUBLISHED_RE,
    WORD_RE,
    Field,
    Line,
    fields_of,
    is_chrome,
    is_prose,
    published_time,
    split_lines,
    unwrap,
)
from .text import Text, fold, read_date, squeeze

__all__ = ["NotALetter", "ParsedLetter", "parse_file", "parse_letter"]


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")
_ENOUGH_CJK_RE = re.compile(r"(?:[^\u4e00-\u9fff]*[\u4e00-\u9fff]){20}")


class NotALetter(ValueError):
    """The text is not a reply letter (the message says why)."""


@dataclass
class ParsedLetter:
    """What a letter says, as printed. Dates are ISO strings; lists are never None."""

    title: str | None = None
    issuer: str | None = None
    proposal_kind: str | None = None
    session: str | None = None
    proposal_number: str | None = None
    proposal_title: str | None = None
    proposers: list[str] = field(default_factory=list)
    addressee: str | None = None
    co_opinion: bool = False  # a co-handling unit's opinion to the lead unit, not a reply
    classification: str | None = None
    doc_number: str | None = None
    letter_date: str | None = None
    published_at: str | None = None
    co_units: list[str] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)
    contact_person: str | None = None
    contact_phone: str | None = None
    disclosure: str | None = None
    cc: list[str] = field(default_factory=list)
    sections: list[dict] = field(default_factory=list)
    commitments: list[dict] = field(default_factory=list)
    body: str = ""
    unread: list[str] = field(default_factory=list)  # printed but not read

    def as_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------------------
# Addressee
# --------------------------------------------------------------------------------------

_NUMERAL = "0-9一二三四五六七八九十"
_PERSON_SAL_RE = re.compile(
    r"^(?:尊敬的|尊敬)?\s*(?P<names>[^:]{1,60}?)\s*"
    rf"(?P<suffix>(?:等\s*[{_NUMERAL}]*\s*(?:位|名)?|[{_NUMERAL}]+\s*(?:位|名))?\s*"
    r"(?:代表|委员)们?)\s*(?::\s*(?P<rest>.*))?$"
)
_GROUP_SAL_RE = re.compile(r"^(?:尊敬的)?(?P<name>[\u4e00-\u9fff()（）]{2,30})\s*:\s*(?P<rest>.*)$")
_SAL_BAD_RE = re.compile(
    r"发布|来源|时间|日期|浏览|位置|联系|电话|抄送|公开|类别|附件|主题|索引|文号|标题|作者|分类|"
    r"字号|首页|承办|经办|备注|说明|主送|签发|注|主办|协办|会办|单位$|编号|姓名|内容|事由|"
    r"办理|答复|提出|建议|提案|议案|[0-9]|[。,，;；!?《》“”\"]"
)
_ORG_END_RE = re.compile(
    r"(?:委员会|委会|市委|省委|区委|县委|工委|小组|界别|联合会|工商联|协会|学会|商会|支部|总支|"
    r"民革|民盟|民建|民进|农工党|致公党|九三学社|台盟|委|会|组|社|盟|党|局|厅|政府|街道|办|"
    r"办公室|军区|军分区|警备区|武装部|部|部队|支队|大队|总队|代表团|中心|院|公司|集团|镇|乡)$"
)
_REST_START_RE = re.compile(r"^(?:您|你|贵|感谢|首先|现|关于|《|按|根据|经|就)")


def _split_names(text: Text, start: int = 0, end: int | None = None) -> list[str]:
    """The names in ``text.norm[start:end]``, as printed: "张三、李四", "张三 李四", "闫  冰"
    (one name padded), "刘苍林政协绿春县" (a name with the body it belongs to)."""
    end = len(text.norm) if end is None else end
    out: list[str] = []
    for piece in re.finditer(r"[^、,，;；]+", text.norm[start:end]):
        a, b = start + piece.start(), start + piece.end()
        part = text.norm[a:b]
        cut = re.search(r"\s*(?:人大)?(?:代表|委员)们?\s*$", part)
        if cut:
            b, part = a + cut.start(), part[: cut.start()]
        cut = re.search(r"(?:政协|人大).*$", part)
        if cut and cut.start() > 0:
            b, part = a + cut.start(), part[: cut.start()]
        pieces = list(re.finditer(r"\S+", part))
        if not pieces:
            continue
        if len(pieces) > 1 and all(len(p.group(0)) >= 2 for p in pieces):
            out.extend(squeeze(text.printed(a + p.start(), a + p.end())) for p in pieces)
        else:
            out.append(squeeze(text.printed(a, b)))  # "闫  冰": one name padded
    return out


@dataclass
class Addressee:
    index: int
    proposers: list[str]
    group: bool  # a unit, party or group rather than named people
    rest: Text | None  # text after the colon, on the same line


def _addressee(line: Line, index: int) -> Addressee | None:
    """The addressee line: "XX代表：", "XX等N位代表", "尊敬的XX委员", "民建市委会：", "省教育厅："."""
    norm = line.norm
    if len(norm) > 80 and ":" not in norm[:62]:
        return None
    m = _PERSON_SAL_RE.match(norm)
    if m:
        names = m["names"].strip()
        rest = (m["rest"] or "").strip()
        colon = m["rest"] is not None
        if (
            names
            and CJK_RE.search(names)
            and not _SAL_BAD_RE.search(names)
            and len(squeeze(names)) <= 48
            and names not in ("各位", "各", "全体", "尊敬的", "人大", "政协")
            and (colon or len(norm) <= 30)
            and (not rest or _REST_START_RE.match(rest) or (len(rest) <= 40 and "。" not in rest))
        ):
            proposers = _split_names(line.text, m.start("names"), m.end("names"))
            if proposers:
                after = line.text.part(m.start("rest")) if rest else None
                return Addressee(index, proposers, False, after)
    m = _GROUP_SAL_RE.match(norm)
    if m:
        name, rest = m["name"], m["rest"].strip()
        if (
            _ORG_END_RE.search(name)
            and not _SAL_BAD_RE.search(name)
            and (not rest or _REST_START_RE.match(rest))
        ):
            after = line.text.part(m.start("rest")) if rest else None
            return Addressee(index, [squeeze(line.text.printed(m.start("name"), m.end("name")))],
                             True, after)  # fmt: skip
    return None


# --------------------------------------------------------------------------------------
# Headings, sessions, numbers
# --------------------------------------------------------------------------------------

_TITLE_PART_RE = re.compile(r"关于|对|会议|第|号|《|“")
_TITLE_TAIL_RE = re.compile(
    r"(?:函|答复|回复|复函|意见|办理单|复文)(?:\s*[(（【\[][A-Da-d甲乙丙丁]类?[)）】\]])?$"
)
_TITLE_GRADE_RE = re.compile(r"[(（【\[](?P<g>[A-Da-d甲乙丙丁])\s*类?[)）】\]]$")
_ISSUER_PREFIX_RE = re.compile(
    r"^(?:【[^】]*】)?(?P<issuer>[\u4e00-\u9fff()（）]{2,40}?)\s*(?:关于|对)"
)
_N = r"[0-9一二三四五六七八九十〇零]{1,4}"
_SESSION_CORE_RE = re.compile(rf"第?{_N}届(?P<mid>[\u4e00-\u9fff]{{0,10}}?)第?{_N}次(?:全体)?会议")
_SESSION_MID_RE = re.compile(
    r"^(?:[\u4e00-\u9fff]{0,8}(?:省|市|区|县|旗|州|盟|镇|乡))?(?:全国)?"
    r"(?:人大|人民代表大会|政协|委员会|政治协商会议|人大常委会|人民代表大会常务委员会)?(?:常委会)?$"
)
_SESSION_HEAD_RE = re.compile(
    r"^(?:政协)?(?:[\u4e00-\u9fff]{0,12}(?:省|市|区|县|旗|州|盟|镇|乡))?"
    r"(?:人大|人民代表大会|政协|政治协商会议)?$"
)
_SESSION_STOP_RE = re.compile(r"关于|对|在|于|的|局|厅|委员会|政府|办公室|、|和|会同|提出")
_KIND_RE = re.compile(r"建议|提案|议案")
_NUM = r"[A-Za-z]{0,3}\d+(?:\s*-\s*\d+)*[A-Za-z]?"
_TITLE_NUMBER_RE = re.compile(rf"第\s*(?P<n>{_NUM})\s*号")
_SESSION_NUMBER_RE = re.compile(rf"^\s*(?:的)?\s*(?:第\s*)?(?P<n>[\u4e00-\u9fff]?{_NUM})\s*号")
_BODY_NUMBER_RE = re.compile(
    rf"[(\[【]\s*(?:第|编号\s*:?\s*)?\s*(?P<n>{_NUM})\s*号?\s*(?:建议|提案|议案)?\s*[)\]】]"
    rf"|第\s*(?P<n2>{_NUM})\s*号(?=\s*(?:代表|委员)?(?:建议|提案|议案|《|“))"
    rf"|(?:建议|提案|议案)?编号\s*:\s*(?P<n3>{_NUM})"
    rf"|(?<=[》”\"])\s*(?P<n4>\d{{1,8}})\s*号"
)


def _session_in(text: str) -> tuple[str, int] | None:
    """The session named in ``text`` in its fullest printed form ("海南省六届人大五次会议",
    "政协第八届三亚市委员会第五次会议"), with where it starts; None if there is none whose
    届 and 次 are both numbered."""
    for m in _SESSION_CORE_RE.finditer(text):
        if not _SESSION_MID_RE.match(m["mid"]):
            continue
        left = text[max(0, m.start() - 16) : m.start()]
        left = re.split(r"[^\u4e00-\u9fff]", left)[-1]
        head = ""
        for cut in range(len(left)):
            candidate = left[cut:]
            if _SESSION_HEAD_RE.match(candidate) and not _SESSION_STOP_RE.search(candidate):
                head = candidate
                break
        return head + m.group(0), m.start() - len(head)
    return None


def _session_key(session: str) -> tuple[str, str]:
    """Which congress and which session: the numbers before 届 and before 次."""
    m = re.search(rf"({_N})届.*?({_N})次", session)
    return (m.group(1), m.group(2)) if m else ("", "")


def _canon_session(session: str) -> str:
    return session.replace("人民代表大会", "人大").replace("第", "")


# --------------------------------------------------------------------------------------
# The closing notes
# --------------------------------------------------------------------------------------

_CONTACT_RE = re.compile(rf"^[(（\[]?\s*{CONTACT_LABEL}\s*:\s*")
_CONTACT_UNIT_PERSON_RE = re.compile(r"^[(（]?\s*联\s*系\s*单\s*位\s*及\s*联\s*系\s*人\s*:\s*")
_BARE_PERSON_RE = re.compile(r"^人(?:\s*姓\s*名)?\s*:\s*")  # a label that lost its start
_PERSON_RE = re.compile(r"[\u4e00-\u9fff·](?:\s{0,3}[\u4e00-\u9fff·]){1,4}")
_PHONE_RE = re.compile(
    r"(?<!\d)1[3-9]\d{9}(?!\d)"
    r"|(?<![\d-])(?:\(0\d{2,3}\)\s*|0\d{2,3}\s*-\s*|0\d{2,3}\s+)?\d{3,4}[\s-]?\d{4}"
    r"(?:\s*(?:-|转)\s*\d{1,5})?(?!\d)"
    r"|(?<![\d-])\d{7,8}(?!\d)"
)
_PHONE_LABEL_RE = re.compile(
    r"(?:联\s*系\s*电\s*话|办\s*公\s*电\s*话|电\s*话|联系方式|手\s*机)\s*:?\s*"
)


def _wrapped_phone(norm: str, following: str) -> str | None:
    """A phone number the page's width cut after its area code ("联系电话：010-" and
    "62551234）" on the next line), whole."""
    label = _PHONE_LABEL_RE.search(norm)
    head = re.search(r"(0\d{2,3})\s*-\s*$", norm)
    tail = re.match(r"\s*(\d{7,8})(?!\d)", following)
    if label and head and tail and head.start() >= label.end():
        return f"{head[1]}-{tail[1]}"
    return None


_NOT_PHONE_LABEL_RE = re.compile(r"传真|邮编|邮政编码|地址|邮箱|E-?mail|QQ", re.I)
_PROSE_PIECE_RE = re.compile(r"[,，;；]")  # inside a sentence
_SEAL_RE = re.compile(r"\s*[(\[（【]\s*(?:盖章|印章|公章|章)\s*[)\]）】]\s*$")
_UNIT_THEN_PERSON_RE = re.compile(r"^(.{3,}(?:局|厅|委|处|科|室|办|中心|队|站|所|院|部|股))(.+)$")
_CONTACT_UNIT_RE = re.compile(r"^[(（]?\s*联\s*系\s*单\s*位(?:及(?:联系)?电话)?\s*:\s*(?P<v>.*)$")
_CC_SPLIT_RE = re.compile(r"[、,，;；\s]+")
_COPIES_RE = re.compile(r"[(（]\s*\d+\s*份\s*[)）]")

# --------------------------------------------------------------------------------------
# Co-handling units and contacts with the proposer
# --------------------------------------------------------------------------------------

_CO_UNIT_LEAD_RE = re.compile(
    r"(?<!将)会同|(?:会办|协办)单位(?:为|是|有|:)?|经商|(?:经研究)?并商|经综合|经与|"
    r"由我[局委厅部办]与|征求了?"
)
_NAMED_CO_UNIT_LEAD_RE = re.compile(r"(?:会办|协办)单位(?:为|是|有|:)?")
_CO_UNIT_STOP_RE = re.compile(
    r"认真|共同|研究|进行|对您|对该|对此|对这|就|办理|开展|联合|深入|一起|逐条|一并|等|的|意见|"
    r"提出|反馈|均|一致|积极|组织|召开|到|赴|与|分别|在|于|作了|作出|做了|高度|分办|现|,|，"
)
_CO_UNIT_SPLIT_RE = re.compile(r"[、,，;]|以及|及")
_CO_UNIT_CUT_RE = re.compile(r"[。;；:：()（）]")
_UNIT_AND_RE = re.compile(r"(?<=[局委厅办院府部])(?:和|与)")

_CONTACT_VERB_RE = re.compile(
    r"沟通|交流|联系|面商|面谈|商谈|座谈|见面|走访|拜访|视察|调研|征求|听取|会商|协商|汇报|对接|"
    r"探讨|交换意见"
)
_DEPUTY_REF_RE = re.compile(r"您|你们|代表|委员|贵")
_CONTACT_DATE_RE = re.compile(
    r"(?:(?P<y>" + P.YEAR + r")\s*年\s*)?(?P<m>" + P.MONTH_DAY + r")\s*月\s*"
    r"(?P<days>" + P.MONTH_DAY + r"(?:\s*[、,和及至到~-]\s*" + P.MONTH_DAY + r")*)\s*[日号]"
    r"(?P<more>(?:\s*[、和及至到~-]\s*" + P.MONTH_DAY + r"\s*[日号])*)"
)
_CHANNEL_RE = re.compile(
    r"电子邮件|邮件|座谈会|座谈|面商|面谈|当面|见面|电话|微信|短信|视察|调研|走访|拜访|上门"
)
_CHANNEL_MAP = {
    "电子邮件": "邮件",
    "座谈": "座谈会",
    "面谈": "面商",
    "当面": "面商",
    "拜访": "走访",
    "上门": "走访",
}
_SENTENCE_RE = re.compile(r"[^。;；!?！？\n]+")
_CO_OPINION_RE = re.compile(r"会办意见|协办意见|会办情况|协办情况|协办提案|协助你们办理|一并答复")
_PROPOSER_IN_TEXT_RE = re.compile(
    r"(?:^|[,，。:：;；\s])(?P<names>[\u4e00-\u9fff、]{2,30}?)"
    rf"(?:等\s*[{_NUMERAL}]*\s*(?:位|名)?)?(?:代表|委员)(?:们)?(?:在[^，,。]{{0,30}})?(?:所|领衔)?提出"
)
_PROPOSAL_TITLE_RE = re.compile(
    r"(?:提出的|提出了|关于)\s*(?P<t>关于[^。,;《》()“”\"]{2,80}?的(?:建议|提案|议案))"
)
_QUOTED_RE = re.compile(r"[“\"](?P<t>[^“”\"]{4,100})[”\"]")


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item and item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _balanced_book_title(s: str, start: int) -> tuple[int, int] | None:
    """Span of the text inside the 《…》 opening at ``start`` (nested 《》 allowed)."""
    depth = 0
    for i in range(start, len(s)):
        if s[i] == "《":
            depth += 1
        elif s[i] == "》":
            depth -= 1
            if depth == 0:
                return start + 1, i
    return None


_NOT_NAME_CHAR_RE = re.compile(r"[^\u4e00-\u9fff()（）]")


def _is_unit_name(norm: str) -> bool:
    """A line that is only a unit's name ("广州市教育局", "蔡家坡经开区党政办公室")."""
    s = squeeze(fold(norm))
    if not (3 <= len(s) <= 30) or not P.UNIT_SUFFIX_RE.search(s):
        return False
    if s.startswith(("关于", "对")) or re.search(r"届|会议", s):
        return False
    if _NOT_NAME_CHAR_RE.search(s) or P.CLOSING_RE.match(s):
        return False
    if P.REPLY_TITLE_RE.search(s) or _KIND_RE.search(s) or "政府信息" in s:
        return False
    # a site banner naming several governments is not one unit
    return max(s.count("政府"), s.count("局"), s.count("厅"), s.count("委员会")) <= 1


def _spans(norm: str, start: int, end: int, separator: re.Pattern) -> list[tuple[int, int]]:
    """The pieces of ``norm[start:end]`` between separators, as spans of ``norm``."""
    spans, at = [], start
    for sep in separator.finditer(norm, start, end):
        spans.append((at, sep.start()))
        at = sep.end()
    spans.append((at, end))
    return spans


def _parse_co_units(text: Text, lead_re: re.Pattern = _CO_UNIT_LEAD_RE) -> list[str]:
    """Units named after 会同 / 会办单位 / 经商 / 经综合 / 经与 ("会同市规划和自然资源局、
    市住房城乡建设局认真研究"), as printed."""
    norm = text.norm
    units: list[str] = []
    for lead in lead_re.finditer(norm):
        start = lead.end()
        end = min(len(norm), start + 120)
        cut = _CO_UNIT_CUT_RE.search(norm, start, end)
        end = cut.start() if cut else end
        chosen = next(
            (
                stop.start()
                for stop in _CO_UNIT_STOP_RE.finditer(norm, start, end)
                if P.UNIT_SUFFIX_RE.search(norm[start : stop.start()].strip())
            ),
            end if P.UNIT_SUFFIX_RE.search(norm[start:end].strip()) else None,
        )
        if chosen is None:
            continue
        # a list parted by commas ("会同区民政局,区市场监管局研究"): each unit after one
        while chosen < end and norm[chosen] in ",，":
            after = next((m.start() for m in _CO_UNIT_STOP_RE.finditer(norm, chosen + 1, end)), end)
            piece = norm[chosen + 1 : after].strip()
            if not (3 <= len(piece) <= 25 and P.UNIT_SUFFIX_RE.search(piece)):
                break
            chosen = after
        generic = re.match(r"\s*(?:会办|协办|有关|相关)单位", norm[start:chosen])
        start += generic.end() if generic else 0
        units += _units_listed(text, start, chosen)
    return _dedupe(units)


def _units_listed(text: Text, start: int = 0, end: int | None = None) -> list[str]:
    """The units named in ``text.norm[start:end]``, a list parted by 、 , ; 及 (and 和 or 与
    between two units), as printed."""
    norm = text.norm
    units = []
    for a, b in _spans(norm, start, len(norm) if end is None else end, _CO_UNIT_SPLIT_RE):
        # "市教育局和市卫生健康委" is two units; "市规划和自然资源局" is one.
        for c, d in _spans(norm, a, b, _UNIT_AND_RE):
            piece = squeeze(norm[c:d]).lstrip("了")
            if (
                len(piece) >= 3
                and P.UNIT_SUFFIX_RE.search(piece)
                and not piece.startswith(("相关", "有关", "各"))
            ):
                units.append(squeeze(text.printed(c, d)).lstrip("了"))
    return units


def _expand_days(days: str, more: str) -> list[int]:
    """Days of a date list: "28、29" -> [28, 29]; "6至8" or "6日至8日" -> [6, 7, 8]."""
    tokens = re.findall(P.MONTH_DAY + r"|[、,和及至到~-]", days + more)
    out: list[int] = []
    pending_range = False
    for tok in tokens:
        if tok in "、,和及":
            continue
        if tok in "至到~-":
            pending_range = True
            continue
        try:
            value = cn_to_int(tok)
        except ValueError:
            continue
        if pending_range and out and out[-1] < value <= out[-1] + 31:
            out.extend(range(out[-1] + 1, value + 1))
        else:
            out.append(value)
        pending_range = False
    return out


def _parse_contacts(text: str, letter_date: date | None, names: list[str]) -> list[dict]:
    """Contacts with the proposer the letter reports: dates (the year implied by the letter
    date) and channels ("在4月28、29日进行了微信、电话沟通交流")."""
    names = [n for n in names if n]

    def about_the_proposer(sentence: str) -> bool:
        return bool(_DEPUTY_REF_RE.search(sentence)) or any(n in sentence for n in names)

    found: dict[str | None, list[str]] = {}
    order: list[str | None] = []
    for sent in _SENTENCE_RE.finditer(text):
        s = sent.group(0)
        if "月" not in s or not (_CONTACT_VERB_RE.search(s) and about_the_proposer(s)):
            continue
        dates = list(_CONTACT_DATE_RE.finditer(s))
        for i, m in enumerate(dates):
            fwd_end = dates[i + 1].start() if i + 1 < len(dates) else len(s)
            back_start = dates[i - 1].end() if i > 0 else 0
            channels = [c.group(0) for c in _CHANNEL_RE.finditer(s, m.end(), fwd_end)]
            if not channels:
                channels = [c.group(0) for c in _CHANNEL_RE.finditer(s, back_start, m.start())]
            channels = _dedupe([_CHANNEL_MAP.get(c, c) for c in channels])
            try:
                month = cn_to_int(m["m"])
                year = cn_to_int(m["y"]) if m["y"] else None
            except ValueError:
                continue
            for day in _expand_days(m["days"], m["more"]):
                if year is not None:
                    y = year
                elif letter_date is not None:
                    y = letter_date.year - (1 if month > letter_date.month else 0)
                else:
                    y = None
                if y is None:
                    key = None
                else:
                    try:
                        d = date(y, month, day)
                    except ValueError:
                        continue
                    if letter_date is not None and d > letter_date:
                        continue  # a future date is a plan, not a contact
                    key = d.isoformat()
                if key not in found:
                    found[key] = []
                    order.append(key)
                found[key] = _dedupe(found[key] + channels)
    return [{"date": key, "channels": found[key]} for key in order]


# --------------------------------------------------------------------------------------
# The reader
# --------------------------------------------------------------------------------------


_DATE_REACH = 8  # the letter date stands within this many lines after the text


_COURTESY_RE = re.compile(
    r"感谢|欢迎|希望|如有|若有|请|此复|特此|专此|批评指正|不妥|联系|满意|意见|建议|支持|关心"
)


def _is_closing(norm: str) -> bool:
    """The closing courtesy ("感谢您对…的关心和支持，欢迎…。"), not a paragraph that opens
    with thanks and goes on to the matter ("非常感谢您的关注。我县文物资源丰富，…")."""
    if not P.CLOSING_RE.match(norm):
        return False
    rest = [s for s in re.split(r"[。！!？?]", norm)[1:] if s.strip()]
    return all(len(s) <= 40 and _COURTESY_RE.search(s) for s in rest)


class LetterReader:
    """Reads one letter; ``read()`` returns a ParsedLetter or raises NotALetter. Each step
    is a method named after what it reads, called in order."""

    def __init__(self, text: str, undated: date | None = None) -> None:
        self.undated = undated  # the date to count from when neither letter nor page has one
        self.lines = split_lines(unwrap(text))
        self.out = ParsedLetter()
        self.meta: dict[str, list[Text]] = {}  # page metadata by key
        self.addressee: Addressee | None = None
        self.body_start = len(self.lines)
        self.headings: list[Text] = []  # the letter's headings, the page's first
        self.heading_at: int | None = None  # where the last one starts
        self.letterheads: list[str] = []
        self.signature: str | None = None
        self.date_index: int | None = None
        self.signature_index: int | None = None
        self.notes: list[int] = []  # indexes of the closing notes
        self.contact_units: list[str] = []
        self.preamble: list[Text] = []
        self.text_lines: list[Text] = []

    # -- helpers --------------------------------------------------------------------------

    def content(self, start: int = 0, end: int | None = None) -> list[int]:
        end = len(self.lines) if end is None else end
        return [i for i in range(start, end) if not self.lines[i].chrome]

    def unread(self, name: str) -> None:
        if name not in self.out.unread:
            self.out.unread.append(name)

    # -- the steps ------------------------------------------------------------------------

    def read(self) -> ParsedLetter:
        self.mark_chrome()
        self.read_page_metadata()
        self.find_addressee()
        self.read_form_fields()
        self.read_header()
        self.find_closing()
        self.read_closing_notes()
        self.read_grade_sentence()
        self.read_sections()
        self.read_proposal()
        self.read_issuer()
        self.read_co_units_and_contacts()
        self.read_commitments()
        self.check_is_reply()
        return self.out

    def mark_chrome(self) -> None:
        """Menus, share links, breadcrumbs and site footers are not the letter."""
        for line in self.lines:
            if not line.chrome and is_chrome(line.norm):
                line.chrome = True

    def read_page_metadata(self) -> None:
        """Labelled values anywhere above the letter's text, and in the page chrome."""
        self.fields: dict[int, list[Field]] = {}
        for i, line in enumerate(self.lines):
            nxt = self.lines[i + 1] if i + 1 < len(self.lines) else None
            found = fields_of(line, nxt)
            if found:
                self.fields[i] = found
        # a value line taken by a label alone is not a line of the letter
        for i, found in list(self.fields.items()):
            if i + 1 < len(self.lines) and found[-1].value is self.lines[i + 1].text:
                self.lines[i + 1].chrome = True

    def _collect_meta(self, indexes) -> None:
        for i in indexes:
            for f in self.fields.get(i, ()):
                if f.value:
                    self.meta.setdefault(f.key, []).append(f.value)
                    if f.key == "published" and self.out.published_at is None:
                        self.out.published_at = published_time(f.value.norm)

    def find_addressee(self) -> None:
        """The addressee line before the first body paragraph; the body starts after it."""
        for i in self.content():
            line = self.lines[i]
            if i in self.fields:
                continue  # a labelled field, not an addressee
            found = _addressee(line, i)
            if found:
                nxt = next(iter(self.content(i + 1)), None)
                if (
                    found.rest is None
                    and ":" not in line.norm
                    and (nxt is None or not self.lines[nxt].prose)
                ):
                    continue  # "XX代表" without a colon must be followed by the letter
                self.addressee = found
                self.body_start = i + 1
                break
            if line.prose:
                self.body_start = i
                break
        # a unit addressed without a colon right above the body ("三亚市旅游和文化广电体育局")
        if self.addressee is None and self.body_start < len(self.lines):
            before = self.content(0, self.body_start)
            if len(before) >= 2:
                i = before[-1]
                if _is_unit_name(self.lines[i].norm) and P.REPLY_TITLE_RE.search(
                    self.lines[before[-2]].norm
                ):
                    self.addressee = Addressee(i, [squeeze(self.lines[i].raw)], True, None)
        self._collect_meta(range(0, self.body_start))
        self._collect_meta(i for i, line in enumerate(self.lines) if line.chrome)
        if self.addressee:
            self.out.addressee = squeeze(self.lines[self.addressee.index].raw).rstrip(":：")
            self.out.proposers = list(self.addressee.proposers)

    def read_form_fields(self) -> None:
        """A 办理单 form instead of (or above) the addressee: 代表姓名, 事由, 新编号."""
        names = [t for t in self.meta.get("proposers", []) if CJK_RE.search(t.norm)]
        if names:
            cut = re.search(r"等|$", names[0].norm)
            listed = _split_names(names[0], 0, cut.start())
            sal = self.out.proposers
            if listed and (not sal or (len(sal) == 1 and listed[0] == sal[0])):
                self.out.proposers = listed
        for value in self.meta.get("subject", []):
            if self.out.proposal_title is None and _KIND_RE.search(value.norm):
                self.out.proposal_title = squeeze(value.raw).strip('“”"')

    def read_header(self) -> None:
        """Above the body: grade, document number, disclosure, letterhead and headings."""
        header = [i for i in self.content(0, self.body_start) if not self._is_addressee(i)]
        run: list[int] = []
        for n, i in enumerate(header):
            line = self.lines[i]
            if i in self.fields:
                run = []
                continue
            if self._bare_grade_beside_doc_number(header, n):
                run = []
                continue
            if self._header_marks(line):
                run = []
                continue
            if read_date(line.norm)[1] or PUBLISHED_RE.fullmatch(line.norm.strip()):
                run = []
                continue
            run.append(i)
            self._heading_from(run)
            if _is_unit_name(line.norm):
                self.letterheads.append(squeeze(line.raw))
        for value in self.meta.get("title", []):
            if P.REPLY_TITLE_RE.search(value.norm):
                self.headings.insert(0, value)
        if self.out.title is None and self.headings:
            self.out.title = squeeze(self.headings[-1].raw)
        self._meta_header()

    def _bare_grade_beside_doc_number(self, header: list[int], n: int) -> bool:
        """A lone "B" near the document number or the reply's title (two lines at most
        between: the letterhead above the number, a title's second line) is the grade mark,
        when it is the only lone letter above the letter (a page's font-size buttons are
        several)."""
        grade = P.grade_value(self.lines[header[n]].norm)
        if not grade or not self._lone_letter(header[n]):
            return False
        if sum(map(self._lone_letter, header)) > 1:
            return False
        near = [header[k] for k in range(n - 2, n + 3) if k != n and 0 <= k < len(header)]
        if any(
            P.DOC_NUMBER_RE.search(self.lines[i].norm)
            or P.REPLY_TITLE_RE.search(self.lines[i].norm)
            for i in near
        ):
            self.out.classification = self.out.classification or grade
            return True
        return False

    def _lone_letter(self, i: int) -> bool:
        return len(self.lines[i].norm.strip()) == 1 and self.lines[i].norm.strip() in "ABCD"

    def _is_addressee(self, i: int) -> bool:
        return self.addressee is not None and self.addressee.index == i

    def _header_marks(self, line: Line) -> bool:
        """Grade, document number and disclosure marks; True if the line holds only those."""
        norm = line.norm
        grade = P.grade_value(norm, keyed=False)
        if grade:
            self.out.classification = self.out.classification or grade
            return True
        phrase = P.DISCLOSURE_PHRASE_RE.match(norm)
        if phrase:
            self.out.disclosure = self.out.disclosure or line.text.printed(*phrase.span("v"))
            return True
        doc = P.DOC_NUMBER_RE.search(norm)
        if doc:
            pieces = [
                line.text.part(*m.span())
                for a, b in ((0, doc.start("doc")), (doc.end("doc"), len(norm)))
                for m in WORD_RE.finditer(norm, a, b)
            ]
            if all(self._header_piece(p) for p in pieces):
                # (a PDF's text puts a space where the font changes: "119 号")
                self.out.doc_number = self.out.doc_number or squeeze(
                    line.text.printed(*doc.span("doc"))
                )
                for p in pieces:
                    self._header_piece(p, keep=True)
                return True
        loose = P.DOC_NUMBER_LOOSE_RE.match(squeeze(norm))
        if loose and re.search(r"\d{4}", norm):
            self.out.doc_number = self.out.doc_number or squeeze(line.raw)
            return True
        return False

    def _header_piece(self, piece: Text, keep: bool = False) -> bool:
        """What may stand beside a document number: a grade, a disclosure phrase, a date or
        time, or an empty 签发人. (A bare letter is a grade here, as it is on the line above or
        below the number: "武民提〔2023〕12号  A".)"""
        grade = P.grade_value(piece.norm)
        if grade:
            if keep:
                self.out.classification = self.out.classification or grade
            return True
        phrase = P.DISCLOSURE_PHRASE_RE.match(piece.norm)
        if phrase:
            if keep:
                self.out.disclosure = self.out.disclosure or piece.printed(*phrase.span("v"))
            return True
        return bool(
            re.fullmatch(r"[\d\-/.:年月日]+", piece.norm)
            or re.fullmatch(r"签发人?\s*:?", piece.norm)
        )

    def _heading_from(self, run: list[int]) -> None:
        """A heading ends on the last line of ``run``; it may begin up to two lines earlier."""
        last = self.lines[run[-1]]
        norm = squeeze(last.norm)
        if len(norm) > 120 or "。" in norm or not P.REPLY_TITLE_RE.search(norm):
            return
        if not (_TITLE_PART_RE.search(norm) or _TITLE_TAIL_RE.search(norm)):
            return
        start = len(run) - 1
        while start > 0 and len(run) - start <= 2:
            prev = squeeze(self.lines[run[start - 1]].norm)
            if P.REPLY_TITLE_RE.search(prev) or len(prev) > 60 or "。" in prev:
                break
            if not (_TITLE_PART_RE.search(prev) or _is_unit_name(prev)):
                break
            if _is_unit_name(prev) and not re.match(
                r"关于|对", squeeze(self.lines[run[start]].norm)
            ):
                break  # a letterhead above a heading that names its issuer itself
            start -= 1
        parts = [self.lines[i].text for i in run[start:]]
        joined = Text.of("".join(squeeze(t.raw) for t in parts))
        self.headings.append(joined)
        self.heading_at = run[start]
        grade = _TITLE_GRADE_RE.search(joined.norm)
        if grade and self.out.classification is None:
            self.out.classification = grade["g"].upper()
        run.clear()

    def _meta_header(self) -> None:
        """What the page's metadata says: document number, grade, disclosure."""
        for value in self.meta.get("doc", []):
            doc = P.DOC_NUMBER_RE.search(value.norm)
            if doc and self.out.doc_number is None:
                self.out.doc_number = squeeze(value.printed(*doc.span("doc")))
            elif self.out.doc_number is None and P.DOC_NUMBER_LOOSE_RE.match(squeeze(value.norm)):
                self.out.doc_number = squeeze(value.raw)
            elif (
                re.match(r"^[〔\[【(（]\s*(?:19|20)\d\d", value.norm)
                and self.out.doc_number is None
            ):
                m = re.match(r"^[〔\[【(（]\s*(?:19|20)\d\d\s*[〕\]】)）]\s*\d+\s*号", value.norm)
                if m:
                    self.out.doc_number = squeeze(value.printed(0, m.end()))
        for value in self.meta.get("grade", []):
            self.out.classification = self.out.classification or P.grade_value(value.norm)
        for value in self.meta.get("disclosure", []):
            m = re.search(P.DISCLOSURE_TERMS, value.norm)
            if m and self.out.disclosure is None:
                self.out.disclosure = value.printed(*m.span())

    def find_closing(self) -> None:
        """The date line at the end of the letter and the signature above it (or on it):
        after the last paragraph of text, and near it (a date further down the page is the
        page's, not the letter's)."""
        first_text = next(
            (i for i in range(self.body_start, len(self.lines)) if self.lines[i].prose),
            len(self.lines),
        )
        self.letter_end = next(
            (
                i
                for i in range(first_text, len(self.lines))
                if self.lines[i].site or PAGE_END_RE.search(self.lines[i].norm)
            ),
            len(self.lines),
        )
        after = self.content(self.body_start, self.letter_end)
        text_at = [k for k, i in enumerate(after) if self._is_text(i) and not self._is_note(i)]
        last = text_at[-1] if text_at else -1
        for k in range(min(len(after) - 1, last + _DATE_REACH), last, -1):
            i = after[k]
            day, looks, signature = self._date_line(self.lines[i])
            if not looks:
                continue
            self.date_index = i
            if day is None:
                self.unread("letter_date")
            else:
                self.out.letter_date = day.isoformat()
            if signature:
                self.signature, self.signature_index = signature, i
            break
        if self.signature is None:
            self._find_signature(after, after[last] if last >= 0 else -1)

    @staticmethod
    def _date_line(line: Line) -> tuple[date | None, bool, str | None]:
        """(date, looks like a date line, signature on the same line)."""
        norm = line.norm.strip(" |")
        day, looks = read_date(norm)
        if looks:
            return day, True, None
        m = P.DATE_RE.search(norm)
        if m and m.end() == len(norm) and m.start() > 0:
            head = _SEAL_RE.sub("", norm[: m.start()]).strip()
            if _is_unit_name(head):
                day, looks = read_date(m.group(0))
                return day, looks, squeeze(line.text.printed(0, len(head)))
        return None, False, None

    def _is_text(self, i: int) -> bool:
        """A line of the letter's text: a paragraph, or a piece of one cut by the page's width
        (a letter copied out of a PDF: "计划于2024年底前完成" / "翠湖湿地南侧公园一期建设，")."""
        norm = self.lines[i].norm
        if self.lines[i].prose:
            return True
        if len(norm) < 12 or not _PROSE_PIECE_RE.search(norm):
            return False
        # not a list of units (a 抄送 line's second line: "市公安局，市市场监管局。")
        pieces = [p for p in re.split(r"[、,，;；。.\s]+", norm) if p]
        return not all(P.UNIT_SUFFIX_RE.search(p) for p in pieces)

    def _is_note(self, i: int) -> bool:
        norm = self.lines[i].norm.lstrip("(（[")
        return bool(
            NOTE_LABEL_RE.match(norm)
            or P.FOOTER_RE.match(norm)
            or P.DISCLOSURE_PHRASE_RE.match(norm)
            or (i in self.fields and self.fields[i][0].key in ("signer", "other"))
        )

    def _find_signature(self, after: list[int], last_prose: int) -> None:
        """The unit's name just above the date line; without a date, the last unit name
        after the letter's text."""
        if self.date_index is not None:
            before = [i for i in after if i < self.date_index and not self._is_note(i)]
            tail = before[-1:]
        else:
            tail = [i for i in after if i > last_prose and not self._is_note(i)][:3]
        for i in tail:
            raw = _SEAL_RE.sub("", self.lines[i].raw).strip()
            first = re.split(r"\s{2,}", raw)[0]  # a joint signature: the first unit leads
            if _is_unit_name(Text.of(first).norm):
                self.signature_index, self.signature = i, squeeze(first)
                return

    def read_closing_notes(self) -> None:
        """Contact person and phone, 联系单位, disclosure, grade, cc."""
        after = self.content(self.body_start, self.letter_end)
        persons: list[tuple[int, str | None]] = []
        phones: list[tuple[int, str]] = []
        for pos, i in enumerate(after):
            line = self.lines[i]
            norm = line.norm.lstrip("(（[")
            offset = len(line.norm) - len(norm)
            if len(norm) > 150 or (is_prose(norm) and not NOTE_LABEL_RE.match(norm)):
                continue
            hit = False
            person = self._contact_person(line, norm, offset)
            if person is not False:
                persons.append((i, person))
                hit = True
            phone = self._phone(line, norm, offset)
            following = self.lines[after[pos + 1]] if pos + 1 < len(after) else None
            wrapped = None if phone or following is None else _wrapped_phone(norm, following.norm)
            if wrapped:
                phone = wrapped
                self.notes.append(after[pos + 1])
            if phone:
                phones.append((i, phone))
                hit = True
            unit = _CONTACT_UNIT_RE.match(norm)
            if unit:
                value = re.split(r"[\s,，;；]|\d", unit["v"])[0]
                if _is_unit_name(value):
                    at = offset + unit.start("v")
                    self.contact_units.append(squeeze(line.text.printed(at, at + len(value))))
                hit = True
            hit = self._note_marks(line, norm) or hit
            if any(f.key == "co" for f in self.fields.get(i, ())):
                hit = True  # "会办单位：…" under the text: a note, not the text's last line
            cc = P.CC_RE.match(norm)
            if cc and cc["v"]:
                hit = True
                self._cc(line, offset + cc.start("v"), after[pos + 1 :])
            if hit:
                self.notes.append(i)
        self._choose_contact(persons, phones)

    def _contact_person(self, line: Line, norm: str, offset: int) -> str | None | bool:
        """The person on a contact line (None: the line has the label but no name it could
        read); False for a line that is no contact line."""
        m = (
            _CONTACT_UNIT_PERSON_RE.match(norm)
            or _CONTACT_RE.match(norm)
            or (_BARE_PERSON_RE.match(norm) if _PHONE_RE.search(norm) or len(norm) < 12 else None)
        )
        if not m:
            return False
        value = line.text.part(offset + m.end())
        for piece in [p for p in re.split(r"[,，;；、]", value.norm) if p.strip()]:
            piece = re.split(r"\d|电\s*话|联系|手机|同志|[(（)）:/]", piece)[0].strip()
            unit_tail = _UNIT_THEN_PERSON_RE.match(squeeze(piece))
            if unit_tail and _PERSON_RE.fullmatch(unit_tail.group(2)):
                piece = unit_tail.group(2)  # "浙江省公路管理局计划财务处姚康"
            elif len(piece.split()) > 1 and all(len(p) >= 2 for p in piece.split()):
                piece = piece.split()[-1]  # "体卫艺处 邹慧婷"
            if (
                piece
                and _PERSON_RE.fullmatch(piece)
                and not P.UNIT_SUFFIX_RE.search(squeeze(piece))
            ):
                at = value.norm.find(piece)
                return value.printed(at, at + len(piece)) if at >= 0 else piece
        return None

    def _phone(self, line: Line, norm: str, offset: int) -> str | None:
        """The phone numbers of a contact line, as printed ("0591-87553027、15259105291")."""
        lead = NOTE_LABEL_RE.match(norm) or _CONTACT_RE.match(norm) or _BARE_PERSON_RE.match(norm)
        if not lead:
            return None
        label = _PHONE_LABEL_RE.search(norm)
        start = label.end() if label else lead.end()
        stop = _NOT_PHONE_LABEL_RE.search(norm, start)
        end = stop.start() if stop else len(norm)
        numbers = list(_PHONE_RE.finditer(norm, start, end))
        if not numbers:
            return None
        first, last = numbers[0], numbers[-1]
        between = norm[first.end() : last.start()]
        if len(numbers) > 1 and not re.fullmatch(r"\s*[、,，/或和;；]\s*", between):
            last = first
        return line.norm[offset + first.start() : offset + last.end()].strip()

    def _choose_contact(self, persons: list, phones: list) -> None:
        """The handling person, and the phone on their line or the nearest after it."""
        named = [(i, name) for i, name in persons if name]
        if persons and not named:
            self.unread("contact_person")
        if named:
            index, self.out.contact_person = named[0]
            own = [p for i, p in phones if i == index]
            later = [p for i, p in phones if i > index]
            self.out.contact_phone = (own or later or [p for _, p in phones] or [None])[0]
        elif phones:
            self.out.contact_phone = phones[0][1]
        if not phones and any(_PHONE_LABEL_RE.search(self.lines[i].norm) for i, _ in persons):
            self.unread("contact_phone")

    def _note_marks(self, line: Line, norm: str) -> bool:
        """Disclosure and grade in the closing notes."""
        hit = False
        key = re.match(r"^(?P<k>[^:]{2,6})\s*:\s*(?P<v>.*)$", norm)
        at = len(line.norm) - len(norm)
        if key and P.DISCLOSURE_KEY_RE.match(squeeze(key["k"])):
            hit = True
            m = re.search(P.DISCLOSURE_TERMS, key["v"])
            if m:
                start = at + key.start("v") + m.start()
                self.out.disclosure = self.out.disclosure or line.text.printed(
                    start, start + len(m[0])
                )
            elif self.out.disclosure is None:
                self.unread("disclosure")
        phrase = P.DISCLOSURE_PHRASE_RE.match(norm)
        if phrase and len(norm) <= 30:
            hit = True
            self.out.disclosure = self.out.disclosure or line.text.printed(
                at + phrase.start("v"), at + phrase.end("v")
            )
        if key and P.GRADE_KEY_RE.match(squeeze(key["k"])) and len(norm) <= 40:
            hit = True
            grade = P.grade_value(key["v"])
            if grade:
                self.out.classification = self.out.classification or grade
            elif self.out.classification is None:
                self.unread("classification")
        return hit

    def read_grade_sentence(self) -> None:
        """A grade no mark or note gave, said in a sentence of the letter ("本件为B类。")."""
        if self.out.classification is not None:
            return
        for i in self.content(self.body_start):
            said = P.GRADE_SENTENCE_RE.match(squeeze(self.lines[i].norm))
            if said:
                self.out.classification = said["g"].upper()
                return

    def _cc(self, line: Line, at: int, following: list[int]) -> None:
        parts = [line.text.part(at)]
        value = parts[0].norm
        for j in following:
            if not value.rstrip().endswith(("、", ",", "，", ";", "；")):
                break
            parts.append(self.lines[j].text)
            self.notes.append(j)
            value = self.lines[j].norm
        for part in parts:
            for unit in _CC_SPLIT_RE.split(_COPIES_RE.sub("", part.raw)):
                unit = unit.strip().rstrip("。.").strip("：:")
                if unit and CJK_RE.search(unit):
                    self.out.cc.append(unit)
        self.out.cc = _dedupe(self.out.cc)

    def read_sections(self) -> None:
        """The letter's text between the addressee and the closing: the preamble and the
        numbered sections; the whole letter as ``body``."""
        content = self.content()
        start_marks = [i for i in content if i < self.body_start]
        letter_start = self._letter_start(start_marks)
        closing = [i for i in (self.date_index, self.signature_index) if i is not None]
        end_marks = [*self.notes, *closing]
        letter_end = max(end_marks) if end_marks else (content[-1] if content else -1)
        self.out.body = "\n".join(
            self.lines[i].raw
            for i in content
            if letter_start <= i <= letter_end and not (i < self.body_start and i in self.fields)
        )
        stops = sorted(i for i in (*closing, *self.notes) if i >= self.body_start)
        text_end = stops[0] if stops else letter_end + 1
        lines = [self.lines[i].text for i in content if self.body_start <= i < text_end]
        if self.addressee and self.addressee.rest:
            lines.insert(0, self.addressee.rest)
        self.text_lines = lines
        heads: list[int] = []
        for level in (1, 2, 3):
            rx = P.HEADING_RES[level]
            heads = [k for k, t in enumerate(lines) if rx.match(t.norm)]
            if heads and (level != 3 or len(heads) >= 2):
                break
            heads = []
        after_first = heads[0] + 1 if heads else 1
        closing_at = next(
            (k for k in range(after_first, len(lines)) if _is_closing(lines[k].norm)),
            len(lines),
        )
        lines = lines[:closing_at]
        heads = [k for k in heads if k < len(lines)]
        self.preamble = lines[: heads[0] if heads else len(lines)]
        for n, k in enumerate(heads):
            text = lines[k]
            end = heads[n + 1] if n + 1 < len(heads) else len(lines)
            first_text = ""
            cut = re.search(r"[。:]", text.norm)
            if cut and cut.end() < len(text.norm) and cut.start() <= 40:
                heading, first_text = text.printed(0, cut.start()), text.printed(cut.end()).strip()
            else:
                heading = text.raw
            heading = heading.strip().rstrip("。:：")
            body = ([first_text] if first_text else []) + [t.raw for t in lines[k + 1 : end]]
            self.out.sections.append({"heading": heading, "text": "\n".join(body)})

    def _letter_start(self, header: list[int]) -> int:
        """The first line of the letter itself: its heading, number, grade or addressee."""
        marks = [i for i in header if self._header_mark_line(i)]
        if self.addressee:
            marks.append(self.addressee.index)
        if self.heading_at is not None:
            marks.append(self.heading_at)
        return min(marks) if marks else self.body_start

    def _header_mark_line(self, i: int) -> bool:
        norm = self.lines[i].norm
        return (
            bool(
                P.grade_value(norm)
                or P.DOC_NUMBER_RE.search(norm)
                or P.DISCLOSURE_PHRASE_RE.match(norm)
            )
            and i not in self.fields
        )

    def read_proposal(self) -> None:
        """The proposal answered: its title, number, session and kind."""
        intro = "\n".join(t.norm for t in self.preamble[:3])
        self._proposal_title(intro, list(self.preamble[:3]))
        headings = [squeeze(h.norm) for h in reversed(self.headings)]
        self._session()
        self._number(headings, intro)
        self._kind(headings, intro)
        if self.out.co_opinion or self._is_co_opinion(headings, intro):
            self.out.co_opinion = True
            self.out.proposers = (
                self._proposers_in_text()
                if self.addressee is None or (self.addressee.group)
                else self.out.proposers
            )

    def _proposal_title(self, intro: str, texts: list[Text]) -> None:
        if self.out.proposal_title:
            return
        for t in texts:
            for m in re.finditer("《", t.norm):
                span = _balanced_book_title(t.norm, m.start())
                if span:
                    inner = squeeze(t.printed(*span))
                    if _KIND_RE.search(inner[-3:]) or "关于" in inner:
                        self.out.proposal_title = inner
                        return
            for m in _QUOTED_RE.finditer(t.norm):
                if re.search(r"关于|建议$|提案$|议案$", m["t"]):
                    self.out.proposal_title = squeeze(t.printed(*m.span("t")))
                    return
            m = _PROPOSAL_TITLE_RE.search(t.norm)
            if m:
                self.out.proposal_title = squeeze(t.printed(*m.span("t")))
                return

    def _session(self) -> None:
        """The session, from the headings, the opening and the page's title; where they
        name it differently, the fullest form (海南省六届人大五次会议 over 省六届…)."""
        sources = [
            *reversed(self.headings),
            *(Text.of(squeeze(t.raw)) for t in self.preamble[:3]),
            *(Text.of(squeeze(v.raw)) for v in self.meta.get("title", [])),
        ]
        found = []
        for text in sources:
            hit = _session_in(text.norm)
            if hit:
                session, at = hit
                found.append((text.printed(at, at + len(session)), _session_key(session)))
        if found:
            same = [printed for printed, key in found if key == found[0][1]]
            self.out.session = max(same, key=lambda s: len(_canon_session(fold(s))))
        elif any(re.search(r"届.{0,12}会议|次会议", t.norm) for t in sources):
            self.unread("session")

    def _number(self, headings: list[str], intro: str) -> None:
        for heading in headings:
            session = _session_in(heading)
            if session:
                after = heading[session[1] + len(session[0]) :]
                m = _SESSION_NUMBER_RE.match(after)
                if m:
                    self.out.proposal_number = squeeze(m["n"])
                    return
            m = _TITLE_NUMBER_RE.search(heading)
            if m:
                self.out.proposal_number = squeeze(m["n"])
                return
            m = re.search(rf"(?<![\d〕\]】)])(?P<n>{_NUM})\s*号\s*(?:代表|委员)?(?:建议|提案|议案)",
                          heading)  # fmt: skip
            if m and not re.search(r"[〔\[【]\s*\d{4}", heading[max(0, m.start() - 8) : m.start()]):
                self.out.proposal_number = squeeze(m["n"])
                return
        m = _BODY_NUMBER_RE.search(intro)
        if m:
            self.out.proposal_number = squeeze(m["n"] or m["n2"] or m["n3"] or m["n4"])
            return
        for value in self.meta.get("number", []):
            m = re.search(rf"(?P<n>{_NUM})", value.norm)
            if m:
                self.out.proposal_number = squeeze(m["n"])
                return
        if any(re.search(r"会议.{0,3}号", h) for h in headings):
            self.unread("proposal_number")

    def _kind(self, headings: list[str], intro: str) -> None:
        """建议, 提案 or 议案: from the heading first, then the addressee, then the text."""
        for heading in headings:
            m = re.search(r"号\s*(?:代表|委员)?(建议|提案|议案)", heading) or re.search(
                r"(建议|提案|议案)(?:的|办理)?(?:答复|回复|复函|办理|会办|协办|的函)", heading
            )
            if m:
                self.out.proposal_kind = m.group(1)
                return
            if re.search(r"(?:代表|委员)?(?:建议|提案|议案)\s*第", heading):
                self.out.proposal_kind = re.search(r"建议|提案|议案", heading).group(0)
                return
            session = _session_in(heading)
            if session and "政协" in session[0] or re.search(r"委员提案|政协提案", heading):
                self.out.proposal_kind = "提案"
                return
            if session and re.search(r"人大|人民代表大会", heading) and "意见" in heading:
                self.out.proposal_kind = "建议"
                return
        text_kind = self._kind_in_text(intro)
        if self.addressee and not self.addressee.group:
            sal = squeeze(self.lines[self.addressee.index].norm)
            if re.search(r"委员们?(?::|$)", sal):
                self.out.proposal_kind = "提案"
                return
            if re.search(r"代表们?(?::|$)", sal):
                self.out.proposal_kind = "议案" if text_kind == "议案" else "建议"
                return
        if text_kind:
            self.out.proposal_kind = text_kind
        elif self.out.session and "政协" in self.out.session:
            self.out.proposal_kind = "提案"

    def _kind_in_text(self, intro: str) -> str | None:
        m = re.search(r"的(提案|议案|建议)(?:已)?(?:收悉|已转|,|，|交|由)", intro)
        if m:
            return m.group(1)
        title = self.out.proposal_title
        if title and _KIND_RE.search(title[-2:]):
            return title[-2:]
        m = re.search(rf"第?\s*{_NUM}\s*号\s*(建议|提案|议案)", intro)
        if m:
            return m.group(1)
        m = re.search(
            r"(?:您|你们?|贵\S{0,3})(?:所|领衔)?提出的(?:[^。]{0,60}?)(建议|提案|议案)", intro
        )
        return m.group(1) if m else None

    def _is_co_opinion(self, headings: list[str], intro: str) -> bool:
        heading = headings[0] if headings else ""
        return bool(
            _CO_OPINION_RE.search(heading)
            or (
                self.addressee is not None and self.addressee.group and _CO_OPINION_RE.search(intro)
            )
        )

    def _proposers_in_text(self) -> list[str]:
        """Who made the proposal, named in the text of a co-handling opinion ("何镜新等代表
        提出了…")."""
        for text in self.preamble[:3]:
            m = _PROPOSER_IN_TEXT_RE.search(text.norm)
            if m:
                lead = re.match(r"^.*?(?:期间|会议上?|上|时)", m["names"])
                return _split_names(text, m.start("names") + (lead.end() if lead else 0),
                                    m.end("names"))  # fmt: skip
        return []

    def read_issuer(self) -> None:
        """The replying unit: the signature, else the heading's "XX关于…", 联系单位, the
        letterhead or 签发人 line, the page's 发布机构/来源; then its fullest printed name."""
        from_headings = []
        for heading in reversed(self.headings):
            m = _ISSUER_PREFIX_RE.match(heading.norm.strip())
            if m:
                name = squeeze(heading.printed(*m.span("issuer")))
                if _is_unit_name(name) and not name.startswith(("关于", "对")):
                    from_headings.append(name)
        page = []
        for key in ("publisher", "source"):
            for value in self.meta.get(key, []):
                name = squeeze(value.raw.split()[0]) if value.raw.split() else ""
                if _is_unit_name(name):
                    page.append(name)
        owners = [
            squeeze(v.raw.split()[0])
            for v in self.meta.get("lead", [])
            if v.raw.split() and _is_unit_name(v.raw.split()[0])
        ]
        ordered = [
            *([self.signature] if self.signature else []),
            *from_headings,
            *self.contact_units,
            *self.letterheads,
            *page,
        ]
        if not ordered:
            return
        issuer = ordered[0]
        fuller = [n for n in (*ordered, *owners) if n.endswith(issuer) and len(n) > len(issuer)]
        if fuller:
            issuer = min(fuller, key=len)
        self.out.issuer = issuer

    def read_co_units_and_contacts(self) -> None:
        """Co-handling units named in the opening (会同…, 经商…, 并商…, 经综合…意见,
        征求…意见, 会办单位…) or in a 协办单位 field above it, and the contacts with the
        proposer the letter reports."""
        letter = Text.of("\n".join(t.raw for t in self.text_lines))
        opening = Text.of("\n".join(t.raw for t in self.preamble))
        units = _parse_co_units(opening) + _parse_co_units(letter, _NAMED_CO_UNIT_LEAD_RE)
        for i, found in self.fields.items():  # a 协办单位 / 会办单位 field, above it or below
            if not self.lines[i].chrome:  # (a site's footer may name its 协办单位)
                units += [
                    u for f in found if f.key == "co" and f.value for u in _units_listed(f.value)
                ]
        issuer = self.out.issuer or ""
        self.out.co_units = [u for u in _dedupe(units) if u != issuer]
        letter_date = date.fromisoformat(self.out.letter_date) if self.out.letter_date else None
        self.out.contacts = _parse_contacts(letter.norm, letter_date, self.out.proposers)

    def read_commitments(self) -> None:
        """Promises anywhere in the letter; a letter that prints no date is dated by its page
        (今年 in an undated reply published in 2025 is 2025)."""
        dated = self.out.letter_date or (self.out.published_at or "")[:10] or None
        preamble = {"heading": None, "text": "\n".join(t.raw for t in self.preamble)}
        self.out.commitments = find_commitments(
            [preamble, *self.out.sections], date.fromisoformat(dated) if dated else self.undated
        )

    def check_is_reply(self) -> None:
        """A reply has an addressee, a reply phrase or a reply heading, and a text; a news
        item, a notice or an index page has not."""
        letter = "\n".join(t.norm for t in self.text_lines)
        prose = any(is_prose(t.norm) for t in self.text_lines)
        marks = bool(
            self.addressee
            or P.REPLY_PHRASE_RE.search(letter)
            or (self.headings and P.REPLY_PHRASE_RE.search(squeeze(letter)))
        )
        heading = bool(self.headings) and bool(
            re.search(r"答复|回复|复函|会办意见|协办意见", squeeze(self.headings[-1].norm))
        )
        if not prose:
            raise NotALetter(
                "no letter text: no paragraph after the heading (an index or list page?) / "
                "没有答复正文"
            )
        if not (marks or (heading and self.meta.get("doc"))):
            raise NotALetter(
                "not a reply letter: no addressee line (XX代表:/XX委员:/a unit), no reply "
                "phrase (收悉/答复如下) and no reply heading / 不是答复函"
            )


def parse_letter(text: str, undated: date | None = None) -> ParsedLetter:
    """Parse the plain text of a reply letter; raise NotALetter if it is not one.
    ``undated``: the date its promises count from (今年底, 明年) when neither the letter nor
    its page prints one, e.g. a draft's date."""
    if not isinstance(text, str):
        raise TypeError("parse_letter expects str; use formats.extract() for a file's bytes")
    if not text.strip():
        raise NotALetter("empty text / 空文本")
    if "\x00" in text or (
        _CONTROL_RE.search(text) and len(_CONTROL_RE.findall(text)) > max(3, len(text) // 100)
    ):
        raise NotALetter("binary or garbled text / 二进制或乱码内容")
    if not _ENOUGH_CJK_RE.match(text):
        raise NotALetter("too little Chinese text for a reply letter / 中文内容过少，不是答复函")
    return LetterReader(text, undated).read()


def parse_file(path, options: formats.ReadOptions | None = None) -> dict:
    """Read a letter file in any format the importer reads (a file of another name is read
    as text), with the importer's limits and tools (`options`: LibreOffice for .doc and
    .wps), and parse it; on failure return {"file", "error"}."""
    name = Path(path).name
    try:
        data = Path(path).read_bytes()
        if formats.suffix_of(name) in formats.FORMATS:
            text = formats.extract(data, name, options).text
        else:
            text = formats.decode_text(data)
        result = parse_letter(text).as_dict()
    except (OSError, NotALetter, formats.Unreadable) as exc:
        return {"file": str(path), "error": str(exc)}
    result["file"] = str(path)
    return result
