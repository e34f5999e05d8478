"""Parse reply letters (答复函) to deputies' suggestions and CPPCC proposals.

Input is plain text as found in the wild: a published web page with navigation and
metadata noise around the letter, or the text of the letter itself.  Pure standard
library: no Flask, no database.

The parser works line by line on a length-preserving normalised copy of the text
(full-width ASCII folded to half-width), so every value that is returned "as printed"
is sliced from the original line at the offsets found in the normalised one.

A field the letter does not carry is None (or an empty list): no value is ever taken
from a line that merely looks similar (the page's 发布时间 is not the letter date; a
numbered item "1.2017年起实施…" is not a date line).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from .commitments import cn_to_int, find_commitments, normalize

__all__ = ["NotALetter", "decode_bytes", "parse_file", "parse_letter"]


class NotALetter(ValueError):
    """The text is not a reply letter (the message says why)."""


# --------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------


def decode_bytes(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM), else GB18030; raise NotALetter otherwise.

    Text saved as "Unicode" by Windows tools (UTF-16 with a BOM) is decoded too.
    """
    if not data:
        return ""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise NotALetter("undecodable UTF-16 text / 无法识别的文本编码") from exc
    if b"\x00" in data:
        raise NotALetter("binary data (NUL bytes), not a text letter / 二进制文件，不是文本")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise NotALetter("undecodable bytes: neither UTF-8 nor GB18030 / 无法识别的文本编码")


# --------------------------------------------------------------------------------------
# Patterns (all applied to normalised text: ：→: （→( ，→, ；→; ［→[ ０→0 ％→%)
# --------------------------------------------------------------------------------------

_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")
_BULLET_RE = re.compile(r"^[•·●◆◇■□▪▶►\-\*>\s]+")

# Page noise: metadata keys ("发布时间: …"), tool links, breadcrumbs, site footers.
_NOISE_KEY_RE = re.compile(
    r"^[【\[]?(?:发布时间|发布日期|发文日期|成文日期|更新时间|更新日期|时间|日期|来源|信息来源|"
    r"文章来源|稿件来源|发布机构|发布单位|发文机关|作者|编辑|责任编辑|浏览量|浏览次数|阅读量|"
    r"阅读次数|阅读数|点击量|点击数|点击率|访问量|访问次数|字号|浏览字号|字体|分享到|分享|"
    r"索引号|主题分类|体裁分类|组配分类|服务对象|分类|主题词|关键词|文号|发文字号|标题|名称|"
    r"有效性|效力状态|发布人|录入人?|审核人?|校对|供稿|撰稿|编审)\s*[:]"
)
_NOISE_WORDS = (
    "扫一扫在手机打开当前页",
    "扫一扫在手机上查看当前页面",
    "扫一扫",
    "打印本页",
    "关闭窗口",
    "关闭本页",
    "返回顶部",
    "返回首页",
    "打印",
    "关闭",
    "收藏",
    "分享",
    "上一篇",
    "下一篇",
    "相关链接",
    "相关文章",
    "相关阅读",
    "相关附件",
    "网站地图",
    "联系我们",
    "浏览字号",
    "T浏览字号",
    "字号",
    "大",
    "中",
    "小",
    "默认",
    "保存",
    "微信",
    "微博",
    "【",
    "】",
    "[",
    "]",
    "|",
    "/",
)
_NOISE_WORD_RE = re.compile(
    r"^(?:"
    + "|".join(re.escape(w) for w in sorted(_NOISE_WORDS, key=len, reverse=True))
    + r"|\s)+$"
)
_NOISE_CONTAINS_RE = re.compile(
    r"扫一扫在手机|ICP备|版权所有|网站标识码|公网安备|技术支持|浏览字号|当前位置|您现在的位置|您的位置|"
    r"在手机打开当前页|打印本页|关闭窗口|【打印】|【关闭】|\[打印\]|\[关闭\]"
)
_PAGE_NUMBER_RE = re.compile(
    r"^[-\s]*\d{1,3}[-\s]*$|^第\s*\d{1,3}\s*页(?:\s*[,/]?\s*共\s*\d{1,3}\s*页)?$"
)
_BREADCRUMB_RE = re.compile(r"^(?:首页|网站首页|主页)\s*(?:>|»|›|→|/)|(?:>|»|›|→).*(?:>|»|›|→)")
_PUBLISHED_RE = re.compile(
    r"(?:(?:发布|发表|公开)(?:时间|日期)|^[【\[]?(?:时间|日期))\s*:\s*"
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*(?P<H>\d{1,2})\s*:\s*(?P<M>\d{2})(?:\s*:\s*(?P<S>\d{2}))?)?"
)
_META_DOC_RE = re.compile(r"^(?:文号|发文字号)\s*:\s*(?P<v>.+)$")

