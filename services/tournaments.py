"""A tournament's money through the ledger (docs/tournaments.md, "Money").

Every movement is one double-entry transfer of the tournament's asset with the key
``tournament:<id>:<op>``, ``op`` being the core's name for the operation (``entry:17``,
``rebuy:17:2``, ``prize:17``, ``bounty:17:4``, ``overlay``...; poker/tournament/effects.py),
unique within the tournament forever, so a retry replays and a second tournament never
meets the first's keys. Fees carry the suffix ``:fee`` and a memo naming the tournament and
the entry (what the player paid the house for it: rakeback and statistics read it).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Final, final

from persistence.rakeback import transfers_by_keys
from poker.tournament import effects as fx
from services.ledger import FEES, HOUSE, house_account, prize_pool, wallet
from services.wallet import Wallet

KEY_PREFIX: Final = "tournament:"


def pool_owner(tournament_id: int) -> str:
    return f"{KEY_PREFIX}{tournament_id}"


def key(tournament_id: int, op: str) -> str:
    """The ledger idempotency key of the core's operation ``op`` in this tournament."""
    return f"{KEY_PREFIX}{tournament_id}:{op}"


@final
@dataclass(frozen=True, slots=True)
class TournamentMoney:
    """One tournament's ledger moves."""

    wallet: Wallet
    tournament_id: int
    asset: str

    @property
    def pool(self) -> str:
        return pool_owner(self.tournament_id)

    async def check_may_play(self, player_id: int) -> None:
        """Responsible gaming (self-exclusion, cool-off) before any money moves."""
        await self.wallet.check_may_play(player_id, self.asset, None)

    async def pay_in(self, op: str, player_id: int, to_pool: int, fee: int, entry: int) -> None:
        """An entry, rebuy or add-on: ``to_pool`` (prize and bounty parts) wallet -> prize
        pool, ``fee`` wallet -> fees. The pool part first: a refused fee leaves the pool
        part to be refunded by the caller (``refund``)."""
        if to_pool:
            await self.wallet.tournament_buy_in(
                key(self.tournament_id, op), player_id, self.pool, to_pool, asset=self.asset
            )
        if fee:
            memo = f"{self.pool}:entry:{entry}"
            await self.wallet.pay_entry_fee(
                key(self.tournament_id, f"{op}:fee"), player_id, fee, memo, asset=self.asset
            )

    async def landed(self, op: str) -> tuple[bool, bool]:
        """Whether the pool part and the fee of the pay-in ``op`` are in the ledger (after
        a crash: what to give back of an interrupted buy-in)."""
        pool_key, fee_key = key(self.tournament_id, op), key(self.tournament_id, f"{op}:fee")
        found = await self.wallet.store.run(
            partial(transfers_by_keys, [pool_key, fee_key]), read_only=True
        )
        return pool_key in found, fee_key in found

    async def refund(self, op: str, player_id: int, from_pool: int, fee: int) -> None:
        """Give back ``from_pool`` (prize pool -> wallet) and ``fee`` (fees -> wallet)."""
        w, asset = self.wallet, self.asset
        if from_pool:
            await w.move(
                key(self.tournament_id, op), "refund", prize_pool(self.pool, asset),
                wallet(player_id, asset), from_pool,
            )  # fmt: skip
        if fee:
            await w.move(
                key(self.tournament_id, f"{op}:fee"), "refund", house_account(FEES, asset),
                wallet(player_id, asset), fee,
            )  # fmt: skip

    async def pay_out(self, op: str, player_id: int, amount: int) -> None:
        """A prize, a bounty's cash or deal money: prize pool -> wallet."""
        if amount:
            await self.wallet.pay_prize(
                key(self.tournament_id, op), self.pool, player_id, amount, asset=self.asset
            )

    async def overlay(self, op: str, amount: int) -> None:
        """The house tops the pool up to the guarantee."""
        if amount:
            await self.wallet.move(
                key(self.tournament_id, op), "overlay", house_account(HOUSE, self.asset),
                prize_pool(self.pool, self.asset), amount,
            )  # fmt: skip

    async def pool_balance(self) -> int:
        account = await self.wallet._store.ledger_account(prize_pool(self.pool, self.asset))
        return 0 if account is None else account.balance


def payout_of(effect: fx.AnyEffect) -> tuple[str, int, int] | None:
    """(op, player id, amount) of a payout effect the live system pays after storing the
    step (write-ahead), or None for any other effect."""
    match effect:
        case fx.PlaceAwarded(op=op, player_id=player, prize=amount) if amount > 0:
            return op, int(player), amount
        case fx.BountyWon(op=op, player_id=player, cash=amount) if amount > 0:
            return op, int(player), amount
        case fx.DealPaid(op=op, player_id=player, amount=amount) if amount > 0:
            return op, int(player), amount
    return None


__all__ = ["KEY_PREFIX", "TournamentMoney", "key", "payout_of", "pool_owner", "wallet"]
