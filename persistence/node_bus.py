"""The node bus: how the nodes of one room send each other messages, over Redis Streams
(docs/scaling.md, "Routing between nodes").

Each node reads one stream, ``<prefix>bus:<node>``, through the consumer group ``bus``
(one group per node's stream; the consumer's name is the node's plus a counter, new each
time the read loop starts). What goes in is opaque to the bus: items (bytes) posted for a
node are batched, and each batch is one stream entry, so the items of one sender to one
node arrive in the order they were posted.

Delivery is at least once, handled once:

- an entry is acknowledged (XACK) after the handler returned, in the same round trip as
  the next read; one read but not acknowledged by a consumer that died (its loop crashed
  and restarted) is claimed by the next consumer (XAUTOCLAIM) once it has been idle for
  ``claim_idle_ms``;
- every entry carries an id (``<sender>:<n>``, unique: a node's name is new at every
  start); the receiver remembers the last ``dedupe_window`` ids it handled and drops a
  repeat (a claimed entry that had been handled, a batch sent again after its XADD's
  answer was lost), counting it in ``duplicates_dropped``.

Bounds and their overflow policies:

- a stream holds about ``stream_entries_max`` entries (XADD MAXLEN ~). Overflow policy
  ``trim-oldest``: Redis drops the oldest entries, read or not; only a node that fell that
  far behind (or is dead) loses anything, and the senders' requests then time out;
- items waiting to be sent to one node: ``outbox_items_max``. Overflow policy
  ``refuse-newest``: ``post`` returns False (the caller refuses the request, drops the
  push) and ``items_refused`` counts it;
- items per entry: ``batch_items_max`` (a longer queue goes as several entries, in order);
- a stream nobody writes to or reads expires ``stream_ttl_ms`` after its last use (a
  dead node's);
- a batch that cannot reach Redis is tried ``send_attempts_max`` times, then dropped
  (``entries_dropped``).

Every Redis call is one pipeline, one crossing of the trio-asyncio loop (RedisLink).
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, final

import msgspec
import redis
import structlog
import trio

from persistence.redis_link import RedisDown, RedisLink

log = structlog.get_logger("tablium.bus")

GROUP: Final = "bus"
OVERFLOW_STREAM: Final = "trim-oldest"
OVERFLOW_OUTBOX: Final = "refuse-newest"
FIELD_ID: Final = b"i"
FIELD_SENDER: Final = b"f"
FIELD_ITEMS: Final = b"p"

# An entry's items: msgpack of a list of bytes.
_items_encoder: Final = msgspec.msgpack.Encoder()
_items_decoder: Final = msgspec.msgpack.Decoder(list[bytes])


@final
@dataclass(frozen=True, slots=True)
class BusSettings:
    stream_entries_max: int = 10_000  # per node's stream, approximately (MAXLEN ~)
    stream_ttl_ms: int = 60_000  # a stream unused this long goes (a dead node's)
    outbox_items_max: int = 20_000  # waiting to be sent, per destination node
    batch_items_max: int = 512  # items per stream entry
    read_count_max: int = 64  # entries per read
    read_block_ms: int = 500  # a read waits this long for an entry (< the link's timeout)
    claim_idle_ms: int = 5_000  # a delivered entry unacknowledged this long is claimed
    claim_period_ms: int = 1_000  # how often the consumer looks for such entries
    dedupe_window: int = 65_536  # entry ids remembered to drop repeats
    send_attempts_max: int = 3


Handler = Callable[[str, list[bytes]], Awaitable[None]]


@final
@dataclass(frozen=True, slots=True)
class Received:
    """One stream entry as read: its stream id, the bus id, its sender and items."""

    stream_id: bytes
    entry_id: str
    sender: str
    items: list[bytes]


def _parse(raw: Sequence[Any]) -> list[Received]:
    out: list[Received] = []
    for stream_id, fields in raw:
        if fields is None:  # deleted (trimmed) while pending: XAUTOCLAIM reports it so
            continue
        out.append(
            Received(
                stream_id,
                fields[FIELD_ID].decode(),
                fields[FIELD_SENDER].decode(),
                _items_decoder.decode(fields[FIELD_ITEMS]),
            )
        )
    return out


@final
class NodeBus:
    """This node's end of the bus: ``post`` items to a node, ``run`` the read loop."""

    def __init__(
        self, link: RedisLink, prefix: str, node: str, settings: BusSettings | None = None
    ) -> None:
        self.link = link
        self.prefix = prefix
        self.node = node
        self.settings = settings or BusSettings()
        self._outbox: dict[str, list[bytes]] = {}
        self._outbox_items = 0
        self._wake = trio.Event()
        self._entry_numbers = itertools.count(1)
        self._consumers = itertools.count(1)
        self._seen: collections.OrderedDict[str, None] = collections.OrderedDict()
        # Metrics (server/gateway_metrics.py reads them at scrape time).
        self.entries_sent = 0
        self.items_sent = 0
        self.entries_received = 0
        self.entries_claimed = 0
        self.duplicates_dropped = 0
        self.items_refused = 0
        self.entries_dropped = 0
        self.send_failures = 0
        self.backlog_entries = 0  # own stream: not yet read + read and unacknowledged

    def stream(self, node: str) -> str:
        return f"{self.prefix}bus:{node}"

    @property
    def outbox_items(self) -> int:
        """Items waiting to be sent, over every destination."""
        return self._outbox_items

    # --- sending ---------------------------------------------------------------------------

    def post(self, node: str, item: bytes) -> bool:
        """Queue ``item`` for ``node`` (sent with the next batch). Never blocks; False when
        that node's queue is full (refuse-newest)."""
        queue = self._outbox.setdefault(node, [])
        if len(queue) >= self.settings.outbox_items_max:
            self.items_refused += 1
            return False
        queue.append(item)
        self._outbox_items += 1
        self._wake.set()
        return True

    async def run_sender(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Send what is posted, every destination's batch in one pipeline, until cancelled."""
        task_status.started()
        while True:
            await self._wake.wait()
            self._wake = trio.Event()
            await self.flush()

    async def flush(self) -> None:
        """Send everything posted so far: one entry per destination (more if its queue is
        longer than batch_items_max), all in one pipeline."""
        if not self._outbox:
            return
        outbox, self._outbox, self._outbox_items = self._outbox, {}, 0
        cap = self.settings.batch_items_max
        entries: list[tuple[str, str, list[bytes]]] = []
        for node, items in outbox.items():
            for start in range(0, len(items), cap):
                entry_id = f"{self.node}:{next(self._entry_numbers)}"
                entries.append((node, entry_id, items[start : start + cap]))
        await self.send_entries(entries)

    async def send_entries(self, entries: Sequence[tuple[str, str, list[bytes]]]) -> None:
        """XADD each (node, entry id, items), retrying a batch whose outcome is unknown
        under the same ids (the receiver drops a repeat)."""
        settings = self.settings
        fields = [
            (
                self.stream(node),
                {
                    FIELD_ID: entry_id.encode(),
                    FIELD_SENDER: self.node.encode(),
                    FIELD_ITEMS: _items_encoder.encode(items),
                },
            )
            for node, entry_id, items in entries
        ]

        async def run(client: Any) -> None:
            pipe = client.pipeline(transaction=False)
            for key, entry in fields:
                pipe.xadd(key, entry, maxlen=settings.stream_entries_max, approximate=True)
                pipe.pexpire(key, settings.stream_ttl_ms)
            await pipe.execute()

        for attempt in range(1, settings.send_attempts_max + 1):
            try:
                await self.link.shared(run)
            except RedisDown as exc:
                self.send_failures += 1
                if attempt == settings.send_attempts_max:
                    self.entries_dropped += len(entries)
                    log.warning("bus entries dropped", entries=len(entries), error=str(exc))
                    return
                await trio.sleep(0.1 * attempt)
                continue
            self.entries_sent += len(entries)
            self.items_sent += sum(len(items) for _, _, items in entries)
            return

    # --- receiving -------------------------------------------------------------------------

    async def run(
        self, handler: Handler, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Read this node's stream until cancelled, calling ``handler(sender, items)`` once
        per entry (repeats dropped), in stream order. Also claims entries a former
        consumer left unacknowledged. Redis down: tries again after the link's breaker."""
        consumer = f"{self.node}:{next(self._consumers)}"
        await self._ensure_group()
        task_status.started()
        to_ack: list[bytes] = []
        next_claim_s = trio.current_time()
        while True:
            if trio.current_time() >= next_claim_s:
                next_claim_s = trio.current_time() + self.settings.claim_period_ms / 1000
                claimed = await self._claim(consumer)
                if claimed is not None:
                    self.entries_claimed += len(claimed)
                    to_ack += await self._handle(claimed, handler)
            read = await self._read(consumer, to_ack)
            if read is None:
                await trio.sleep(0.1)  # Redis down: the link's breaker paces the retries
                continue
            to_ack = await self._handle(read, handler)

    async def _handle(self, entries: list[Received], handler: Handler) -> list[bytes]:
        for entry in entries:
            if entry.entry_id in self._seen:
                self.duplicates_dropped += 1
                continue
            self._seen[entry.entry_id] = None
            while len(self._seen) > self.settings.dedupe_window:
                self._seen.popitem(last=False)
            self.entries_received += 1
            await handler(entry.sender, entry.items)
        return [entry.stream_id for entry in entries]

    async def _ensure_group(self) -> None:
        key = self.stream(self.node)
        ttl_ms = self.settings.stream_ttl_ms

        async def run(client: Any) -> None:
            try:
                await client.xgroup_create(key, GROUP, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            await client.pexpire(key, ttl_ms)

        while True:
            try:
                await self.link.shared(run)
                return
            except RedisDown:
                await trio.sleep(0.5)

    async def _read(self, consumer: str, to_ack: list[bytes]) -> list[Received] | None:
        """Acknowledge ``to_ack``, keep the stream alive, read what is new (waiting up to
        read_block_ms). None when Redis does not answer (the acks are then lost: those
        entries are claimed later and dropped as repeats)."""
        key = self.stream(self.node)
        settings = self.settings

        async def run(client: Any) -> list[Any]:
            pipe = client.pipeline(transaction=False)
            if to_ack:
                pipe.xack(key, GROUP, *to_ack)
            pipe.pexpire(key, settings.stream_ttl_ms)
            pipe.xreadgroup(
                GROUP,
                consumer,
                {key: ">"},
                count=settings.read_count_max,
                block=settings.read_block_ms,
            )
            result: list[Any] = await pipe.execute(raise_on_error=False)
            return result

        try:
            results = await self.link.shared(run)
        except RedisDown:
            return None
        read = results[-1]
        if isinstance(read, redis.ResponseError):
            if "NOGROUP" in str(read):  # the stream expired or was deleted: make it again
                await self._ensure_group()
                return []
            raise read
        if not read:
            return []
        return _parse(read[0][1])

    async def _claim(self, consumer: str) -> list[Received] | None:
        """Entries another consumer of this stream read and left unacknowledged for
        claim_idle_ms, now this consumer's; also the stream's backlog for the metrics."""
        key = self.stream(self.node)
        settings = self.settings

        async def run(client: Any) -> list[Any]:
            pipe = client.pipeline(transaction=False)
            pipe.xautoclaim(
                key,
                GROUP,
                consumer,
                min_idle_time=settings.claim_idle_ms,
                start_id="0-0",
                count=settings.read_count_max,
            )
            pipe.xinfo_groups(key)
            result: list[Any] = await pipe.execute(raise_on_error=False)
            return result

        try:
            claimed, groups = await self.link.shared(run)
        except RedisDown:
            return None
        if isinstance(claimed, redis.ResponseError):
            if "NOGROUP" in str(claimed):
                await self._ensure_group()
                return []
            raise claimed
        if not isinstance(groups, redis.ResponseError):
            for group in groups:
                if group.get("name") in (GROUP, GROUP.encode()):
                    self.backlog_entries = int(group.get("pending") or 0) + int(
                        group.get("lag") or 0
                    )
        return _parse(claimed[1])
