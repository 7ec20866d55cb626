"""Buy-in, top-up and cash-out through the wallet: bounds and wallet refusals are clear
errors that change nothing; money moves once per request, by idempotency key."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.table.messages import (
    GameRefused,
    JoinSeat,
    JoinWaiting,
    SeatGranted,
    StandUp,
    TopUpChips,
)
from persistence.ledger import PlayerLimits
from protocol import game
from services.ledger import InsufficientFunds, LimitExceeded, wallet
from tests.actors.test_table_fakes import FUNDS, nlhe, running_game, sqlite_url


async def test_refused_buy_ins_change_nothing(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=31) as session:
        table = await session.open_table(nlhe("money", seats=2, between_hands_ms=60_000))
        await session.fund([1, 2])
        await session.wallet.adjust("poor", wallet(3), 50, "a small wallet")

        async def refused(message: JoinSeat) -> str:
            with pytest.raises((GameRefused, InsufficientFunds, LimitExceeded)) as caught:
                await table.ask(message)
            code = getattr(caught.value, "code", "")
            assert isinstance(code, str)
            return code

        assert await refused(JoinSeat(player_id=1, buy_in=79)) == "buy_in_out_of_range"
        assert await refused(JoinSeat(player_id=1, buy_in=401)) == "buy_in_out_of_range"
        assert await refused(JoinSeat(player_id=3, buy_in=100)) == "insufficient_funds"
        await session.wallet.set_limits(2, PlayerLimits(table_buy_in_max=90))
        assert await refused(JoinSeat(player_id=2, buy_in=100)) == "limit_exceeded"
        assert await refused(JoinSeat(player_id=1, buy_in=100, seat=7)) == "seat_taken"
        view = await session.seats(table)
        assert view.seats == ()
        assert (await session.wallet.balance(1)).balance == FUNDS
        assert (await session.wallet.balance(3)).balance == 50
        assert (await session.assert_conserved(table)).escrow_balance == 0

        granted = await table.ask(JoinSeat(player_id=1, buy_in=100, seat=1))
        assert granted == SeatGranted(table_id="money", seat=1, stack=100)
        assert await refused(JoinSeat(player_id=1, buy_in=100)) == "already_seated"
        assert await refused(JoinSeat(player_id=2, buy_in=90, seat=1)) == "seat_taken"
        with pytest.raises(GameRefused) as caught:
            await table.ask(TopUpChips(player_id=1, amount=301))
        assert caught.value.code == "top_up_out_of_range"
        await table.ask(TopUpChips(player_id=1, amount=300))
        audit = await session.assert_conserved(table)
        assert audit.escrow_balance == 400
        assert (await session.wallet.balance(1)).balance == FUNDS - 400


async def test_cash_out_returns_the_stack_and_offers_the_seat_to_the_wait_list(
    tmp_path: Path,
) -> None:
    async with running_game(sqlite_url(tmp_path), seed=32) as session:
        table = await session.open_table(nlhe("cash", seats=2, between_hands_ms=60_000))
        await session.fund([1, 2, 3])
        await table.ask(JoinSeat(player_id=1, buy_in=150))
        await table.ask(JoinSeat(player_id=2, buy_in=200))
        with pytest.raises(GameRefused) as caught:
            await table.ask(JoinSeat(player_id=3, buy_in=200))
        assert caught.value.code == "table_full"
        await table.ask(JoinWaiting(player_id=3))
        cashed = await table.ask(StandUp(player_id=1))  # no hand yet: paid out at once
        assert cashed == 150
        await session.assert_conserved(table)  # queued after the payment the table owes
        assert (await session.wallet.balance(1)).balance == FUNDS
        offers = session.channel.of(3, game.SeatAvailable)
        assert offers == [game.SeatAvailable(table_id="cash", seat=0)]
        with pytest.raises(GameRefused) as caught:
            await table.ask(StandUp(player_id=1))
        assert caught.value.code == "not_seated"
        audit = await session.assert_conserved(table)
        assert audit.escrow_balance == 200
