"""Player sessions as the gateway keeps them: sequence numbers, replay buffer, rate bucket.

A session outlives its connection: when the connection drops, the session is *detached* and
keeps numbering and buffering the events sent to it for a grace period, so a client that
comes back with its token (and the last seq it saw) gets exactly what it missed.

This module does no I/O: a session hands frames to whatever ``Outlet`` is attached (the
gateway's connection) and never waits. In a room of several nodes (docs/scaling.md) each
frame is also handed to a ``Mirror``, which the gateway flushes to Redis, so that the
session can resume on another node.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Protocol, final

import msgspec

from actors.table.player_tables import AtTable, TablesAt
from protocol.codec import encode_body, encode_event
from protocol.messages import PushBody, Role
from services.throttle import TokenBucket

__all__ = [
    "LoggedOutSessions",
    "Mirror",
    "Outlet",
    "PlayerSession",
    "SessionRegistry",
    "TokenBucket",
]


class Mirror(Protocol):
    """Where a session's frames are copied for a resume on another node. ``append`` must
    not block (server/cluster.py's ReplayMirror buffers until the next flush)."""

    def append(self, session: PlayerSession, seq: int, frame: bytes) -> None: ...


class Outlet(Protocol):
    """Where an attached session's frames go. ``offer`` must not block: when the peer cannot
    keep up, the outlet drops the connection (slow consumer), never the frame order."""

    def offer(self, frame: bytes) -> None: ...


@final
@dataclass(eq=False)
class PlayerSession:
    session_id: str
    player: str
    role: Role
    replay_events_max: int
    # The account behind the session: None for guests and for dev tokens of players who have
    # no account; the wallet needs it.
    player_id: int | None = None
    last_seq: int = 0
    # Invariant: replay holds the events numbered last_seq - len(replay) + 1 .. last_seq,
    # oldest first. Each is the body as encoded once for every recipient of a broadcast
    # (msgspec.Raw: its frame is made again for a resume), or, restored from another node,
    # its frame (bytes). The body, shared by the table's audience, is what a full buffer
    # costs per session: about a sixth of keeping each session's own frames
    # (docs/loadtest.md, "Cut 7").
    # Overflow policy: the oldest event is dropped; a resume from before it is a replay_gap.
    # An empty tuple until the first event: an empty deque is 760 bytes, per idle session.
    replay: collections.deque[msgspec.Raw | bytes] | tuple[()] = ()
    outlet: Outlet | None = None
    # Bumped at every attach and detach, so a grace timer started for an older detach can
    # tell that the session has been resumed since.
    generation: int = 0
    # The session's rate limit, made by its first connection and kept across reconnects (a
    # reconnect must not refill it).
    bucket: TokenBucket | None = None
    mirror: Mirror | None = None
    # Wall-clock ms when this node opened it (a ban announced by another node after that
    # ends it: server/cluster.py).
    opened_at_ms: int = 0
    # The tables that seat or show the player, as they told this session (AtTable, noted at
    # once by the gateway: server/gateway.py note_table). None until the first: most
    # sessions never sit down, and an idle session stays small.
    tables: TablesAt | None = None

    def note(self, at: AtTable) -> None:
        """A table's word that the player sat down, left, watches or stopped watching."""
        if self.tables is None:
            self.tables = TablesAt()
        self.tables.apply(at)

    def push(self, body: PushBody) -> int:
        """Number, buffer and (when attached) send one event; returns its seq."""
        return self.push_encoded(encode_body(body))

    def push_encoded(self, body: msgspec.Raw) -> int:
        """push() of a body encoded once already (protocol.codec.encode_body), so that a
        broadcast to many sessions encodes its body once; the frame's bytes are the same."""
        self.last_seq += 1
        frame = encode_event(self.last_seq, body)
        replay = self.replay
        if not isinstance(replay, collections.deque):
            self.replay = replay = collections.deque(maxlen=self.replay_events_max)
        replay.append(body)
        if self.mirror is not None:
            self.mirror.append(self, self.last_seq, frame)
        if self.outlet is not None:
            self.outlet.offer(frame)
        return self.last_seq

    @property
    def oldest_buffered_seq(self) -> int:
        """The seq of the oldest buffered event (last_seq + 1 when none is)."""
        return self.last_seq - len(self.replay) + 1

    def can_replay_after(self, seq: int) -> bool:
        """True if every event after ``seq`` is still buffered."""
        return seq >= self.oldest_buffered_seq - 1

    def frames_after(self, seq: int) -> Iterator[bytes]:
        """The frames of the buffered events after ``seq``, in order."""
        first = self.oldest_buffered_seq
        skip = max(0, seq + 1 - first)
        for event_seq, event in enumerate(itertools.islice(self.replay, skip, None), first + skip):
            yield event if isinstance(event, bytes) else encode_event(event_seq, event)

    def restore(self, last_seq: int, replay: list[tuple[int, bytes]]) -> None:
        """Continue a session another node held: its numbering and (consecutive, ending at
        last_seq) buffered frames, the newest replay_events_max of them."""
        if replay and replay[-1][0] != last_seq:
            raise ValueError("a restored replay ends at the session's last seq")
        self.last_seq = last_seq
        self.replay = collections.deque((frame for _, frame in replay), self.replay_events_max)

    def attach(self, outlet: Outlet) -> None:
        self.outlet = outlet
        self.generation += 1

    def detach(self) -> int:
        self.outlet = None
        self.generation += 1
        return self.generation


class SessionsFull(Exception):
    """The gateway holds sessions_max sessions already (our limit, not the client's fault)."""


@final
class SessionRegistry:
    """Every live session of this gateway, by id and by player. Bounded by sessions_max:
    a new session beyond it is refused (SessionsFull), existing ones are never evicted."""

    def __init__(self, sessions_max: int, replay_events_max: int) -> None:
        self.sessions_max: Final = sessions_max
        self.replay_events_max: Final = replay_events_max
        self._by_id: dict[str, PlayerSession] = {}
        self._by_player: dict[str, dict[str, PlayerSession]] = {}
        self._by_player_id: dict[int, dict[str, PlayerSession]] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, session_id: str) -> PlayerSession | None:
        return self._by_id.get(session_id)

    def attached_count(self) -> int:
        """Sessions with a connection (the rest are held for resume). O(sessions): for
        metrics scrapes, not the hot path."""
        return sum(1 for session in self._by_id.values() if session.outlet is not None)

    def attached(self) -> list[PlayerSession]:
        """Sessions with a connection. O(sessions): for periodic refreshes, not per event."""
        return [session for session in self._by_id.values() if session.outlet is not None]

    def of_player(self, player: str) -> list[PlayerSession]:
        return list(self._by_player.get(player, {}).values())

    def of_player_id(self, player_id: int) -> list[PlayerSession]:
        return list(self._by_player_id.get(player_id, {}).values())

    def create(
        self, session_id: str, player: str, role: Role, player_id: int | None = None
    ) -> PlayerSession:
        if session_id in self._by_id:
            raise ValueError(f"session {session_id!r} exists")
        if len(self._by_id) >= self.sessions_max:
            raise SessionsFull(f"{self.sessions_max} sessions are open")
        session = PlayerSession(
            session_id, player, role, self.replay_events_max, player_id=player_id
        )
        self._by_id[session_id] = session
        self._by_player.setdefault(player, {})[session_id] = session
        if player_id is not None:
            self._by_player_id.setdefault(player_id, {})[session_id] = session
        return session

    def remove(self, session: PlayerSession) -> None:
        self._by_id.pop(session.session_id, None)
        of_player = self._by_player.get(session.player)
        if of_player is not None:
            of_player.pop(session.session_id, None)
            if not of_player:
                del self._by_player[session.player]
        if session.player_id is not None:
            of_id = self._by_player_id.get(session.player_id)
            if of_id is not None:
                of_id.pop(session.session_id, None)
                if not of_id:
                    del self._by_player_id[session.player_id]


