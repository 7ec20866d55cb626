"""The rakeback service: preview, distribute, statements and verify, per program and period.

A *program* (scope) is the house's (``house``: hands at tables of no club, and the fees of
tournaments of no club) or a club's (``club:<id>``: hands at its tables, the fees of its
tournaments, its deal, tiers and agents). The
arithmetic is rakeback/ (pure); this module reads what it needs and moves the money.

Distribution of (scope, period), the only way money moves here:

1. *freeze* (one transaction, audited): the settlement is computed from the stored hands
   and fees and written with the program it used; from then on the period cannot change (the
   schema refuses it). A period is frozen only once it has ended plus ``settle_delay_ms``
   (hands still being written), and only right after the scope's previous period (statuses
   chain from one period to the next); the first period of a scope starts everyone at the
   first tier.
2. *fund*: per source, a ``rakeback_fund`` transfer from the house's rake (cash) or fees
   (tournament) account into the program's ``rakeback`` account, key
   ``rakeback_fund:<scope>:<period>:<source>``.
3. *pay*: per player a ``rakeback`` transfer and per agent an ``agent_commission`` transfer
   from the program's account, keys ``rakeback:<scope>:<period>:<player>`` and
   ``agent_commission:<scope>:<period>:<agent>``; each accrual records its transfer id.
4. *close*: the period's state becomes ``closed``; another audit entry records the outcome.

Every step is idempotent by its key, so a run repeated, or resumed after a crash anywhere,
pays each chip once: a resumed run finds the frozen period, replays the transfers already
made (the ledger answers with the original) and makes the rest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from typing import Final, final

import msgspec

from persistence import clubs as club_db
from persistence import rakeback as db
from persistence.audit import AuditStamp, Change
from persistence.rakeback import HOUSE_SCOPE, AccrualRow, PeriodRow
from persistence.store import Store
from persistence.work import Work
from rakeback.attribution import (
    SOURCES,
    Attributed,
    AttributionMethod,
    FeeEntry,
    HandRake,
    HandSeat,
    Source,
    attribute,
    attribute_hand,
)
from rakeback.periods import Period, PeriodKind
from rakeback.settlement import AgentAccrual, PlayerAccrual, Program, Settlement, settle
from rakeback.tiers import DEFAULT_TIERS, Tier, TierTable
from services.clubs import club_program
from services.ledger import FEES, RAKE, house_account, rakeback_account, wallet
from services.wallet import Wallet

SETTLE_DELAY_MS_DEFAULT: Final = 3_600_000  # hands of a period are all written an hour on


class RakebackError(Exception):
    code: str = "rakeback_error"


@final
class PeriodNotOver(RakebackError):
    code = "rakeback_period_not_over"


@final
class PeriodOutOfOrder(RakebackError):
    code = "rakeback_period_out_of_order"


@final
class WrongPeriodKind(RakebackError):
    code = "rakeback_wrong_period_kind"


@final
class UnknownScope(RakebackError):
    code = "rakeback_unknown_scope"


@final
@dataclass(frozen=True, slots=True)
class RakebackPolicy:
    """The operator's settings (server/config.py): the period, the attribution method, the
    house's tier table, and how long after a period's end it may be frozen."""

    period_kind: PeriodKind = "week"
    method: AttributionMethod = "weighted"
    house_tiers: TierTable = field(default_factory=lambda: DEFAULT_TIERS)
    settle_delay_ms: int = SETTLE_DELAY_MS_DEFAULT


class ProgramDoc(msgspec.Struct, frozen=True):
    """The program a period was settled under, stored with it (verify reads it back)."""

    method: str
    tiers: list[Tier]
    points_num: int
    points_den: int
    deal_bp: int | None
    agent_rates_bp: dict[int, int]
    member_agents: dict[int, int]

    def program(self) -> Program:
        return Program(
            TierTable(tuple(self.tiers), self.points_num, self.points_den), self.deal_bp,
            self.agent_rates_bp, self.member_agents,
        )  # fmt: skip


@final
class Preview(msgspec.Struct, frozen=True):
    scope: str
    period: str
    frozen: bool  # True: the stored figures (a frozen period never changes)
    state: str  # "open" (not frozen yet), "paying" or "closed"
    rake_cash: int
    rake_tournament: int
    funding_cash: int
    funding_tournament: int
    paid: int  # rakeback + commission owed
    house_kept: int
    payer_kept: int
    accruals: list[AccrualRow]


@final
class Distribution(msgspec.Struct, frozen=True):
    scope: str
    period: str
    state: str
    paid_now: int  # accruals this run paid (a resumed run pays the rest, a repeated one none)
    rakeback_paid: int
    commission_paid: int


@final
class Verification(msgspec.Struct, frozen=True):
    scope: str
    period: str
    hands: int  # hands with rake recomputed
    accrued: int  # rakeback + commission recomputed from the hands
    paid: int  # found in the ledger under the period's keys
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


@final
class StatementLine(msgspec.Struct, frozen=True):
    scope: str
    period: str
    kind: str  # "rakeback" or "commission"
    rake_cash: int  # hers (rakeback) or her members' (commission)
    rake_tournament: int
    rate_bp: int
    accrued_cash: int
    accrued_tournament: int
    accrued: int
    paid: int  # accrued once its transfer is made, else 0
    transfer_id: int | None
    tier: int | None  # the tier paid (rakeback lines)


def _owner(scope: str) -> str:
    return "" if scope == HOUSE_SCOPE else scope


def _program_doc(program: Program, method: str) -> ProgramDoc:
    t = program.tiers
    return ProgramDoc(
        method, list(t.tiers), t.points_per_chip_num, t.points_per_chip_den, program.deal_bp,
        dict(program.agent_rates_bp), dict(program.member_agents),
    )  # fmt: skip


def _player_row(scope: str, period: Period, p: PlayerAccrual) -> AccrualRow:
    return AccrualRow(
        scope, period.id, p.player_id, "rakeback", p.rake["cash"], p.rake["tournament"],
        p.points, p.status, p.paid_tier, p.rate_bp, p.rakeback["cash"], p.rakeback["tournament"],
        p.total_rakeback, p.remainder_units, p.next_status, p.agent_id, 0,
    )  # fmt: skip


def _agent_row(scope: str, period: Period, a: AgentAccrual) -> AccrualRow:
    return AccrualRow(
        scope, period.id, a.agent_id, "commission", a.members_rake, 0, 0, 0, 0, a.rate_bp,
        a.commission, 0, a.commission, a.remainder_units, 0, None, a.members,
    )  # fmt: skip


def _rows(scope: str, period: Period, s: Settlement) -> list[AccrualRow]:
    return [_player_row(scope, period, p) for p in s.players] + [
        _agent_row(scope, period, a) for a in s.agents
    ]


def _period_row(scope: str, period: Period, s: Settlement, doc: ProgramDoc, now: int) -> PeriodRow:
    return PeriodRow(
        scope, period.id, "paying", period.start_ms, period.end_ms,
        msgspec.json.encode(doc).decode(), s.rake["cash"], s.rake["tournament"],
        s.funding["cash"], s.funding["tournament"], s.paid, s.house_kept, s.payer_kept, now,
    )  # fmt: skip


@final
class Rakeback:
    def __init__(self, store: Store, wallet: Wallet, policy: RakebackPolicy | None = None) -> None:
        self._store = store
        self._wallet = wallet
        self.policy = policy or RakebackPolicy()

    @property
    def store(self) -> Store:
        return self._store

    # -- what a period holds ------------------------------------------------------------------

    async def scopes(self) -> list[str]:
        """The house's program and every club's."""
        ids = await self._store.run(club_db.all_club_ids, read_only=True)
        return [HOUSE_SCOPE, *(f"club:{i}" for i in ids)]

    async def _program(self, scope: str) -> Program:
        if scope == HOUSE_SCOPE:
            return Program(self.policy.house_tiers)
        if not scope.startswith("club:") or not scope[5:].isdigit():
            raise UnknownScope(f"a rakeback scope is house or club:<id>, not {scope!r}")
        club_id = int(scope[5:])

        def unit() -> Work[Program]:
            club = yield from club_db.get_club(club_id)
            if club is None:
                raise UnknownScope(f"no club {club_id}")
            members = yield from club_db.all_members(club_id)
            return club_program(club, members)

        return await self._store.run(unit, read_only=True)

    async def _hands(self, scope: str, period: Period) -> AsyncIterator[HandRake]:
        after = 0
        while True:
            page = await self._store.run(
                partial(db.hands_page, scope, period.start_ms, period.end_ms, after),
                read_only=True,
            )
            for h in page:
                seats = tuple(HandSeat(p.player_id, p.seat, p.rake_paid) for p in h.players)
                yield HandRake(h.hand_id, h.rake, seats)
            if len(page) < db.HANDS_PAGE:
                return
            after = page[-1].seq

    async def _fees(self, scope: str, period: Period) -> list[FeeEntry]:
        """The scope's tournament fees: a club tournament's (club_tournaments) are its
        club's, every other one the house's."""
        club = None if scope == HOUSE_SCOPE else int(scope.removeprefix("club:"))
        fees: list[FeeEntry] = []
        after = 0
        while True:
            page = await self._store.run(
                partial(db.fees_page, period.start_ms, period.end_ms, after), read_only=True
            )
            ids = [f.tournament_id for f in page if f.tournament_id is not None]
            clubs = await self._store.run(
                partial(club_db.clubs_of_tournaments, ids), read_only=True
            )
            fees += [
                FeeEntry(f.transfer_id, f.player_id, f.amount)
                for f in page
                if clubs.get(f.tournament_id or 0) == club
            ]
            if len(page) < db.FEES_PAGE:
                return fees
            after = page[-1].transfer_id

    async def _rake(
        self, scope: str, period: Period, method: AttributionMethod
    ) -> tuple[dict[int, dict[Source, int]], int, dict[int, int]]:
        """Per player and source, the period's rake, hand by hand; the hands counted; and
        per player, the shares the hand records store (verify checks them)."""
        totals: dict[int, dict[Source, int]] = {}
        hands = 0
        stored: dict[int, int] = {}
        async for hand in self._hands(scope, period):
            hands += 1
            for seat in hand.seats:
                if seat.rake_paid:
                    stored[seat.player_id] = stored.get(seat.player_id, 0) + seat.rake_paid
            for player, amount in attribute_hand(hand, method).items():
                by_source = totals.setdefault(player, {})
                by_source["cash"] = by_source.get("cash", 0) + amount
        fee_sums: dict[int, int] = {}
        for fee in await self._fees(scope, period):
            fee_sums[fee.player_id] = fee_sums.get(fee.player_id, 0) + fee.amount
        for player, amount in fee_sums.items():
            if amount > 0:
                totals.setdefault(player, {})["tournament"] = amount
        return totals, hands, stored

    async def trace(self, scope: str, period: Period, player_id: int) -> list[Attributed]:
        """Every hand and fee that makes up the player's accrued rake in the period."""
        hands = [h async for h in self._hands(scope, period)]
        fees = await self._fees(scope, period)
        items = attribute(hands, fees, self.policy.method)
        return [i for i in items if i.player_id == player_id]

    async def _statuses(self, scope: str, period: Period) -> dict[int, int]:
        """Statuses for ``period`` from the previous one; refuses a gap in the chain."""
        previous = period.previous()
        found = await self._store.run(partial(db.get_period, scope, previous.id), read_only=True)
        if found is not None:
            return await self._store.run(partial(db.statuses, scope, previous.id), read_only=True)
        # Only periods of the same kind chain: a server that switched from days to weeks
        # starts its statuses afresh (docs/rakeback.md).
        last = await self._store.run(partial(db.last_period, scope, period.kind), read_only=True)
        # ``period`` itself: another run froze it since we looked; our figures are dropped
        # (the freeze writes once) and the stored ones are paid.
        if last is not None and last.period != period.id:
            raise PeriodOutOfOrder(
                f"{scope}: periods are distributed in order; the last one was {last.period}"
            )
        return {}

    def _check_period(self, period: Period) -> None:
        if period.kind != self.policy.period_kind:
            raise WrongPeriodKind(f"rakeback periods on this server are {self.policy.period_kind}s")
        if self._store.clock_ms() < period.end_ms + self.policy.settle_delay_ms:
            raise PeriodNotOver(
                f"{period.id} can be settled {self.policy.settle_delay_ms} ms after it ends"
            )

    async def _compute(self, scope: str, period: Period) -> tuple[Settlement, ProgramDoc]:
        self._check_period(period)
        program = await self._program(scope)
        statuses = await self._statuses(scope, period)
        totals, _, _ = await self._rake(scope, period, self.policy.method)
        return settle(program, totals, statuses), _program_doc(program, self.policy.method)

    # -- staff: preview, distribute, verify ---------------------------------------------------

    async def preview(self, scope: str, period: Period) -> Preview:
        """What distributing the period would pay (or, once frozen, what it pays)."""
        stored = await self._store.run(partial(db.get_period, scope, period.id), read_only=True)
        if stored is not None:
            rows = await self._store.run(partial(db.accruals, scope, period.id), read_only=True)
            return _preview(stored, rows, True)
        s, doc = await self._compute(scope, period)
        row = _period_row(scope, period, s, doc, self._store.clock_ms())
        return _preview(msgspec.structs.replace(row, state="open"), _rows(scope, period, s), False)

    async def distribute(self, scope: str, period: Period, audit_as: AuditStamp) -> Distribution:
        """Freeze (once), fund, pay and close the period: see the module docstring."""
        store = self._store
        stored = await store.run(partial(db.get_period, scope, period.id), read_only=True)
        if stored is None:
            s, doc = await self._compute(scope, period)
            row = _period_row(scope, period, s, doc, store.clock_ms())
            rows = _rows(scope, period, s)

            def freeze() -> Work[Change[bool]]:
                done = yield from db.freeze(row, rows)
                summary = _summary(row)
                step = "frozen" if done else "resumed"  # another run froze it first
                return Change(done, before=None, after={**summary, "step": step})

            await store.run_audited(audit_as, freeze)
            stored = await store.run(partial(db.get_period, scope, period.id), read_only=True)
            assert stored is not None
        else:
            await store.append_audit(audit_as, before=None,
                                     after={**_summary(stored), "step": "resumed"})  # fmt: skip
        owner = _owner(scope)
        funding: tuple[tuple[str, int, str], ...] = (
            ("cash", stored.funding_cash, RAKE),
            ("tournament", stored.funding_tournament, FEES),
        )
        for source, amount, kind in funding:
            if amount > 0:
                await self._wallet.move(
                    f"rakeback_fund:{scope}:{period.id}:{source}", "rakeback_fund",
                    house_account(kind), rakeback_account(owner), amount,
                    memo=f"rakeback {scope} {period.id}: {source}",
                )  # fmt: skip
        made = 0  # accruals paid by this run (a resumed run finds some paid already)
        rows = await store.run(partial(db.accruals, scope, period.id), read_only=True)
        for r in rows:
            if r.amount == 0 or r.transfer_id is not None:
                continue
            kind = "rakeback" if r.kind == "rakeback" else "agent_commission"
            record = await self._wallet.move(
                f"{kind}:{scope}:{period.id}:{r.beneficiary_id}", kind, rakeback_account(owner),
                wallet(r.beneficiary_id), r.amount, memo=f"{r.kind} {scope} {period.id}",
            )  # fmt: skip
            await store.run(
                partial(
                    db.mark_paid,
                    scope,
                    period.id,
                    r.beneficiary_id,
                    r.kind,
                    record.id,
                    store.clock_ms(),
                )
            )
            made += 1
        closed = await store.run(partial(db.close, scope, period.id, store.clock_ms()))
        rows = await store.run(partial(db.accruals, scope, period.id), read_only=True)
        result = Distribution(
            scope, period.id, closed.state, made,
            sum(r.amount for r in rows if r.kind == "rakeback" and r.transfer_id is not None),
            sum(r.amount for r in rows if r.kind == "commission" and r.transfer_id is not None),
        )  # fmt: skip
        await store.append_audit(
            audit_as, before=None, after={**msgspec.structs.asdict(result), "step": "closed"}
        )
        return result

    async def verify(self, scope: str, period: Period) -> Verification:
        """Recompute the period hand by hand from the stored hand records (and fee
        transfers), under the program stored with it, and compare with what was accrued and
        what the ledger paid. Each disagreement is one line in ``problems``."""
        store = self._store
        problems: list[str] = []
        stored = await store.run(partial(db.get_period, scope, period.id), read_only=True)
        if stored is None:
            return Verification(scope, period.id, 0, 0, 0, [f"{period.id} was never distributed"])
        doc = msgspec.json.decode(stored.program_json, type=ProgramDoc)
        method: AttributionMethod = "dealt" if doc.method == "dealt" else "weighted"
        previous = period.previous()
        statuses = await store.run(partial(db.statuses, scope, previous.id), read_only=True)
        totals, hands, shares = await self._rake(scope, period, method)
        second = await store.run(
            partial(db.shares_by_player, scope, period.start_ms, period.end_ms), read_only=True
        )
        if second != shares:
            problems.append("hand_players shares disagree with the hand records' shares")
        s = settle(doc.program(), totals, statuses)
        expected = {(r.beneficiary_id, r.kind): r for r in _rows(scope, period, s)}
        rows = await store.run(partial(db.accruals, scope, period.id), read_only=True)
        found = {(r.beneficiary_id, r.kind): msgspec.structs.replace(r, transfer_id=None)
                 for r in rows}  # fmt: skip
        for key in sorted(set(expected) | set(found)):
            if expected.get(key) != found.get(key):
                problems.append(
                    f"accrual {key}: recomputed {expected.get(key)}, stored {found.get(key)}"
                )
        figures = ("rake_cash", "rake_tournament", "funding_cash", "funding_tournament", "paid",
                   "house_kept", "payer_kept")  # fmt: skip
        recomputed = _period_row(scope, period, s, doc, 0)
        for name in figures:
            if getattr(recomputed, name) != getattr(stored, name):
                problems.append(f"period {name}: recomputed {getattr(recomputed, name)},"
                                f" stored {getattr(stored, name)}")  # fmt: skip
        paid = await self._check_paid(scope, period, stored, rows, problems)
        accrued = s.paid
        return Verification(scope, period.id, hands, accrued, paid, problems)

    async def _check_paid(
        self, scope: str, period: Period, stored: PeriodRow, rows: list[AccrualRow],
        problems: list[str],
    ) -> int:  # fmt: skip
        owner = _owner(scope)
        keys = {
            (r.beneficiary_id, r.kind): ("rakeback" if r.kind == "rakeback" else "agent_commission")
            + f":{scope}:{period.id}:{r.beneficiary_id}"
            for r in rows
        }
        fund_keys: dict[str, str] = {s: f"rakeback_fund:{scope}:{period.id}:{s}" for s in SOURCES}
        found = await self._store.run(
            partial(db.transfers_by_keys, [*keys.values(), *fund_keys.values()]), read_only=True
        )
        paid = 0
        closed = stored.state == "closed"
        for r in rows:
            t = found.get(keys[(r.beneficiary_id, r.kind)])
            if t is None:
                if r.amount and closed:
                    problems.append(f"{r.kind} of {r.beneficiary_id}: no transfer")
                continue
            good = (t.amount == r.amount and t.state == "posted" and t.debit == ("rakeback", owner)
                    and t.credit == ("wallet", str(r.beneficiary_id))
                    and r.transfer_id in (None, t.id))  # fmt: skip
            if not good:
                problems.append(f"{r.kind} of {r.beneficiary_id}: transfer {t} for {r.amount}")
            paid += t.amount
        for source, amount in (("cash", stored.funding_cash),
                               ("tournament", stored.funding_tournament)):  # fmt: skip
            t = found.get(fund_keys[source])
            moved = t.amount if t is not None and t.state == "posted" else 0
            if moved != amount and (closed or t is not None):
                problems.append(f"funding {source}: {moved} moved, {amount} due")
        return paid

    # -- players and agents -------------------------------------------------------------------

    async def statement(self, player_id: int, limit: int = 50) -> list[StatementLine]:
        """The player's rakeback and, as an agent, commission: accrued and paid, by period,
        program and source, newest period first."""
        rows = await self._store.run(partial(db.accruals_of, player_id, limit), read_only=True)
        return [_line(r) for r in rows]

    def tiers(self) -> TierTable:
        """The house's tier table, as shown to players."""
        return self.policy.house_tiers


def _line(r: AccrualRow) -> StatementLine:
    return StatementLine(
        r.scope, r.period, r.kind, r.rake_cash, r.rake_tournament, r.rate_bp, r.amount_cash,
        r.amount_tournament, r.amount, r.amount if r.transfer_id is not None else 0,
        r.transfer_id, r.paid_tier if r.kind == "rakeback" else None,
    )  # fmt: skip


def _summary(row: PeriodRow) -> dict[str, object]:
    out = msgspec.structs.asdict(row)
    out.pop("program_json")
    return out


def _preview(row: PeriodRow, rows: list[AccrualRow], frozen: bool) -> Preview:
    return Preview(
        row.scope, row.period, frozen, row.state, row.rake_cash, row.rake_tournament,
        row.funding_cash, row.funding_tournament, row.paid, row.house_kept, row.payer_kept, rows,
    )  # fmt: skip
