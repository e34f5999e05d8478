"""Letter files the tests build themselves: a reply letter's text (written for the tests, in
the style of tests/letters/) as .txt, .docx, .pdf, a saved web page and .zip archives."""

from __future__ import annotations

import io
import zipfile

HEAD = [
    "B类",
    "广州市交通运输局关于市十六届人大二次会议第{number}号建议答复的函",
    "穗交运函〔2023〕{serial}号",
]
BODY = [
    "王建华代表：",
    "您提出的《关于优化城市公交线网提升市民出行便利度的建议》（第{number}号）收悉。"
    "我局会同市规划和自然资源局认真研究，并于5月18日通过电话与您沟通。现答复如下：",
    "一、目前工作推进情况",
    "今年以来，我局新开和优化公交线路42条，中心城区公交站点500米覆盖率达到98%。",
    "二、下一步工作安排",
    "下一步，我局将继续优化公交线网，力争今年底前公交站点500米覆盖率达到100%。",
    "感谢您对交通运输工作的关心和支持。",
    "广州市交通运输局",
    "2023年6月12日",
    "（联系人：李晓东，联系电话：83620157）",
    "公开方式：主动公开",
    "抄送：市府办公厅，市人大选联工委，市规划和自然资源局",
]


def letter_lines(number: str = "20232048", serial: int = 156) -> list[str]:
    return [line.format(number=number, serial=serial) for line in HEAD + BODY]


def letter_text(number: str = "20232048", serial: int = 156) -> str:
    return "\n".join(letter_lines(number, serial)) + "\n"


def docx_bytes(number: str = "20232048", serial: int = 156, *, head_in_table=True) -> bytes:
    """The letter as Word writes it: the head (grade, title, document number) in a
    borderless table above the body, as offices often lay it out."""
    import docx

    lines = letter_lines(number, serial)
    document = docx.Document()
    if head_in_table:
        table = document.add_table(rows=2, cols=2)
        table.cell(0, 0).text = ""
        table.cell(0, 1).text = lines[0]  # the grade, top right
        title = table.cell(1, 0).merge(table.cell(1, 1))
        title.text = lines[1]
        document.add_paragraph(lines[2])
    else:
        for line in lines[:3]:
            document.add_paragraph(line)
    for line in lines[3:]:
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pdf_bytes(
    number: str = "20232048", serial: int = 156, *, user_password=None, owner_password=None
) -> bytes:
    """The letter as a PDF with a text layer, in the CID font every PDF viewer has for
    Simplified Chinese (STSong-Light), one line per text line, over two pages."""
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    encrypt = None
    if user_password is not None or owner_password is not None:
        encrypt = StandardEncryption(user_password or "", ownerPassword=owner_password or "x")
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, encrypt=encrypt)
    lines = letter_lines(number, serial)
    for chunk in (lines[:8], lines[8:]):
        page.setFont("STSong-Light", 10)
        y = 800
        for line in chunk:
            page.drawString(40, y, line)
            y -= 20
        page.showPage()
    page.save()
    return buffer.getvalue()


def scanned_pdf_bytes() -> bytes:
    """A scan: each page only an image, no text layer."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = Image.new("L", (600, 800), 255)
    draw = ImageDraw.Draw(image)
    for y in range(60, 760, 30):  # lines of "text" as a scanner sees them: dark strokes
        draw.rectangle((60, y, 540, y + 12), fill=40)
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawImage(ImageReader(image), 0, 0, width=595, height=842)
    page.showPage()
    page.save()
    return buffer.getvalue()


def html_bytes(number: str = "20232048", serial: int = 156, encoding="gbk") -> bytes:
    """The letter as a saved page of a bureau's website: menus, scripts, styles, a search
    form, a breadcrumb and a footer around it; the letter in an article whose own header
    holds the title."""
    lines = letter_lines(number, serial)
    body = "\n".join(f"<p style='text-indent:2em'>{line}</p>" for line in lines[3:])
    page = f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset={encoding}">
<title>{lines[1]} - 广州市交通运输局网站</title>
<style>.nav {{ color: red }} p::before {{ content: "样式里的字" }}</style>
<script>var menu = "脚本里的菜单"; document.write("<p>脚本写的段落</p>");</script>
</head><body>
<header class="site-top"><img src="logo.png" alt="标志">广州市交通运输局网站</header>
<nav><ul><li><a href="/">首页</a></li><li><a href="/zwgk">政务公开</a></li></ul></nav>
<div class="menu"><a href="/bsfw">办事服务</a> <a href="/hdjl">互动交流</a></div>
<form action="/search"><input name="q" placeholder="请输入关键词"><button>搜索</button></form>
<div class="main">
<article>
<header><div class="grade">{lines[0]}</div><h1>{lines[1]}</h1></header>
<div class="docno">{lines[2]}</div>
<div class="content">{body}
<table><tr><td>附件：</td><td>公交线路优化清单</td></tr></table>
</div>
</article>
<aside>相关阅读：关于公交票价的答复</aside>
</div>
<noscript>请启用脚本</noscript>
<footer>主办单位：广州市交通运输局&nbsp;&nbsp;网站标识码：4401000057</footer>
</body></html>"""
    return page.encode(encoding)


class _GbkName(zipfile.ZipInfo):
    """A member named in GBK without the UTF-8 flag, as Chinese Windows tools write it."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def zip_bytes(members: dict[str, bytes], *, gbk_names=False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = (_GbkName if gbk_names else zipfile.ZipInfo)(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()
