"""The engine is sans-IO and deterministic: no trio/asyncio, no I/O, no clock, no randomness
of its own (STYLE.md point 1; ARCHITECTURE.md "poker/ is sans-IO and deterministic")."""

from __future__ import annotations

import ast
from pathlib import Path

import poker

ENGINE_MODULES = (
    "__init__",
    "actions",
    "betting",
    "cards",
    "config",
    "errors",
    "evaluation",
    "events",
    "flow",
    "forced_bets",
    "hand",
    "phases",
    "pots",
    "showdown",
    "snapshot",
)
FORBIDDEN = {
    "asyncio",
    "trio",
    "socket",
    "os",
    "io",
    "time",
    "datetime",
    "secrets",
    "threading",
    "subprocess",
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_engine_imports_no_io_clock_or_entropy() -> None:
    package = Path(poker.__file__).parent
    for name in ENGINE_MODULES:
        found = _imports(package / f"{name}.py") & FORBIDDEN
        assert not found, f"poker/{name}.py imports {sorted(found)}"


def test_only_the_deck_touches_random_and_only_the_rng_it_is_given() -> None:
    package = Path(poker.__file__).parent
    users = [name for name in ENGINE_MODULES if "random" in _imports(package / f"{name}.py")]
    assert users == ["cards"]
    source = (package / "cards.py").read_text()
    # The type of the injected RNG only: no module-level random calls.
    assert "random.random(" not in source
    assert "random.shuffle(" not in source
    assert "random.Random(" not in source
