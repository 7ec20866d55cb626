"""The public API's records on both backends: sessions and refresh tokens, API keys,
idempotency records."""

from __future__ import annotations

import hashlib
from functools import partial

import msgspec
import pytest

from persistence import api_keys, api_sessions, idempotency
from persistence.api_sessions import ApiSession, Refused, Reused, Rotated, SealedClient
from persistence.store import Store
from persistence.work import Query, Work
from tests.persistence.stores import ManualClock

HOUR_MS = 3_600_000


def h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def session(
    clock: ManualClock, session_id: str = "s1", player_id: int = 1, address: str = "10.0.0.1"
) -> ApiSession:
    return ApiSession(
        session_id=session_id, player_id=player_id, player="alice", role="player",
        created_at_ms=clock.now_ms, last_used_at_ms=clock.now_ms,
        expires_at_ms=clock.now_ms + 24 * HOUR_MS, user_agent="ua" * 200, address=address,
    )  # fmt: skip


def _count(table: str) -> Work[int]:
    rows = yield Query(f"SELECT COUNT(*) FROM {table}")
    return int(rows[0][0])


async def _open(store: Store, clock: ManualClock, token: str, **kwargs: object) -> list[str]:
    opened = session(clock, **kwargs)  # type: ignore[arg-type]
    return await store.run(
        partial(api_sessions.open_session, opened, h(token), clock.now_ms + HOUR_MS)
    )


async def test_a_refresh_token_rotates_once_and_its_second_use_is_reported(
    store: Store, clock: ManualClock
) -> None:
    await _open(store, clock, "r1")
    clock.advance(1000)
    first = await store.run(partial(api_sessions.rotate_refresh, h("r1"), h("r2"), clock.now_ms))
    assert isinstance(first, Rotated) and first.session.last_used_at_ms == clock.now_ms
    # Stored as given: api/sessions.py cuts the user agent, then seals it (opaque text here).
    assert first.session.user_agent == "ua" * 200
    again = await store.run(partial(api_sessions.rotate_refresh, h("r1"), h("r3"), clock.now_ms))
    assert isinstance(again, Reused)
    following = await store.run(
        partial(api_sessions.rotate_refresh, h("r2"), h("r3"), clock.now_ms)
    )
    assert isinstance(following, Rotated)


async def test_an_oversized_client_field_is_refused_and_nothing_stored(
    store: Store, clock: ManualClock
) -> None:
    too_long = "x" * (api_sessions.CLIENT_FIELD_CHARS_MAX + 1)
    with pytest.raises(ValueError, match="client fields"):
        await _open(store, clock, "r1", address=too_long)
    assert await store.run(partial(_count, "api_sessions")) == 0


async def test_unknown_expired_and_revoked_sessions_refuse_to_rotate(
    store: Store, clock: ManualClock
) -> None:
    rotate = api_sessions.rotate_refresh
    assert await store.run(partial(rotate, h("nope"), h("x"), clock.now_ms)) == Refused("unknown")
    await _open(store, clock, "r1")
    await store.run(
        partial(
            api_sessions.revoke_session, "s1", "alice", "logout", clock.now_ms, clock.now_ms + 1
        )
    )
    refused = await store.run(partial(rotate, h("r1"), h("r2"), clock.now_ms))
    assert isinstance(refused, Refused) and refused.reason == "revoked"
    assert (await store.token_login("alice", "s1"))[1] is True  # its access tokens too
    await _open(store, clock, "q1", session_id="s2")
    clock.advance(25 * HOUR_MS)
    expired = await store.run(partial(rotate, h("q1"), h("q2"), clock.now_ms))
    assert isinstance(expired, Refused) and expired.reason == "expired"


async def test_a_player_keeps_at_most_the_newest_sessions(store: Store, clock: ManualClock) -> None:
    limit = api_sessions.SESSIONS_PER_PLAYER_MAX
    for n in range(limit):
        assert await _open(store, clock, f"r{n}", session_id=f"s{n:03}") == []
        clock.advance(1)
    assert await _open(store, clock, "newest", session_id="s999") == ["s000"]
    live = await store.run(
        partial(api_sessions.live_sessions, 1, clock.now_ms, None, api_sessions.SESSIONS_PAGE_MAX)
    )
    assert len(live) == limit and live[0].session_id == "s999"
    assert "s000" not in {s.session_id for s in live}


async def test_live_sessions_page_newest_first(store: Store, clock: ManualClock) -> None:
    for n in range(5):
        await _open(store, clock, f"r{n}", session_id=f"s{n}")
        clock.advance(10)
    page = partial(api_sessions.live_sessions, 1, clock.now_ms)
    first = await store.run(partial(page, None, 2))
    assert [s.session_id for s in first] == ["s4", "s3"]
    rest = await store.run(partial(page, (first[-1].created_at_ms, first[-1].session_id), 10))
    assert [s.session_id for s in rest] == ["s2", "s1", "s0"]


async def test_revoking_someone_elses_session_changes_nothing(
    store: Store, clock: ManualClock
) -> None:
    await _open(store, clock, "r1", player_id=1)
    found = await store.run(
        partial(
            api_sessions.revoke_session, "s1", "mallory", "revoked", clock.now_ms,
            clock.now_ms + HOUR_MS, 2,
        )
    )  # fmt: skip
    assert found is None
    assert (await store.token_login("alice", "s1"))[1] is False


