"""The outbox: every domain event is written in its change's transaction (both or neither),
numbered within its aggregate, and pruned only once relayed. SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from persistence import chain, outbox
from persistence.audit import AuditStamp
from persistence.events import BY_NAME, NewEvent, PlayerBanChanged, decode_payload
from persistence.hands import HandPlayer, HandRecord
from persistence.outbox import OutboxEvent
from persistence.snapshots import Snapshot
from persistence.store import Store
from persistence.work import Query, Work
from services.ledger import wallet as wallet_of
from services.wallet import Wallet
from tests.persistence.stores import ManualClock
from tests.players.hands import hand_record, simulated_hand


async def _events(store: Store, after_id: int = 0) -> list[OutboxEvent]:
    return await store.run(lambda: outbox.between(after_id + 1, None, 1000), read_only=True)


def _check_payload(event: OutboxEvent) -> Any:
    """The stored payload has exactly its definition's fields, of their types."""
    definition = BY_NAME[event.type]
    assert event.schema_version == definition.version
    assert event.aggregate.startswith(definition.aggregate_kind + ":")
    assert set(json.loads(event.payload)) == set(definition.payload.__struct_fields__)
    return decode_payload(event.type, event.payload)


def _types(events: list[OutboxEvent]) -> list[str]:
    return [e.type for e in events]


async def test_registering_and_banning_a_player_write_their_events(store: Store) -> None:
    account = await store.create_account("Alice", "hash", "player")
    await store.set_account_banned(account.id, True)
    await store.set_account_banned(account.id, True)  # already banned: no second event
    stamp = AuditStamp("sam", "support", "players.unban", f"player:{account.id}", "ok", "r1")
    await store.set_account_banned(account.id, False, audit_as=stamp)
    events = await _events(store)
    assert _types(events) == ["player.registered", "player.banned", "player.unbanned"]
    assert [e.sequence for e in events] == [1, 2, 3]
    assert {e.aggregate for e in events} == {f"player:{account.id}"}
    payloads = [_check_payload(e) for e in events]
    assert payloads[0].name == "Alice" and payloads[0].role == "player"
    assert payloads[2] == PlayerBanChanged(player_id=account.id, banned=False)


async def test_a_refused_change_writes_no_event(store: Store) -> None:
    await store.create_account("bob", "hash", "player")
    before = await _events(store)
    with pytest.raises(Exception, match="exists"):
        await store.create_account("BOB", "hash", "player")
    assert await _events(store) == before


async def test_a_rolled_back_unit_leaves_neither_change_nor_event(store: Store) -> None:
    event = NewEvent("player.banned", "player:9", PlayerBanChanged(player_id=9, banned=True))

    def failing() -> Work[None]:
        yield from outbox.append(event, 1)
        yield Query("SELECT no_such_column FROM outbox")

    with pytest.raises(Exception, match="no_such_column"):
        await store.run(failing)
    assert await _events(store) == []


async def test_wallet_transfers_are_events_whatever_path_wrote_them(store: Store) -> None:
    wallet = Wallet(store)
    deposit = await wallet.request_deposit("d1", 7, 500)
    await wallet.post(deposit.id)
    withdrawal = await wallet.request_withdrawal("w1", 7, 200)
    await wallet.void(withdrawal.id)
    await wallet.adjust("adj-1", wallet_of(7), 30, "goodwill")
    events = await _events(store)
    assert _types(events) == [
        "transfer.pending", "transfer.posted", "transfer.pending", "transfer.voided",
        "transfer.posted",
    ]  # fmt: skip
    assert [(e.aggregate, e.sequence) for e in events[:2]] == [
        (f"transfer:{deposit.id}", 1),
        (f"transfer:{deposit.id}", 2),
    ]
    posted = _check_payload(events[1])
    assert (posted.amount, posted.kind, posted.state) == (500, "deposit", "posted")
    assert (posted.credit_kind, posted.credit_owner) == ("wallet", "7")


async def test_a_replayed_transfer_writes_no_second_event(store: Store) -> None:
    wallet = Wallet(store)
    await wallet.adjust("adj-1", wallet_of(7), 30, "goodwill")
    await wallet.adjust("adj-1", wallet_of(7), 30, "goodwill")
    assert _types(await _events(store)) == ["transfer.posted"]


