"""One owner per table across nodes (docs/scaling.md): a lease in Redis, and a fencing epoch
in the database that every snapshot write of the table checks.

The lease (``<prefix>lease:<actor id>``, value: the node's name) is taken with SET NX PX,
renewed by its holder before it expires, and deleted by its holder on a clean stop. Redis
alone cannot stop a holder that was paused (GC, SIGSTOP, a stalled VM) past its lease from
writing once it wakes up, after another node took the lease: the fence does. Whoever takes
the lease then takes the next epoch in ``actor_fences``; a snapshot write carrying an older
epoch is refused in the transaction that would have written it (``save_fenced_snapshots``,
the fence row locked against a concurrent take), so the paused owner's writes land nowhere.

Redis calls raise persistence.redis_link.RedisDown when Redis does not answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any, Final, TypeVar, final

from persistence.domain_events import TABLE_EPOCH_PREFIX, TABLE_TOMBSTONE_PREFIX
from persistence.ledger import TransferCheck, TransferOutcome, TransferRequest, transfer
from persistence.redis_link import RedisLink
from persistence.snapshots import Snapshot, check_snapshot, save_snapshots
from persistence.work import Query, Work, WorkFactory

T = TypeVar("T")

LEASES_PER_RENEWAL_MAX: Final = 500  # leases per pipeline when renewing
# A table's escrow account (services/ledger.escrow): kind "escrow", owner the table actor's
# name (actors/addresses.TableAddress), whose fence is the table id.
ESCROW_KIND: Final = "escrow"
TABLE_ACTOR_PREFIX: Final = "table:"

# KEYS[1]: the lease. ARGV: node, ttl ms. Renew if held by node; else take it if free.
# Returns 1 (renewed), 2 (taken again after it lapsed), 0 (another node holds it).
_RENEW_LUA: Final = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0
"""

# KEYS[1]: the lease. ARGV: node. Deletes it only if node holds it.
_RELEASE_LUA: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Fenced(Exception):
    """A write carried an epoch older than the actor's current one: another node owns it."""

    code = "fenced"

    def __init__(self, actor_id: str, epoch: int, current: int) -> None:
        super().__init__(f"{actor_id}: epoch {epoch} is fenced off (current {current})")
        self.actor_id = actor_id
        self.epoch = epoch
        self.current = current


def fence_key(actor_id: str) -> str:
    """The fence a snapshot id falls under: a table's own snapshot and its epoch and
    tombstone records (persistence/domain_events.py) share the table's fence."""
    for prefix in (TABLE_EPOCH_PREFIX, TABLE_TOMBSTONE_PREFIX):
        if actor_id.startswith(prefix):
            return actor_id.removeprefix(prefix)
    return actor_id


# --- the database side ------------------------------------------------------------------


def take_fence(actor_id: str, owner: str, now_ms: int) -> Work[int]:
    """The next epoch of ``actor_id``'s fence, now ``owner``'s (call with the lease held)."""
    rows = yield Query(
        "INSERT INTO actor_fences (actor_id, epoch, owner, taken_at_ms) VALUES ($1, 1, $2, $3)"
        " ON CONFLICT (actor_id) DO UPDATE SET epoch = actor_fences.epoch + 1,"
        " owner = excluded.owner, taken_at_ms = excluded.taken_at_ms RETURNING epoch",
        (actor_id, owner, now_ms),
    )
    return int(rows[0][0])


def current_fence(actor_id: str) -> Work[int]:
    """The actor's current epoch (0: never fenced)."""
    rows = yield Query("SELECT epoch FROM actor_fences WHERE actor_id = $1", (actor_id,))
    return int(rows[0][0]) if rows else 0


def _locked_epoch(actor_id: str) -> Work[int]:
    # Locked until commit: a take_fence of another node waits for this transaction, so the
    # check and the write below are one step for it (PostgreSQL; SQLite serializes writers).
    rows = yield Query(
        "SELECT f.epoch FROM actor_fences f WHERE f.actor_id = $1", (actor_id,), lock="f"
    )
    return int(rows[0][0]) if rows else 0


def save_fenced_snapshots(
    batch: list[Snapshot], epochs: dict[str, int], now_ms: int
) -> Work[tuple[list[bool], list[str]]]:
    """save_snapshots, each item only while its writer's epoch of its fence (``fence_key``;
    ``epochs``: the node's, absent: none) is the current one. An actor that was never
    fenced (no row) is written as usual; one fenced by another node is not written by a
    node that holds no epoch of it either. Per item, True if it landed, and the fences
    found taken by another node (their items are not written); a landed False otherwise is
    a stale version, as save_snapshots says."""
    for snapshot in batch:
        check_snapshot(snapshot)
    allowed: list[bool] = []
    checked: dict[str, bool] = {}
    for snapshot in batch:
        key = fence_key(snapshot.actor_id)
        if key not in checked:
            checked[key] = (yield from _locked_epoch(key)) == epochs.get(key, 0)
        allowed.append(checked[key])
    to_write = [s for s, ok in zip(batch, allowed, strict=True) if ok]
    written = iter((yield from save_snapshots(to_write, now_ms)) if to_write else [])
    landed = [next(written) if ok else False for ok in allowed]
    return landed, sorted(key for key, current in checked.items() if not current)


def escrow_fence(request: TransferRequest) -> str | None:
    """The table whose escrow ``request`` moves chips into or out of (a buy-in, a top-up, a
    cash-out, its rake), or None: its fence guards the transfer as it guards the table's
    snapshots."""
    for ref in (request.debit, request.credit):
        if ref.kind == ESCROW_KIND and ref.owner.startswith(TABLE_ACTOR_PREFIX):
            return ref.owner.removeprefix(TABLE_ACTOR_PREFIX)
    return None


