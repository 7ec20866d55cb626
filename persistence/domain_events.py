"""Which events a stored change makes: pure functions from a change's result to its events.

The Store runs each change with :func:`persistence.outbox.with_events` and one of these, so the
events are written in the change's transaction (persistence/events.py lists every type and
where it is written). The ledger's and the chain cashier's events are written by triggers
instead (migration 0012): their rows are written by several paths.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, final

import msgspec

from persistence import accounts
from persistence import events as ev
from persistence.accounts import Account
from persistence.audit import AuditEntry, AuditStamp, Change
from persistence.events import NewEvent
from persistence.hands import HandRecord
from persistence.ledger import LIMIT_NAMES, PlayerRules, RulesChange, change_rules
from persistence.outbox import append
from persistence.snapshots import Snapshot
from persistence.work import Work

# The table actor's lifecycle rows (actors/table_admin.py): the epoch counter is written once
# per incarnation of a table id, the tombstone when it closes for good.
# The counter's data is the table's stakes (TableStakes, msgpack) since they are recorded:
# what the table.opened event carries (empty before: the event's stakes are null).
TABLE_EPOCH_KIND: Final = "table_epoch"
TABLE_EPOCH_PREFIX: Final = "table-epoch:"
TABLE_TOMBSTONE_KIND: Final = "table_closed"
TABLE_TOMBSTONE_PREFIX: Final = "table-closed:"
# Admin actions whose "done" audit entry records a table's pause or resume (admin/tables.py).
TABLE_PAUSE_ACTIONS: Final = {"tables.pause": "table.paused", "tables.resume": "table.resumed"}


@final
class TableStakes(msgspec.Struct, frozen=True, kw_only=True):
    """What a table opens with, written by the table with its epoch (actors/table_admin.py)
    so that its ``table.opened`` event can say it: the store never sees a table's config."""

    variant: str
    small_blind: int
    big_blind: int
    ante: int
    buy_in_min: int
    buy_in_max: int
    rake_bp: int
    rake_cap: int
    seats: int
    asset: str
    bankroll: str
    club_id: int | None = None


def table_opened(table_id: str, epoch: int, data: bytes) -> ev.TableOpened:
    if not data:
        return ev.TableOpened(table_id=table_id, epoch=epoch)
    stakes = msgspec.msgpack.decode(data, type=TableStakes)
    return ev.TableOpened(table_id=table_id, epoch=epoch, **msgspec.structs.asdict(stakes))


def registered(account: Account) -> list[NewEvent]:
    payload = ev.PlayerRegistered(player_id=account.id, name=account.name, role=account.role)
    return [NewEvent("player.registered", f"player:{account.id}", payload)]


def ban_changed(change: Change[Account | None]) -> list[NewEvent]:
    after = change.result
    if after is None or not change.logged or change.before["banned"] == after.banned:
        return []  # no such account, or the flag was already so
    name = "player.banned" if after.banned else "player.unbanned"
    payload = ev.PlayerBanChanged(player_id=after.id, banned=after.banned)
    return [NewEvent(name, f"player:{after.id}", payload)]


def set_banned_change(account_id: int, banned: bool, now_ms: int) -> Work[Change[Account | None]]:
    """accounts.set_banned_change, and player.banned or player.unbanned when the flag moved."""
    change = yield from accounts.set_banned_change(account_id, banned)
    for event in ban_changed(change):
        yield from append(event, now_ms)
    return change


def limits_changed(player_id: int, rules: PlayerRules) -> NewEvent:
    exclusion = rules.exclusion
    payload = ev.PlayerLimitsChanged(
        player_id=player_id,
        limits={name: getattr(rules.limits, name) for name in LIMIT_NAMES},
        pending_raises={name: p.value for name, p in rules.pending.items()},
        exclusion=exclusion.kind if exclusion is not None else None,
        exclusion_until_ms=exclusion.until_ms if exclusion is not None else None,
    )
    return NewEvent("player.limits_changed", f"player:{player_id}", payload)


def change_rules_with_event(player_id: int, now_ms: int, change: RulesChange) -> Work[PlayerRules]:
    """ledger.change_rules, and player.limits_changed when the rules changed."""
    decided: list[bool] = []  # fresh per run: a backend may rerun the unit from the start

    def deciding(stored: PlayerRules) -> PlayerRules:
        rules = change(stored)
        decided.append(rules != stored)
        return rules

    rules = yield from change_rules(player_id, now_ms, deciding)
    if decided and decided[-1]:
        yield from append(limits_changed(player_id, rules), now_ms)
    return rules


def hand_finished(hand: HandRecord) -> Callable[[bool], list[NewEvent]]:
    def events(saved: bool) -> list[NewEvent]:
        if not saved:
            return []  # a retry of a stored hand: its event was written the first time
        payload = ev.HandFinished(
            hand_id=hand.hand_id, table_id=hand.table_id, game=hand.game, asset=hand.asset,
            started_at_ms=hand.started_at_ms, ended_at_ms=hand.ended_at_ms,
            pot_total=hand.pot_total, rake=hand.rake,
            players=[
                ev.HandResult(p.player_id, p.seat, p.net, p.rake_paid) for p in hand.players
            ],
        )  # fmt: skip
        return [NewEvent("table.hand_finished", f"table:{hand.table_id}", payload)]

    return events


def snapshots_written(batch: list[Snapshot]) -> Callable[[list[bool]], list[NewEvent]]:
    def events(landed: list[bool]) -> list[NewEvent]:
        found: list[NewEvent] = []
        for snapshot, ok in zip(batch, landed, strict=True):
            if not ok:
                continue
            if snapshot.kind == TABLE_EPOCH_KIND:
                table_id = snapshot.actor_id.removeprefix(TABLE_EPOCH_PREFIX)
                payload: Any = table_opened(table_id, snapshot.version, snapshot.data)
                found.append(NewEvent("table.opened", f"table:{table_id}", payload))
            elif snapshot.kind == TABLE_TOMBSTONE_KIND:
                table_id = snapshot.actor_id.removeprefix(TABLE_TOMBSTONE_PREFIX)
                payload = ev.TableClosed(table_id=table_id)
                found.append(NewEvent("table.closed", f"table:{table_id}", payload))
        # Sequence rows locked in one order by every batch (no deadlock between two of
        # them); stable, so one aggregate's events keep the batch's order.
        found.sort(key=lambda event: event.aggregate)
        return found

    return events


def audit_appended(stamp: AuditStamp, after: Any) -> Callable[[AuditEntry], list[NewEvent]]:
    def events(entry: AuditEntry) -> list[NewEvent]:
        name = TABLE_PAUSE_ACTIONS.get(stamp.action)
        if name is None or not isinstance(after, dict) or after.get("outcome") != "done":
            return []
        table_id = stamp.target.removeprefix("table:")
        payload = ev.TablePauseChanged(
            table_id=table_id, status=str(after.get("status", "")), operator=stamp.subject,
            reason=stamp.reason,
        )  # fmt: skip
        return [NewEvent(name, f"table:{table_id}", payload)]

    return events
