"""The store contract: every test runs on SQLite and on PostgreSQL (the ``store`` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from persistence import snapshots
from persistence.accounts import AccountExists
from persistence.hands import HandPlayer, HandRecord
from persistence.snapshots import Snapshot, SnapshotConflict
from persistence.store import Store
from tests.persistence.stores import ManualClock

# -- accounts ----------------------------------------------------------------------------


async def test_created_account_is_found_by_id_and_by_name(store: Store, clock: ManualClock) -> None:
    created = await store.create_account("Alice", "argon2$hash", "player")
    assert created.name == "Alice"
    assert created.role == "player"
    assert created.banned is False
    assert created.created_at == datetime.fromtimestamp(clock.now_ms / 1000, tz=UTC)
    assert await store.get_account(created.id) == created
    assert await store.get_account_by_name("Alice") == created


async def test_account_names_are_unique_ignoring_case(store: Store) -> None:
    await store.create_account("Alice", "h1", "player")
    with pytest.raises(AccountExists) as raised:
        await store.create_account("aLICE", "h2", "player")
    assert raised.value.code == "account_exists"
    found = await store.get_account_by_name("ALICE")
    assert found is not None and found.password_hash == "h1"


async def test_unknown_accounts_are_none(store: Store) -> None:
    assert await store.get_account(424242) is None
    assert await store.get_account_by_name("nobody") is None


async def test_accounts_get_distinct_ids_and_can_be_banned(store: Store) -> None:
    a = await store.create_account("a", "h", "player")
    b = await store.create_account("b", "h", "admin")
    assert a.id != b.id
    banned = await store.set_account_banned(b.id, True)
    assert banned is not None and banned.banned
    again = await store.get_account(b.id)
    assert again is not None and again.banned and again.role == "admin"
    rehashed = await store.set_password_hash(a.id, "new")
    assert rehashed is not None and rehashed.password_hash == "new"


async def test_account_name_over_the_bound_is_refused(store: Store) -> None:
    with pytest.raises(ValueError):
        await store.create_account("x" * 65, "h", "player")
    assert await store.get_account_by_name("x" * 65) is None


# -- snapshots ---------------------------------------------------------------------------


def snap(actor_id: str, version: int, kind: str = "table") -> Snapshot:
    return Snapshot(
        kind=kind, actor_id=actor_id, version=version, data=f"{actor_id}@{version}".encode()
    )


async def test_snapshot_round_trips_with_its_version(store: Store, clock: ManualClock) -> None:
    await store.save_snapshot(snap("table:1", 1))
    loaded = await store.load_snapshot("table:1")
    assert loaded == Snapshot("table", "table:1", 1, b"table:1@1", clock.now_ms)
    assert await store.load_snapshot("table:2") is None


async def test_newer_snapshot_replaces_older(store: Store) -> None:
    await store.save_snapshot(snap("table:1", 1))
    await store.save_snapshot(snap("table:1", 5))
    loaded = await store.load_snapshot("table:1")
    assert loaded is not None and (loaded.version, loaded.data) == (5, b"table:1@5")


async def test_stale_snapshot_is_refused_and_keeps_the_newer(store: Store) -> None:
    await store.save_snapshot(snap("table:1", 3))
    for stale in (3, 2):
        with pytest.raises(SnapshotConflict):
            await store.save_snapshot(snap("table:1", stale))
    loaded = await store.load_snapshot("table:1")
    assert loaded is not None and loaded.version == 3


async def test_snapshot_batch_reports_each_item(store: Store) -> None:
    await store.save_snapshot(snap("t:b", 4))
    landed = await store.save_snapshots([snap("t:a", 1), snap("t:b", 2), snap("t:c", 1)])
    assert landed == [True, False, True]


async def test_load_snapshots_returns_every_snapshot_of_a_kind_across_pages(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshots, "SNAPSHOTS_PAGE_MAX", 3)
    tables = [snap(f"table:{i:02d}", 1) for i in range(7)]
    await store.save_snapshots([*tables, snap("tournament:1", 1, kind="tournament")])
    loaded = await store.load_snapshots("table")
    assert [s.actor_id for s in loaded] == [s.actor_id for s in tables]
    assert [s.actor_id for s in await store.load_snapshots("tournament")] == ["tournament:1"]


async def test_delete_snapshot_respects_newer_versions(store: Store) -> None:
    await store.save_snapshot(snap("table:1", 2))
    assert await store.delete_snapshot("table:1", 1) is False
    assert await store.delete_snapshot("table:1", 2) is True
    assert await store.load_snapshot("table:1") is None


# -- hand histories ----------------------------------------------------------------------


def hand(n: int, table_id: str, players: tuple[int, ...]) -> HandRecord:
    return HandRecord(
        hand_id=f"hand:{table_id}:{n}",
        table_id=table_id,
        game="NLHE 1/2",
        started_at_ms=1000 * n,
        ended_at_ms=1000 * n + 500,
        pot_total=30 * n,
        rake=n,
        players=tuple(
            HandPlayer(p, seat, 10 if seat == 0 else -10) for seat, p in enumerate(players)
        ),
        phh=f"variant = 'NT'\nhand = {n}\n",
    )


async def test_hand_history_round_trips_and_saves_once(store: Store) -> None:
    record = hand(1, "table:1", (7, 8))
    assert await store.save_hand(record) is True
    assert await store.save_hand(record) is False
    loaded = await store.get_hand(record.hand_id)
    assert loaded is not None and loaded.seq > 0
    assert loaded == msgspec.structs.replace(record, seq=loaded.seq)
    assert await store.get_hand("hand:none") is None


async def test_hands_are_listed_by_table_newest_first_in_pages(store: Store) -> None:
    for n in range(1, 6):
        await store.save_hand(hand(n, "table:1", (1, 2)))
        await store.save_hand(hand(n, "table:2", (3,)))
    first = await store.hands_by_table("table:1", limit=2)
    assert [h.hand_id for h in first] == ["hand:table:1:5", "hand:table:1:4"]
    rest = await store.hands_by_table("table:1", before_seq=first[-1].seq, limit=10)
    assert [h.hand_id for h in rest] == [f"hand:table:1:{n}" for n in (3, 2, 1)]
    assert first[0].players == (HandPlayer(1, 0, 10), HandPlayer(2, 1, -10))


async def test_hands_are_listed_by_player(store: Store) -> None:
    await store.save_hand(hand(1, "table:1", (1, 2)))
    await store.save_hand(hand(2, "table:2", (2, 3)))
    await store.save_hand(hand(3, "table:1", (1, 3)))
    assert [h.hand_id for h in await store.hands_by_player(2)] == [
        "hand:table:2:2",
        "hand:table:1:1",
    ]
    assert [h.hand_id for h in await store.hands_by_player(1, limit=1)] == ["hand:table:1:3"]
    assert await store.hands_by_player(99) == []


async def test_each_players_rake_share_is_stored_and_summed_per_period_and_asset(
    store: Store,
) -> None:
    def raked(n: int, shares: tuple[int, int], asset: str = "chips") -> HandRecord:
        record = hand(n, f"table:{asset}", (1, 2))
        players = tuple(
            msgspec.structs.replace(p, rake_paid=share)
            for p, share in zip(record.players, shares, strict=True)
        )
        return msgspec.structs.replace(record, rake=sum(shares), players=players, asset=asset)

    await store.save_hand(raked(1, (2, 1)))  # ends at 1500
    await store.save_hand(raked(2, (0, 0)))  # no rake
    await store.save_hand(raked(3, (3, 4)))  # ends at 3500
    await store.save_hand(raked(4, (5, 5), asset="play"))
    loaded = await store.get_hand("hand:table:chips:1")
    assert loaded is not None and [p.rake_paid for p in loaded.players] == [2, 1]
    paid = await store.rake_paid(1, 0, 4000)
    assert (paid.hands, paid.raked_hands, paid.rake_paid) == (3, 2, 5)
    assert (await store.rake_paid(1, 2000, 4000)).rake_paid == 3
    assert (await store.rake_paid(2, 0, 10_000, "play")).rake_paid == 5
    with pytest.raises(ValueError, match="rake shares"):  # shares that miss the rake: a bug
        await store.save_hand(msgspec.structs.replace(raked(5, (1, 1)), rake=3))


# -- migrations --------------------------------------------------------------------------


async def test_migrations_apply_once(store: Store) -> None:
    assert await store.migrate() == []  # the fixture's open_store applied them all
