"""Revoked sessions on both backends: refused until they expire, then purged."""

from __future__ import annotations

from persistence.sessions import REVOCATIONS_PURGED_PER_WRITE
from persistence.store import Store
from persistence.work import Query, Work
from tests.persistence.stores import ManualClock


def _count() -> Work[int]:
    rows = yield Query("SELECT COUNT(*) FROM revoked_sessions")
    return int(rows[0][0])


async def test_a_revoked_session_is_reported_until_it_expires(
    store: Store, clock: ManualClock
) -> None:
    account = await store.create_account("alice", "hash", "player")
    assert await store.token_login("alice", "s1") == (account, False)
    await store.revoke_session("s1", "alice", clock.now_ms + 60_000)
    assert await store.token_login("ALICE", "s1") == (account, True)
    assert await store.token_login("alice", "s2") == (account, False)
    clock.advance(60_001)
    assert await store.token_login("alice", "s1") == (account, False)


async def test_a_token_login_of_a_player_without_an_account_still_sees_revocations(
    store: Store, clock: ManualClock
) -> None:
    await store.revoke_session("dev", "bot-7", clock.now_ms + 1000)
    assert await store.token_login("bot-7", "dev") == (None, True)


async def test_revoking_twice_keeps_the_later_expiry(store: Store, clock: ManualClock) -> None:
    await store.revoke_session("s1", "alice", clock.now_ms + 10_000)
    await store.revoke_session("s1", "alice", clock.now_ms + 5_000)
    clock.advance(7_000)
    assert (await store.token_login("alice", "s1"))[1] is True


async def test_expired_revocations_are_purged_a_few_at_a_time(
    store: Store, clock: ManualClock
) -> None:
    for n in range(REVOCATIONS_PURGED_PER_WRITE + 5):
        await store.revoke_session(f"old{n}", "alice", clock.now_ms + 1000)
    clock.advance(2000)
    await store.revoke_session("new", "alice", clock.now_ms + 1000)
    assert await store.run(_count, read_only=True) == 6  # 5 old left, and the new one
    await store.revoke_session("newer", "alice", clock.now_ms + 1000)
    assert await store.run(_count, read_only=True) == 2
