"""`tablium token` prints a token the server's own signer accepts, with the asked claims."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.auth import TokenInvalid, TokenSigner
from server.cli import main

SECRET = "token-command-secret-" + "z" * 40


@pytest.fixture(autouse=True)
def settings_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TABLIUM_JWT_SECRET", SECRET)
    monkeypatch.setenv("TABLIUM_DATA_DIR", str(tmp_path))


def test_prints_a_token_signed_with_the_configured_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["token", "--player", "alice", "--role", "admin"]) == 0
    token = capsys.readouterr().out.strip()
    claims = TokenSigner(SECRET).verify(token)
    assert (claims.player, claims.role) == ("alice", "admin")
    with pytest.raises(TokenInvalid):
        TokenSigner("another-secret-" + "q" * 40).verify(token)


def test_role_defaults_to_player_and_ttl_is_honoured(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--player", "bob", "--ttl-s", "60", "--session-id", "s-9"]) == 0
    claims = TokenSigner(SECRET).verify(capsys.readouterr().out.strip())
    assert (claims.role, claims.session_id) == ("player", "s-9")
    assert claims.expires_at_s - claims.issued_at_s == 60


def test_an_unknown_role_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as info:
        main(["token", "--player", "alice", "--role", "emperor"])
    assert info.value.code == 2


def test_without_a_configured_secret_the_kept_one_is_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TABLIUM_JWT_SECRET")
    assert main(["token", "--player", "carol"]) == 0
    kept = (tmp_path / "jwt_secret").read_text().strip()
    assert TokenSigner(kept).verify(capsys.readouterr().out.strip()).player == "carol"
