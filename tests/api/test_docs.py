"""docs/api.md stays true to the code: every route, every problem code, every API setting;
the README names the port."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from api.problems import PROBLEMS
from api.routes import all_routes
from server.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "api.md").read_text()


def test_every_route_is_in_the_routes_table() -> None:
    for table in all_routes():
        for operation, _ in table.entries:
            assert f"`{operation.method} {operation.path}" in DOC, operation.path


def test_every_problem_code_is_documented() -> None:
    missing = [code for code in PROBLEMS if f"`{code}`" not in DOC]
    assert not missing


def test_every_api_setting_is_documented_and_the_readme_names_the_port() -> None:
    readme = (ROOT / "README.md").read_text()
    for field in dataclasses.fields(Settings):
        if field.name.startswith("api_"):
            variable = f"TABLIUM_{field.name.upper()}"
            assert variable in DOC, variable
            assert variable in readme, variable
    assert "8000" in readme and "docs/api.md" in readme
