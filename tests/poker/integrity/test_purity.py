"""poker/integrity is a pure core: no I/O, clock, entropy or concurrency (STYLE.md point 1)."""

from __future__ import annotations

from pathlib import Path

import poker.integrity
from tests.poker.test_purity import FORBIDDEN, _imports


def test_integrity_core_imports_no_io_clock_or_entropy() -> None:
    package = Path(poker.integrity.__file__).parent
    for path in sorted(package.glob("*.py")):
        found = _imports(path) & (FORBIDDEN | {"random"})
        assert not found, f"poker/integrity/{path.name} imports {sorted(found)}"