# Numerals used in dates.
_Y = r"(?:\d{4}|[〇○零O0一二三四五六七八九]{4})"
_MD = r"(?:\d{1,2}|[一二三四五六七八九十]{1,3})"
_DATE_LINE_RE = re.compile(
    r"^(?P<pre>.*?)(?P<date>(?P<y>" + _Y + r")年(?P<m>" + _MD + r")月(?P<d>" + _MD + r")日)$"
)
_ISO_DATE_LINE_RE = re.compile(r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})$")

_CLASS_WORDS = r"解决采纳|列入计划|正在解决|留作参考|已经解决|基本解决|已解决"
_GRADE_LINE_RE = re.compile(
    r"^[(\[【]?\s*(?:(?P<g>[A-Da-d甲乙丙丁])\s*类|(?P<w>"
    + _CLASS_WORDS
    + r")|(?P<b>[A-D]))\s*[)\]】]?$"
)
_GRADE_KEY_RE = re.compile(
    r"(?<!公开)(?:办复|答复|办理|复文|建议|提案|议案)?(?:类别|类型)\s*[:]?\s*"
    r"(?:(?P<w>" + _CLASS_WORDS + r")|(?P<g>[A-Da-d甲乙丙丁])(?![A-Za-z])\s*类?)"
)
_DOC_RE = re.compile(
    r"(?P<doc>[\u4e00-\u9fff]{1,12}\s*[〔\[【(]\s*\d{4}\s*[〕\]】)]\s*第?\d+(?:\s*-\s*\d+)*\s*号)"
)
_DOC_GRADE_SUFFIX_RE = re.compile(r"^\s*[(\[【]?\s*(?P<g>[A-Da-d甲乙丙丁])\s*类\s*[)\]】]?\s*$")

_TITLE_END_RE = re.compile(r"(?:函|答复|回复|答复意见|办理意见|的意见|复文)$")
_TITLE_PART_RE = re.compile(r"关于|对|答复|建议|提案|议案|会议|第")
_TITLE_HINT_RE = re.compile(r"建议|提案|议案|答复|回复|复函")
_TITLE_KIND_RE = re.compile(r"(建议|提案|议案)(?:的|办理)?(?:答复|回复|复函|办理|的函)")
_ISSUER_FROM_TITLE_RE = re.compile(r"^(?P<issuer>[\u4e00-\u9fff()（）]{2,40}?)(?:关于|对)")

_NUM = r"[A-Za-z]{0,3}\d+(?:\s*-\s*\d+)*[A-Za-z]?"
_NUMBER_IN_TITLE_RE = re.compile(r"第\s*(?P<n>" + _NUM + r")\s*号")
_NUMBER_IN_BODY_RE = re.compile(
    r"[(\[【]\s*(?:第|编号\s*[:]?\s*)?\s*(?P<n>" + _NUM + r")\s*号?\s*[)\]】]"
    r"|第\s*(?P<n2>" + _NUM + r")\s*号"
    r"|(?:建议|提案|议案)?编号\s*[:]\s*(?P<n3>" + _NUM + r")"
)

_SESSION_CORE = (
    r"(?:政协)?第?[一二三四五六七八九十\d]{1,4}届(?:全国|[省市区县])?"
    r"(?:人大|人民代表大会|政协|委员会)?(?:常委会)?第?[一二三四五六七八九十\d]{1,3}次(?:全体)?会议"
)
_SESSION_ANCHORED_RE = re.compile(
    r"(?:关于|对|在|于)\s*(?P<s>[^,，。;；《》()（）:关对在于]{2,30}?会议)"
)
_SESSION_RE = re.compile(r"(?:全国|[省市区县])?" + _SESSION_CORE)

_SALUTATION_RE = re.compile(
    r"^(?:尊敬的)?(?P<names>[^:]{1,60}?)"
    r"(?P<suffix>(?:等\s*[\d一二三四五六七八九十]+\s*(?:位|名)?)?\s*(?:代表|委员)们?)?"
    r"\s*:\s*(?P<rest>.*)$"
)
_SALUTATION_BAD_RE = re.compile(
    r"发布|来源|时间|日期|浏览|位置|联系|电话|抄送|公开|类别|附件|主题|索引|文号|标题|作者|分类|"
    r"字号|首页|承办|经办|备注|说明|主送|签发|注|[0-9]|[。,，;；!?]"
)
_ORG_END_RE = re.compile(
    r"(?:委员会|委会|市委|省委|区委|县委|小组|界别|联合会|工商联|协会|学会|商会|支部|总支|"
    r"民革|民盟|民建|民进|农工党|致公党|九三学社|台盟|委|会|组|社|盟|党)$"
)
_REST_START_RE = re.compile(r"^(?:您|你|贵|感谢|首先|现|关于|《)")

