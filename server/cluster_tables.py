"""Which node runs which table (docs/scaling.md, "One owner per table"): this node claims a
table's lease before opening it, keeps its leases renewed, lets them go on a clean stop,
stops a table whose lease another node has taken, and opens a table it found held by
another node once that lease lapses (its owner died, or stopped).

A claim is the lease (Redis, SET NX PX) and then the next fencing epoch (the database),
which the store's snapshot writes of that table carry from then on (persistence/leases.py).
A table whose lease another live node holds is not opened here. Redis not answering at a
claim: the table is not opened (nobody can tell who owns it); at a renewal: the tables
play on (the fence still guards the database) and the next renewal that gets through
re-takes each lease that lapsed meanwhile, unless another node has fenced the table since.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Final, final

import structlog
import trio

from persistence.leases import NodeFences, RedisLeases, current_fence, take_fence
from persistence.redis_link import RedisDown
from persistence.store import Store

log = structlog.get_logger("tablium.cluster")

LOST_TABLES_MAX: Final = 10_000  # remembered for /cluster; overflow: the oldest is forgotten
WAITING_TABLES_MAX: Final = 10_000  # held elsewhere, claimed when free; overflow: oldest go


@final
class TableOwnership:
    """The leases of this node's tables. ``on_lost(table_id)``: stop that table here."""

    def __init__(
        self,
        leases: RedisLeases,
        store: Store,
        fences: NodeFences,
        *,
        on_lost: Callable[[str], Awaitable[None]] | None = None,
        opener: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        self.leases = leases
        self.store = store
        self.fences = fences
        self.on_lost = on_lost
        # Opens a table claimed after start from its stored snapshot (or its seed); False
        # when there is nothing to open (closed for good meanwhile).
        self.opener = opener
        # Tables another node held when this one looked, oldest first: adopt() claims and
        # opens each once its lease is free.
        self.waiting: dict[str, None] = {}
        self.adopted = 0
        self.held: set[str] = set()
        # Tables given up to another node, oldest first (bounded by LOST_TABLES_MAX).
        self.lost: dict[str, None] = {}
        self.refused = 0  # claims refused: another node holds the lease (or Redis is down)
        # A node draining (server/cluster_drain.py) takes no table: it neither adopts the
        # tables it waits for nor claims a new one (a table starting here then stops).
        self.draining = False
        self.handed_over = 0  # tables this node handed to another one while draining
        self.handed_in = 0  # tables a draining node handed to this one (RouteOpen)
        self._nursery: trio.Nursery | None = None

    @property
    def node(self) -> str:
        return self.leases.node

    async def claim(self, table_id: str) -> bool:
        """Take the table's lease and fence: True if this node may open it now."""
        if self.draining:
            self.refused += 1
            return False
        try:
            taken = await self.leases.acquire(table_id)
        except RedisDown as exc:
            if table_id not in self.waiting:
                log.warning("table not opened: redis unreachable", table=table_id, error=str(exc))
            self.refused += 1
            self._wait_for(table_id)
            return False
        if not taken:
            self.refused += 1
            if table_id not in self.waiting:
                log.info("table owned by another node", table=table_id)
            self._wait_for(table_id)
            return False
        epoch = await self.store.run(
            partial(take_fence, table_id, self.node, self.store.clock_ms())
        )
        self.fences.hold(table_id, epoch)
        self.held.add(table_id)
        self.lost.pop(table_id, None)
        self.waiting.pop(table_id, None)
        return True

    async def ensure(self, table_id: str) -> bool:
        """A table starting here (TableDeps.lease): True if this node holds its lease, now
        or already (a seed or taken-over table claimed before it opened, a restart of its
        actor); else claim it, as for a table an operator or the lobby opens after start.
        False: another node owns it (or Redis does not answer), and it waits here."""
        if table_id in self.held:
            return True
        return await self.claim(table_id)

    def _wait_for(self, table_id: str) -> None:
        if table_id in self.held:
            return  # a claim that lost to this node's own (a drain's hand-over and adopt())
        self.waiting[table_id] = None
        while len(self.waiting) > WAITING_TABLES_MAX:
            del self.waiting[next(iter(self.waiting))]

    async def adopt(self) -> list[str]:
        """Claim and open the waiting tables whose lease is free now (their owner stopped
        or died and its lease lapsed): a restart from the stored snapshot, as at start (a
        hand that was running is voided). Returns the tables opened."""
        opened: list[str] = []
        if self.opener is None or self.draining:
            return opened
        for table_id in list(self.waiting):
            if not await self.claim(table_id):
                continue
            if await self.opener(table_id):
                self.adopted += 1
                opened.append(table_id)
                log.warning("table taken over from another node", table=table_id)
            else:  # nothing to open: give the lease back
                self.held.discard(table_id)
                await self.leases.release([table_id])
        return opened

    async def renew(self) -> None:
        """Renew every lease held; give up those another node has taken."""
        if not self.held:
            return
        try:
            results = await self.leases.renew(sorted(self.held))
        except RedisDown as exc:
            log.warning("leases not renewed: redis unreachable", error=str(exc))
            return
        for table_id, result in results.items():
            if result == 0:
                await self._give_up(table_id, "another node holds its lease")
            elif result == 2:
                # The lease lapsed and was free: ours again only if nobody fenced meanwhile.
                current = await self.store.run(partial(current_fence, table_id), read_only=True)
                if current != self.fences.epoch(table_id):
                    await self.leases.release([table_id])
                    await self._give_up(table_id, "another node fenced it while the lease lapsed")

    def fenced(self, table_ids: list[str]) -> None:
        """The store refused a snapshot write of these tables (Store.on_fenced)."""
        for table_id in table_ids:
            if table_id in self.held and self._nursery is not None:
                self._nursery.start_soon(self._give_up, table_id, "its snapshot write was fenced")

    async def _give_up(self, table_id: str, why: str) -> None:
        if table_id not in self.held:
            return
        # The epoch stays in self.fences: whatever this node still tries to write for the
        # table is refused. It leaves only when the table is claimed again.
        self.held.discard(table_id)
        self.lost[table_id] = None
        while len(self.lost) > LOST_TABLES_MAX:
            del self.lost[next(iter(self.lost))]
        self._wait_for(table_id)  # ours again if its new owner goes away in turn
        log.warning("table lost to another node", table=table_id, why=why)
        if self.on_lost is not None:
            await self.on_lost(table_id)

    async def take(self, table_id: str, sender: str) -> bool:
        """A table ``sender`` hands over while it drains (RouteOpen): claim it and open it
        from its snapshot now. True when it is open here, or another node (not the sender)
        holds it (it opened there: a node that waited for it was quicker)."""
        if table_id in self.held:
            return True
        if self.opener is None:
            return False
        if await self.claim(table_id):
            if await self.opener(table_id):
                self.handed_in += 1
                log.info("table handed over by a draining node", table=table_id, by=sender)
                return True
            self.held.discard(table_id)
            await self.leases.release([table_id])
            return False
        try:
            holder = (await self.leases.holders([table_id]))[table_id]
        except RedisDown:
            return False
        # Held by this node (its own adopt() claimed it meanwhile, and opens it) or by
        # another node that is not the sender: open there.
        return holder is not None and holder != sender

    async def let_go(self, table_id: str) -> None:
        """The table stopped here to move to another node (a drain): its lease goes now, so
        that node may claim it at once. Its epoch stays in the fences (nothing this node
        still tries for it lands). RedisDown when Redis does not answer."""
        if table_id not in self.held:
            return
        self.held.discard(table_id)
        self.handed_over += 1
        await self.leases.release([table_id])

    async def release_all(self) -> None:
        """A clean stop: the leases go at once, so another node may open the tables."""
        held, self.held = sorted(self.held), set()
        try:
            await self.leases.release(held)
        except RedisDown as exc:
            log.warning("leases not released: they lapse by themselves", error=str(exc))

    async def run(
        self, *, task_status: trio.TaskStatus[TableOwnership] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Renew every third of the lease's life until cancelled; then release them all."""
        period_s = self.leases.ttl_ms / 3 / 1000
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                task_status.started(self)
                while True:
                    await trio.sleep(period_s)
                    await self.renew()
                    await self.adopt()
        finally:
            self._nursery = None
            with trio.CancelScope(shield=True), trio.move_on_after(2):
                await self.release_all()