@final
class LoggedOutSessions:
    """Session ids ended by logout, so their tokens cannot open them again.

    A token of a session is at most ``token_ttl_s`` old at logout (each login refreshes it),
    so an id is kept until that long after the logout (plus ``leeway_s``), then forgotten.
    Bounded by ``entries_max``; overflow policy: the oldest entry is forgotten early (its
    token would work again until it expires), which a test pins down.
    """

    def __init__(self, token_ttl_s: int, leeway_s: int, entries_max: int) -> None:
        self._keep_s = token_ttl_s + leeway_s
        self.entries_max: Final = entries_max
        # Invariant: insertion order is expiry order (the same keep time for every entry).
        self._until_s: collections.OrderedDict[str, float] = collections.OrderedDict()

    def add(self, session_id: str, now_s: float) -> None:
        self._forget_expired(now_s)
        self._until_s[session_id] = now_s + self._keep_s
        self._until_s.move_to_end(session_id)
        while len(self._until_s) > self.entries_max:
            self._until_s.popitem(last=False)

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._until_s

    def __len__(self) -> int:
        return len(self._until_s)

    def _forget_expired(self, now_s: float) -> None:
        while self._until_s:
            oldest, until_s = next(iter(self._until_s.items()))
            if until_s > now_s:
                return
            del self._until_s[oldest]