async def test_limits_changed_only_when_they_change(store: Store) -> None:
    wallet = Wallet(store)
    await wallet.set_limits(3, {"daily_deposit_max": 1000})
    await wallet.set_limits(3, {"daily_deposit_max": 1000})
    events = await _events(store)
    assert _types(events) == ["player.limits_changed"]
    payload = _check_payload(events[0])
    assert payload.limits["daily_deposit_max"] == 1000 and payload.exclusion is None


def _hand(hand_id: str) -> HandRecord:
    return HandRecord(
        hand_id=hand_id, table_id="t1", game="NLHE 1/2", started_at_ms=1, ended_at_ms=2,
        pot_total=100, rake=5, players=(HandPlayer(1, 1, 45, 3), HandPlayer(2, 2, -50, 2)),
        phh="", asset="chips",
    )  # fmt: skip


async def test_a_stored_hand_is_one_event_with_results_and_rake(store: Store) -> None:
    assert await store.save_hand(_hand("h1"))
    assert not await store.save_hand(_hand("h1"))  # a retry
    assert await store.save_hand(_hand("h2"))
    events = await _events(store)
    assert _types(events) == ["table.hand_finished"] * 2
    assert [(e.aggregate, e.sequence) for e in events] == [("table:t1", 1), ("table:t1", 2)]
    payload = _check_payload(events[0])
    assert payload.rake == 5 and [(p.player_id, p.net, p.rake_paid) for p in payload.players] == [
        (1, 45, 3),
        (2, -50, 2),
    ]


async def test_table_lifecycle_rows_and_pause_entries_are_events(store: Store) -> None:
    await store.save_snapshots([Snapshot("table_epoch", "table-epoch:t1", 1, b"")])
    await store.save_snapshots([Snapshot("table_epoch", "table-epoch:t1", 1, b"")])  # stale
    await store.save_snapshots([Snapshot("table", "t1", 5, b"x")])  # not a lifecycle row
    pause = AuditStamp("sam", "admin", "tables.pause", "table:t1", "maintenance", "r1")
    await store.append_audit(pause, before=None, after={"outcome": "requested"})
    await store.append_audit(pause, before=None, after={"outcome": "done", "status": "paused"})
    await store.save_snapshots([Snapshot("table_closed", "table-closed:t1", 9, b"")])
    events = await _events(store)
    assert _types(events) == ["table.opened", "table.paused", "table.closed"]
    assert [e.sequence for e in events] == [1, 2, 3]
    payloads = [_check_payload(e) for e in events]
    assert payloads[0].epoch == 1 and payloads[1].status == "paused"
    assert payloads[0].big_blind is None  # an epoch written without its stakes (older tables)
    assert payloads[1].operator == "sam" and payloads[2].table_id == "t1"


def _deposit_row() -> Work[int]:
    rows = yield Query(
        "INSERT INTO chain_deposits (chain_id, tx_hash, log_index, block_number, block_hash,"
        " sender, reference, player_id, units, chips, state, hold_reason, transfer_id, attempt,"
        " seen_at_ms, updated_at_ms) VALUES (1, '0xab', 0, 10, '0xcd', '0xef', 'ref', 4, '1000',"
        " 100, 'pending', '', 77, 1, 5, 5) RETURNING id"
    )
    return int(rows[0][0])


async def test_chain_deposits_and_withdrawals_are_events(store: Store, clock: ManualClock) -> None:
    deposit_id = await store.run(_deposit_row)
    moved = await store.run(
        lambda: chain.set_deposit_state(deposit_id, ("pending",), "credited", clock.now_ms)
    )
    assert moved
    withdrawal = await store.run(
        lambda: chain.insert_withdrawal(1, 4, "wk-1", "0x12", 50, 500, clock.now_ms)
    )
    await store.run(
        lambda: chain.set_withdrawal_state(withdrawal.id, ("requested",), "paid", clock.now_ms)
    )
    events = await _events(store)
    assert _types(events) == ["deposit.credited", "withdrawal.requested", "withdrawal.paid"]
    credited, requested, paid = (_check_payload(e) for e in events)
    assert (paid.withdrawal_id, paid.batch_id) == (withdrawal.id, None)
    assert (credited.player_id, credited.chips, credited.units) == (4, 100, "1000")
    assert (requested.withdrawal_id, requested.chips, requested.units) == (withdrawal.id, 50, "500")
    assert [e.sequence for e in events] == [1, 1, 2]


