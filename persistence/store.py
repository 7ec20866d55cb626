"""The store: one interface over both backends, and ``open_store(url)``.

Every operation is a unit of work from the per-domain modules (accounts, snapshots, hands,
ledger) run in one transaction by the backend's ``run``. A backend only implements ``run`` and
``migrate``; the operations themselves are written once, so both backends behave alike by
construction, and the shared contract suite (tests/persistence) checks that they do.

An operator's change and its audit entry are one unit too (``run_audited``; the ``audit_as``
arguments below): the entry is written in the change's own transaction, so both land or
neither does. So are a change and its domain events (``outbox.with_events`` with the mappings
of persistence/domain_events.py; docs/events.md).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

from persistence import (
    accounts,
    audit,
    domain_events,
    hands,
    ledger,
    outbox,
    players,
    sessions,
    snapshots,
)
from persistence.accounts import Account
from persistence.audit import AuditEntry, AuditStamp, Change
from persistence.hands import HandRecord, HandSummary, RakePaid
from persistence.leases import (
    Fenced,
    NodeFences,
    fenced_transfer,
    fenced_unit,
    save_fenced_snapshots,
    transfer_fence,
)
from persistence.ledger import (
    AccountRef,
    ClaimDecision,
    LedgerAccount,
    LedgerAudit,
    PendingAction,
    PlayerRules,
    PlayerState,
    PoolFigures,
    ResolveHook,
    ResolveOutcome,
    RulesChange,
    StatementTotal,
    TransferCheck,
    TransferOutcome,
    TransferRecord,
    TransferRequest,
)
from persistence.ledger_batch import TransferBatcher, TransferItem
from persistence.migrations import Dialect
from persistence.players import HandApplied
from persistence.replica import REPLICA_MAX_LAG_MS_DEFAULT
from persistence.snapshots import Snapshot, SnapshotConflict
from persistence.work import Query, Work, WorkFactory

T = TypeVar("T")
Clock = Callable[[], int]  # milliseconds since the epoch
SNAPSHOTS_PER_KIND_MAX = 100_000  # bound: recovery refuses (RuntimeError) beyond this many


class StoreUnavailable(Exception):
    """The database did not answer within the store's retry bound (docs/scaling.md,
    "PostgreSQL unreachable"), or the connection broke while a COMMIT was under way, so
    whether the unit landed is unknown (never retried: a snapshot's version or a hand's id
    would find its own first write). Nothing is known written; callers crash or refuse."""

    code = "store_unavailable"


def _ping() -> Work[None]:
    yield Query("SELECT 1")


def _save_and_count(hand: HandRecord, now_ms: int) -> Work[tuple[bool, HandApplied | None]]:
    stored = yield from hands.save_hand(hand)
    applied = (yield from players.apply_hand(hand, now_ms)) if stored else None
    return stored, applied


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class Store(ABC):
    """Storage for accounts, snapshots, hand histories and the ledger."""

    dialect: ClassVar[Dialect]

    def __init__(self, clock_ms: Clock) -> None:
        self.clock_ms = clock_ms
        # Told after a stored hand was counted (level-ups to sessions, scores to Redis). A hook
        # must not raise for its own failures: the hand is stored and counted by then.
        self.hand_hooks: list[Callable[[HandApplied], Awaitable[None]]] = []
        self.transfers = TransferBatcher(
            self.run, clock_ms, single=self._transfer_in_one_statement, moved=self._ledger_moved
        )
        # The fencing epochs of the tables this node owns (persistence/leases.py): their
        # snapshot writes land only while the epoch is current. None: a node alone.
        self.fences: NodeFences | None = None
        # Told the tables whose snapshot write was fenced off (another node owns them now).
        self.on_fenced: Callable[[list[str]], None] | None = None

    @abstractmethod
    async def run(self, work: WorkFactory[T], *, read_only: bool = False) -> T:
        """Run one unit of work in one transaction; its exception rolls it back.

        ``read_only=True``: the unit only reads, and its statements need not share one
        snapshot; each runs on its own (autocommit), which saves BEGIN and COMMIT.
        """

    async def run_may_lag(self, work: WorkFactory[T]) -> T:
        """A read-only unit whose answer may be a little behind the latest commit: on a read
        replica when one is configured and answering, else (and on SQLite) on the primary.

        Only for what the issue of read replicas lists: hand histories, statistics,
        leaderboards, statements. Anything that decides money or seats uses ``run``.
        """
        return await self.run(work, read_only=True)

    @abstractmethod
    async def migrate(self) -> list[int]:
        """Apply pending migrations; return the versions applied now."""

    async def _transfer_in_one_statement(
        self, item: TransferItem, now_ms: int
    ) -> TransferOutcome | None:
        """A backend's shortcut for a lone transfer; None: run the full unit of work."""
        return None

    def _ledger_moved(self, refs: Iterable[AccountRef]) -> None:
        """A full unit of work is about to move these accounts (the shortcut's cache hint)."""
        return None

    # -- accounts -------------------------------------------------------------------------

    async def create_account(self, name: str, password_hash: str, role: str) -> Account:
        """Raises AccountExists if the name (ignoring case) is taken."""
        now_ms = self.clock_ms()
        create = partial(accounts.create_account, name, password_hash, role, now_ms)
        return await self.run(partial(outbox.with_events, create, domain_events.registered, now_ms))

    async def get_account_by_name(self, name: str) -> Account | None:
        return await self.run(partial(accounts.get_account_by_name, name), read_only=True)

    async def get_account(self, account_id: int) -> Account | None:
        return await self.run(partial(accounts.get_account, account_id), read_only=True)

    async def set_account_banned(
        self, account_id: int, banned: bool, *, audit_as: AuditStamp | None = None
    ) -> Account | None:
        """None: no such account. With ``audit_as``, the ban and its audit entry (the account
        before and after) are one transaction; an unknown account writes no entry."""
        change = partial(domain_events.set_banned_change, account_id, banned, self.clock_ms())
        if audit_as is None:
            done = await self.run(change)
            return done.result
        account, _ = await self.run_audited(audit_as, change)
        return account

    async def set_password_hash(self, account_id: int, password_hash: str) -> Account | None:
        return await self.run(partial(accounts.set_password_hash, account_id, password_hash))

    async def search_accounts(
        self, prefix: str, after_id: int | None = None, limit: int = 50
    ) -> list[Account]:
        return await self.run(
            partial(accounts.search_accounts, prefix, after_id, limit), read_only=True
        )

    # -- sessions (revocations) -------------------------------------------------------------

    async def revoke_session(self, session_id: str, player: str, expires_at_ms: int) -> None:
        """Refuse the session's tokens from now until ``expires_at_ms`` (logout, ban)."""
        await self.run(
            partial(sessions.revoke_session, session_id, player, self.clock_ms(), expires_at_ms)
        )

    async def token_login(self, name: str, session_id: str) -> tuple[Account | None, bool]:
        """The account named ``name`` (or None) and whether ``session_id`` is revoked."""
        return await self.run(
            partial(sessions.token_login, name, session_id, self.clock_ms()), read_only=True
        )

    async def ping(self) -> None:
        """One round trip to the database (readiness)."""
        await self.run(_ping, read_only=True)

    # -- audit log ------------------------------------------------------------------------

    async def append_audit(self, stamp: AuditStamp, *, before: Any, after: Any) -> AuditEntry:
        """An entry on its own: for changes that are not SQL (a table actor's pause), which
        log their intent before and their outcome after (docs/admin.md)."""
        now_ms = self.clock_ms()
        append = partial(audit.append_stamped, stamp, now_ms, before, after)
        events = domain_events.audit_appended(stamp, after)
        return await self.run(partial(outbox.with_events, append, events, now_ms))

    async def run_audited(
        self, stamp: AuditStamp, change: WorkFactory[Change[T]]
    ) -> tuple[T, AuditEntry | None]:
        """Run a change and write its audit entry in one transaction: both or neither.

        ``change`` is a unit of work returning a :class:`Change` (its result, the record before
        and after); anything it or the entry's insert raises rolls back both.
        """
        return await self.run(partial(audit.audited, change, stamp, self.clock_ms()))

    async def list_audit(
        self, target: str | None = None, before_id: int | None = None, limit: int = 50
    ) -> list[AuditEntry]:
        return await self.run(partial(audit.list_audit, target, before_id, limit), read_only=True)

    # -- snapshots ------------------------------------------------------------------------

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        """Raises SnapshotConflict unless ``snapshot.version`` is newer than the stored one."""
        (landed,) = await self.save_snapshots([snapshot])
        if not landed:
            raise SnapshotConflict(snapshot.actor_id, snapshot.version)

    async def save_snapshots(self, batch: list[Snapshot]) -> list[bool]:
        """One transaction for the batch; per item, False if a newer version is stored."""
        now_ms = self.clock_ms()
        events = domain_events.snapshots_written(batch)
        if self.fences is None:
            save = partial(snapshots.save_snapshots, batch, now_ms)
            return await self.run(partial(outbox.with_events, save, events, now_ms))
        epochs = self.fences.covering(batch)
        fenced_save = partial(save_fenced_snapshots, batch, epochs, now_ms)
        landed, fenced = await self.run(
            partial(outbox.with_events, fenced_save, lambda result: events(result[0]), now_ms)
        )
        if fenced and self.on_fenced is not None:
            self.on_fenced(fenced)
        return landed

    async def load_snapshot(self, actor_id: str) -> Snapshot | None:
        return await self.run(partial(snapshots.load_snapshot, actor_id), read_only=True)

    async def load_snapshots(self, kind: str) -> list[Snapshot]:
        """Every snapshot of a kind (recovery at start-up), ordered by actor id."""
        found: list[Snapshot] = []
        after = ""
        while True:
            page = await self.run(
                partial(snapshots.load_snapshots_page, kind, after), read_only=True
            )
            found.extend(page)
            if len(found) > SNAPSHOTS_PER_KIND_MAX:
                raise RuntimeError(f"more than {SNAPSHOTS_PER_KIND_MAX} {kind} snapshots")
            if len(page) < snapshots.SNAPSHOTS_PAGE_MAX:
                return found
            after = page[-1].actor_id

    async def delete_snapshot(self, actor_id: str, version: int) -> bool:
        return await self.run(partial(snapshots.delete_snapshot, actor_id, version))

    # -- hand histories -------------------------------------------------------------------

    async def save_hand(self, hand: HandRecord) -> bool:
        """False if this hand id was stored before (a retry); the first write wins.

        The hand's statistics, experience and scores are counted in the same transaction
        (persistence/players.py, each hand once), with its table.hand_finished event;
        ``hand_hooks`` then hear what changed.

        With fences (several nodes): a hand of a table this node holds an epoch of is
        stored only while that epoch is current (``fenced_unit``), as the table's snapshots
        and transfers are; a table fenced by another node since raises Fenced, stores
        nothing, and ``on_fenced`` hears of it."""
        now_ms = self.clock_ms()
        events = domain_events.hand_finished(hand)
        save: WorkFactory[tuple[bool, HandApplied | None]] = partial(_save_and_count, hand, now_ms)
        epoch = self.fences.epoch(hand.table_id) if self.fences is not None else None
        if epoch is not None:
            save = partial(fenced_unit, hand.table_id, epoch, save)
        try:
            stored, applied = await self.run(
                partial(outbox.with_events, save, lambda result: events(result[0]), now_ms)
            )
        except Fenced:
            if self.on_fenced is not None:
                self.on_fenced([hand.table_id])
            raise
        if applied is not None:
            for hook in self.hand_hooks:
                await hook(applied)
        return stored

    async def get_hand(self, hand_id: str, *, may_lag: bool = False) -> HandRecord | None:
        """``may_lag``: read a replica; a hand it does not have yet is looked up on the
        primary, so lag never turns a stored hand into an unknown one."""
        work = partial(hands.get_hand, hand_id)
        if may_lag:
            found = await self.run_may_lag(work)
            if found is not None:
                return found
        return await self.run(work, read_only=True)

    async def hands_by_table(
        self,
        table_id: str,
        before_seq: int | None = None,
        limit: int = 50,
        *,
        may_lag: bool = False,
    ) -> list[HandSummary]:
        """``may_lag``: from a replica, whose newest hands may not have arrived yet."""
        return await self._read(partial(hands.hands_by_table, table_id, before_seq, limit), may_lag)

    async def hands_by_player(
        self,
        player_id: int,
        before_seq: int | None = None,
        limit: int = 50,
        *,
        may_lag: bool = False,
    ) -> list[HandSummary]:
        """``may_lag``: from a replica, whose newest hands may not have arrived yet."""
        return await self._read(
            partial(hands.hands_by_player, player_id, before_seq, limit), may_lag
        )

    async def _read(self, work: WorkFactory[T], may_lag: bool) -> T:
        return await (self.run_may_lag(work) if may_lag else self.run(work, read_only=True))

    async def rake_paid(
        self, player_id: int, from_ms: int, to_ms: int, asset: str = "chips"
    ) -> RakePaid:
        """The player's share of the rake of the hands that ended in [from_ms, to_ms)."""
        return await self.run(
            partial(hands.rake_paid, player_id, from_ms, to_ms, asset), read_only=True
        )

    # -- ledger (the rules live in services/ledger.py; services/wallet.py calls these) ------

    async def ledger_transfer(
        self, request: TransferRequest, negative_kinds: frozenset[str], check: TransferCheck
    ) -> TransferOutcome:
        """One transfer; concurrent ones share a transaction (see ledger_batch.py), a lone
        one may take the backend's one-statement shortcut (ledger_single.py).

        With fences (several nodes): a transfer into or out of the escrow of a table this
        node holds an epoch of (or a tournament's transfer, ``transfer_fence``) runs alone,
        after checking that epoch in its transaction (``fenced_transfer``); a table fenced
        by another node since raises Fenced, writes nothing, and ``on_fenced`` hears of it
        (the table is given up here)."""
        fence = transfer_fence(request) if self.fences is not None else None
        epoch = self.fences.epoch(fence) if self.fences is not None and fence else None
        if fence is None or epoch is None:
            return await self.transfers.transfer(request, negative_kinds, check)
        async with self.transfers.lock:  # never alongside a batch: see ledger_batch.py
            try:
                return await self.run(
                    partial(
                        fenced_transfer, fence, epoch, request, self.clock_ms(), negative_kinds,
                        check,
                    )
                )  # fmt: skip
            except Fenced:
                if self.on_fenced is not None:
                    self.on_fenced([fence])
                raise
            finally:
                self._ledger_moved((request.debit, request.credit))

    async def ledger_transfer_audited(
        self,
        request: TransferRequest,
        negative_kinds: frozenset[str],
        check: TransferCheck,
        *,
        audit_as: AuditStamp,
        watch: AccountRef,
    ) -> TransferOutcome:
        """One transfer and its audit entry (``watch``'s balances before and after) in one
        transaction. Never batched with others: a batch's database failure would retry its
        items one by one, and the entry belongs to this transfer alone."""
        async with self.transfers.lock:  # never alongside a batch: see ledger_batch.py
            change = partial(
                ledger.transfer_change, request, self.clock_ms(), negative_kinds, check, watch
            )
            try:
                outcome, _ = await self.run_audited(audit_as, change)
            finally:
                self._ledger_moved((request.debit, request.credit))
        return outcome

    async def ledger_resolve(
        self, transfer_id: int, action: PendingAction, hook: ResolveHook
    ) -> ResolveOutcome:
        async with self.transfers.lock:  # never alongside a batch: see ledger_batch.py
            outcome = await self.run(
                partial(ledger.resolve_pending, transfer_id, action, self.clock_ms(), hook)
            )
        if isinstance(outcome, ledger.Resolved):
            self._ledger_moved((outcome.record.debit, outcome.record.credit))
        return outcome

    async def ledger_account(self, ref: AccountRef) -> LedgerAccount | None:
        return await self.run(partial(ledger.get_account, ref), read_only=True)

    async def ledger_transfer_by_id(self, transfer_id: int) -> TransferRecord | None:
        return await self.run(partial(ledger.get_transfer, transfer_id), read_only=True)

    async def ledger_history(
        self, ref: AccountRef, before_id: int | None = None, limit: int = 50
    ) -> list[TransferRecord]:
        return await self.run(partial(ledger.history, ref, before_id, limit), read_only=True)

    async def ledger_rules(self, player_id: int) -> PlayerRules | None:
        return await self.run(partial(ledger.get_rules, player_id), read_only=True)

    async def ledger_change_rules(self, player_id: int, change: RulesChange) -> PlayerRules:
        """Store what ``change`` decides from the player's current rules (row-locked)."""
        return await self.run(
            partial(domain_events.change_rules_with_event, player_id, self.clock_ms(), change)
        )

    async def ledger_player_state(self, player_id: int) -> PlayerState:
        return await self.run(
            partial(ledger.get_player_state, player_id, self.clock_ms()), read_only=True
        )

    async def ledger_claim(
        self,
        player_id: int,
        wallet_ref: AccountRef,
        decide: ClaimDecision,
        negative_kinds: frozenset[str],
        check: TransferCheck,
    ) -> TransferOutcome:
        """A play-money refill decided and made in one transaction (persistence/ledger.py)."""
        async with self.transfers.lock:  # never alongside a batch: see ledger_batch.py
            try:
                return await self.run(
                    partial(
                        ledger.claim, player_id, wallet_ref, self.clock_ms(), decide,
                        negative_kinds, check,
                    )
                )  # fmt: skip
            finally:
                self._ledger_moved((wallet_ref,))

    async def ledger_pool_asset(self, kind: str, owner: str) -> str | None:
        return await self.run(partial(ledger.pool_asset, kind, owner), read_only=True)

    # A statement's three reads take ``may_lag`` together (services/wallet.py): a statement
    # is a report of the past, never a balance anything is decided on.
    async def ledger_balance_at(self, ref: AccountRef, at_ms: int, *, may_lag: bool = False) -> int:
        return await self._read(partial(ledger.balance_at, ref, at_ms), may_lag)

    async def ledger_statement_totals(
        self, ref: AccountRef, from_ms: int, to_ms: int, *, may_lag: bool = False
    ) -> list[StatementTotal]:
        return await self._read(partial(ledger.statement_totals, ref, from_ms, to_ms), may_lag)

    async def ledger_statement_entries(
        self,
        ref: AccountRef,
        from_ms: int,
        to_ms: int,
        after_id: int | None,
        limit: int,
        *,
        may_lag: bool = False,
    ) -> list[TransferRecord]:
        return await self._read(
            partial(ledger.statement_entries, ref, from_ms, to_ms, after_id, limit), may_lag
        )

    async def ledger_audit(self) -> LedgerAudit:
        return await self.run(ledger.audit)

    async def ledger_pools(self, kind: str) -> list[PoolFigures]:
        return await self.run(partial(ledger.pools, kind), read_only=True)


