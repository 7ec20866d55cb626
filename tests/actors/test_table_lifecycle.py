"""The table's status lifecycle as a transition table (pure, no trio), and the table-manager
messages that use it: an owner's hold after the hand, its release, stakes per hand, and the
report of every hand to the table's owner."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import msgspec
import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

from actors.runtime import Actor, ChildSpec
from actors.table.admin import PauseTable, ResumeTable
from actors.table.lifecycle import (
    DEALS,
    TRANSITIONS,
    Event,
    InvalidTransition,
    Status,
    status_of,
    transition,
)
from actors.table.messages import (
    AddWatcher,
    GetListing,
    HoldAfterHand,
    Release,
    SetStakes,
    TableHandEnded,
)
from protocol import game
from tests.actors.test_table_fakes import Bots, nlhe, running_game, sqlite_url

WATCHER = 999


def test_only_an_open_table_deals_and_only_its_owner_ends_a_hold() -> None:
    assert {Status.OPEN} == DEALS
    assert transition(Status.OPEN, Event.HOLD) is Status.HELD
    assert transition(Status.HELD, Event.RESUME) is Status.HELD  # the operator cannot
    assert transition(Status.HELD, Event.RELEASE) is Status.OPEN
    assert transition(Status.PAUSED, Event.RELEASE) is Status.PAUSED  # nor the owner a pause
    assert transition(Status.CLOSING, Event.RESUME) is Status.CLOSING
    assert transition(Status.CLOSING, Event.FINISH_CLOSE) is Status.CLOSED


def test_an_event_the_status_does_not_allow_is_an_error_not_ignored() -> None:
    for status, event in ((Status.OPEN, Event.FINISH_CLOSE), (Status.CLOSED, Event.RESUME)):
        with pytest.raises(InvalidTransition):
            transition(status, event)


@given(st.lists(st.sampled_from(list(Event)), max_size=30))
def test_no_sequence_of_events_reopens_a_closing_table(events: list[Event]) -> None:
    status = Status.OPEN
    for event in events:
        if (status, event) not in TRANSITIONS:
            with pytest.raises(InvalidTransition):
                transition(status, event)
            continue
        was_closing = status in (Status.CLOSING, Status.CLOSED)
        status = transition(status, event)
        assert not was_closing or status in (Status.CLOSING, Status.CLOSED)
        flags = {
            "paused": status is Status.PAUSED,
            "held": status is Status.HELD,
            "closing": status is Status.CLOSING,
            "closed": status is Status.CLOSED,
        }
        assert status_of(**flags) is status  # the stored flags stand for one status


class Owner(Actor[Any]):
    """A stand-in tournament: records what its table reports."""

    kind = "owner"

    def __init__(self, reports: list[TableHandEnded]) -> None:
        self.reports = reports

    async def handle(self, message: Any) -> object:
        assert isinstance(message, TableHandEnded)
        self.reports.append(message)
        return None


async def test_an_owner_holds_after_the_hand_sets_stakes_and_learns_every_hand(
    tmp_path: Path,
) -> None:
    async with running_game(sqlite_url(tmp_path), seed=61) as session:
        reports: list[TableHandEnded] = []
        await session.runtime.root.start_actor(
            ChildSpec.worker("tournament:t1", lambda: Owner(reports))
        )
        config = nlhe("mtt", between_hands_ms=10, rake_bp=0, owner="tournament:t1")
        table = await session.open_table(config)
        await session.fund([1, 2, 3])
        stream = session.channel.stream()
        seats = await session.seat_all(table, [1, 2, 3], buy_in=200)
        await table.ask(AddWatcher(player_id=WATCHER))
        bots = Bots(table, "mtt", seats, random.Random(61), refill=0)
        started: list[game.HandStarted] = []
        async with trio.open_nursery() as nursery:
            async for player_id, body in stream:
                if player_id == WATCHER and isinstance(body, game.HandStarted):
                    started.append(body)
                    if len(started) == 2:
                        table.tell(HoldAfterHand())  # hand 2 finishes; no hand 3
                        table.tell(SetStakes(small_blind=2, big_blind=4, ante=1))
                elif player_id == WATCHER and isinstance(body, game.HandEnded):
                    if body.hand_number == 2:
                        nursery.cancel_scope.cancel()
                        break
                elif bots.wants(body):
                    nursery.start_soon(bots.act_on, player_id, body)
        await table.ask(ResumeTable())  # an operator's resume does not end the owner's hold
        await table.ask(PauseTable())
        await table.ask(ResumeTable())
        await trio.sleep(0.5)
        assert [h.hand_number for h in session.channel.of(WATCHER, game.HandStarted)] == [1, 2]
        statuses = [s.status for s in session.channel.of(WATCHER, game.TableStatusChanged)]
        assert statuses == ["paused"]  # a hold shows as a pause, once
        assert [r.hand_number for r in reports] == [1, 2]
        assert sorted(p for p, _ in reports[-1].stacks) == [1, 2, 3]
        assert sum(stack for _, stack in reports[-1].stacks) == 600  # no rake: chips kept
        listing = await table.ask(GetListing())
        assert (listing.small_blind, listing.big_blind) == (2, 4)  # for the next hand
        table.tell(Release())
        async for player_id, body in stream:  # the hold is over: hand 3, at the new stakes
            if player_id == WATCHER and isinstance(body, game.BlindPosted) and body.kind == "big":
                assert (body.hand_number, body.amount) == (3, 4)
                break
        assert (
            msgspec.msgpack.decode(msgspec.msgpack.encode(reports[0]), type=TableHandEnded)
            == (reports[0])
        )  # the report can cross a process boundary
