"""A tournament's table: the same table with a TournamentBankroll. Its owner seats players
with its own chips (no wallet, no escrow), takes them away with their stacks between hands,
and learns who reached zero; players cannot buy in, and nothing moves in the ledger."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import trio

from actors.runtime import Actor, ChildSpec
from actors.table.messages import (
    AddWatcher,
    AuditEscrow,
    EscrowAudit,
    GameRefused,
    HoldAfterHand,
    JoinSeat,
    Release,
    RemovePlayer,
    SeatGranted,
    SeatPlayer,
    StandUp,
    TableHandEnded,
)
from protocol import game
from services.ledger import wallet
from tests.actors.test_table_fakes import FUNDS, Bots, nlhe, running_game, sqlite_url

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


async def test_a_cash_table_refuses_the_owners_seating(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=72) as session:
        table = await session.open_table(nlhe("cash", between_hands_ms=60_000))
        for message in (SeatPlayer(player_id=1, stack=100), RemovePlayer(player_id=1)):
            with pytest.raises(GameRefused) as refused:
                await table.ask(message)
            assert refused.value.code == "not_a_tournament_table"