@asynccontextmanager
async def open_store(
    url: str,
    *,
    migrate: bool = True,
    clock_ms: Clock = wall_clock_ms,
    pool_size: int = 10,
    replica_url: str = "",
    replica_max_lag_ms: int = REPLICA_MAX_LAG_MS_DEFAULT,
) -> AsyncIterator[Store]:
    """Open the store named by ``url`` and apply pending migrations (unless ``migrate=False``).

    ``sqlite:///path/to/file`` (directories and file are created) or ``postgresql://...``
    (asyncpg on a trio-asyncio loop: the current one, or one opened here for the store's
    lifetime). Extra query parameters of a PostgreSQL URL become server settings, e.g.
    ``?search_path=myschema``. ``pool_size`` bounds PostgreSQL connections (callers beyond it
    wait for a free connection).

    ``replica_url``: a PostgreSQL streaming replica of ``url`` for ``Store.run_may_lag``
    (persistence/replica.py); refused with SQLite, which has no replicas. Its reads go to the
    primary while it may be more than ``replica_max_lag_ms`` behind.
    """
    scheme = urlsplit(url).scheme
    store: Store
    if replica_url and scheme == "sqlite":
        raise ValueError("a read replica needs a PostgreSQL database URL, not SQLite")
    if scheme == "sqlite":
        from persistence.sqlite import open_sqlite_store

        async with open_sqlite_store(sqlite_path(url), clock_ms) as store:
            if migrate:
                await store.migrate()
            yield store
    elif scheme in ("postgresql", "postgres"):
        from persistence.postgres import open_postgres_store

        async with open_postgres_store(
            url, clock_ms, pool_size, replica_url, replica_max_lag_ms
        ) as store:
            if migrate:
                await store.migrate()
            yield store
    else:
        raise ValueError(f"unsupported database URL {url!r}: expected sqlite:/// or postgresql://")


def sqlite_path(url: str) -> Path:
    """``sqlite:///relative/x.db`` is relative, ``sqlite:////abs/x.db`` absolute (as SQLAlchemy).

    ``Settings.effective_database_url()`` writes ``sqlite:///`` + the path, which may be either.
    """
    rest = url[len("sqlite://") :]
    if not rest.startswith("/"):
        raise ValueError(f"expected sqlite:///PATH, got {url!r}")
    if len(rest) < 2:
        raise ValueError(f"expected sqlite:///PATH, got {url!r}")
    return Path(rest[1:])