_HEAD1_RE = re.compile(r"^[一二三四五六七八九十]{1,3}\s*[、.](?!\d)")
_HEAD2_RE = re.compile(r"^[(\[][一二三四五六七八九十]{1,3}[)\]]")
_HEAD3_RE = re.compile(r"^\d{1,2}\s*[、.](?!\d)")
_CLOSING_RE = re.compile(
    r"^(?:感谢|衷心感谢|再次感谢|非常感谢|最后.{0,4}感谢|欢迎|特此|专此|此复|以上答复|"
    r"再次对您|如有.{0,8}(?:疑问|问题|意见)|若有)"
)
_SIGNATURE_BAD_RE = re.compile(r"[。,;:!?]|此复|特此|专此|函复|感谢|附件")
_SEAL_RE = re.compile(r"\s*[(\[（【]\s*(?:盖章|印章|公章|章)\s*[)\]）】]\s*$")

_CONTACT_RE = re.compile(
    r"(?:联系人|承办人|经办人|办理人|联络人)(?:及(?:其)?(?:联系)?(?:电话|方式))?\s*:\s*"
    r"(?P<name>[\u4e00-\u9fff·]{2,5}?)(?=[\s,;、():/]|\d|电话|联系|手机|同志|$)"
)
_PHONE_RE = re.compile(
    r"(?<!\d)1[3-9]\d{9}(?!\d)"
    r"|(?<![\d-])(?:\(0\d{2,3}\)\s*|0\d{2,3}\s*-\s*|0\d{2,3}\s+)?\d{3,4}[\s-]?\d{4}"
    r"(?:\s*(?:-|转)\s*\d{1,5})?(?!\d)"
)
_PHONE_KEY_RE = re.compile(r"(?:联系电话|办公电话|电话|联系方式|手机)\s*[:]?\s*")
_DISCLOSURE_RE = re.compile(
    r"公开(?:方式|属性|类别|类型|形式|选项|情况)\s*:?\s*(?P<v>主动公开|依申请公开|不予公开|不公开|免予公开)"
    r"|此件(?P<v2>主动公开|依申请公开|不予公开|不公开|免予公开|公开发布)"
    r"|^[(\[]?(?P<v3>主动公开|依申请公开|不予公开)[)\]]?$"
)
_CC_RE = re.compile(r"^抄\s*送\s*[:]\s*(?P<v>.*)$")
_CC_SPLIT_RE = re.compile(r"[、,;\s]+")
_FOOTER_KEY_RE = re.compile(
    r"^[(\[]?(?:联系人|承办人|经办人|联络人|联系电话|公开方式|公开属性|公开类别|公开类型|抄\s*送|"
    r"此件|附件|(?:办复|答复)类别)"
)

_BOOK_RE = re.compile(r"《")
_TITLE_FALLBACK_RE = re.compile(r"提出的\s*(?P<t>关于[^。,;《》()]{2,80}?的(?:建议|提案|议案))")
_PROPOSAL_END_RE = re.compile(r"(?:建议|提案|议案)$")

_UNIT_SUFFIX_RE = re.compile(
    r"(?:局|委|委员会|厅|办|办公室|院|中心|公司|集团|政府|部|署|会|处|所|站|室|队|馆|社|行|街道|"
    r"镇|府|科|组|区|县|学校|大学|医院|监狱)$"
)
_CO_UNIT_LEAD_RE = re.compile(r"(?<!将)会同|(?:会办|协办)单位(?:为|是|有|:)?")
_NAMED_CO_UNIT_LEAD_RE = re.compile(r"(?:会办|协办)单位(?:为|是|有|:)?")
_CO_UNIT_STOP_RE = re.compile(
    r"认真|共同|研究|进行|对您|对该|对此|对这|就|办理|开展|联合|深入|一起|逐条|一并|等|的|意见|"
    r"提出|反馈|均|一致|积极|组织|召开|到|赴|与|分别|在|于|作了|作出|做了|高度|,|，"
)
_CO_UNIT_SPLIT_RE = re.compile(r"[、,，;]|以及|及")

