"""The layers of the tracker, read from its source with ast: every import of every module
under tracker/, at module level and inside functions (a lazy import that dodges a cycle
is still a cycle), including those under ``if TYPE_CHECKING``.

Rules:
1. No import cycle inside tracker/.
2. rules/, letters/ and search/ are pure: no Flask (flask, flask_*, werkzeug, jinja2), no
   database (sqlalchemy, tracker.extensions, tracker.models), and of the tracker only each
   other.
3. services/ know no request, user, app or response: nothing from flask, flask_login,
   flask_wtf or werkzeug.wrappers (request, current_user, url_for, Response, current_app);
   of the tracker only what lies below them (extensions, models, config, rules, letters,
   search, other services) — not the view and command layer (tracker.current,
   tracker.web, blueprints, …) that reads the running app for them.
4. One home for each convention of letter text: the Chinese date (rules/chinese.cn_date),
   the Chinese digit table (rules/chinese.DIGITS), the statuses of a sent letter
   (rules/labels), the heading patterns (letters/patterns).
5. Operations code that runs beside the app (tracker/backup.py: backup, verify-backup,
   restore) knows no Flask and none of the view and command layer: the command passes it
   the database engine and the folders, so it also runs from a script with no app.

Everything else is the view and command layer, which may import any layer below it and
which rules 1 and 3 keep the layers below from importing: the blueprints (main/health.py
among them), web.py, views_common.py (the one commit point), current.py, downloads.py,
rendering.py, search_hooks.py, cli.py, runner.py, and loadtest.py (which builds apps to
measure them).

The test reads files only, so it can be pointed at another tree: ``TRACKER_LAYERS_ROOT=
/path/to/checkout pytest tests/test_layers.py``.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import sources

ROOT = Path(os.environ.get("TRACKER_LAYERS_ROOT") or Path(__file__).resolve().parents[1])
PACKAGE = ROOT / "tracker"
TEMPLATES = ROOT / "templates"

PURE = ("tracker.rules", "tracker.letters", "tracker.search")
WEB_OR_DATABASE = ("flask", "werkzeug", "jinja2", "sqlalchemy", "tracker.extensions")
BELOW_SERVICES = (
    "tracker.extensions",
    "tracker.models",
    "tracker.config",
    *PURE,
    "tracker.services",
)
WEB_FOR_SERVICES = ("flask", "flask_login", "flask_wtf", "werkzeug.wrappers")
OPERATIONS = ("tracker.backup",)


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # what it names: a module, or module.attribute
    line: int
    lazy: bool  # inside a function or a conditional block

    def where(self) -> str:
        return f"{_modules()[self.module].relative_to(ROOT)}:{self.line}"


@cache
def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_package(module: str) -> bool:
    return _modules()[module].name == "__init__.py"


def _base(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    if not _is_package(module):
        parts.pop()
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, *([node.module] if node.module else [])])


@cache
def _imports() -> tuple[Import, ...]:
    found = []
    for module, path in _modules().items():
        tree = sources.tree(path)
        top = {id(node) for node in tree.body}
        for node in sources.nodes(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _base(module, node)
                targets = [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            found += [Import(module, t, node.lineno, id(node) not in top) for t in targets]
    return tuple(found)


def _module_of(target: str) -> str | None:
    """The tracker module an imported name lives in (the nearest enclosing module)."""
    while target and target not in _modules():
        target = target.rpartition(".")[0]
    return target or None


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _of(package: str) -> Iterator[Import]:
    return (i for i in _imports() if _within(i.module, (package,)))


def _cycles() -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    edges: dict[str, set[str]] = {}
    for i in _imports():
        target = _module_of(i.target)
        if target is not None and target != i.module:
            edges.setdefault(i.module, set()).add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(_modules()):
        if v not in index:
            visit(v)
    return groups


def _explain(group: list[str]) -> str:
    lines = [" <-> ".join(group)]
    for i in _imports():
        if i.module in group and _module_of(i.target) in group and _module_of(i.target) != i.module:
            lazy = " (inside a function or block)" if i.lazy else ""
            lines.append(f"    {i.where()}: {i.module} imports {i.target}{lazy}")
    return "\n".join(lines)


def test_rule_1_no_import_cycle_inside_tracker():
    cycles = _cycles()
    assert not cycles, "rule 1, import cycles inside tracker/:\n" + "\n".join(
        _explain(group) for group in cycles
    )


def test_rule_2_rules_letters_and_search_know_no_web_or_database():
    wrong = []
    for package in PURE:
        for i in _of(package):
            top = i.target.split(".")[0]
            if top.startswith("flask") or _within(i.target, WEB_OR_DATABASE):
                wrong.append(f"{i.where()}: {i.target}")
            elif top == "tracker" and not _within(_module_of(i.target) or "", PURE):
                wrong.append(f"{i.where()}: {i.target} (only rules, letters and search)")
    assert not wrong, "rule 2, a pure layer imports web or database code:\n" + "\n".join(wrong)


def test_rule_3_services_know_no_request_user_app_or_response():
    wrong = []
    for i in _of("tracker.services"):
        if _within(i.target, WEB_FOR_SERVICES):
            wrong.append(f"{i.where()}: {i.target}")
        elif i.target.split(".")[0] == "tracker":
            home = _module_of(i.target) or i.target
            if not _within(home, BELOW_SERVICES):
                wrong.append(f"{i.where()}: {i.target} (the view and command layer)")
    assert not wrong, (
        "rule 3, a service imports the request, the user, the app or a response (settings, "
        "links and the search engine are passed in by the caller):\n" + "\n".join(wrong)
    )


# -- rule 4: one home for each convention -----------------------------------------------------


def _sources() -> Iterator[tuple[str, ast.AST]]:
    for path in _modules().values():
        yield str(path.relative_to(ROOT)), sources.tree(path)


def _strings(node: ast.AST) -> list[str] | None:
    """The strings of a tuple, list or set literal of strings only."""
    if not isinstance(node, ast.Tuple | ast.List | ast.Set) or not node.elts:
        return None
    if all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
        return [e.value for e in node.elts]
    return None


def _date_writer(node: ast.AST) -> bool:
    """f"{d.year}年{d.month}月{d.day}日" """
    if not isinstance(node, ast.JoinedStr):
        return False
    parts = [
        v.value.attr
        if isinstance(v, ast.FormattedValue) and isinstance(v.value, ast.Attribute)
        else v.value
        if isinstance(v, ast.Constant)
        else None
        for v in node.values
    ]
    text = "".join(p if p is not None else "?" for p in parts)
    return "year年month月day日" in text


def _digit_table(node: ast.AST) -> bool:
    """{"一": 1, …} or dict(zip("…一二三…", (…))): a table of Chinese digits."""
    if isinstance(node, ast.Dict):
        return any(
            isinstance(k, ast.Constant) and k.value == "一" and isinstance(v, ast.Constant)
            for k, v in zip(node.keys, node.values, strict=True)
        )
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "zip" and node.args:
        first = node.args[0]
        return isinstance(first, ast.Constant) and "一二" in str(first.value)
    return False


SENT = {"issued", "published", "imported"}
PUBLISHED = {"published", "imported"}
# a regex for 一、 (the digit class, then 、) or for （一） (an opening bracket, then the class)
HEADING_RE = re.compile(
    r"[一二三四五六七八九十]\][^\[]{0,12}\[、|[（(][^\]]{0,3}\]\[[一二三四五六七八九十]"
)


def test_rule_4_one_home_for_each_convention_of_letter_text():
    wrong = []
    for name, tree in _sources():
        for node in sources.nodes(tree):
            line = f"{name}:{getattr(node, 'lineno', '?')}"
            if _date_writer(node) and name != "tracker/rules/chinese.py":
                wrong.append(f"{line}: a Chinese date writer (use rules.chinese.cn_date)")
            if _digit_table(node) and name != "tracker/rules/chinese.py":
                wrong.append(f"{line}: a Chinese digit table (use rules.chinese.cn_to_int)")
            values = _strings(node)
            if values and set(values) in (SENT, PUBLISHED) and name != "tracker/rules/labels.py":
                wrong.append(f"{line}: {tuple(values)} (use rules.labels.*_LETTER_STATUSES)")
            if values and "下一步" in values and name != "tracker/letters/patterns.py":
                wrong.append(f"{line}: forward headings (use letters.patterns.FORWARD_HEADING_RE)")
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                pattern_home = name == "tracker/letters/patterns.py"
                if node.value.startswith("下一步|") and not pattern_home:
                    wrong.append(f"{line}: forward headings (use letters.patterns)")
                if HEADING_RE.search(node.value) and not pattern_home:
                    wrong.append(f"{line}: a 一、/（一） heading pattern (use letters.patterns)")
    for path in sorted(TEMPLATES.rglob("*.html")):
        for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for found in re.findall(r"\(\s*'[a-z]+'(?:\s*,\s*'[a-z]+')+\s*\)", text):
                if set(re.findall(r"'([a-z]+)'", found)) in (SENT, PUBLISHED):
                    wrong.append(f"{path.relative_to(ROOT)}:{n}: {found} (use labels.*)")
    assert not wrong, "rule 4, a convention written twice:\n" + "\n".join(wrong)


def test_rule_5_operations_code_knows_no_flask():
    wrong = []
    for package in OPERATIONS:
        for i in _of(package):
            top = i.target.split(".")[0]
            if top.startswith("flask") or top in ("werkzeug", "jinja2"):
                wrong.append(f"{i.where()}: {i.target}")
            elif top == "tracker" and not _within(_module_of(i.target) or "", BELOW_SERVICES):
                wrong.append(f"{i.where()}: {i.target} (the view and command layer)")
    assert not wrong, (
        "rule 5, operations code imports Flask or the view and command layer (the command "
        "passes it the engine and the folders):\n" + "\n".join(wrong)
    )


def test_the_reader_sees_every_kind_of_import():
    """The rules above are only as good as the import reader: it must see lazy, relative
    and TYPE_CHECKING imports."""
    by_module: dict[str, set[str]] = {}
    for i in _imports():
        by_module.setdefault(i.module, set()).add(i.target)
    assert "tracker.cli" in by_module["tracker"]  # inside create_app
    assert "tracker.letters.patterns" in by_module["tracker.letters.commitments"]  # relative
    assert any(i.lazy for i in _imports())
    assert len(_modules()) > 100