TOURNAMENT_KEY_PREFIX: Final = "tournament:"  # services/tournaments.py's keys and actor names


def transfer_fence(request: TransferRequest) -> str | None:
    """The fence that guards ``request``: its table's (``escrow_fence``) or, for a
    tournament's transfer (every one is keyed ``tournament:<id>:<op>``,
    services/tournaments.py), the tournament actor's ``tournament:<id>``; None otherwise.
    Only a fence this node holds an epoch of is checked (Store.ledger_transfer)."""
    table = escrow_fence(request)
    if table is not None:
        return table
    if request.key.startswith(TOURNAMENT_KEY_PREFIX):
        number = request.key.removeprefix(TOURNAMENT_KEY_PREFIX).split(":", 1)[0]
        if number.isdigit():
            return f"{TOURNAMENT_KEY_PREFIX}{number}"
    return None


def fenced_unit(fence: str, epoch: int, work: WorkFactory[T]) -> Work[T]:
    """``work``, only while ``epoch`` is ``fence``'s current epoch: the fence row is locked
    first (a take_fence of another node waits for this transaction), so an owner paused past
    its lease writes nothing of the table once another node fenced it. Raises Fenced
    (nothing written) otherwise."""
    current = yield from _locked_epoch(fence)
    if current != epoch:
        raise Fenced(fence, epoch, current)
    return (yield from work())


def fenced_transfer(
    fence: str,
    epoch: int,
    request: TransferRequest,
    now_ms: int,
    negative_kinds: frozenset[str],
    check: TransferCheck,
) -> Work[TransferOutcome]:
    """persistence.ledger.transfer under ``fenced_unit``: an owner paused past its lease
    moves no chip of the table once another node fenced it."""
    return (
        yield from fenced_unit(
            fence, epoch, partial(transfer, request, now_ms, negative_kinds, check)
        )
    )


@final
class NodeFences:
    """The epochs this node holds, by fence (table id). The store's snapshot writes check
    them (persistence/store.py); a lost lease takes its entry out."""

    def __init__(self) -> None:
        self._epochs: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._epochs)

    def hold(self, key: str, epoch: int) -> None:
        self._epochs[key] = epoch

    def drop(self, key: str) -> None:
        self._epochs.pop(key, None)

    def epoch(self, key: str) -> int | None:
        return self._epochs.get(key)

    def covering(self, batch: Iterable[Snapshot]) -> dict[str, int]:
        """The epochs that apply to ``batch`` (empty: it writes as without fences)."""
        keys = {fence_key(s.actor_id) for s in batch}
        return {key: self._epochs[key] for key in keys if key in self._epochs}


# --- the Redis side ---------------------------------------------------------------------


@final
class RedisLeases:
    """Leases of one node, under ``<prefix>lease:``."""

    def __init__(self, link: RedisLink, prefix: str, node: str, ttl_ms: int) -> None:
        self._link = link
        self._prefix = prefix
        self.node = node
        self.ttl_ms = ttl_ms

    def _key(self, actor_id: str) -> str:
        return f"{self._prefix}lease:{actor_id}"

    async def acquire(self, actor_id: str) -> bool:
        """SET NX PX: True if this node holds the lease now (it was free)."""
        key = self._key(actor_id)

        async def run(client: Any) -> bool:
            return bool(await client.set(key, self.node, nx=True, px=self.ttl_ms))

        return await self._link.shared(run)

    async def renew(self, actor_ids: list[str]) -> dict[str, int]:
        """Per lease: 1 renewed, 2 taken again after it lapsed (nobody else took it), 0
        another node holds it."""
        out: dict[str, int] = {}
        for start in range(0, len(actor_ids), LEASES_PER_RENEWAL_MAX):
            batch = actor_ids[start : start + LEASES_PER_RENEWAL_MAX]

            async def run(client: Any, batch: list[str] = batch) -> list[int]:
                script = client.register_script(_RENEW_LUA)
                async with client.pipeline(transaction=False) as pipe:
                    for actor_id in batch:
                        await script(
                            keys=[self._key(actor_id)], args=[self.node, self.ttl_ms], client=pipe
                        )
                    found: list[int] = await pipe.execute()
                    return found

            for actor_id, result in zip(batch, await self._link.shared(run), strict=True):
                out[actor_id] = int(result)
        return out

    async def release(self, actor_ids: list[str]) -> None:
        """Delete the leases this node holds (a clean stop): others may take them at once."""
        if not actor_ids:
            return

        async def run(client: Any) -> None:
            script = client.register_script(_RELEASE_LUA)
            async with client.pipeline(transaction=False) as pipe:
                for actor_id in actor_ids:
                    await script(keys=[self._key(actor_id)], args=[self.node], client=pipe)
                await pipe.execute()

        await self._link.shared(run)

    async def holders(self, actor_ids: list[str]) -> dict[str, str | None]:
        """Who holds each lease (None: free), for /cluster and tests."""
        keys = [self._key(a) for a in actor_ids]
        if not keys:
            return {}

        async def run(client: Any) -> list[bytes | None]:
            found: list[bytes | None] = await client.mget(keys)
            return found

        found = await self._link.shared(run)
        return {
            actor_id: (value.decode() if isinstance(value, bytes) else value)
            for actor_id, value in zip(actor_ids, found, strict=True)
        }
