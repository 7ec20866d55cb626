"""The tournament core is sans-IO and deterministic like the engine beside it: no trio, no
I/O, no clock, no randomness of its own (it is handed an RNG)."""

from __future__ import annotations

import ast
from pathlib import Path

import poker.tournament

FORBIDDEN = {"asyncio", "trio", "socket", "os", "io", "time", "datetime", "secrets", "threading"}
FORBIDDEN |= {"subprocess", "server", "actors", "services", "persistence", "protocol"}


def _modules() -> list[Path]:
    return sorted(Path(poker.tournament.__file__).parent.glob("*.py"))


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_tournament_core_imports_no_io_clock_or_entropy() -> None:
    assert len(_modules()) >= 10
    for path in _modules():
        found = _imports(path) & FORBIDDEN
        assert not found, f"{path.name} imports {sorted(found)}"


def test_the_core_only_uses_the_rng_it_is_given() -> None:
    for path in _modules():
        source = path.read_text()
        for call in ("random.random(", "random.shuffle(", "random.Random(", "random.choice("):
            assert call not in source, f"{path.name} calls {call}"
