"""The page around a letter: logical lines, page chrome and labelled fields.

A letter comes as a published page: menus and breadcrumbs above it, a metadata table
(索引号, 发布机构, 文号 …) as "key: value" lines, table rows or one label per line, site
footers below it; sometimes flattened into one table cell, or the whole page run together
into one line. ``split_lines`` turns the text into logical lines (table cells, run-on
paragraphs cut where a paragraph, a label, an addressee or a date begins), marking page
chrome; ``fields_of`` reads the labelled values of a line. Pure standard library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from . import patterns as P
from .text import DROPPED_RE, Text, fold, read_date, squeeze

CJK_RE = re.compile(r"[\u4e00-\u9fff]")
_BULLET_RE = re.compile(r"^(?:[•·●◆◇■□▪▶►*>]+\s*|-\s+)")


def _spaced(word: str) -> str:
    """A label as printed with padding between its characters ("联  系 电 话")."""
    return r"\s*".join(re.escape(ch) for ch in word)


# Labels of page metadata, form fields and closing notes, by what they introduce.
_LABELS: dict[str, tuple[str, ...]] = {
    "title": ("标题", "名称", "信息名称", "文件名称", "文章标题", "内容概述"),
    "publisher": ("发布机构", "发布单位", "信息所属单位", "发文机关", "发文单位", "所属机构"),
    "source": ("来源", "信息来源", "文章来源", "稿件来源"),
    "doc": ("文号", "发文字号", "文件编号", "建议字", "提案字"),
    "published": (
        "发布时间", "发布日期", "发文日期", "公开日期", "添加时间", "时间", "日期", "更新时间",
        "更新日期",
    ),
    "written": ("成文日期", "成文时间", "生成日期", "生效日期", "实施时间", "实施日期"),
    "disclosure": ("公开方式", "公开属性", "公开类别", "公开类型", "公开形式", "公开选项"),
    "grade": ("答复类别", "办复类别", "办理类别", "类别", "分类", "办理结果", "答复类型"),
    "signer": ("签发人", "签发", "领导签发", "主要签发领导", "领导署名", "签发领导"),
    "proposers": ("代表姓名", "委员姓名", "提案人", "领衔代表", "领衔人", "建议人", "代表"),
    "subject": ("建议内容", "提案内容", "事由", "案由", "建议名称", "提案名称"),
    "number": ("新编号", "建议编号", "提案编号", "编号", "建议号", "提案号"),
    "lead": ("主办单位", "主办", "承办单位"),
    "co": ("协办单位", "会办单位"),
    "answer": ("办理情况", "答复内容", "办理答复"),
    "other": (
        "索引号", "主题分类", "组配分类", "信息分类", "体裁分类", "主题词", "关键词", "关键字",
        "有效性", "是否有效", "时效性", "公文时效", "信息有效性", "效力状态", "浏览次数",
        "点击数", "点击量", "访问量", "阅读量", "阅读次数", "字号", "字体", "文字大小", "背景色",
        "作者", "编辑", "责任编辑", "废止日期", "是否公开", "是否同意公开", "归档时间", "地址",
        "邮编", "邮政编码", "传真", "网站标识码", "浏览量", "阅读数", "点击率", "访问次数",
        "发布人", "录入", "录入人", "审核", "审核人", "校对", "供稿", "撰稿", "编审", "分享到",
    ),
}  # fmt: skip
_LABEL_KEY = {squeeze(label): key for key, labels in _LABELS.items() for label in labels}
_LABEL_ALT = "|".join(_spaced(w) for w in sorted(_LABEL_KEY, key=len, reverse=True))
# "key: value" anywhere in a line, several to a line ("来源:X局发布时间:2023-07-21")
_LABEL_COLON_RE = re.compile(rf"(?P<label>{_LABEL_ALT})\s*:")
# a table cell or line holding only a label ("索 引 号", "发布机构"), or "label value"
_NO_COLON = (
    "索引号", "信息名称", "名称", "发布机构", "信息所属单位", "发布日期", "文号", "是否有效",
    "主题分类", "信息分类", "成文日期", "生效日期", "发文字号", "发文机关", "时效性", "有效性",
    "内容概述", "公开方式", "标题", "发布时间", "组配分类",
)  # fmt: skip
_LABEL_SPACE_RE = re.compile(
    "(?P<label>"
    + "|".join(_spaced(w) for w in sorted(_NO_COLON, key=len, reverse=True))
    + r")(?=\s|$)"
)
# closing-note labels that start a new logical line inside a run-on paragraph
CONTACT_LABEL = (
    r"(?:联\s*系\s*人|承\s*办\s*人|经\s*办\s*人|办\s*理\s*人|联\s*络\s*人)"
    r"(?:\s*姓\s*名)?(?:及(?:其)?(?:联系)?(?:电话|方式))?"
)
NOTE_LABEL_RE = re.compile(
    rf"^(?:{CONTACT_LABEL}|联\s*系\s*单\s*位[^:：]{{0,8}}|联\s*系\s*科\s*室[^:：]{{0,10}}|"
    r"联\s*系\s*电\s*话|电\s*话|联系方式|办公电话|手\s*机|抄\s*[送报]|报|承办负责人|主管领导[^:：]{0,4})\s*:"
)


@dataclass
class Line:
    """One logical line: its text, the physical line it came from, and whether it is page
    chrome (menus, footers) rather than the letter."""

    text: Text
    row: int
    chrome: bool = False
    site: bool = False  # the site's footer (主办单位, ICP备案 …): the letter is over

    @property
    def norm(self) -> str:
        return self.text.norm

    @cached_property
    def prose(self) -> bool:
        return is_prose(self.text.norm)

    @property
    def raw(self) -> str:
        return self.text.raw


_SENTENCE_END = "。！？!?；;"


def _breaks_here(left: str, right: str) -> bool:
    """Whether the space between ``left`` and ``right`` in a run-on line is a line break."""
    if left[-1] in _SENTENCE_END:
        return True
    if re.search(r"(?:代表|委员|们|如下|如次|同志)\s*:$", left):
        return True  # "XX代表: 您提出的…", "现答复如下: 按照…"
    if right.startswith("尊敬") or NOTE_LABEL_RE.match(right):
        return True
    if re.match(r"(?:代表|委员)们?\s*:", right) and re.fullmatch(
        r"[\u4e00-\u9fff·、\s]{1,24}", left
    ):
        return False  # "郝  瑞  代表:": a name padded, then its title (not the label 代表)
    if _LABEL_COLON_RE.match(right) or _LABEL_SPACE_RE.match(right):
        return True
    return read_date(left)[0] is not None


_GAP_RE = re.compile(r"\s+")
WORD_RE = re.compile(r"\S+")


def _wide_gap(gap: str, left: str, right: str) -> bool:
    """In a long line, two or more spaces between words of two characters or more part two
    lines ("…人大代表建议  对沙河市…"); around a single character they pad a name or a
    label ("李  兵", "承   办   人")."""
    if len(gap) < 2:
        return False
    left_word = left.rsplit(None, 1)[-1]
    right_word = right.split(None, 1)[0]
    if left_word.endswith(":") and not (right_word.endswith(":") or len(right_word) > 16):
        return False  # a label and its value
    if right_word[0].isdigit() and not read_date(right_word)[1]:
        return False  # a number that goes with the words before (a phone after a name)
    return len(left_word) >= 2 and len(right_word) >= 2


def _run_on_parts(text: Text) -> list[Text]:
    """A line that runs several lines together (a letter flattened into one table cell)
    cut where a paragraph, a label, an addressee or a date begins."""
    if " " not in text.norm:
        return [text]
    long = len(text.norm) > 80
    parts: list[Text] = []
    start = 0
    for gap in _GAP_RE.finditer(text.norm):
        if gap.start() == 0 or gap.end() == len(text.norm):
            continue
        left, right = text.norm[start : gap.start()], text.norm[gap.end() :]
        if (
            _breaks_here(left, right)
            or (long and _wide_gap(gap.group(0), left, right))
            or (len(gap.group(0)) >= 2 and _header_cell(left, right))
        ):
            parts.append(text.part(start, gap.start()))
            start = gap.end()
    parts.append(text.part(start))
    return [p for p in parts if p]


def _header_cell(left: str, right: str) -> bool:
    """A 文号 or a grade in a cell of its own beside another (a head table's row read as
    one line: "公开方式:主动公开  A类  桃水函〔2023〕8号", "桃源县水利局  桃水函〔2023〕8号(B)")."""
    cell = right.split("  ", 1)[0].strip()
    if P.DOC_NUMBER_RE.match(cell):
        return not re.search(r"[。，,；;]", left)
    return bool(P.grade_value(cell, keyed=False)) and len(cell) <= 6 and len(left) <= 40


_SITE_ROW_RE = re.compile(
    r"ICP|版权所有|网站标识码|标识码|公网安备|网安备|技术支持|Copyright|copyright|Powered by|"
    r"^主\s*办\s*(?:单\s*位)?\s*:|承办单位\s*:|网站地图|设为首页|加入收藏|收藏本站|备案号|"
    r"友情链接|免责声明|使用帮助|关于我们"
)


def split_lines(text: str) -> list[Line]:
    """Logical lines of a text: physical lines, cut at table cells ("|") and where a run-on
    line holds several lines; bullets stripped, empty lines dropped."""
    lines: list[Line] = []
    folded = fold(text)
    plain = not DROPPED_RE.search(folded)  # nothing to drop: each line folds in place
    for row, (physical, folded_line) in enumerate(
        zip(text.splitlines(), folded.splitlines(), strict=True)
    ):
        whole = Text(physical, folded_line) if plain else Text.of(physical)
        if not whole.norm.strip():
            continue
        # a site footer row ("主办：… | 联系方式：…") is chrome in all its cells; a page run
        # together into one line is judged part by part
        row_site = len(whole.norm) <= 200 and bool(_SITE_ROW_RE.search(whole.norm.strip()))
        cells, start = [], 0
        for bar in re.finditer(r"\|", whole.norm):
            cells.append(whole.part(start, bar.start()))
            start = bar.end()
        cells.append(whole.part(start))
        filled = [c for c in cells if c]
        # a menu: a row of several short items ("| 网站首页| |招标公告| |资讯中心| …")
        menu = len(filled) >= 4 and all(len(c.norm) <= 8 and ":" not in c.norm for c in filled)
        for cell in cells:
            bullet = _BULLET_RE.match(cell.norm)
            if bullet:
                cell = cell.part(bullet.end())
            for part in _run_on_parts(cell) if cell else ():
                site = row_site or bool(_SITE_ROW_RE.search(part.norm))
                lines.append(Line(part, row, site or menu, site))
    return lines


# --------------------------------------------------------------------------------------
# Page chrome
# --------------------------------------------------------------------------------------

_CHROME_WORDS = (
    "扫一扫在手机打开当前页", "扫一扫在手机上查看当前页面", "扫一扫", "打印本页", "关闭窗口",
    "关闭本页", "返回顶部", "回到顶部", "返回首页", "打印", "关闭", "收藏", "分享", "上一篇",
    "下一篇", "相关链接", "相关文章", "相关阅读", "相关附件", "相关文件", "相关信息",
    "相关新闻", "附件下载", "文件下载", "网站地图", "联系我们", "浏览字号", "字号", "大",
    "中", "小", "默认", "保存", "微信", "微博", "手机版", "登录", "注册", "展开", "菜单",
    "底部栏目", "推荐", "站长推荐", "信息搜索", "无障碍", "无障碍浏览", "网站无障碍", "长辈版",
    "关怀版",
    "关爱版", "长者模式", "简体版", "繁體版", "繁体版", "Document", "评论", "×", "x", "【", "】",
    "[", "]", "|", "/", ">", "»", "附件", "已归档", "创建时间", "正文内容", "信息url",
)  # fmt: skip
_CHROME_WORD_RE = re.compile(
    r"^(?:"
    + "|".join(re.escape(w) for w in sorted(_CHROME_WORDS, key=len, reverse=True))
    + r"|[:\s])+$"
)
# page furniture wherever it stands in a line …
_CHROME_CONTAINS_RE = re.compile(
    r"扫一扫在手机|在手机打开当前页|在手机上查看|浏览字号|当前位置|您现在的位置|您的位置|您当前的位置|"
    r"您当前所在位置|您现在所在的位置|打印本页|关闭窗口|【打印】|【关闭】|\[打印\]|\[关闭\]|"
    r"留言与评论|\(共有\s*\d+\s*条评论\)"
)
# … and words that are furniture only in a short line (a letter may well mention 二维码)
_CHROME_SHORT_RE = re.compile(
    r"二维码|访问效果|IE\d|浏览器|^今天是|星期[一二三四五六日天]|IPv6|繁体中文|无障碍|长者模式|"
    r"^上一篇|^下一篇|^相关(?:新闻|信息|链接|文件|附件)|^(?:附件|文件)下载"
)
# what a web page puts after the article: the letter is over
PAGE_END_RE = re.compile(
    r"^(?:扫一扫|相关(?:链接|文章|阅读|新闻|信息|推荐)|上一篇|下一篇|分享到|返回顶部|打印本页|"
    r"关闭窗口|【打印】|【关闭】|\[打印\]|\[关闭\]|站长推荐|热点推荐|推荐阅读|用微信扫描)"
)
_PAGE_NUMBER_RE = re.compile(
    r"^[-\s]*\d{1,3}[-\s]*$|^第\s*\d{1,3}\s*页(?:\s*[,/]?\s*共\s*\d{1,3}\s*页)?$"
)
_BREADCRUMB_RE = re.compile(r"^(?:首页|网站首页|主页)\s*(?:>|»|›|→|/)|(?:>|»|›|→).*(?:>|»|›|→)")
PUBLISHED_RE = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*(?P<H>\d{1,2})\s*:\s*(?P<M>\d{2})(?:\s*:\s*(?P<S>\d{2}))?)?"
)


def is_chrome(norm: str) -> bool:
    if _PAGE_NUMBER_RE.match(norm) or _CHROME_WORD_RE.match(norm):
        return True
    if len(norm) > 120:
        return False
    if _CHROME_CONTAINS_RE.search(norm):
        return True
    if len(norm) <= 40 and not re.search(r"[。，,]", norm) and _CHROME_SHORT_RE.search(norm):
        return True
    return bool(_BREADCRUMB_RE.search(norm)) and not re.search(r"[。，,]", norm)


def published_time(value: str) -> str | None:
    m = PUBLISHED_RE.search(value)
    if not m:
        return None
    try:
        day = date(int(m["y"]), int(m["m"]), int(m["d"]))
    except ValueError:
        return None
    if m["H"] is None:
        return day.isoformat()
    try:
        return f"{day.isoformat()}T{int(m['H']):02d}:{int(m['M']):02d}:{int(m['S'] or 0):02d}"
    except ValueError:
        return day.isoformat()


@dataclass
class Field:
    """One "label: value" found in a line (the value as a Text, possibly empty)."""

    key: str
    label: str
    value: Text


_NO_LOOKAHEAD = ("signer", "answer", "lead", "co", "grade")


def _title_after_name(norm: str, m: re.Match) -> bool:
    """代表 after a name and spaces ("郝  瑞  代表:") is the addressee's title, not a label."""
    before = norm[: m.start()].rstrip()
    return squeeze(m["label"]) == "代表" and bool(before) and bool(CJK_RE.match(before[-1]))


