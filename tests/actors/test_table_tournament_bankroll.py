"""A tournament's table: the same table with a TournamentBankroll. Its owner seats players
with its own chips (no wallet, no escrow), takes them away with their stacks between hands
(or during a hand they are not in), releases it for every hand, its first included, and
learns who reached zero; players cannot buy in, and nothing moves in the ledger."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from actors.runtime import Actor, ChildSpec
from actors.table.messages import (
    AddWatcher,
    AuditEscrow,
    EscrowAudit,
    GameRefused,
    GetSeats,
    HoldAfterHand,
    JoinSeat,
    JoinWaiting,
    OwnerDeal,
    Release,
    RemovePlayer,
    SeatGranted,
    SeatPlayer,
    StandUp,
    TableHandEnded,
    TableSeats,
)
from protocol import game
from services.ledger import wallet
from tests.actors.test_table_fakes import FUNDS, Bots, nlhe, running_game, sqlite_url
from tests.e2e.clock import autojump_between_threads

WATCHER = 999


class Owner(Actor[Any]):
    kind = "owner"

    def __init__(self, reports: list[TableHandEnded]) -> None:
        self.reports = reports

    async def handle(self, message: Any) -> object:
        assert isinstance(message, TableHandEnded)
        self.reports.append(message)
        # A tournament's table holds after every hand: its owner deals the next.
        table = self.context.registry.lookup(f"table:{message.table_id}")
        if table is not None and message.hand_number < 3:
            table.tell(Release())
        return None


def tournament_table(table_id: str) -> Any:
    return nlhe(
        table_id, between_hands_ms=10, rake_bp=0, owner="tournament:t9", bankroll="tournament"
    )


def test_a_tournament_table_needs_an_owner_and_no_rake() -> None:
    with pytest.raises(ValueError, match="owner"):
        nlhe("x", rake_bp=0, bankroll="tournament")
    with pytest.raises(ValueError, match="rake"):
        nlhe("x", owner="tournament:t9", bankroll="tournament")  # the default rake


async def test_the_owner_seats_and_removes_players_with_its_own_chips(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=71) as session:
        reports: list[TableHandEnded] = []
        await session.runtime.root.start_actor(
            ChildSpec.worker("tournament:t9", lambda: Owner(reports))
        )
        table = await session.open_table(tournament_table("t9-1"))
        await session.fund([1])  # a wallet the table must never touch
        with pytest.raises(GameRefused) as refused:
            await table.ask(JoinSeat(player_id=1, buy_in=100))
        assert refused.value.code == "not_a_cash_table"
        with pytest.raises(GameRefused) as refused:  # nobody waits: a seat held for her
            await table.ask(JoinWaiting(player_id=1))  # was refused to the next move there
        assert refused.value.code == "not_a_cash_table"
        stream = session.channel.stream()
        seats: dict[int, int] = {}
        for player_id in (1, 2, 3):
            granted = await table.ask(SeatPlayer(player_id=player_id, stack=1_500))
            assert isinstance(granted, SeatGranted) and granted.stack == 1_500
            seats[granted.seat] = player_id
        with pytest.raises(GameRefused) as refused:
            await table.ask(SeatPlayer(player_id=1, stack=1_500))
        assert refused.value.code == "already_seated"
        await table.ask(AddWatcher(player_id=WATCHER))
        table.tell(Release())  # the first hand too is the owner's to deal
        bots = Bots(table, "t9-1", seats, random.Random(71), refill=0)
        async with trio.open_nursery() as nursery:
            async for player_id, body in stream:
                if player_id == WATCHER and isinstance(body, game.HandStarted):
                    if body.hand_number == 3:
                        table.tell(HoldAfterHand())
                elif player_id == WATCHER and isinstance(body, game.HandEnded):
                    if body.hand_number == 3:
                        nursery.cancel_scope.cancel()
                        break
                elif bots.wants(body):
                    nursery.start_soon(bots.act_on, player_id, body)
        audit = await table.ask(AuditEscrow())
        assert isinstance(audit, EscrowAudit) and audit.chips == 4_500  # no rake, no leak
        stacks = dict(reports[-1].stacks)
        assert sum(stacks.values()) == 4_500 and [r.hand_number for r in reports] == [1, 2, 3]
        assert reports[-1].busted == tuple(p for p, s in stacks.items() if s == 0)
        removed = await table.ask(RemovePlayer(player_id=2))
        assert removed == stacks[2]
        with pytest.raises(GameRefused) as refused:
            await table.ask(RemovePlayer(player_id=2))
        assert refused.value.code == "not_seated"
        assert (await session.wallet.balance(1)).balance == FUNDS  # the ledger saw nothing
        assert await session.store.ledger_account(wallet(2)) is None
        # A tournament player cannot stand up: her chips are the owner's, and only the owner
        # takes them off the table.
        with pytest.raises(GameRefused) as refused:
            await table.ask(StandUp(player_id=1))
        assert refused.value.code == "not_a_cash_table"
        assert await table.ask(RemovePlayer(player_id=1)) == stacks[1]
        assert (await session.wallet.balance(1)).balance == FUNDS  # no cash-out either
        summaries = await session.store.hands_by_table("t9-1", limit=10)
        assert len(summaries) == 3 and all(s.rake == 0 for s in summaries)


async def test_a_tournament_table_deals_no_hand_until_its_owner_releases_it(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: opened able to deal, a table seated early dealt its first hand while its
    tournament still seated the rest of the field, and the tournament took that hand's
    report for the one it released later (it then moved players off a table in a hand)."""
    autojump_between_threads(autojump_clock, monkeypatch)
    async with running_game(sqlite_url(tmp_path), seed=73) as session:
        table = await session.open_table(tournament_table("t9-2"))
        for player_id in (1, 2, 3):
            await table.ask(SeatPlayer(player_id=player_id, stack=1_500))
        await trio.sleep(60)  # far past the pause between hands
        seats = await table.ask(GetSeats())
        assert isinstance(seats, TableSeats) and seats.hand_number == 0
        stream = session.channel.stream()
        table.tell(Release())
        async for _, body in stream:
            if isinstance(body, game.HandStarted):
                assert body.hand_number == 1
                break


