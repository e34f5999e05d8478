"""Export a reply letter (答复函) as .docx, PDF or a print-ready HTML page.

Layout follows GB/T 9704-2012 (党政机关公文格式) as the domain notes describe it:

* A4, margins top 37 mm, left 28 mm, right 26 mm, bottom 35 mm (text block 156 × 225 mm);
* the reply grade ("A类") at the top right of the first page in 3号黑体, the document number
  right-aligned on its own line beneath it (the 信函格式 place, and where the seed letter has it);
* the title centred in 2号 (22 pt) 方正小标宋简体; body in 3号 (16 pt) 仿宋_GB2312 with a
  two-character first-line indent and a fixed line pitch of 28.95 pt (22 lines in 225 mm);
  first-level headings (一、) in 黑体, second-level headings (（一）) in 楷体_GB2312 — where a
  heading line goes on with running text after its first 。, only the heading part takes the
  heading face;
* salutation flush left; signature unit and date (Arabic numerals, 2022年5月7日) right-aligned,
  the date four characters in from the right edge and the signature centred over the date;
  then the contact line in parentheses and the disclosure mode, each indented two characters;
* the 版记: "抄送：…，…。" in 4号 (14 pt) between two horizontal rules;
* page numbers "— 1 —" in 4号 半角宋体 7 mm below the text block, odd pages right, even pages
  left, one character in from the edge.

Printed text is typeset, not rewritten: half-width punctuation in Chinese running text is
printed full width (答复如下: → 答复如下：, (第20222174号) → （第20222174号）), the year in the
document number in 〔〕, tabs and odd spaces as plain spaces; a long title is broken into
balanced lines between words (rjieba) rather than wherever the line runs out.

The .docx names the official fonts (East Asian names set through ``w:eastAsia``, the document
language zh-CN) and records a fallback for each in the font table; Word/WPS/LibreOffice
substitute whatever is installed.  Line breaking there is the word processor's.

The PDF (reportlab) is laid out here: Chinese line-breaking rules (no "，。、；：？！）》”" at a
line start, no "（《“" at a line end; a mark that does not fit takes the character before it
to the next line rather than hanging in the margin), justified lines, no single line left at
the foot or the top of a page, a heading never last on a page, the last lines of the body
kept with the signature, the 版记 at the foot of the last page.  It embeds an installed
TrueType CJK font for each role when one is found (``$TRACKER_FONT_DIR`` first, then the
usual font folders: simfang/simhei/simkai/simsun, 方正小标宋, AR PL UMing/UKai, WenQuanYi…)
and otherwise uses the Adobe CID font STSong-Light, which needs no font file (PDF viewers
supply it), so Chinese never comes out as boxes; without a 黑体 file, 黑体 text is drawn
fill-and-stroke to keep its weight.  Noto/Source Han CJK fonts carry CFF outlines, which
reportlab cannot embed, so they are skipped.  A character no available font has (an emoji)
is printed as 〓.

The HTML page has the same layout in CSS (@page A4 with the margins and page numbers, the
font fallback lists), inline and self-contained, every text escaped.

Pure library code: no Flask, no database.  The package's modules, in the order a letter
goes through them:

* ``content`` – :class:`LetterContent`, the text helpers and the layout as a list of lines;
* ``blocks`` – the body's blocks from plain text or from the editor's Markdown;
* ``geometry`` – page geometry, type sizes and font roles;
* ``docx_writer`` – the .docx;
* ``fonts`` – the PDF's fonts;
* ``linebreak`` – Chinese line breaking and balanced title lines;
* ``pdf_writer`` – the PDF, from the reportlab ``flowables`` laid out here;
* ``html_writer`` – the print page.
"""

from __future__ import annotations

from tracker.letters.export.blocks import blocks_from_markdown, blocks_from_text
from tracker.letters.export.content import LetterContent, fullwidth_punctuation
from tracker.letters.export.docx_writer import to_docx
from tracker.letters.export.fonts import pdf_fonts
from tracker.letters.export.html_writer import to_html
from tracker.letters.export.pdf_writer import to_pdf

__all__ = [
    "LetterContent",
    "blocks_from_markdown",
    "blocks_from_text",
    "fullwidth_punctuation",
    "pdf_fonts",
    "to_docx",
    "to_html",
    "to_pdf",
]