async def test_relayed_marks_backlog_and_pruning_never_touch_pending(
    store: Store, clock: ManualClock
) -> None:
    for name in ("a", "b", "c"):
        await store.create_account(name, "hash", "player")
    events = await _events(store)
    backlog = await store.run(outbox.backlog, read_only=True)
    assert backlog.pending == 3 and backlog.oldest_at_ms == clock.now_ms
    assert await store.run(lambda: outbox.mark_relayed([events[0].id], clock.now_ms)) == 1
    assert await store.run(lambda: outbox.mark_relayed([events[0].id], clock.now_ms)) == 0
    pending = await store.run(lambda: outbox.pending(10), read_only=True)
    assert [e.id for e in pending] == [e.id for e in events[1:]]
    clock.advance(1000)
    pruned = await store.run(lambda: outbox.prune(clock.now_ms + 10_000))
    assert pruned == 1  # only the relayed one, though all three are old enough
    assert [e.id for e in await _events(store)] == [e.id for e in events[1:]]


async def test_a_consumer_claims_an_event_once(store: Store) -> None:
    assert await store.run(lambda: outbox.claim("stats", 5, 1))
    assert not await store.run(lambda: outbox.claim("stats", 5, 2))
    assert await store.run(lambda: outbox.claim("rakeback", 5, 2))


def test_every_payload_type_encodes_and_decodes() -> None:
    for definition in BY_NAME.values():
        schema = msgspec.json.schema(definition.payload)
        assert schema, definition.name


async def test_table_opened_carries_the_stakes_the_table_opened_with(store: Store) -> None:
    from actors.table.admin import next_epoch
    from tests.actors.test_table_fakes import nlhe

    config = nlhe("t9", small_blind=5, big_blind=10, ante=1, asset="play", club_id=7)
    assert await next_epoch(store, "t9", config) == 1
    assert await next_epoch(store, "t9", config) == 2  # opened again: its own event
    opened = [e for e in await _events(store) if e.type == "table.opened"]
    assert [(e.aggregate, e.sequence) for e in opened] == [("table:t9", 1), ("table:t9", 2)]
    payload = _check_payload(opened[1])
    assert (payload.table_id, payload.epoch, payload.variant) == ("t9", 2, "NT")
    assert (payload.small_blind, payload.big_blind, payload.ante) == (5, 10, 1)
    assert (payload.buy_in_min, payload.buy_in_max) == (400, 2_000)  # 40 and 200 big blinds
    assert (payload.rake_bp, payload.rake_cap, payload.seats) == (500, 30, 6)
    assert (payload.asset, payload.bankroll, payload.club_id) == ("play", "cash", 7)


def test_the_table_lifecycle_rows_are_the_ones_the_table_actor_writes() -> None:
    """table.opened/closed key on the actor's epoch and tombstone rows: if the table actor
    names them otherwise, these events would silently stop."""
    from actors.table.admin import EPOCH_KIND, TOMBSTONE_KIND, epoch_id, tombstone_id
    from persistence import domain_events

    assert EPOCH_KIND == domain_events.TABLE_EPOCH_KIND
    assert TOMBSTONE_KIND == domain_events.TABLE_TOMBSTONE_KIND
    assert epoch_id("t1") == domain_events.TABLE_EPOCH_PREFIX + "t1"
    assert tombstone_id("t1") == domain_events.TABLE_TOMBSTONE_PREFIX + "t1"
    assert set(domain_events.TABLE_PAUSE_ACTIONS) == {"tables.pause", "tables.resume"}


async def test_a_hand_that_raises_a_level_writes_its_level_changed_event(store: Store) -> None:
    alice = await store.create_account("lev-alice", "x", "player")
    bob = await store.create_account("lev-bob", "x", "player")
    # 10 XP a hand: the 50th hand lifts both to level 2 (500 XP), in its own transaction.
    for n in range(50):
        hand = simulated_hand(n, [alice.id, bob.id], hand_id=f"lv{n}")
        await store.save_hand(hand_record(hand))
    raised = [e for e in await _events(store) if e.type == "player.level_changed"]
    assert sorted((e.aggregate, e.sequence) for e in raised) == sorted(
        [(f"player:{alice.id}", 2), (f"player:{bob.id}", 2)]  # after player.registered
    )
    for event in raised:
        payload = _check_payload(event)
        assert (payload.level, payload.previous_level) == (2, 1)
