"""The PDF's fonts: an installed TrueType CJK font for each role when one is found
(``$TRACKER_FONT_DIR`` first, then the usual font folders), else the Adobe CID font
STSong-Light, which needs no font file."""

from __future__ import annotations

import functools
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

# File-name stems (lower case, prefix match) of fonts for each role, best first.
_PDF_ROLE_FILES: dict[str, tuple[str, ...]] = {
    "title": (
        "方正小标宋简体",
        "方正小标宋",
        "fzxbsjw",
        "fzxiaobiaosong",
        "stzhongs",
        "华文中宋",
        "simsun",
        "宋体",
        "stsong",
        "华文宋体",
    ),
    "body": (
        "仿宋_gb2312",
        "fangsong_gb2312",
        "simfang",
        "仿宋",
        "fangsong",
        "stfangso",
        "华文仿宋",
    ),
    "hei": ("simhei", "黑体", "stheiti", "华文黑体", "wqy-zenhei", "wqy-microhei"),
    "kai": (
        "楷体_gb2312",
        "kaiti_gb2312",
        "simkai",
        "楷体",
        "kaiti",
        "stkaiti",
        "华文楷体",
        "ukai",
    ),
    "song": ("simsun", "宋体", "nsimsun", "stsong", "华文宋体", "uming", "gbsn00lp"),
}
# Any CJK font, serif faces first.  Noto/Source Han CJK ship CFF outlines, which reportlab
# cannot embed: they are tried (a future reportlab may take them) and skipped on failure.
_PDF_GENERIC_FILES = (
    "uming",
    "notoserifcjk",
    "sourcehanserif",
    "droidsansfallback",
    "wqy-microhei",
    "wqy-zenhei",
    "notosanscjk",
    "sourcehansans",
    "ukai",
)
_CID_FONT = "STSong-Light"  # Adobe-GB1, resolved by every PDF viewer, no file needed
_FONT_EXTS = (".ttf", ".ttc", ".otf")


def _font_dirs() -> list[Path]:
    dirs: list[Path] = []
    env = os.environ.get("TRACKER_FONT_DIR", "")
    dirs += [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    home = Path.home()
    dirs += [
        home / ".fonts",
        home / ".local/share/fonts",
        Path("/usr/local/share/fonts"),
        Path("/usr/share/fonts"),
        home / "Library/Fonts",
        Path("/Library/Fonts"),
        Path("/System/Library/Fonts"),
    ]
    windir = os.environ.get("WINDIR")
    if windir:
        dirs.append(Path(windir) / "Fonts")
    return dirs


@functools.lru_cache(maxsize=8)
def _font_files(env_dirs: str) -> tuple[tuple[Path, bool], ...]:
    """(path, from $TRACKER_FONT_DIR) for every font file in the font folders, in order."""
    del env_dirs  # the cache key: the folders are read from the environment
    env_paths = [
        Path(p).expanduser() for p in os.environ.get("TRACKER_FONT_DIR", "").split(os.pathsep) if p
    ]
    seen: set[Path] = set()
    found: list[tuple[Path, bool]] = []
    for base in _font_dirs():
        if not base.is_dir():
            continue
        for root, _dirs, files in os.walk(base):
            for name in sorted(files):
                path = Path(root) / name
                if path.suffix.lower() not in _FONT_EXTS or path in seen:
                    continue
                seen.add(path)
                found.append((path, base in env_paths))
    return tuple(found)


def _stem_rank(path: Path) -> int:
    """Regular faces before bold/light ones among files matching the same name."""
    stem = path.stem.lower()
    return (
        1
        if any(w in stem for w in ("bold", "light", "heavy", "black", "thin", "medium", "semi"))
        else 0
    )


@functools.lru_cache(maxsize=64)
def _load_ttf(path: str) -> str | None:
    """Register the TrueType font at ``path`` with reportlab; its registered name or None.

    In a .ttc collection the simplified-Chinese face is preferred."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    digest = hashlib.sha1(path.encode()).hexdigest()[:10]
    candidates = [0]
    if path.lower().endswith(".ttc"):
        candidates = list(range(8))
    first: TTFont | None = None
    chosen: TTFont | None = None
    for index in candidates:
        try:
            font = TTFont(f"TrackerCJK-{digest}-{index}", path, subfontIndex=index)
        except (TTFError, OSError, IndexError, KeyError, ValueError, AssertionError):
            if index == 0:
                return None
            break
        if ord("中") not in font.face.charToGlyph:
            continue
        first = first or font
        names = " ".join(
            str(getattr(font.face, attr, "")) for attr in ("name", "familyName", "styleName")
        )
        if re.search(r"\b(SC|CN|GB)\b|Simplified|简", names):
            chosen = font
            break
    chosen = chosen or first
    if chosen is None:
        return None
    pdfmetrics.registerFont(chosen)
    return chosen.fontName


def _cid_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    try:
        pdfmetrics.getFont(_CID_FONT)
    except KeyError:
        pdfmetrics.registerFont(UnicodeCIDFont(_CID_FONT))
    return _CID_FONT


def _pick_font(stems: tuple[str, ...], files: tuple[tuple[Path, bool], ...]) -> str | None:
    """The first loadable font whose file name starts with one of ``stems`` (in that order);
    among files matching the same stem, those in $TRACKER_FONT_DIR and regular faces first."""
    for stem in stems:
        matches = sorted(
            ((p, env) for p, env in files if p.stem.lower().startswith(stem)),
            key=lambda item: (not item[1], _stem_rank(item[0]), len(item[0].stem)),
        )
        for path, _env in matches:
            name = _load_ttf(str(path))
            if name:
                return name
    return None


@dataclass(frozen=True)
class _PdfFonts:
    title: str
    body: str
    hei: str
    kai: str
    song: str
    faux_bold_hei: bool  # 黑体 simulated by stroking a Song/Fangsong face


def pdf_fonts() -> _PdfFonts:
    """The fonts to_pdf uses for each role (registered reportlab names)."""
    files = _font_files(os.environ.get("TRACKER_FONT_DIR", ""))
    known = tuple(stem for stems in _PDF_ROLE_FILES.values() for stem in stems)
    known += _PDF_GENERIC_FILES
    # A font a deployer put in $TRACKER_FONT_DIR under a name we do not know comes first.
    unknown_env = tuple(
        p.stem.lower() for p, env in files if env and not p.stem.lower().startswith(known)
    )
    chosen = {role: _pick_font(stems, files) for role, stems in _PDF_ROLE_FILES.items()}
    generic = _pick_font(unknown_env + _PDF_GENERIC_FILES, files)
    song = chosen["song"] or generic
    body = chosen["body"] or song or _cid_font()
    hei = chosen["hei"]
    return _PdfFonts(
        title=chosen["title"] or song or _cid_font(),
        body=body,
        hei=hei or body,
        kai=chosen["kai"] or body,
        song=song or _cid_font(),
        faux_bold_hei=hei is None,
    )
