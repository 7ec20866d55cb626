"""Where a table's chips come from and where they go: the ``Bankroll`` a table holds as a
field. Buy-in, cash-out and rake are each written here, once.

- :class:`CashBankroll` (a cash table): chips come from the players' wallets into the table's
  escrow account and go back to them, less the rake, through the ledger.
  In: buy-ins (checked first: the table's range raised by the rathole rule, and responsible
  gaming) and top-ups, write-ahead. The intent (``Funding``) is durably stored, and the
  runtime's snapshot checkpointed, before the wallet moves the chips; a restarted table makes
  the transfer again under the same key (a replay if it had landed) and seats the player, or
  drops the intent if the ledger refuses it now. Out: cash-outs and rake are listed as owed
  (``EscrowDebit``) in the state, durably stored, then paid by key (``settle``).
- :class:`TournamentBankroll` (a tournament's table): the chips belong to the tournament. No
  wallet, no escrow, no cash-out and no rake: the owner seats players with a stack
  (``SeatPlayer``), takes the stack back when it moves them (``RemovePlayer``), and learns of
  a seat that reached zero from ``TableHandEnded`` (an elimination).

Either way ``settle`` writes the finished hands' histories (first write wins).
"""

from __future__ import annotations

from typing import Any, Protocol, final

import structlog

from actors.runtime import ActorContext
from actors.table.config import TableConfig
from actors.table.deps import TableDeps
from actors.table.messages import (
    EscrowAudit,
    GameRefused,
    JoinSeat,
    SettleOwed,
)
from actors.table.state import EscrowDebit, Funding, TableState
from poker.integrity import table_rules
from services.ledger import WalletError, escrow

log = structlog.get_logger("tablium.table")


class BankrollHost(Protocol):
    """What a bankroll needs of its table (the table actor)."""

    @property
    def state(self) -> TableState: ...

    @property
    def deps(self) -> TableDeps: ...

    @property
    def context(self) -> ActorContext[Any]: ...

    @property
    def config(self) -> TableConfig: ...

    async def persist(self, *, durable: bool = False) -> None: ...

    async def funded(self, funding: Funding) -> None:
        """Apply a buy-in (seat the player) or a top-up (add to the stack) whose chips are in."""


class Bankroll(Protocol):
    async def buy_in(self, join: JoinSeat, seat: int, now_ms: int) -> None:
        """Check the buy-in (range, rathole rule, responsible gaming), then move it in,
        write-ahead; the host's ``funded`` seats the player once the chips are in."""

    async def top_up(self, player_id: int, seat: int, amount: int) -> None:
        """More chips for a seated player (the core checked the table's maximum)."""

    async def resume(self) -> None:
        """After a restart: finish what a crash interrupted."""

    def cash_out(self, player_id: int, amount: int) -> None:
        """``amount`` left the stacks for the player (standing up, a close)."""

    def rake(self, hand_number: int, amount: int) -> None:
        """The house's share of a hand."""

    def settle_soon(self) -> None: ...

    async def settle(self) -> None:
        """Pay what is owed and write the histories (a retry replays by key)."""

    async def audit(self) -> EscrowAudit: ...

    async def balance(self) -> int:
        """The chips the table's account holds (0 for a tournament's table)."""


def new_bankroll(host: BankrollHost) -> Bankroll:
    if host.config.bankroll == "tournament":
        return TournamentBankroll(host)
    return CashBankroll(host)


class _Histories:
    host: BankrollHost
    settle_requested: bool

    def settle_soon(self) -> None:
        state = self.host.state
        if (state.owed or state.histories) and not self.settle_requested:
            self.settle_requested = True
            self.host.context.ref.tell(SettleOwed())

    async def _write_histories(self) -> None:
        state, store = self.host.state, self.host.deps.store
        while state.histories:
            await store.save_hand(state.histories[0])  # a retry is a no-op
            state.histories.pop(0)


