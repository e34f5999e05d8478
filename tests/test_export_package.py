"""The letter export is a package cut along its seams, each module one job, the public
names where callers have always found them."""

from __future__ import annotations

from pathlib import Path

from tracker.letters import export

SEAMS = {
    "content": ("LetterContent", "fullwidth_punctuation"),
    "blocks": ("blocks_from_text", "blocks_from_markdown"),
    "docx_writer": ("to_docx",),
    "fonts": ("pdf_fonts",),
    "pdf_writer": ("to_pdf",),
    "html_writer": ("to_html",),
}


def test_export_is_a_package_of_small_modules():
    package = Path(export.__file__)
    assert package.name == "__init__.py"  # not the 1,669-line export.py of old
    sizes = {
        path.stem: len(path.read_text(encoding="utf-8").splitlines())
        for path in package.parent.glob("*.py")
    }
    assert {*SEAMS, "geometry", "linebreak"} <= set(sizes)
    assert max(sizes.values()) <= 450, sizes


def test_public_names_live_in_their_seam_and_import_from_the_package():
    assert sorted(export.__all__) == sorted(name for names in SEAMS.values() for name in names)
    for module, names in SEAMS.items():
        for name in names:
            assert getattr(export, name).__module__ == f"tracker.letters.export.{module}"
