"""`tablium keys`: rotating the token keys keeps the previous key verifying; rotating the
data keys keeps old values readable; show lists ids, never secrets."""

from __future__ import annotations

import json
import time
from functools import partial
from pathlib import Path

import pytest
import trio

from api.sessions import seal_client
from persistence import open_store
from persistence.api_sessions import ApiSession, get_session, open_session
from server.auth import ROTATION_OVERLAP_S, TokenInvalid, TokenSigner
from server.cli import main
from server.token_keys import DEFAULT_KID, parse_token_key_ring
from services.personal_data import DataKeyRing, PersonalDataCipher, parse_data_key_ring

SECRET = "keys-command-secret-" + "z" * 40


@pytest.fixture(autouse=True)
def settings_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("TABLIUM_JWT_SECRET", "TABLIUM_JWT_KEYS", "TABLIUM_DATA_KEYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TABLIUM_DATA_DIR", str(tmp_path))


def test_rotate_prints_a_ring_whose_previous_key_is_the_configured_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TABLIUM_JWT_SECRET", SECRET)
    old_token, issued = TokenSigner(SECRET).issue("alice", "player")
    started = int(time.time())
    assert main(["keys", "rotate", "--kid", "2026-12"]) == 0
    ring = parse_token_key_ring(capsys.readouterr().out)
    assert ring.current.kid == "2026-12" and ring.current.secret != SECRET
    (previous,) = ring.previous
    assert (previous.kid, previous.secret) == (DEFAULT_KID, SECRET)
    assert previous.verify_until_s is not None
    assert previous.verify_until_s - started in range(ROTATION_OVERLAP_S, ROTATION_OVERLAP_S + 5)
    # The rotated ring verifies the old token and signs with the new key.
    assert TokenSigner(ring).verify(old_token) == issued
    # And the next rotation (from the ring, now in TABLIUM_JWT_KEYS) keeps both.
    monkeypatch.delenv("TABLIUM_JWT_SECRET")
    monkeypatch.setenv("TABLIUM_JWT_KEYS", ring.to_json())
    assert main(["keys", "rotate", "--kid", "2027-01", "--overlap-s", "60"]) == 0
    again = parse_token_key_ring(capsys.readouterr().out)
    assert [again.current.kid] + [key.kid for key in again.previous] == [
        "2027-01",
        "2026-12",
        DEFAULT_KID,
    ]


def test_rotate_write_keeps_the_ring_in_the_data_dir_for_the_next_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "--player", "alice"]) == 0  # signed by the generated secret
    old_token = capsys.readouterr().out.strip()
    assert main(["keys", "rotate", "--write"]) == 0
    out = capsys.readouterr().out
    kept = tmp_path / "jwt_keys.json"
    assert kept.stat().st_mode & 0o777 == 0o600
    ring = parse_token_key_ring(kept.read_text())
    assert ring.current.secret not in out  # --write prints ids, not secrets
    assert TokenSigner(ring).verify(old_token).player == "alice"
    # `tablium token` (like the server) now signs with the kept ring's current key.
    assert main(["token", "--player", "bob"]) == 0
    new_token = capsys.readouterr().out.strip()
    assert TokenSigner(ring).verify(new_token).player == "bob"
    with pytest.raises(TokenInvalid, match="unknown or retired"):
        TokenSigner((tmp_path / "jwt_secret").read_text().strip()).verify(new_token)


def test_rotate_write_is_refused_when_the_environment_would_win_over_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TABLIUM_JWT_SECRET", SECRET)
    assert main(["keys", "rotate", "--write"]) == 2
    assert "TABLIUM_JWT_KEYS" in capsys.readouterr().err
    assert not (tmp_path / "jwt_keys.json").exists()


def test_rotate_data_adds_a_current_key_and_old_values_still_open(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "rotate-data", "--kid", "d1"]) == 0
    first = parse_data_key_ring(capsys.readouterr().out)
    sealed = PersonalDataCipher(first).seal("alice@example.com", context="accounts.email:1")
    monkeypatch.setenv("TABLIUM_DATA_KEYS", first.to_json())
    assert main(["keys", "rotate-data", "--kid", "d2"]) == 0
    second = parse_data_key_ring(capsys.readouterr().out)
    assert (second.current.kid, [key.kid for key in second.previous]) == ("d2", ["d1"])
    cipher = PersonalDataCipher(second)
    assert cipher.open(sealed, context="accounts.email:1") == "alice@example.com"
    assert cipher.reseal(sealed, context="accounts.email:1").startswith("pd1.d2.")


def test_show_lists_key_ids_and_ends_without_secrets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TABLIUM_JWT_SECRET", SECRET)
    assert main(["keys", "rotate", "--kid", "k2"]) == 0
    ring_json = capsys.readouterr().out
    assert main(["keys", "rotate-data", "--kid", "d1"]) == 0
    data_json = capsys.readouterr().out
    monkeypatch.delenv("TABLIUM_JWT_SECRET")
    monkeypatch.setenv("TABLIUM_JWT_KEYS", ring_json)
    monkeypatch.setenv("TABLIUM_DATA_KEYS", data_json)
    assert main(["keys", "show"]) == 0
    out = capsys.readouterr().out
    assert "k2: current" in out and "default: verifies until 20" in out
    assert "d1: current" in out
    for secret in (SECRET, json.loads(ring_json)["current"]["secret"]):
        assert secret not in out
    assert json.loads(data_json)["current"]["key"] not in out


def test_a_bad_key_id_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "rotate", "--kid", "no spaces"]) == 2
    assert "key id 'no spaces'" in capsys.readouterr().err
    assert main(["keys", "rotate-data", "--kid", "no.dots"]) == 2
    assert "key id 'no.dots'" in capsys.readouterr().err


def test_reseal_moves_stored_sessions_to_the_current_data_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "rotate-data", "--kid", "d1"]) == 0
    first = parse_data_key_ring(capsys.readouterr().out)
    url = f"sqlite:///{tmp_path / 'tablium.sqlite3'}"
    monkeypatch.setenv("TABLIUM_DATABASE_URL", url)

    async def open_one() -> None:
        async with open_store(url) as store:
            address, agent = seal_client(PersonalDataCipher(first), "s-1", "203.0.113.9", "ua")
            await store.run(
                partial(
                    open_session,
                    ApiSession("s-1", 1, "alice", "player", 1, 1, 2**50, agent, address),
                    "a" * 64,
                    0,
                )
            )

    trio.run(open_one)
    monkeypatch.setenv("TABLIUM_DATA_KEYS", first.to_json())
    assert main(["keys", "rotate-data", "--kid", "d2"]) == 0
    second = parse_data_key_ring(capsys.readouterr().out)
    monkeypatch.setenv("TABLIUM_DATA_KEYS", second.to_json())
    assert main(["keys", "reseal"]) == 0
    assert "1 resealed under d2" in capsys.readouterr().out

    async def stored() -> ApiSession | None:
        async with open_store(url) as store:
            return await store.run(partial(get_session, "s-1"))

    session = trio.run(stored)
    assert session is not None and session.address.startswith("pd1.d2.")
    # A ring without the key that sealed a value: the value is left, and the exit says so.
    monkeypatch.setenv("TABLIUM_DATA_KEYS", DataKeyRing(first.current).to_json())
    assert main(["keys", "reseal"]) == 1
    assert "1 with a value that does not open" in capsys.readouterr().err
    monkeypatch.delenv("TABLIUM_DATA_KEYS")
    assert main(["keys", "reseal"]) == 2
