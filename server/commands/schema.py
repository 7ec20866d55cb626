"""``python -m server.commands.schema write|check``: the protocol's generated documents.

Renders, from protocol/ (protocol/schema.py), the files client authors read:

- ``docs/schema/protocol.schema.json``: JSON Schema of every message in both directions;
- ``docs/errors.md``: every error code and close code;
- ``docs/events.md``: its event catalogue, from persistence/events.py (the prose around it is
  written by hand).

``write`` renders them into the repository; ``check`` exits 1 naming each file that differs
from what the code renders (the test suite runs the same check). The TypeScript types in
clients/js/types/ are generated from the schema file by ``make schema`` (json-schema-to-
typescript, through npm), after this command.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Final

DRIFT_EXIT: Final = 1
DIFF_LINES_SHOWN_MAX: Final = 40  # of each drifted file's diff; the rest is elided


def generated_files() -> dict[str, Callable[[], str]]:
    """Repository-relative path -> the function rendering its text."""
    from persistence.events_doc import events_markdown
    from protocol.schema import errors_markdown, schema_text

    return {
        "docs/schema/protocol.schema.json": schema_text,
        "docs/errors.md": errors_markdown,
        "docs/events.md": events_markdown,  # its catalogue section, from persistence/events.py
    }


def drifted(root: Path) -> dict[str, str]:
    """Path -> a short unified diff, for each generated file that differs from the code."""
    found: dict[str, str] = {}
    for relative, render in generated_files().items():
        path = root / relative
        expected = render()
        actual = path.read_text(encoding="utf-8") if path.exists() else ""
        if actual != expected:
            diff = list(
                difflib.unified_diff(
                    actual.splitlines(),
                    expected.splitlines(),
                    f"{relative} (checked in)",
                    f"{relative} (from the code)",
                    lineterm="",
                )
            )
            shown = diff[:DIFF_LINES_SHOWN_MAX]
            if len(diff) > len(shown):
                shown.append(f"... {len(diff) - len(shown)} more diff lines")
            found[relative] = "\n".join(shown)
    return found


def write(root: Path) -> list[str]:
    """Render every generated file under ``root``; return the paths that changed."""
    changed = []
    for relative, render in generated_files().items():
        path = root / relative
        text = render()
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            changed.append(relative)
    return changed


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("write", "check"))
    parser.add_argument(
        "--root", type=Path, default=Path("."), help="the repository (default: the current dir)"
    )


def run(args: argparse.Namespace) -> int:
    root: Path = args.root
    if args.action == "write":
        for relative in write(root):
            print(f"wrote {relative}")
        return 0
    stale = drifted(root)
    for relative, diff in stale.items():
        print(f"{relative} is stale: run `make schema`\n{diff}", file=sys.stderr)
    return DRIFT_EXIT if stale else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.commands.schema", description=__doc__)
    configure(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
