"""Page geometry, type sizes and font roles of a reply letter (GB/T 9704-2012)."""

from __future__ import annotations

PT_PER_MM = 72 / 25.4
PAGE_W_MM, PAGE_H_MM = 210, 297
MARGIN_TOP_MM, MARGIN_BOTTOM_MM = 37, 35
MARGIN_LEFT_MM, MARGIN_RIGHT_MM = 28, 26
TITLE_PT = 22  # 2号
BODY_PT = 16  # 3号
NOTE_PT = 14  # 4号: 版记 and page numbers
LINE_PT = 28.95  # 22 lines in the 225 mm text block
TITLE_LINE_PT = 35
PAGE_NUMBER_GAP_MM = 7  # page number's top edge below the text block

# Font roles: the official face first, then fallbacks (CSS order; the .docx records the
# first fallback as the font's altName).
FONT_FAMILIES: dict[str, tuple[str, ...]] = {
    "title": ("方正小标宋简体", "FZXiaoBiaoSong-B05S", "华文中宋", "STZhongsong", "宋体", "SimSun"),
    "body": ("仿宋_GB2312", "仿宋", "FangSong", "STFangsong"),
    "hei": ("黑体", "SimHei", "STHeiti"),
    "kai": ("楷体_GB2312", "楷体", "KaiTi", "STKaiti"),
    "song": ("宋体", "SimSun", "STSong"),
}
_DOCX_ALT_NAMES = {
    "方正小标宋简体": "华文中宋",
    "仿宋_GB2312": "仿宋",
    "黑体": "SimHei",
    "楷体_GB2312": "楷体",
    "宋体": "SimSun",
}
_CSS_GENERIC = {
    "title": "serif",
    "body": "serif",
    "hei": "sans-serif",
    "kai": "serif",
    "song": "serif",
}
_LATIN_FONT = "Times New Roman"  # digits and Latin letters in the text (page numbers: 宋体)
