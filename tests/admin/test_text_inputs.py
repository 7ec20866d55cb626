"""Bad text and bad framing are refused before any route runs, and change nothing.

Every test runs on SQLite and PostgreSQL: PostgreSQL refuses NUL in text, which is where a
half-done change (banned, but 500 and no audit entry) used to come from."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from persistence import Store
from tests.admin.conftest import TABLE_ID, bearer
from tests.persistence.stores import BACKENDS, fresh_store

ADMIN = bearer("admin", subject="ann")
JSON = {"Content-Type": "application/json"}


@pytest.fixture(params=BACKENDS)
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str
) -> AsyncIterator[Store]:
    async with fresh_store(request.param, tmp_path, postgres_url) as opened:
        yield opened


async def _nothing_changed(store: Store, player_id: int) -> None:
    account = await store.get_account(player_id)
    assert account is not None and not account.banned
    assert (await store.ledger_transfer_by_id(1)) is None, "no money moved"
    assert await store.list_audit() == []


async def _refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, await response.get_data()
    assert (await response.get_json())["error"] == code


@pytest.mark.parametrize(
    "raw_body",
    [
        b'{"reason": "a\\u0000b"}',  # the escape
        b'{"reason": "a\\ud800b"}',  # a lone high surrogate, escaped
        b'{"reason": "a\\udfffb"}',  # a lone low surrogate
        b'{"reason": "a\xed\xa0\x80b"}',  # a surrogate's UTF-8-like bytes: not UTF-8
        b'{"reason": "a\xffb"}',  # not UTF-8 at all
        b'{"reason": "ok", "x\\u0000": 1}',  # in a key
    ],
)
async def test_bad_text_in_a_ban_reason_is_refused_and_bans_nobody(
    make_client: Callable[..., Any], store: Store, raw_body: bytes
) -> None:
    alice = await store.create_account("alice", "hash", "player")
    response = await make_client().post(
        f"/players/{alice.id}/ban", headers={**ADMIN, **JSON}, data=raw_body
    )
    await _refused(response, 400, "invalid_text")
    await _nothing_changed(store, alice.id)


@pytest.mark.parametrize(
    "body",
    [
        {"amount": 5, "reason": "a\x00b", "key": "k"},
        {"amount": 5, "reason": "r", "key": "k\x00"},
        {"amount": 5, "reason": "a\ud800", "key": "k"},
        {"amount": 5, "reason": "r", "key": "\udc00"},
    ],
)
async def test_bad_text_in_an_adjustment_is_refused_and_moves_nothing(
    make_client: Callable[..., Any], store: Store, body: dict[str, Any]
) -> None:
    alice = await store.create_account("alice", "hash", "player")
    response = await make_client().post(
        f"/players/{alice.id}/wallet/adjustments", headers=ADMIN, json=body
    )
    await _refused(response, 400, "invalid_text")
    await _nothing_changed(store, alice.id)


@pytest.mark.parametrize(
    "path",
    [
        "/players?q=%00",
        "/players?q=a%ED%A0%80",  # a surrogate, percent-encoded
        "/players?q=%FF",
        "/hands/%00",
        "/hands/a%ED%B0%80",
        "/audit?target=%00",
        "/audit?target=player%3A1%00",
        f"/tables/{TABLE_ID}%00",
        "/actors/table%00",
        "/players/1%00",
        "/no-such-route/%00",
    ],
)
async def test_bad_text_in_a_path_or_query_is_refused(
    make_client: Callable[..., Any], store: Store, path: str
) -> None:
    await store.create_account("alice", "hash", "player")
    # The path's bytes as hypercorn hands them over (the test client would re-encode them).
    as_sent = {"raw_path": path.partition("?")[0].encode()}
    response = await make_client().get(path, headers=ADMIN, scope_base=as_sent)
    await _refused(response, 400, "invalid_text")


async def test_bad_text_in_a_table_operation_logs_nothing_and_leaves_the_table_open(
    make_client: Callable[..., Any], store: Store
) -> None:
    client = make_client()
    response = await client.post(
        f"/tables/{TABLE_ID}/pause", headers=ADMIN, json={"reason": "dealer\x00change"}
    )
    await _refused(response, 400, "invalid_text")
    detail = await (await client.get(f"/tables/{TABLE_ID}", headers=ADMIN)).get_json()
    assert detail["status"] == "open"
    assert await store.list_audit() == []


async def test_a_repeated_key_is_refused_rather_than_the_last_one_winning(
    make_client: Callable[..., Any], store: Store
) -> None:
    alice = await store.create_account("alice", "hash", "player")
    response = await make_client().post(
        f"/players/{alice.id}/wallet/adjustments",
        headers={**ADMIN, **JSON},
        data=b'{"amount": 1, "reason": "r", "key": "k", "amount": 100000}',
    )
    await _refused(response, 400, "duplicate_key")
    await _nothing_changed(store, alice.id)


async def test_a_repeated_key_in_a_nested_object_is_refused(
    make_client: Callable[..., Any], store: Store
) -> None:
    alice = await store.create_account("alice", "hash", "player")
    response = await make_client().post(
        f"/players/{alice.id}/ban",
        headers={**ADMIN, **JSON},
        data=b'{"reason": "r", "x": [{"a": 1, "a": 2}]}',
    )
    await _refused(response, 400, "duplicate_key")
    await _nothing_changed(store, alice.id)


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
async def test_a_body_that_is_not_declared_json_is_unsupported(
    make_client: Callable[..., Any], store: Store, content_type: str | None
) -> None:
    alice = await store.create_account("alice", "hash", "player")
    headers = {**ADMIN} if content_type is None else {**ADMIN, "Content-Type": content_type}
    response = await make_client().post(
        f"/players/{alice.id}/ban", headers=headers, data=b'{"reason": "looks like JSON"}'
    )
    await _refused(response, 415, "unsupported_media_type")
    await _nothing_changed(store, alice.id)


async def test_json_with_a_utf8_charset_is_accepted(
    make_client: Callable[..., Any], store: Store
) -> None:
    alice = await store.create_account("alice", "hash", "player")
    response = await make_client().post(
        f"/players/{alice.id}/ban",
        headers={**ADMIN, "Content-Type": "application/json; charset=UTF-8"},
        data='{"reason": "tricherie \u00e0 la table"}'.encode(),
    )
    assert response.status_code == 200
    (entry,) = await store.list_audit()
    assert entry.reason == "tricherie \u00e0 la table"


async def test_a_body_over_the_bound_is_refused_while_it_arrives(
    make_client: Callable[..., Any], store: Store
) -> None:
    alice = await store.create_account("alice", "hash", "player")
    response = await make_client().post(
        f"/players/{alice.id}/ban", headers=ADMIN, json={"reason": "x" * 20_000}
    )
    await _refused(response, 413, "body_too_large")
    await _nothing_changed(store, alice.id)


@pytest.mark.parametrize("digits", ["%EF%BC%91", "\uff11", "%D9%A1", "\u0661"])
async def test_an_id_in_non_ascii_digits_is_no_player(
    make_client: Callable[..., Any], store: Store, digits: str
) -> None:
    await store.create_account("alice", "hash", "player")  # id 1
    client = make_client()
    await _refused(await client.get(f"/players/{digits}", headers=ADMIN), 404, "not_found")
    response = await client.post(f"/players/{digits}/ban", headers=ADMIN, json={"reason": "x"})
    assert response.status_code == 404
    await _nothing_changed(store, 1)
    assert (await client.get("/players/1", headers=ADMIN)).status_code == 200


async def test_a_non_ascii_digit_in_a_query_id_is_refused(
    make_client: Callable[..., Any], store: Store
) -> None:
    response = await make_client().get("/players?after_id=%EF%BC%91", headers=ADMIN)
    await _refused(response, 400, "invalid_request")


@pytest.mark.parametrize("bad", ["\x00", "\ud800"])
async def test_bad_text_is_refused_before_authentication(
    make_client: Callable[..., Any], store: Store, bad: str
) -> None:
    response = await make_client().post("/players/1/ban", json={"reason": f"x{bad}"})
    await _refused(response, 400, "invalid_text")