@final
class CashBankroll(_Histories):
    """Wallets <-> the table's escrow account, through the ledger (module docstring)."""

    def __init__(self, host: BankrollHost) -> None:
        self.host = host
        self.settle_requested = False  # a SettleOwed is in the mailbox

    async def buy_in(self, join: JoinSeat, seat: int, now_ms: int) -> None:
        host = self.host
        config, rules = host.config, host.deps.rules
        departure = host.state.departures.get(join.player_id)
        try:
            table_rules.verify_rathole_buy_in(
                join.buy_in, config.min_buy_in, config.max_buy_in, departure, now_ms,
                rules.rathole,
            )  # fmt: skip
        except table_rules.TableRuleRefused as exc:
            log.info("table rule refused a seat", table=config.table_id,
                     player=join.player_id, code=exc.code)  # fmt: skip
            raise GameRefused(exc.code, str(exc)) from exc
        # The rathole rule raises the minimum for a player who left with more within its window.
        allowed = table_rules.buy_in_range(
            config.min_buy_in, config.max_buy_in, departure, now_ms, rules.rathole
        )
        if not allowed.minimum <= join.buy_in <= allowed.maximum:
            raise GameRefused(
                "buy_in_out_of_range",
                f"buy-in must be {allowed.minimum}..{allowed.maximum}, got {join.buy_in}",
            )
        # Responsible gaming, before any intent is stored: a real-money seat is refused to a
        # player cooling off, self-excluded or past her session time (WalletError, her code).
        await host.deps.wallet.check_may_play(join.player_id, config.asset, join.session_started_ms)
        # A refused transfer (WalletError) seats nobody and moves nothing.
        await self._fund("buy_in", join.player_id, seat, join.buy_in, join.post_to_enter)

    async def top_up(self, player_id: int, seat: int, amount: int) -> None:
        await self._fund("top_up", player_id, seat, amount)

    async def _fund(
        self, kind: str, player_id: int, seat: int, amount: int, post_to_enter: bool = False
    ) -> None:
        """Move a buy-in or top-up wallet -> escrow, write-ahead: the intent is in the store
        before the ledger sees the transfer, so a process killed in between restarts with the
        intent and finishes it (``resume``) instead of losing the chips in escrow."""
        state = self.host.state
        state.seat_events += 1
        key = state.ledger_key(kind, state.seat_events)
        funding = Funding(
            key=key,
            kind=kind,
            player_id=player_id,
            seat=seat,
            amount=amount,
            post_to_enter=post_to_enter,
        )
        state.funding.append(funding)
        await self.host.persist(durable=True)
        await self._transfer(funding)

    async def _transfer(self, funding: Funding) -> None:
        """Make the funding's transfer (again, by key, after a crash) and apply it. Refused
        (WalletError, raised): the intent is dropped, durably, so no restart retries it."""
        host = self.host
        config = host.config
        try:
            await host.deps.wallet.buy_in(
                funding.key,
                funding.player_id,
                config.escrow_owner,
                funding.amount,
                asset=config.asset,
            )
        except WalletError:
            host.state.funding.remove(funding)
            await host.persist(durable=True)
            raise
        host.state.funding.remove(funding)
        await host.funded(funding)

    async def resume(self) -> None:
        """After a restart: finish the buy-in or top-up a crash interrupted."""
        table_id = self.host.config.table_id
        for funding in list(self.host.state.funding):
            try:
                await self._transfer(funding)
            except WalletError as exc:
                log.warning("interrupted buy-in refused", table=table_id, key=funding.key,
                            error=exc.code)  # fmt: skip
            else:
                log.warning("interrupted buy-in completed", table=table_id, key=funding.key)

    def cash_out(self, player_id: int, amount: int) -> None:
        state = self.host.state
        state.seat_events += 1  # one per seat released, paid or not: keys never repeat
        if amount <= 0:
            return
        key = state.ledger_key("cash_out", state.seat_events)
        self._owe(EscrowDebit(key=key, kind="cash_out", player_id=player_id, amount=amount))

    def rake(self, hand_number: int, amount: int) -> None:
        if amount > 0:
            key = self.host.state.ledger_key("rake", hand_number)
            self._owe(EscrowDebit(key=key, kind="rake", player_id=0, amount=amount))

    def _owe(self, debit: EscrowDebit) -> None:
        self.host.state.owed.append(debit)
        self.settle_soon()

    async def settle(self) -> None:
        """Pay what is owed, oldest first, then write histories. A crash here restarts the
        table from before this message, with everything still listed: paying again under
        the same keys replays the transfers already made."""
        self.settle_requested = False
        host = self.host
        # Write-ahead: the stacks, the debts and the histories about to be paid and written
        # are on disk before the ledger or the history table sees any of them. Killed after
        # this, the table restarts with them listed and pays again under the same keys;
        # killed before, nothing was paid and the hand is voided with every chip back.
        await host.persist(durable=True)
        config, wallet = host.config, host.deps.wallet
        owner, asset = config.escrow_owner, config.asset
        owed = host.state.owed
        while owed:
            debit = owed[0]
            if debit.kind == "rake":
                await wallet.take_rake(debit.key, owner, debit.amount, asset=asset)
            else:
                await wallet.cash_out(debit.key, owner, debit.player_id, debit.amount, asset=asset)
            owed.pop(0)
        await self._write_histories()
        await host.persist()

    async def audit(self) -> EscrowAudit:
        # Settle first: a payment in doubt (made, but its reply lost to a crash) is still
        # listed as owed until paid again under its key.
        await self.settle()
        state = self.host.state
        chips = sum(r.stack + r.pending_top_up for r in state.seats.values())
        chips += sum(debit.amount for debit in state.owed)
        return EscrowAudit(chips=chips, escrow_balance=await self.balance())

    async def balance(self) -> int:
        config = self.host.config
        account = await self.host.deps.store.ledger_account(
            escrow(config.escrow_owner, config.asset)
        )
        return account.balance if account else 0


@final
class TournamentBankroll(_Histories):
    """The tournament's chips (module docstring): nothing moves in the ledger here."""

    def __init__(self, host: BankrollHost) -> None:
        self.host = host
        self.settle_requested = False

    async def buy_in(self, join: JoinSeat, seat: int, now_ms: int) -> None:
        raise GameRefused("not_a_cash_table", "a tournament seats its players itself")

    async def top_up(self, player_id: int, seat: int, amount: int) -> None:
        raise GameRefused("not_a_cash_table", "a tournament's stacks are its chips")

    async def resume(self) -> None:
        return None  # no transfer is ever in flight

    def cash_out(self, player_id: int, amount: int) -> None:
        return None  # the chips stay the tournament's: RemovePlayer hands the stack back

    def rake(self, hand_number: int, amount: int) -> None:
        if amount:  # a tournament's table is configured without rake
            raise RuntimeError(f"{self.host.config.table_id}: rake at a tournament's table")

    async def settle(self) -> None:
        self.settle_requested = False
        await self.host.persist(durable=True)
        await self._write_histories()
        await self.host.persist()

    async def audit(self) -> EscrowAudit:
        chips = sum(r.stack + r.pending_top_up for r in self.host.state.seats.values())
        return EscrowAudit(chips=chips, escrow_balance=chips)  # no account to disagree with

    async def balance(self) -> int:
        return 0
