"""``tablium migrate`` applies the migrations once, to the database the settings name."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.cli import main


def test_migrate_creates_the_embedded_database_then_reports_up_to_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TABLIUM_DATABASE_URL", raising=False)
    monkeypatch.setenv("TABLIUM_DATA_DIR", str(tmp_path / "var"))
    assert main(["migrate"]) == 0
    assert "applied migrations 1" in capsys.readouterr().out
    assert (tmp_path / "var" / "tablium.sqlite3").exists()
    assert main(["migrate"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_migrate_reports_a_bad_setting_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TABLIUM_DATABASE_URL", "mysql://nope")
    assert main(["migrate"]) == 2
    assert "TABLIUM_DATABASE_URL" in capsys.readouterr().err