def fields_of(line: Line, next_line: Line | None) -> list[Field]:
    """The labelled values in a line: "key: value" (several to a line), "key value", or a
    label alone whose value is the next line (a metadata table flattened one cell a line)."""
    norm = line.norm
    starts = [
        (m.start(), m.end(), m["label"])
        for m in (_LABEL_COLON_RE.finditer(norm) if ":" in norm else ())
        if m.start() == 0
        or (not CJK_RE.match(norm[m.start() - 1]) and not _title_after_name(norm, m))
        or len(squeeze(m["label"])) >= 3
    ]
    if not starts or starts[0][0] != 0:
        head = _LABEL_SPACE_RE.match(norm) if len(norm) <= 120 else None
        if head:
            starts.insert(0, (0, head.end(), head["label"]))
        elif not starts:
            return []
    found = []
    for n, (_, end, label) in enumerate(starts):
        stop = starts[n + 1][0] if n + 1 < len(starts) else len(norm)
        value = line.text.part(end, stop)
        found.append(Field(_LABEL_KEY[squeeze(label)], squeeze(label), value))
    last = found[-1]
    if (
        len(found) == 1
        and not last.value
        and next_line is not None
        and (last.key != "other" or last.label in _NO_COLON)
        and _is_value(last.key, next_line)
    ):
        last.value = next_line.text
    return found


