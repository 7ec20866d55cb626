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

Every Redis call is one pipeline on a connection of the bus's own, on trio itself
(persistence/resp.py: RedisLink's way through trio-asyncio cost ten times more a round trip):
one for the sender, one for the reader, opened again after Redis stopped answering.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, final

import msgspec
import structlog
import trio

from persistence.redis_link import RedisLink
from persistence.resp import Arg, RespConnection, RespError

log = structlog.get_logger("tablium.bus")

GROUP: Final = "bus"
OVERFLOW_STREAM: Final = "trim-oldest"
OVERFLOW_OUTBOX: Final = "refuse-newest"
FIELD_ID: Final = b"i"
FIELD_SENDER: Final = b"f"
FIELD_ITEMS: Final = b"p"

READ_RETRY_S: Final = 0.5  # after a read that Redis did not answer
COMMAND_TIMEOUT_S: Final = 2.0  # a Redis that does not answer in time is down (as RedisLink)
# How RespConnection says Redis did not answer (ConnectionError and TimeoutError are OSErrors).
_REDIS_DOWN: Final = (OSError,)

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


def _parse(raw: Any, *, claimed: bool = False) -> list[Received]:
    """Stream entries as RESP gives them: ``[[stream id, [name, value, ...]], ...]``."""
    out: list[Received] = []
    for stream_id, flat in raw:
        if flat is None:  # deleted (trimmed) while pending: XAUTOCLAIM reports it so
            continue
        fields = _pairs(flat)
        out.append(
            Received(
                stream_id,
                _bytes(fields[FIELD_ID]).decode(),
                _bytes(fields[FIELD_SENDER]).decode(),
                _items_decoder.decode(_bytes(fields[FIELD_ITEMS])),
                claimed,
            )
        )
    return out


def _bytes(value: object) -> bytes:
    assert isinstance(value, bytes)
    return value


@final
class NodeBus:
    """This node's end of the bus: ``post`` items to a node, ``run`` the read loop."""

    def __init__(
        self, link: RedisLink, prefix: str, node: str, settings: BusSettings | None = None
    ) -> None:
        self.url = link.url  # the bus opens its own connections (persistence/resp.py)
        self.prefix = prefix
        self.node = node
        self.settings = settings or BusSettings()
        self._outbox: dict[str, list[bytes]] = {}
        self._outbox_items = 0
        self._wake = trio.Event()  # set by a post, or by acknowledgements due
        self._send_connection: RespConnection | None = None
        self._send_lock = trio.Lock()  # the sender's connection: one batch at a time
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
        self._wake.set()
        return True

    async def run_sender(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Send what is posted (and the reader's acknowledgements) until cancelled: every
        destination's batch in one pipeline on the sender's own connection."""
        task_status.started()
        try:
            while True:
                await self._wake.wait()
                self._wake = trio.Event()  # a post from now on wakes the next round
                entries = self._take_outbox()
                acks, self._to_ack = self._to_ack, []
                if entries or acks:
                    await self._send_batch(entries, acks)
        finally:
            await self._close_sender()

    async def _send_batch(
        self, entries: Sequence[tuple[str, str, list[bytes]]], acks: Sequence[bytes]
    ) -> None:
        """XADD each (node, entry id, items) and XACK ``acks`` in one pipeline; a batch whose
        outcome is unknown (Redis did not answer) is sent again under the same ids (the
        receiver drops a repeat), send_attempts_max times, then dropped. Lost acks: those
        entries are claimed later and dropped as repeats."""
        settings = self.settings
        commands: list[list[Arg]] = []
        if acks:
            commands.append(["XACK", self.stream(self.node), GROUP, *acks])
        for key, fields in self._fields(entries):
            commands.append(["XADD", key, "MAXLEN", "~", settings.stream_entries_max, "*", *fields])
            commands.append(["PEXPIRE", key, settings.stream_ttl_ms])
        async with self._send_lock:
            for attempt in range(1, settings.send_attempts_max + 1):
                try:
                    if self._send_connection is None or self._send_connection.closed:
                        self._send_connection = await RespConnection.open(
                            self.url, COMMAND_TIMEOUT_S
                        )
                    replies = await self._send_connection.execute(commands, COMMAND_TIMEOUT_S)
                except _REDIS_DOWN as exc:
                    self.send_failures += 1
                    if attempt == settings.send_attempts_max:
                        self.entries_dropped += len(entries)
                        log.warning("bus entries dropped", entries=len(entries), error=repr(exc))
                        return
                    await trio.sleep(0.1 * attempt)
                    continue
                _raise_first_error(replies)
                self._sent(entries)
                return

    async def _close_sender(self) -> None:
        connection, self._send_connection = self._send_connection, None
        if connection is not None:
            await connection.aclose()

    async def flush(self) -> None:
        """Send everything posted so far now, as the sender would."""
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
    ) -> list[tuple[str, list[bytes]]]:
        return [
            (
                self.stream(node),
                [
                    FIELD_ID,
                    entry_id.encode(),
                    FIELD_SENDER,
                    self.node.encode(),
                    FIELD_ITEMS,
                    _items_encoder.encode(items),
                ],
            )
            for node, entry_id, items in entries
        ]

    def _sent(self, entries: Sequence[tuple[str, str, list[bytes]]]) -> None:
        self.entries_sent += len(entries)
        self.items_sent += sum(len(items) for _, _, items in entries)

    async def send_entries(self, entries: Sequence[tuple[str, str, list[bytes]]]) -> None:
        """Send these (node, entry id, items) now (tests send the same id twice with it)."""
        await self._send_batch(entries, ())

    # --- receiving -------------------------------------------------------------------------

    async def run(
        self, handler: Handler, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Read this node's stream until cancelled, calling ``handler(sender, items)`` once
        per entry (repeats dropped), in stream order; also claims entries a former
        consumer left unacknowledged every claim_period_ms. Each read acknowledges what
        the handler finished since the last (so does the sender's next batch). Redis not
        answering: the read is tried again after READ_RETRY_S on a new connection."""
        consumer = f"{self.node}:{next(self._consumers)}"
        settings = self.settings
        key = self.stream(self.node)
        task_status.started()  # (not waiting for Redis: a node starts while it is down)
        connection: RespConnection | None = None
        ready = False
        next_claim_s = 0.0
        try:
            while True:
                try:
                    if connection is None or connection.closed:
                        connection = await RespConnection.open(self.url, COMMAND_TIMEOUT_S)
                    if not ready:
                        await _make_group(connection, key, settings.stream_ttl_ms)
                        ready = True
                    if trio.current_time() >= next_claim_s:
                        next_claim_s = trio.current_time() + settings.claim_period_ms / 1000
                        claimed = await self._claim(connection, key, consumer)
                        self._to_ack += await self._handle(claimed, handler)
                    read = await self._read(connection, key, consumer)
                    if read:
                        self._to_ack += await self._handle(read, handler)
                        self._wake.set()  # the sender acknowledges them at once
                except _REDIS_DOWN:
                    self.read_failures += 1  # (the acks are lost: those entries are claimed
                    await trio.sleep(READ_RETRY_S)  # later and dropped as repeats)
                except RespError as exc:
                    if "NOGROUP" not in str(exc):
                        raise
                    ready = False  # the stream expired or was deleted: make it again
        finally:
            if connection is not None:
                await connection.aclose()

    async def _read(self, connection: RespConnection, key: str, consumer: str) -> list[Received]:
        """One blocking read (XREADGROUP), carrying the acknowledgements due."""
        settings = self.settings
        acks, self._to_ack = self._to_ack, []
        commands: list[list[Arg]] = []
        if acks:
            commands.append(["XACK", key, GROUP, *acks])
        commands.append(["PEXPIRE", key, settings.stream_ttl_ms])
        group: list[Arg] = ["XREADGROUP", "GROUP", GROUP, consumer]
        group += ["COUNT", settings.read_count_max, "BLOCK", settings.read_block_ms]
        commands.append([*group, "STREAMS", key, ">"])
        timeout_s = settings.read_block_ms / 1000 + COMMAND_TIMEOUT_S
        replies = await connection.execute(commands, timeout_s)
        _raise_first_error(replies)
        streams = replies[-1]
        if not isinstance(streams, list) or not streams:
            return []  # nil: nothing within the block time
        return _parse(streams[0][1])

    async def _claim(self, connection: RespConnection, key: str, consumer: str) -> list[Received]:
        """Entries another consumer read and left unacknowledged for claim_idle_ms, now
        this consumer's; also the stream's backlog, for the metrics."""
        settings = self.settings
        claim: list[Arg] = ["XAUTOCLAIM", key, GROUP, consumer, settings.claim_idle_ms, "0-0"]
        commands: list[list[Arg]] = [
            [*claim, "COUNT", settings.read_count_max],
            ["XINFO", "GROUPS", key],
        ]
        replies = await connection.execute(commands, COMMAND_TIMEOUT_S)
        _raise_first_error(replies)
        claimed, groups = replies
        assert isinstance(claimed, list) and isinstance(groups, list)
        for group in groups:
            info = _pairs(group)
            if info.get(b"name") == GROUP.encode():
                pending, lag = info.get(b"pending"), info.get(b"lag")
                self.backlog_entries = (pending if isinstance(pending, int) else 0) + (
                    lag if isinstance(lag, int) else 0
                )
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


async def _make_group(connection: RespConnection, key: str, ttl_ms: int) -> None:
    """The stream and its group, if missing; the stream's expiry pushed back."""
    commands: list[list[Arg]] = [
        ["XGROUP", "CREATE", key, GROUP, "0", "MKSTREAM"],
        ["PEXPIRE", key, ttl_ms],
    ]
    created, expiry = await connection.execute(commands, COMMAND_TIMEOUT_S)
    if isinstance(created, RespError) and "BUSYGROUP" not in str(created):
        raise created
    if isinstance(expiry, RespError):
        raise expiry


def _raise_first_error(replies: Sequence[object]) -> None:
    for reply in replies:
        if isinstance(reply, RespError):
            raise reply


def _pairs(flat: object) -> dict[bytes, object]:
    """A RESP2 map (a flat list of names and values) as a dict."""
    if not isinstance(flat, list):
        return {}
    return {flat[n]: flat[n + 1] for n in range(0, len(flat) - 1, 2)}
