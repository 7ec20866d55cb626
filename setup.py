"""Builds poker/ with mypyc when it can; the pure-Python package is the fallback.

Everything else about the package lives in pyproject.toml. ``TABLIUM_PURE=1`` skips the
compiler on purpose (e.g. to debug poker/ with pdb). With no mypy, no C compiler or no
Python headers the build warns and installs poker/ as plain Python: same code, ~1.8x slower.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

# The hot path only (where ``tablium bench engine`` spends its time). The other modules stay
# interpreted: mypyc builds msgspec Structs without their class keywords (tag=True was lost:
# "all Struct types must be tagged") nor resolvable annotations (snapshots decoded nested
# Structs as dicts); cards.py's Card subclasses eval7's C type (as a native class its fields
# overlapped eval7's and every card compared equal); errors.py has two builtin bases.
_COMPILED = ("betting", "evaluation", "flow", "forced_bets", "hand", "pots")


class OptionalBuildExt(build_ext):
    """A failed compile leaves poker/ pure Python instead of failing the install."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # no compiler, no Python.h, ...: all the same to us
            message = f"tablium: mypyc build failed, poker/ stays pure Python ({error})"
            print(message, file=sys.stderr)


def _ext_modules() -> list[object]:
    if os.environ.get("TABLIUM_PURE"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("tablium: no mypyc, poker/ stays pure Python", file=sys.stderr)
        return []
    here = Path(__file__).parent
    sources = [f"poker/{name}.py" for name in _COMPILED]
    # The shared library goes inside poker/ (poker/_native__mypyc*.so): an editable install
    # puts only the packages on sys.path, not the project root.
    return mypycify(
        ["--config-file", str(here / "pyproject.toml"), "--no-warn-unused-configs", *sources],
        opt_level="3",
        group_name="poker._native",
    )


setup(ext_modules=_ext_modules(), cmdclass={"build_ext": OptionalBuildExt})