def _is_value(key: str, line: Line) -> bool:
    """Whether the line after a label standing alone is that label's value."""
    norm = line.norm
    if key in _NO_LOOKAHEAD or _LABEL_COLON_RE.match(norm) or _LABEL_SPACE_RE.match(norm):
        return False
    if is_prose(norm) or len(norm) > (120 if key == "title" else 60) or norm.endswith(":"):
        return False
    if key != "title" and P.REPLY_TITLE_RE.search(norm):
        return False
    return key == "doc" or not (
        P.DOC_NUMBER_RE.search(norm) or P.DOC_NUMBER_LOOSE_RE.match(squeeze(norm))
    )


_PROSE_MARK_RE = re.compile(r"[。,，]")


def is_prose(norm: str) -> bool:
    """A body paragraph rather than a heading, label or name."""
    if len(norm) >= 40 and _PROSE_MARK_RE.search(norm):
        return True
    return bool(_PROSE_MARK_RE.search(norm) or ":" in norm) and bool(P.REPLY_PHRASE_RE.search(norm))


# --------------------------------------------------------------------------------------
# Text cut at a page's width
# --------------------------------------------------------------------------------------

WRAP_MIN_WIDTH = 16  # narrower lines are no page's full width
WRAP_MIN_LINES = 8  # lines at the full width that show a text cut at it
_CLAUSE_END = "。！？：；:;!?"
_CJK_SPACE_RE = re.compile(
    r"(?<=[0-9A-Za-z%])[ \t](?=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff])[ \t](?=[0-9])"
)


