"""The swarm is a client like any other: it may import protocol/ and poker/, never the server."""

from __future__ import annotations

import ast
from pathlib import Path

import loadtest

PROJECT_PACKAGES = {"server", "actors", "persistence", "services", "admin", "protocol", "poker"}
ALLOWED = {"protocol", "poker", "loadtest"}


def imported_top_level_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_loadtest_imports_no_server_internals() -> None:
    root = Path(loadtest.__file__).parent
    files = sorted(root.glob("*.py"))
    assert len(files) >= 5
    for path in files:
        forbidden = (imported_top_level_names(path) & PROJECT_PACKAGES) - ALLOWED
        assert not forbidden, f"{path.name} imports {sorted(forbidden)}"