_CONTACT_VERB_RE = re.compile(
    r"沟通|交流|联系|面商|面谈|商谈|座谈|见面|走访|拜访|视察|调研|征求|听取|会商|协商|汇报|对接|"
    r"探讨|交换意见"
)
_DEPUTY_REF_RE = re.compile(r"您|你们|代表|委员|贵")
_CONTACT_DATE_RE = re.compile(
    r"(?:(?P<y>" + _Y + r")\s*年\s*)?(?P<m>" + _MD + r")\s*月\s*"
    r"(?P<days>" + _MD + r"(?:\s*[、,和及至到~-]\s*" + _MD + r")*)\s*[日号]"
    r"(?P<more>(?:\s*[、和及至到~-]\s*" + _MD + r"\s*[日号])*)"
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
_REPLY_PHRASE_RE = re.compile(
    r"收悉|答复如下|回复如下|函复如下|现答复|现回复|现将.{0,30}?(?:答复|回复)|特此函复|此复|专此函复|"
    r"办理情况|答复你们|答复您"
)
_PROPOSAL_REF_RE = re.compile(r"建议|提案|议案")


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def _squeeze(s: str) -> str:
    return re.sub(r"\s+", "", s)


def _make_date(y: str, m: str, d: str) -> date | None:
    try:
        return date(cn_to_int(y), cn_to_int(m), cn_to_int(d))
    except ValueError:
        return None


def _strip_pair(raw: str, norm: str) -> tuple[str, str]:
    """Strip both strings by the whitespace of the normalised one (keeps offsets aligned)."""
    left = len(norm) - len(norm.lstrip())
    right = len(norm.rstrip())
    return raw[left:right], norm[left:right]


def _is_noise(norm: str) -> bool:
    if not norm:
        return False
    s = _BULLET_RE.sub("", norm)
    if not s or _PAGE_NUMBER_RE.match(norm):
        return True
    if len(s) > 120:
        return False
    if _NOISE_KEY_RE.match(s) or _NOISE_WORD_RE.match(s) or _NOISE_CONTAINS_RE.search(s):
        return True
    return bool(_BREADCRUMB_RE.search(s)) and not re.search(r"[。，,]", s)


def _published_at(norm: str) -> str | None:
    m = _PUBLISHED_RE.search(_BULLET_RE.sub("", norm))
    if not m:
        return None
    day = _make_date(m["y"], m["m"], m["d"])
    if day is None:
        return None
    if m["H"] is None:
        return day.isoformat()
    try:
        return f"{day.isoformat()}T{int(m['H']):02d}:{int(m['M']):02d}:{int(m['S'] or 0):02d}"
    except ValueError:
        return day.isoformat()


def _is_signature(norm: str) -> bool:
    """A signing unit: "广州市教育局", "广州市教育局  广州市体育局" (no sentence, no key)."""
    return bool(
        _CJK_RE.search(norm)
        and _UNIT_SUFFIX_RE.search(norm.rstrip())
        and not _SIGNATURE_BAD_RE.search(norm)
        and not _CLOSING_RE.match(norm)
        and not _FOOTER_KEY_RE.match(norm)
        and not _HEAD1_RE.match(norm)
        and not _HEAD2_RE.match(norm)
    )


def _grade_value(m: re.Match) -> str:
    """The grade: "A", "B", "甲"… or a word label (留作参考 …) as printed."""
    letter = m["g"] or m.groupdict().get("b")
    return letter.upper() if letter else m["w"]


def _disclosure_value(m: re.Match) -> str:
    value = m["v"] or m["v2"] or m["v3"]
    return {"不公开": "不予公开", "免予公开": "不予公开", "公开发布": "主动公开"}.get(value, value)


def _split_names(names: str) -> list[str]:
    out: list[str] = []
    for part in re.split(r"[、,，;；]", names):
        part = re.sub(r"(?:代表|委员)们?$", "", part.strip()).strip()
        if not part:
            continue
        pieces = part.split()
        if len(pieces) > 1 and all(len(p) >= 2 for p in pieces):
            out.extend(pieces)  # "张三 李四": several names separated by spaces
        else:
            out.append(_squeeze(part))  # "闫  冰": one name padded to three characters
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


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item and item not in seen:
            seen.add(item)
            out.append(item)
    return out


# --------------------------------------------------------------------------------------
# Field extractors
# --------------------------------------------------------------------------------------


def _salutation(norm: str) -> tuple[list[str], int] | None:
    """If the line addresses the proposer(s), return (proposers, offset of the rest)."""
    if len(norm) > 80 and ":" not in norm[:62]:
        return None
    m = _SALUTATION_RE.match(norm)
    if not m:
        return None
    names = m["names"].strip()
    rest = m["rest"].strip()
    if not names or _SALUTATION_BAD_RE.search(names) or len(_squeeze(names)) > 40:
        return None
    if not _CJK_RE.search(names):
        return None
    if rest and not _REST_START_RE.match(rest):
        return None
    if m["suffix"]:
        if names in ("各位", "各", "尊敬的"):
            return None
        proposers = _split_names(names)
    else:
        if not _ORG_END_RE.search(_squeeze(names)):
            return None
        proposers = [_squeeze(names)]
    if not proposers:
        return None
    return proposers, m.start("rest") if rest else len(norm)


def _parse_co_units(text: str, lead_re: re.Pattern = _CO_UNIT_LEAD_RE) -> list[str]:
    """Units named after 会同 / 会办单位 ("会同市规划和自然资源局、市住房城乡建设局认真研究")."""
    units: list[str] = []
    for lead in lead_re.finditer(text):
        segment = text[lead.end() : lead.end() + 120]
        segment = re.split(r"[。;；:：()（）]", segment, maxsplit=1)[0]
        chosen = None
        for stop in _CO_UNIT_STOP_RE.finditer(segment):
            head = segment[: stop.start()].strip()
            if head and _UNIT_SUFFIX_RE.search(head):
                chosen = head
                break
        if chosen is None:
            head = segment.strip()
            chosen = head if head and _UNIT_SUFFIX_RE.search(head) else None
        if not chosen:
            continue
        for part in _CO_UNIT_SPLIT_RE.split(chosen):
            part = _squeeze(part).lstrip("了")
            # "市教育局和市卫生健康委" is two units; "市规划和自然资源局" is one.
            pieces = re.split(r"(?<=[局委厅办院府])(?:和|与)", part)
            for piece in pieces:
                if (
                    len(piece) >= 3
                    and _UNIT_SUFFIX_RE.search(piece)
                    and not piece.startswith("相关")
                ):
                    units.append(piece)
    return _dedupe(units)


def _expand_days(days: str, more: str) -> list[int]:
    """Days of a date list: "28、29" -> [28, 29]; "6至8" or "6日至8日" -> [6, 7, 8]."""
    tokens = re.findall(_MD + r"|[、,和及至到~-]", days + more)
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
    deputy_re = _DEPUTY_REF_RE
    if names:
        deputy_re = re.compile(
            _DEPUTY_REF_RE.pattern + "|" + "|".join(re.escape(n) for n in names if n)
        )
    found: dict[str | None, list[str]] = {}
    order: list[str | None] = []
    for sent in _SENTENCE_RE.finditer(text):
        s = sent.group(0)
        if not (_CONTACT_VERB_RE.search(s) and deputy_re.search(s)):
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
# The parser
# --------------------------------------------------------------------------------------

_KEYS = (
    "title",
    "issuer",
    "proposal_kind",
    "session",
    "proposal_number",
    "proposal_title",
    "proposers",
    "classification",
    "doc_number",
    "letter_date",
    "published_at",
    "co_units",
    "contacts",
    "contact_person",
    "contact_phone",
    "disclosure",
    "cc",
    "sections",
    "commitments",
    "body",
)


def parse_letter(text: str) -> dict:  # noqa: C901 - one pass over the letter, in order
    """Parse the plain text of a reply letter; raise NotALetter if it is not one."""
    if not isinstance(text, str):
        raise TypeError("parse_letter expects str; use decode_bytes() for bytes")
    if not text.strip():
        raise NotALetter("empty text / 空文本")
    if "\x00" in text or len(_CONTROL_RE.findall(text)) > max(3, len(text) // 100):
        raise NotALetter("binary or garbled text / 二进制或乱码内容")
    if len(_CJK_RE.findall(text)) < 20:
        raise NotALetter("too little Chinese text for a reply letter / 中文内容过少，不是答复函")

    raw_lines: list[str] = []
    norm_lines: list[str] = []
    normalized = normalize(text)
    for line, norm_line in zip(text.splitlines(), normalized.splitlines(), strict=True):
        raw, norm = _strip_pair(line, norm_line)
        raw_lines.append(raw)
        norm_lines.append(norm)
    n_lines = len(raw_lines)

    result: dict = dict.fromkeys(_KEYS)
    for key in ("proposers", "co_units", "contacts", "cc", "sections", "commitments"):
        result[key] = []

    # 1. Page noise, with what it tells about the page (publication time, 文号).
    noise = [False] * n_lines
    meta_doc = None
    for i, norm in enumerate(norm_lines):
        if _is_noise(norm):
            noise[i] = True
            stripped = _BULLET_RE.sub("", norm)
            if result["published_at"] is None:
                result["published_at"] = _published_at(norm)
            meta = _META_DOC_RE.match(stripped)
            if meta and meta_doc is None:
                doc = _DOC_RE.search(meta["v"])
                if doc:
                    offset = len(raw_lines[i]) - len(stripped) + meta.start("v") + doc.start("doc")
                    meta_doc = raw_lines[i][offset : offset + len(doc["doc"])].strip()
    content = [i for i in range(n_lines) if norm_lines[i] and not noise[i]]

    # 2. Salutation: the addressee line before the first body paragraph.
    sal_idx = None
    sal_rest = None
    for i in content:
        found = _salutation(norm_lines[i])
        if found:
            sal_idx = i
            result["proposers"], rest_at = found
            sal_rest = raw_lines[i][rest_at:].strip() or None
            break
        if len(norm_lines[i]) >= 60 and re.search(r"[。,]", norm_lines[i]):
            break  # reached the body without an addressee

    if sal_idx is not None:
        header = [i for i in content if i < sal_idx]
        after = [i for i in content if i > sal_idx]
    else:
        first_para = next(
            (i for i in content if len(norm_lines[i]) >= 60 and re.search(r"[。,]", norm_lines[i])),
            n_lines,
        )
        header = [i for i in content if i < first_para]
        after = [i for i in content if i >= first_para]

    # 3. Header: classification, document number, title.
    letter_start_candidates: list[int] = []
    header_other: list[int] = []
    for i in header:
        norm = norm_lines[i]
        grade = _GRADE_LINE_RE.match(norm)
        key = _GRADE_KEY_RE.match(norm.lstrip("([【")) if len(norm) <= 40 else None
        if grade or key:
            if result["classification"] is None:
                result["classification"] = _grade_value(grade or key)
            letter_start_candidates.append(i)
            continue
        disc = _DISCLOSURE_RE.search(norm) if len(norm) <= 40 else None
        if disc:
            result["disclosure"] = _disclosure_value(disc)
            letter_start_candidates.append(i)
            continue
        doc = _DOC_RE.search(norm)
        residual = (norm[: doc.start()] + norm[doc.end() :]).strip() if doc else None
        if doc and (not residual or _DOC_GRADE_SUFFIX_RE.match(residual)):
            if result["doc_number"] is None:
                result["doc_number"] = raw_lines[i][doc.start("doc") : doc.end("doc")].strip()
            if residual and result["classification"] is None:
                result["classification"] = _DOC_GRADE_SUFFIX_RE.match(residual)["g"].upper()
            letter_start_candidates.append(i)
            continue
        if _DATE_LINE_RE.match(_squeeze(norm)) or _ISO_DATE_LINE_RE.match(norm):
            continue
        header_other.append(i)

    title_idx = None
    runs: list[list[int]] = []
    for i in header_other:
        # a title broken over lines: consecutive lines (blank lines allowed between them)
        if runs and all(not norm_lines[j] for j in range(runs[-1][-1] + 1, i)):
            runs[-1].append(i)
        else:
            runs.append([i])
    title_window: list[int] = []
    for run in runs:
        for pos, i in enumerate(run):
            if not _TITLE_END_RE.search(_squeeze(norm_lines[i])):
                continue
            # the title ends on this line; it may begin up to two lines earlier
            start = pos
            while (
                start > 0
                and pos - start < 2
                and _TITLE_PART_RE.search(norm_lines[run[start - 1]])
                and not _TITLE_END_RE.search(_squeeze(norm_lines[run[start - 1]]))
            ):
                start -= 1
            window = run[start : pos + 1]
            joined = "".join(_squeeze(norm_lines[j]) for j in window)
            if _TITLE_HINT_RE.search(joined) and len(joined) <= 120:
                title_window = window
                break
        if title_window:
            break
    if title_window:
        result["title"] = "".join(_squeeze(raw_lines[j]) for j in title_window)
        title_idx = title_window[0]
        # a page often shows the title, then metadata, then the letter with its title again
        for i in header_other:
            if i > title_window[-1] and _squeeze(raw_lines[i]) == result["title"]:
                title_idx = i
    if result["doc_number"] is None and meta_doc:
        result["doc_number"] = meta_doc

    # 4. Letter date (the date line near the end) and the signature above it.
    date_idx = None
    for i in reversed(after):
        squeezed = _squeeze(norm_lines[i])
        m = _DATE_LINE_RE.match(squeezed)
        pre = _SEAL_RE.sub("", m["pre"]) if m else ""
        if m and (not pre or (len(pre) <= 40 and _is_signature(pre))):
            day = _make_date(m["y"], m["m"], m["d"])
            if day:
                date_idx = i
                result["letter_date"] = day.isoformat()
                if pre:
                    result["issuer"] = pre  # "广州市教育局  2022年5月7日" on one line
                break
        iso = _ISO_DATE_LINE_RE.match(norm_lines[i])
        if iso:
            day = _make_date(iso["y"], iso["m"], iso["d"])
            if day:
                date_idx = i
                result["letter_date"] = day.isoformat()
                break
    letter_date = date.fromisoformat(result["letter_date"]) if result["letter_date"] else None

    sig_idx = None
    if date_idx is not None and result["issuer"] is None:
        prev = [i for i in after if i < date_idx]
        if prev:
            cand = prev[-1]
            raw = _SEAL_RE.sub("", raw_lines[cand]).strip()
            norm = normalize(raw)
            if 2 <= len(raw) <= 40 and _is_signature(norm):
                sig_idx = cand
                parts = re.split(r"\s{2,}", norm)
                if len(parts) > 1 and all(_UNIT_SUFFIX_RE.search(p) for p in parts):
                    raw = raw[: len(parts[0])]  # joint signature: the first unit leads
                result["issuer"] = _squeeze(raw) if len(_squeeze(raw)) <= 20 else raw
    if result["issuer"] is None and result["title"]:
        m = _ISSUER_FROM_TITLE_RE.match(result["title"])
        if m and not m["issuer"].startswith(("关于", "对")):
            result["issuer"] = m["issuer"]

    # 5. Closing notes: contact, disclosure, classification in the footer, cc.
    footer_idx: list[int] = []
    cc_parts: list[str] = []
    for pos, i in enumerate(after):
        norm = norm_lines[i]
        if len(norm) > 150:
            continue
        hit = False
        contact = _CONTACT_RE.search(norm)
        if contact:
            hit = True
            if result["contact_person"] is None:
                name = contact["name"]
                if len(name) >= 3 and _UNIT_SUFFIX_RE.search(name):  # "联系人：体卫艺处 邹慧婷"
                    nxt = re.match(
                        r"\s+([\u4e00-\u9fff·]{2,5})(?![\u4e00-\u9fff])", norm[contact.end() :]
                    )
                    name = nxt.group(1) if nxt else name
                result["contact_person"] = name
            if result["contact_phone"] is None:
                phone = _PHONE_RE.search(norm, contact.end())
                if phone:
                    result["contact_phone"] = phone.group(0).strip()
        elif result["contact_phone"] is None:
            key = _PHONE_KEY_RE.match(norm.lstrip("(["))
            if key:
                phone = _PHONE_RE.search(norm.lstrip("(["), key.end())
                if phone:
                    hit = True
                    result["contact_phone"] = phone.group(0).strip()
        disc = _DISCLOSURE_RE.search(norm)
        if disc:
            hit = True
            result["disclosure"] = result["disclosure"] or _disclosure_value(disc)
        grade = _GRADE_KEY_RE.search(norm) if len(norm) <= 40 else None
        if grade and (grade.start() <= 1 or hit):
            hit = True
            if result["classification"] is None:
                result["classification"] = _grade_value(grade)
        cc = _CC_RE.match(norm)
        if cc:
            hit = True
            value = raw_lines[i][cc.start("v") :]
            cc_parts.append(value)
            nxt = pos + 1
            while value.rstrip().endswith(("、", ",", "，", ";", "；")) and nxt < len(after):
                value = raw_lines[after[nxt]]
                cc_parts.append(value)
                footer_idx.append(after[nxt])
                nxt += 1
        if hit:
            footer_idx.append(i)
    for part in cc_parts:
        for unit in _CC_SPLIT_RE.split(normalize(part)):
            unit = unit.strip().rstrip("。.")
            if unit:
                result["cc"].append(unit)
    result["cc"] = _dedupe(result["cc"])

    # 6. Letter boundaries and the body text.
    start_candidates = [*letter_start_candidates]
    if title_idx is not None:
        start_candidates.append(title_idx)
    if sal_idx is not None:
        start_candidates.append(sal_idx)
    start_idx = min(start_candidates) if start_candidates else (content[0] if content else 0)
    closing_marks = [*footer_idx]
    if date_idx is not None:
        closing_marks.append(date_idx)
    end_idx = max(closing_marks) if closing_marks else (content[-1] if content else n_lines - 1)
    result["body"] = "\n".join(raw_lines[i] for i in content if start_idx <= i <= end_idx)

    # 7. The text between the salutation and the signature: preamble and sections.
    stops = [i for i in (date_idx, sig_idx) if i is not None] + footer_idx
    text_start = sal_idx + 1 if sal_idx is not None else (after[0] if after else n_lines)
    text_end = min([i for i in stops if i >= text_start], default=end_idx + 1)
    text_lines = [i for i in content if text_start <= i < text_end]
    lines_text: list[tuple[str, str]] = [(raw_lines[i], norm_lines[i]) for i in text_lines]
    if sal_rest:
        lines_text.insert(0, (sal_rest, normalize(sal_rest)))

    heads: list[int] = []
    for head_re in (_HEAD1_RE, _HEAD2_RE, _HEAD3_RE):
        heads = [k for k, (_, norm) in enumerate(lines_text) if head_re.match(norm)]
        if heads and (head_re is not _HEAD3_RE or len(heads) >= 2):
            break
        heads = []
    # the closing paragraph ("感谢…", "特此函复") ends the last section
    after_first = heads[0] + 1 if heads else 1
    closing_at = next(
        (k for k in range(after_first, len(lines_text)) if _CLOSING_RE.match(lines_text[k][1])),
        len(lines_text),
    )
    lines_text = lines_text[:closing_at]
    heads = [k for k in heads if k < len(lines_text)]

    preamble = [raw for raw, _ in lines_text[: heads[0] if heads else len(lines_text)]]
    for n, k in enumerate(heads):
        raw, norm = lines_text[k]
        end = heads[n + 1] if n + 1 < len(heads) else len(lines_text)
        first_text = ""
        cut = re.search(r"[。:]", norm)
        if cut and cut.end() < len(norm) and cut.start() <= 40:
            heading, first_text = raw[: cut.start()], raw[cut.end() :].strip()
        else:
            heading = raw
        heading = heading.strip().rstrip("。:：")
        body_lines = ([first_text] if first_text else []) + [r for r, _ in lines_text[k + 1 : end]]
        result["sections"].append({"heading": heading, "text": "\n".join(body_lines)})

    # 8. Proposal reference: title, number, kind, session (title first, then preamble).
    intro_raw = "\n".join(preamble[:3])
    intro = normalize(intro_raw)
    for m in _BOOK_RE.finditer(intro):
        span = _balanced_book_title(intro, m.start())
        if span:
            inner = _squeeze(intro_raw[span[0] : span[1]])
            if _PROPOSAL_END_RE.search(inner) or "关于" in inner:
                result["proposal_title"] = inner
                break
    if result["proposal_title"] is None:
        m = _TITLE_FALLBACK_RE.search(intro)
        if m:
            result["proposal_title"] = _squeeze(intro_raw[m.start("t") : m.end("t")])

    title_norm = normalize(result["title"]) if result["title"] else ""
    m = _NUMBER_IN_TITLE_RE.search(title_norm)
    if m:
        result["proposal_number"] = _squeeze(m["n"])
    else:
        m = _NUMBER_IN_BODY_RE.search(intro)
        if m:
            result["proposal_number"] = _squeeze(m["n"] or m["n2"] or m["n3"])

    for source in (title_norm, intro):
        m = _SESSION_ANCHORED_RE.search(source)
        if (
            m
            and "届" in m["s"]
            and "次" in m["s"]
            and re.search(r"人大|人民代表大会|政协|委员会", m["s"])
        ):
            result["session"] = _squeeze(m["s"])
            break
        m = _SESSION_RE.search(source)
        if m:
            result["session"] = _squeeze(m.group(0))
            break

    kind = _TITLE_KIND_RE.search(title_norm)
    if kind:
        result["proposal_kind"] = kind.group(1)
    elif result["proposal_title"] and _PROPOSAL_END_RE.search(result["proposal_title"]):
        result["proposal_kind"] = result["proposal_title"][-2:]
    else:
        m = re.search(r"第\s*" + _NUM + r"\s*号\s*(建议|提案|议案)", title_norm + "\n" + intro)
        if m:
            result["proposal_kind"] = m.group(1)
        elif result["session"] and "政协" in result["session"]:
            result["proposal_kind"] = "提案"

    # 9. Co-handling units, contacts with the proposer, commitments.
    letter_norm = "\n".join(norm for _, norm in lines_text)
    # 会同 in the opening paragraph names the co-handling units; later in the letter it is
    # about other work ("下一步，我局将会同…"), so only 会办单位 mentions count there.
    intro_norm = "\n".join(norm for _, norm in lines_text[: heads[0] if heads else len(lines_text)])
    result["co_units"] = _dedupe(
        _parse_co_units(intro_norm) + _parse_co_units(letter_norm, _NAMED_CO_UNIT_LEAD_RE)
    )
    result["contacts"] = _parse_contacts(letter_norm, letter_date, result["proposers"])
    # promises stand anywhere in the letter; a letter printing no date is dated by its page
    commitment_sections = [{"heading": None, "text": "\n".join(preamble)}, *result["sections"]]
    published = result["published_at"]
    commitments_from = letter_date or (date.fromisoformat(published[:10]) if published else None)
    result["commitments"] = find_commitments(commitment_sections, commitments_from)

    # 10. Is it a letter at all?
    all_text = "\n".join(norm_lines[i] for i in content)
    has_reply = bool(_REPLY_PHRASE_RE.search(all_text))
    has_ref = bool(_PROPOSAL_REF_RE.search(all_text))
    if not ((sal_idx is not None and (has_reply or has_ref)) or (result["title"] and has_reply)):
        raise NotALetter(
            "not a reply letter: no addressee line (XX代表:/XX委员:) or reply title, and no "
            "reply phrase (收悉/答复如下) / 不是答复函"
        )
    return result


def parse_file(path) -> dict:
    """Read, decode and parse a letter file; on failure return {"file", "error"}."""
    try:
        data = Path(path).read_bytes()
        result = parse_letter(decode_bytes(data))
    except (OSError, NotALetter) as exc:
        return {"file": str(path), "error": str(exc)}
    result["file"] = str(path)
    return result