async def test_the_owner_takes_a_player_away_during_a_hand_she_is_not_in(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A seat left to a player the owner counts gone (out on a declined rebuy, or rebought)
    until the hand ends made the table hold more players than its owner knew: a move there
    was refused (``table_full``, ``seat_taken``). Only a player dealt in must wait."""
    autojump_between_threads(autojump_clock, monkeypatch)
    async with running_game(sqlite_url(tmp_path), seed=74) as session:
        table = await session.open_table(tournament_table("t9-3"))
        for player_id in (1, 2):
            await table.ask(SeatPlayer(player_id=player_id, stack=1_500))
        stream = session.channel.stream()
        table.tell(Release())
        async for _, body in stream:
            if isinstance(body, game.ActionRequired):
                break  # the hand runs, waiting for a player
        await table.ask(SeatPlayer(player_id=3, stack=700))  # not dealt in this hand
        assert await table.ask(RemovePlayer(player_id=3)) == 700
        with pytest.raises(GameRefused) as refused:
            await table.ask(RemovePlayer(player_id=1))
        assert refused.value.code == "hand_running"
        seats = await table.ask(GetSeats())
        assert isinstance(seats, TableSeats) and seats.hand_number == 1
        assert sorted(info.player_id for info in seats.seats) == [1, 2]


async def test_a_tournament_table_deals_exactly_the_hand_its_owner_planned(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its own plan deals whom the cash rules say: a fresh start deals everyone seated, and
    a newcomer waits for the big blind. The owner's plan (a tournament's TDA 10A: dealt in
    at once unless seated between the small blind and the button) is the one dealt, or the
    hand's report counts other players than the owner did (a rebuy bought during it then
    broke the tournament's chip check)."""
    autojump_between_threads(autojump_clock, monkeypatch)
    async with running_game(sqlite_url(tmp_path), seed=75) as session:
        table = await session.open_table(tournament_table("t9-4"))
        seat_of: dict[int, int] = {}
        for player_id in (1, 2, 3):
            granted = await table.ask(SeatPlayer(player_id=player_id, stack=1_500))
            assert isinstance(granted, SeatGranted)
            seat_of[player_id] = granted.seat
        stream = session.channel.stream()
        one, two = seat_of[1], seat_of[2]
        # Heads-up between 1 and 2: 3 sits this hand out (the owner's newcomer in the zone).
        heads_up = OwnerDeal(
            button=one, small_blind=one, big_blind=two, small_blind_poster=one,
            big_blind_poster=two, dealt=((two, 2), (one, 1)),
        )  # fmt: skip
        table.tell(Release(deal=heads_up))
        async for _, body in stream:
            if isinstance(body, game.HandStarted):
                assert body.seats == (two, one) and body.button == one
                assert (body.small_blind_seat, body.big_blind_seat) == (one, two)
                break
        await play_out(table, "t9-4", seat_of, stream)
        # A newcomer: the table's own plan would have her wait for the big blind.
        granted = await table.ask(SeatPlayer(player_id=4, stack=1_500))
        assert isinstance(granted, SeatGranted)
        seat_of[4] = granted.seat
        seats = await table.ask(GetSeats())
        assert isinstance(seats, TableSeats) and seats.hands_played == 1
        stacks = {info.player_id: info.stack for info in seats.seats}
        players = [p for p in seat_of if stacks[p] > 0]
        order = sorted(seat_of[p] for p in players)
        button = order[0]
        dealt = (*order[1:], button)  # clockwise from the button's left
        everyone = OwnerDeal(
            button=button, small_blind=dealt[0], big_blind=dealt[1],
            small_blind_poster=dealt[0], big_blind_poster=dealt[1],
            dealt=tuple((seat, seats_player(seat_of, seat)) for seat in dealt),
        )  # fmt: skip
        table.tell(Release(deal=everyone))
        async for _, body in stream:
            if isinstance(body, game.HandStarted):
                assert body.hand_number == 2 and body.seats == dealt
                assert seat_of[4] in body.seats
                break


def seats_player(seat_of: dict[int, int], seat: int) -> int:
    return next(p for p, s in seat_of.items() if s == seat)


async def play_out(table: Any, table_id: str, seat_of: dict[int, int], stream: Any) -> None:
    """Bots play the running hand to its end."""
    seats = {seat: player for player, seat in seat_of.items()}
    bots = Bots(table, table_id, seats, random.Random(75), refill=0)
    async with trio.open_nursery() as nursery:
        async for player_id, body in stream:
            if isinstance(body, game.HandEnded):
                nursery.cancel_scope.cancel()
                break
            if bots.wants(body):
                nursery.start_soon(bots.act_on, player_id, body)


async def test_a_cash_table_refuses_the_owners_seating(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=72) as session:
        table = await session.open_table(nlhe("cash", between_hands_ms=60_000))
        for message in (SeatPlayer(player_id=1, stack=100), RemovePlayer(player_id=1)):
            with pytest.raises(GameRefused) as refused:
                await table.ask(message)
            assert refused.value.code == "not_a_tournament_table"
