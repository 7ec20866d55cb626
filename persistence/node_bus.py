"""The node bus: how the nodes of one room send each other messages, over Redis Streams
(docs/scaling.md, "Routing between nodes").

Each node reads one stream, ``<prefix>bus:<node>``, through the consumer group ``bus``
(one group per node's stream; the consumer's name is the node's plus a counter, new each
time the read loop starts). What goes in is opaque to the bus: items (bytes) posted for a
node are batched, and each batch is one stream entry, so the items of one sender to one
node arrive in the order they were posted.

Delivery is at least once, handled once:

- an entry is acknowledged (XACK) after the handler returned, with the next batch sent
  (or the next read, whichever comes first); one read but not acknowledged by a consumer
  that died (its loop crashed and restarted) is claimed by the next consumer
  (XAUTOCLAIM) once it has been idle for ``claim_idle_ms``;
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

import asyncio
import collections
import itertools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, final

import msgspec
import redis
import structlog
import trio

from persistence.redis_link import RedisLink

log = structlog.get_logger("tablium.bus")

GROUP: Final = "bus"
OVERFLOW_STREAM: Final = "trim-oldest"
OVERFLOW_OUTBOX: Final = "refuse-newest"
FIELD_ID: Final = b"i"
FIELD_SENDER: Final = b"f"
FIELD_ITEMS: Final = b"p"

INBOX_BATCHES_MAX: Final = 64  # reads handed to the trio side, not handled yet
READ_RETRY_S: Final = 0.5  # after a read that Redis did not answer
HANDOVER_RETRY_S: Final = 0.002  # while the trio side's inbox is full
_REDIS_DOWN: Final = (OSError, TimeoutError, redis.ConnectionError, redis.TimeoutError)

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
    claimed: bool = False  # by XAUTOCLAIM, from a consumer that left it unacknowledged


def _parse(raw: Sequence[Any], *, claimed: bool = False) -> list[Received]:
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
                claimed,
            )
        )
    return out


@final
class _Stop:
    """Tells a loop on the asyncio side to return. Cancelling its task is not enough:
    redis-py swallows a cancellation that arrives while it sends a command (measured:
    the loop went on reading), so each loop also looks at this after every await."""

    stopping = False


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
        self._aio_wake: asyncio.Event | None = None  # the send loop's, once it runs
        self._to_ack: list[bytes] = []  # handled, acknowledged with the next read
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
        self.read_failures = 0
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
        if self._aio_wake is not None:
            self._aio_wake.set()  # (same thread: the asyncio loop runs inside trio's)
        return True

    async def run_sender(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Send what is posted until cancelled: every destination's batch in one pipeline,
        from a loop on the asyncio side (one crossing for its whole life: a crossing per
        send costs more than Redis does, docs/scaling.md)."""
        stop = _Stop()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.link.call, partial(self._send_loop, stop))
            task_status.started()
            try:
                await trio.sleep_forever()
            finally:
                stop.stopping = True
                if self._aio_wake is not None:
                    self._aio_wake.set()

    async def _send_loop(self, stop: _Stop, client: Any) -> None:
        """(asyncio) Wait for posts, send them; Redis not answering: retried under the same
        entry ids (send_attempts_max), then dropped. Returns once ``stop`` says so."""
        wake = self._aio_wake = asyncio.Event()
        if self._outbox:
            wake.set()
        while not stop.stopping:
            await wake.wait()
            wake.clear()
            if stop.stopping:
                return
            entries = self._take_outbox()
            acks, self._to_ack = self._to_ack, []
            if not entries and not acks:
                continue
            await self._send_batch(entries, acks, client)

    async def _send_batch(
        self,
        entries: Sequence[tuple[str, str, list[bytes]]],
        acks: Sequence[bytes],
        client: Any,
    ) -> None:
        """(asyncio) XADD each (node, entry id, items) and XACK ``acks`` in one pipeline;
        a batch whose outcome is unknown (Redis did not answer) is sent again under the
        same ids (the receiver drops a repeat), send_attempts_max times, then dropped.
        Lost acks: those entries are claimed later and dropped as repeats."""
        settings = self.settings
        pipe = client.pipeline(transaction=False)
        if acks:
            pipe.xack(self.stream(self.node), GROUP, *acks)
        for key, fields in self._fields(entries):
            pipe.xadd(key, fields, maxlen=settings.stream_entries_max, approximate=True)
            pipe.pexpire(key, settings.stream_ttl_ms)
        for attempt in range(1, settings.send_attempts_max + 1):
            try:
                await pipe.execute()
            except _REDIS_DOWN as exc:
                self.send_failures += 1
                if attempt == settings.send_attempts_max:
                    self.entries_dropped += len(entries)
                    log.warning("bus entries dropped", entries=len(entries), error=repr(exc))
                    return
                await asyncio.sleep(0.1 * attempt)
                continue
            self._sent(entries)
            return

    async def flush(self) -> None:
        """Send everything posted so far from trio (one crossing), as the loop would."""
        entries = self._take_outbox()
        if entries:
            await self.send_entries(entries)

    def _take_outbox(self) -> list[tuple[str, str, list[bytes]]]:
        """What is posted, as entries: one per destination (more if its queue is longer
        than batch_items_max), each with a new id."""
        outbox, self._outbox, self._outbox_items = self._outbox, {}, 0
        cap = self.settings.batch_items_max
        entries: list[tuple[str, str, list[bytes]]] = []
        for node, items in outbox.items():
            for start in range(0, len(items), cap):
                entry_id = f"{self.node}:{next(self._entry_numbers)}"
                entries.append((node, entry_id, items[start : start + cap]))
        return entries

    def _fields(
        self, entries: Sequence[tuple[str, str, list[bytes]]]
    ) -> list[tuple[str, dict[bytes, bytes]]]:
        return [
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

    def _sent(self, entries: Sequence[tuple[str, str, list[bytes]]]) -> None:
        self.entries_sent += len(entries)
        self.items_sent += sum(len(items) for _, _, items in entries)

    async def send_entries(self, entries: Sequence[tuple[str, str, list[bytes]]]) -> None:
        """Send these (node, entry id, items) from trio, in one crossing (tests; the send
        loop does the same from the asyncio side)."""
        await self.link.call(partial(self._send_batch, entries, ()))

    # --- receiving -------------------------------------------------------------------------

    async def run(
        self, handler: Handler, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Read this node's stream until cancelled, calling ``handler(sender, items)`` once
        per entry (repeats dropped), in stream order; also claims entries a former
        consumer left unacknowledged. The reads run in a loop on the asyncio side (one
        crossing for its life); what they bring is handed to this task by a channel
        (INBOX_BATCHES_MAX reads; full: the reads wait). Redis down: the loop retries."""
        consumer = f"{self.node}:{next(self._consumers)}"
        send, receive = trio.open_memory_channel[list[Received]](INBOX_BATCHES_MAX)
        stop = _Stop()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.link.call, partial(self._read_loop, consumer, send, stop))
            task_status.started()  # (not waiting for Redis: a node starts while it is down)
            try:
                async for entries in receive:
                    self._to_ack += await self._handle(entries, handler)
                    if self._aio_wake is not None:
                        self._aio_wake.set()  # the send loop acknowledges them at once
            finally:
                stop.stopping = True

    async def _read_loop(
        self,
        consumer: str,
        inbox: trio.MemorySendChannel[list[Received]],
        stop: _Stop,
        client: Any,
    ) -> None:
        """(asyncio) Make the group, then: claim every claim_period_ms, and read, each
        read acknowledging what the handler finished since the last."""
        settings = self.settings
        key = self.stream(self.node)
        ready = False
        next_claim_s = 0.0
        while not stop.stopping:
            try:
                if not ready:
                    await _make_group(client, key, settings.stream_ttl_ms)
                    ready = True
                now_s = asyncio.get_running_loop().time()
                if now_s >= next_claim_s:
                    next_claim_s = now_s + settings.claim_period_ms / 1000
                    await _hand_over(inbox, await self._claim(client, key, consumer))
                acks, self._to_ack = self._to_ack, []
                pipe = client.pipeline(transaction=False)
                if acks:
                    pipe.xack(key, GROUP, *acks)
                pipe.pexpire(key, settings.stream_ttl_ms)
                pipe.xreadgroup(
                    GROUP,
                    consumer,
                    {key: ">"},
                    count=settings.read_count_max,
                    block=settings.read_block_ms,
                )
                read = (await pipe.execute())[-1]
                if read and not stop.stopping:
                    await _hand_over(inbox, _parse(read[0][1]))
            except _REDIS_DOWN:
                self.read_failures += 1  # (the acks are lost: those entries are claimed
                await asyncio.sleep(READ_RETRY_S)  # later and dropped as repeats)
            except redis.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                ready = False  # the stream expired or was deleted: make it again

    async def _claim(self, client: Any, key: str, consumer: str) -> list[Received]:
        """(asyncio) Entries another consumer read and left unacknowledged for
        claim_idle_ms, now this consumer's; also the stream's backlog, for the metrics."""
        pipe = client.pipeline(transaction=False)
        pipe.xautoclaim(
            key,
            GROUP,
            consumer,
            min_idle_time=self.settings.claim_idle_ms,
            start_id="0-0",
            count=self.settings.read_count_max,
        )
        pipe.xinfo_groups(key)
        claimed, groups = await pipe.execute()
        for group in groups:
            if group.get("name") in (GROUP, GROUP.encode()):
                pending = int(group.get("pending") or 0)
                self.backlog_entries = pending + int(group.get("lag") or 0)
        return _parse(claimed[1], claimed=True)

    async def _handle(self, entries: list[Received], handler: Handler) -> list[bytes]:
        for entry in entries:
            self.entries_claimed += entry.claimed
            if entry.entry_id in self._seen:
                self.duplicates_dropped += 1
                continue
            self._seen[entry.entry_id] = None
            while len(self._seen) > self.settings.dedupe_window:
                self._seen.popitem(last=False)
            self.entries_received += 1
            await handler(entry.sender, entry.items)
        return [entry.stream_id for entry in entries]


async def _make_group(client: Any, key: str, ttl_ms: int) -> None:
    """(asyncio) The stream and its group, if missing; the stream's expiry pushed back."""
    try:
        await client.xgroup_create(key, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
    await client.pexpire(key, ttl_ms)


async def _hand_over(
    inbox: trio.MemorySendChannel[list[Received]], entries: list[Received]
) -> None:
    """(asyncio) Give ``entries`` to the trio side; while its channel is full, wait (the
    handler is behind: reading more would only pile them up here)."""
    if not entries:
        return
    while True:
        try:
            inbox.send_nowait(entries)  # (same thread: the asyncio loop runs inside trio's)
            return
        except trio.WouldBlock:
            await asyncio.sleep(HANDOVER_RETRY_S)