def _width(line: str) -> float:
    """A line's width in characters of Chinese type: Latin letters, digits and spaces half
    (counted from its UTF-8 length: three bytes a Chinese character, one a Latin one; a
    letter's every line is measured before it is parsed)."""
    chars = len(line)
    wide = (len(line.encode("utf-8")) - chars) / 2
    return wide + (chars - wide) / 2


def unwrap(text: str) -> str:
    """A letter whose every line was cut at the page's width (its text taken out of a PDF,
    or copied from one), its paragraphs joined again: a line as wide as the page that ends
    in no clause's end goes on with the next line, unless that one starts a heading, an
    item, a labelled note, an addressee or a date; page numbers between go. The spaces a
    PDF's text puts where the type changes ("119 号", "4 月28") go too. Text whose lines are
    not so cut is returned as it is."""
    lines = text.splitlines()
    widths = [_width(line) for line in lines]
    wide = [round(w) for w in widths if w >= WRAP_MIN_WIDTH]
    if len(wide) < WRAP_MIN_LINES:
        return text
    counts: dict[int, int] = {}
    for w in wide:
        counts[w] = counts.get(w, 0) + 1
    full = max(counts, key=lambda w: (sum(counts.get(v, 0) for v in (w - 1, w, w + 1)), w))
    at_full = sum(1 for w in wide if full - 2 <= w <= full + 1)
    if at_full < WRAP_MIN_LINES or at_full < 0.4 * len(wide) or full > 60:
        return text  # paragraphs as lines (a web page, a Word file): nothing was cut
    out: list[str] = []
    joinable = False  # whether the last line kept is cut at the width
    for line, width in zip(lines, widths, strict=True):
        stripped = line.strip()
        if _PAGE_NUMBER_RE.match(fold(stripped)):  # (— 1 — folds to - 1 -)
            continue  # a page's number, in the middle of a paragraph as often as not
        if joinable and stripped and not _starts_block(stripped):
            out[-1] += stripped
        else:
            out.append(line)
        last = out[-1].strip()
        joinable = bool(last) and width >= full - 2 and last[-1] not in _CLAUSE_END
    return _CJK_SPACE_RE.sub("", "\n".join(out))


def _starts_block(line: str) -> bool:
    norm = fold(line)
    return bool(
        P.ITEM_MARK_RE.match(norm)
        or NOTE_LABEL_RE.match(norm)
        or _LABEL_COLON_RE.match(norm)
        or re.match(r"^[^，,。]{1,30}(?:代表|委员|同志)们?\s*:", norm)
        or read_date(norm)[1]
        or norm.startswith(("附件", "抄送", "（此件", "(此件", "此件"))
    )
