"""A reply letter from the database as a document: .docx, PDF or print-ready HTML."""

from __future__ import annotations

from tracker.letters.layout import letter_lines
from tracker.letters.patterns import is_date_line
from tracker.models import ReplyLetter
from tracker.services import vocab

FORMATS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
}


def content_for(letter: ReplyLetter):
    from tracker.letters.export import LetterContent, blocks_from_markdown, blocks_from_text

    if letter.source_file:  # an imported letter: its text, without the lines set apart
        lines = letter_lines(
            letter.body, head=(letter.title, letter.doc_number, letter.classification)
        )
        salutation = lines.pop(0) if lines and lines[0].endswith((":", "：")) else None
        while lines and (lines[-1] == letter.issuer or is_date_line(lines[-1])):
            lines.pop()
        blocks = blocks_from_text("\n".join(lines))
    else:
        salutation = letter.addressee
        blocks = blocks_from_markdown(letter.body or "")
    grade = vocab.term("classification", letter.classification)
    label = (
        grade.label
        if grade
        else (
            f"{letter.classification}类"
            if letter.classification and len(letter.classification) == 1
            else letter.classification
        )
    )
    return LetterContent(
        title=letter.title or "答复函",
        classification=label,
        doc_number=letter.doc_number,
        salutation=salutation,
        blocks=blocks,
        issuer=letter.issuer or (letter.unit.name if letter.unit else ""),
        letter_on=letter.letter_on,
        contact_person=letter.contact_person,
        contact_phone=letter.contact_phone,
        disclosure=letter.disclosure,
        cc=list(letter.cc or []),
    )


def render(letter: ReplyLetter, fmt: str, *, nonce: str | None = None) -> bytes:
    """The letter as a document; `nonce` marks the print page's <style> (for the CSP)."""
    from tracker.letters import export

    content = content_for(letter)
    if fmt == "docx":
        return export.to_docx(content)
    if fmt == "pdf":
        return export.to_pdf(content)
    if fmt == "html":
        return export.to_html(content, nonce=nonce).encode("utf-8")
    raise ValueError(fmt)


def file_name(letter: ReplyLetter, fmt: str) -> str:
    """The download's name: the document number, else the title (tracker.downloads makes
    it a name any file system takes)."""
    base = letter.doc_number or (letter.title or f"letter-{letter.id}")
    return f"{base}.{fmt}"
