"""Python sources as trees, each parsed and walked once in a test process: the tests that
read the code (test_layers, test_views_commit_point, test_suite_rules) parsed the same
files again in each test and walked the same trees once a rule (about 1,500 parses and
their walks in a run, some 3 s of the suite)."""

from __future__ import annotations

import ast
import functools
from pathlib import Path


@functools.cache
def tree(path: Path) -> ast.Module:
    """The module's tree (shared by the tests: read, never changed)."""
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


@functools.cache
def nodes(node: ast.AST) -> tuple[ast.AST, ...]:
    """Every node inside `node`, itself first, in ast.walk's order."""
    return tuple(ast.walk(node))
