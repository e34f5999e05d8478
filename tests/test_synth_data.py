"""The synthetic corpus is reproducible to the byte: the same seed gives the same letters
whatever shape the generator's code and tables take (the digests were computed before the
tables moved to data files and ``_Letter.build`` was split)."""

from __future__ import annotations

import ast
import hashlib
import json
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

import tracker
from tracker.letters import synth

ROOT = Path(__file__).resolve().parents[1]

# seed -> sha256 of the first 300 records, one JSON line each (keys sorted)
PINNED = {
    1: "3ff1fd8e9e4deb2890e41b2f638e100c113f4cd89e0945ded656037c0b6b720e",
    2: "b4cb4a9f4dca11b13fb21380f614c391e383a4f74e49274a5fc5e770c3d51a7d",
    20220507: "7570a7e85d05cf6cae4d9458330ce362f35e9f65c57ba7fb2a352ac9a996a881",
}


def records_digest(n: int, seed: int) -> str:
    digest = hashlib.sha256()
    for record in synth.generate_records(n, seed):
        digest.update(json.dumps(record, ensure_ascii=False, sort_keys=True).encode())
        digest.update(b"\n")
    return digest.hexdigest()


@pytest.mark.parametrize("seed", sorted(PINNED))
def test_same_seed_gives_the_same_bytes_as_before(seed):
    assert records_digest(300, seed) == PINNED[seed]


def test_the_tables_are_data_files_the_package_carries():
    """Jurisdictions, topics and phrases are TOML files under tracker/letters/data that
    pyproject's package-data puts in the wheel (a non-editable install reads them too)."""
    data = Path(synth.__file__).with_name("data")
    assert sorted(p.name for p in data.glob("*.toml")) == [
        "jurisdictions.toml",
        "phrases.toml",
        "topics.toml",
    ]
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["tracker"]
    package = Path(tracker.__file__).parent
    for path in data.iterdir():
        relative = path.relative_to(package).as_posix()
        assert any(fnmatch(relative, glob) for glob in globs), relative
    topics = tomllib.loads((data / "topics.toml").read_text(encoding="utf-8"))["topics"]
    assert [t["name"] for t in topics] == list(synth.TOPIC_NAMES)
    assert "学位供给" in synth.TOPIC_NAMES and len(synth.TOPIC_NAMES) == 76


def test_a_letter_is_built_part_by_part():
    """_Letter.build (once 400 lines) calls one method per part of the letter, and no
    method of the generator runs past 80 lines."""
    tree = ast.parse(Path(synth.__file__).read_text(encoding="utf-8"))
    letter = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "_Letter")
    methods = {f.name: f for f in letter.body if isinstance(f, ast.FunctionDef)}
    lines = {name: f.end_lineno - f.lineno + 1 for name, f in methods.items()}
    assert lines["build"] <= 25
    assert max(lines.values()) <= 80, max(lines, key=lines.get)
    parts = {"addressee", "document_number", "opening", "footer", "assemble", "record"}
    called = {
        node.func.attr
        for node in ast.walk(methods["build"])
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert parts <= called <= set(methods)
