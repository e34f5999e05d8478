"""One commit point per request: the web side writes through tracker.views_common.

Read from the source (ast), so that a view added tomorrow keeps the rule: no module that
answers requests, other than tracker/views_common.py, commits or rolls back the session,
loads a row by id itself (get_or_404 does, with the permission check), or catches a
service's refusal (perform answers it: form error or flash, 400, or 403)."""

from __future__ import annotations

import ast
from pathlib import Path

import sources

import tracker

PACKAGE = Path(tracker.__file__).parent
HELPER = PACKAGE / "views_common.py"
REQUEST_MODULES = {"web.py", "errors.py", "headers.py", "paging.py"}
REFUSALS = {"DomainError", "PermissionDenied"}


def _tree(path: Path) -> ast.Module:
    return sources.tree(path)


def _defines_blueprint(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Blueprint"
        for node in sources.nodes(tree)
    )


def view_modules() -> list[Path]:
    """Every module that answers requests: the blueprints' views and the app's handlers."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == HELPER or "migrations" in path.parts:
            continue
        relative = path.relative_to(PACKAGE).as_posix()
        if (
            path.name == "views.py"
            or relative in REQUEST_MODULES
            or _defines_blueprint(_tree(path))
        ):
            found.append(path)
    return found


def _session_call(node: ast.AST, names: set[str]) -> str | None:
    """`db.session.commit()`-like calls (any receiver ending in `session`): the method."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    if node.func.attr not in names:
        return None
    receiver = node.func.value
    name = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", "")
    return node.func.attr if name == "session" else None


def _caught(handler: ast.ExceptHandler) -> set[str]:
    kinds = handler.type
    items = kinds.elts if isinstance(kinds, ast.Tuple) else [kinds] if kinds else []
    return {
        item.attr if isinstance(item, ast.Attribute) else getattr(item, "id", "") for item in items
    }


def _findings(paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        where = path.relative_to(PACKAGE.parent).as_posix()
        for node in sources.nodes(_tree(path)):
            method = _session_call(node, {"commit", "rollback", "get"})
            if method in ("commit", "rollback"):
                found.append(f"{where}:{node.lineno} session.{method}(): use views_common")
            elif method == "get":
                found.append(f"{where}:{node.lineno} session.get(): use views_common.get_or_404")
            if isinstance(node, ast.ExceptHandler) and _caught(node) & REFUSALS:
                found.append(f"{where}:{node.lineno} catches a refusal: use views_common.perform")
    return found


def test_the_rule_reads_every_view_module():
    names = {p.relative_to(PACKAGE).as_posix() for p in view_modules()}
    assert {"proposals/views.py", "admin/views.py", "auth/views.py", "web.py", "errors.py"} <= names
    assert len([n for n in names if n.endswith("/views.py")]) >= 11


def test_views_commit_only_through_the_helper():
    assert _findings(view_modules()) == []


def test_the_helper_is_the_commit_point():
    """The rule reads the calls it forbids: it finds them in the helper itself."""
    found = _findings([HELPER])
    assert any("session.commit()" in f for f in found)
    assert any("session.rollback()" in f for f in found)
    assert any("session.get()" in f for f in found)
    assert any("catches a refusal" in f for f in found)