async def test_old_used_refresh_tokens_are_forgotten_beyond_the_bound(
    store: Store, clock: ManualClock
) -> None:
    await _open(store, clock, "t0")
    kept = api_sessions.REFRESH_TOKENS_KEPT_PER_SESSION
    for n in range(kept + 5):
        clock.advance(1)
        outcome = await store.run(
            partial(api_sessions.rotate_refresh, h(f"t{n}"), h(f"t{n + 1}"), clock.now_ms)
        )
        assert isinstance(outcome, Rotated)
    assert await store.run(partial(_count, "api_refresh_tokens")) == kept


async def test_sessions_left_to_reseal_are_those_not_under_the_key_exactly(
    store: Store, clock: ManualClock
) -> None:
    fields = {
        "s1": ("pd1.k_1.aaa", "pd1.k_1.bbb"),  # under the key: nothing to do
        "s2": ("pd1.kx1.aaa", "pd1.k_1.bbb"),  # "_" is no wildcard here
        "s3": ("pd1.K_1.aaa", ""),  # nor is case ignored
        "s4": ("", ""),  # nothing stored
        "s5": ("", "pd1.old.ccc"),
    }
    for n, (session_id, (address, agent)) in enumerate(fields.items()):
        opened = msgspec.structs.replace(
            session(clock, session_id), address=address, user_agent=agent
        )
        await store.run(partial(api_sessions.open_session, opened, h(f"t{n}"), clock.now_ms))
    left = await store.run(partial(api_sessions.sealed_not_under, "k_1", None, 10))
    assert [c.session_id for c in left] == ["s2", "s3", "s5"]
    after = await store.run(partial(api_sessions.sealed_not_under, "k_1", "s2", 1))
    assert [c.session_id for c in after] == ["s3"]
    was = left[0]
    now = SealedClient("s2", "pd1.k_1.new", was.user_agent)
    assert await store.run(partial(api_sessions.replace_sealed_client, was, now))
    # A second writer that read the old values loses: the row holds what the first wrote.
    assert not await store.run(partial(api_sessions.replace_sealed_client, was, now))
    stored = await store.run(partial(api_sessions.get_session, "s2"))
    assert stored is not None and stored.address == "pd1.k_1.new"


async def test_an_idempotency_key_is_claimed_completed_and_replayed(
    store: Store, clock: ManualClock
) -> None:
    claim = partial(idempotency.claim, "player:1", "k1")
    assert await store.run(partial(claim, "hash-a", clock.now_ms, 60_000)) == idempotency.Claimed()
    assert (
        await store.run(partial(claim, "hash-a", clock.now_ms, 60_000)) == idempotency.InProgress()
    )
    stored = idempotency.StoredResponse(201, "application/json", "/v1/x/1", b'{"id":1}')
    await store.run(partial(idempotency.complete, "player:1", "k1", stored, clock.now_ms, 1000))
    assert await store.run(partial(claim, "hash-a", clock.now_ms, 60_000)) == idempotency.Replay(
        stored
    )
    assert await store.run(partial(claim, "hash-b", clock.now_ms, 60_000)) == idempotency.Conflict()
    other = partial(idempotency.claim, "player:2", "k1", "hash-b", clock.now_ms, 60_000)
    assert await store.run(other) == idempotency.Claimed()  # keys are per principal
    clock.advance(1001)
    assert await store.run(partial(claim, "hash-b", clock.now_ms, 60_000)) == idempotency.Claimed()


async def test_a_released_claim_lets_a_retry_run_again(store: Store, clock: ManualClock) -> None:
    claim = partial(idempotency.claim, "player:1", "k1", "hash-a", clock.now_ms, 60_000)
    assert await store.run(claim) == idempotency.Claimed()
    await store.run(partial(idempotency.release, "player:1", "k1"))
    assert await store.run(claim) == idempotency.Claimed()


async def test_an_abandoned_claim_expires_after_its_lease(store: Store, clock: ManualClock) -> None:
    claim = partial(idempotency.claim, "player:1", "k1", "hash-a")
    assert await store.run(partial(claim, clock.now_ms, 1000)) == idempotency.Claimed()
    clock.advance(1001)
    assert await store.run(partial(claim, clock.now_ms, 1000)) == idempotency.Claimed()


async def test_api_keys_are_created_and_revoked_with_their_audit_entries(
    store: Store, clock: ManualClock
) -> None:
    who = api_keys.AuditAs("root", "admin", "partner onboarding", "req-1")
    created = await store.run(
        partial(
            api_keys.create_key, h("tbk_x"), "tbk_x", "Partner", ("lobby:read",), None, 60,
            clock.now_ms, who,
        )
    )  # fmt: skip
    assert created.scopes == ("lobby:read",) and created.revoked_at_ms is None
    assert await store.run(partial(api_keys.key_by_hash, h("tbk_x"))) == created
    revoked = await store.run(partial(api_keys.revoke_key, created.id, clock.now_ms + 5, who))
    assert revoked is not None and revoked.revoked_at_ms == clock.now_ms + 5
    again = await store.run(partial(api_keys.revoke_key, created.id, clock.now_ms + 9, who))
    assert again == revoked
    entries = await store.list_audit(target=f"api_key:{created.id}")
    assert [e.action for e in entries] == ["api_keys.revoke", "api_keys.create"]
    assert entries[1].after["scopes"] == ["lobby:read"]
    assert "tbk_x" not in str(entries[1].after.get("key_hash", ""))


async def test_an_api_key_with_a_bad_hash_writes_nothing(store: Store, clock: ManualClock) -> None:
    who = api_keys.AuditAs("root", "admin", "r", "req-1")
    with pytest.raises(ValueError):
        await store.run(
            partial(
                api_keys.create_key, "short", "tbk_", "n", ("lobby:read",), None, 1,
                clock.now_ms, who,
            )
        )  # fmt: skip
    assert await store.list_audit() == []
