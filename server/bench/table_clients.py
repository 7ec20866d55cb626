"""The players of ``tablium bench table``: one process plays many seats over raw websockets.

Run as ``python -m server.bench.table_clients`` by server/bench/table.py, which writes one JSON
line of configuration on stdin and then one command a line; this process answers each with
one JSON line on stdout:

- (configuration) -> ``{"event": "logged_in"}`` once every seat's connection is open and
  logged in (``table`` mode: hello + token ``authenticate``, no password hashing; ``raw``
  mode: the websocket handshake);
- ``seat`` -> ``{"event": "seated"}`` once every seat is taken (``table``: ``join_table``
  answered ``seated``; ``raw``: a join frame sent). Play starts with the tables' first hand;
- ``mark`` -> ``{"event": "mark", "counters": {...}}``, the counters now; the first mark also
  starts keeping round-trip samples, the second stops;
- ``stop`` -> ``{"event": "done", "counters": ..., "rtt_ms": [...]}`` once no act is in
  flight: the players stop acting, finish the act they sent (its reply and its
  ``action_taken``), and the process exits.

A player is as cheap as a client can be: frames are parsed by hand (server/bench/rawws.py),
decoded by msgspec into a few fields of interest, and answered with prebuilt-shape ``act``
requests; there is no SDK, no per-request future, no validation beyond msgspec's. Its policy
(``decide``) is fixed and deterministic: check when free, else call, except that every third
decision facing a bet folds; show at showdown; never run it twice; never raise. Stacks then
only move by blinds and limps, so nobody busts within a benchmark.

Both modes run this same loop over frames of the same shape (the raw baseline server,
server/bench/table_baseline.py, sends ``event`` frames with ``action_taken`` and
``action_required`` bodies), so the clients cost the same in both runs.
"""

from __future__ import annotations

import collections
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal, final

import msgspec

CONNECTING_AT_ONCE_MAX: Final = 50  # handshakes and logins in flight while the seats connect
RTT_SAMPLES_MAX: Final = 200_000  # bound on kept round trips per process (later ones dropped)
SETUP_TIMEOUT_S: Final = 120.0  # logging in or seating every player takes at most this long
FOLD_EVERY: Final = 3  # the policy folds every third decision that faces a bet

Mode = Literal["table", "raw"]


# --- what the players read of the server's frames (everything else is skipped) -------------


class Legal(msgspec.Struct):
    fold: bool = False
    check: bool = False
    call: int | None = None
    show: bool = False
    muck: bool = False
    run_it_twice: bool = False


class Body(msgspec.Struct):
    type: str
    seat: int | None = None
    hand_number: int = 0
    legal: Legal | None = None
    timed_out: bool = False


class Frame(msgspec.Struct):
    type: str
    id: int | None = None
    body: Body | None = None
    code: str = ""


FRAME_DECODER: Final = msgspec.msgpack.Decoder(Frame)


def decide(legal: Legal, decisions: int) -> tuple[str, bool]:
    """The fixed policy: (act kind, agree) for the ``decisions``-th decision of a player."""
    if legal.show:
        return "show", False
    if legal.run_it_twice:
        return "run_it_twice", False
    if legal.check:
        return "check_or_call", False
    if legal.call is not None:
        if legal.fold and decisions % FOLD_EVERY == FOLD_EVERY - 1:
            return "fold", False
        return "check_or_call", False
    if legal.fold:
        return "fold", False
    if legal.muck:
        return "muck", False
    return "check_or_call", False


# --- counters -------------------------------------------------------------------------------


@dataclass
class Counters:
    """Everything this process saw. ``actions``: the acts the server applied, each counted
    once, by the player it belongs to: an ``action_taken`` for the player's own seat (a bet,
    call, check or fold), or a ``showdown`` for it that answers its show or muck.
    ``timed_out``: actions the table took for a player who did not answer in time."""

    frames: int = 0
    frame_bytes: int = 0
    actions: int = 0
    timed_out: int = 0
    acts_sent: int = 0
    acts_ok: int = 0
    hands: int = 0  # hand_started, counted by one player per table
    broadcasts_seen: int = 0  # action_taken events received by all players
    errors: dict[str, int] = field(default_factory=dict)
    frames_by_type: dict[str, int] = field(default_factory=dict)  # replies and push bodies


@dataclass(frozen=True)
class SeatSpec:
    table_id: str
    seat: int
    player: str  # account name (table mode)
    token: str  # signed by the bench with the server's secret (table mode)
    counts_hands: bool  # one player per table counts its hands


@final
class PendingAct:
    """An act sent and not yet settled: settled once its reply came (table mode) and its
    action_taken came, or it was refused."""

    __slots__ = ("replied", "request_id", "sent_at", "taken")

    def __init__(self, request_id: int, sent_at: float, replied: bool) -> None:
        self.request_id = request_id
        self.sent_at = sent_at
        self.replied = replied
        self.taken = False


@final
class Player:
    """One seat: its connection and its acts in flight (oldest first)."""

    __slots__ = ("acts", "decisions", "next_id", "spec", "ws")

    def __init__(self, spec: SeatSpec) -> None:
        self.spec = spec
        self.ws: Any = None
        self.next_id = 10
        self.decisions = 0
        self.acts: collections.deque[PendingAct] = collections.deque()

    def waiting_for_action(self) -> PendingAct | None:
        """The oldest act whose action_taken has not come yet."""
        for act in self.acts:
            if not act.taken:
                return act
        return None

    def act_with_id(self, request_id: int | None) -> PendingAct | None:
        for act in self.acts:
            if act.request_id == request_id:
                return act
        return None


@final
class ClientProcess:
    def __init__(self, config: dict[str, Any]) -> None:
        import trio

        self.mode: Mode = config["mode"]
        self.host: str = config["host"]
        self.port: int = int(config["port"])
        self.buy_in: int = int(config["buy_in"])
        self.think_s: float = float(config["think_ms"]) / 1000
        self.players = [Player(SeatSpec(**seat)) for seat in config["seats"]]
        self.counters = Counters()
        self.errors: collections.Counter[str] = collections.Counter()
        self.frames_by_type: collections.Counter[str] = collections.Counter()
        self.rtt_ms: list[float] = []
        self.measuring = False
        self.stopping = False
        self.logged_in = 0
        self.seated = 0
        self.in_flight = 0  # acts sent and not settled, over all players
        self.all_logged_in = trio.Event()
        self.seat_now = trio.Event()
        self.all_seated = trio.Event()
        self.quiet = trio.Event()  # set when stopping and nothing is in flight
        self.connecting = trio.CapacityLimiter(CONNECTING_AT_ONCE_MAX)

    # --- one player -------------------------------------------------------------------------

    async def play(self, player: Player) -> None:
        import trio

        from server.bench.rawws import RawWebsocket

        async with self.connecting:
            stream = await trio.open_tcp_stream(self.host, self.port)
            player.ws = ws = RawWebsocket(stream)
            await ws.handshake(self.host, self.port)
            if self.mode == "table":
                await self._log_in(player)
        self.logged_in += 1
        if self.logged_in == len(self.players):
            self.all_logged_in.set()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._take_seat, player)
            await self._read(player)

    async def _log_in(self, player: Player) -> None:
        from protocol.codec import encode
        from protocol.messages import Authenticate, Hello

        ws = player.ws
        await ws.send(encode(Hello(id=1, versions=[1], client="tablium-bench")))
        _expect(await ws.receive(), "welcome")
        await ws.send(encode(Authenticate(id=2, token=player.spec.token)))
        _expect(await ws.receive(), "logged_in")

    async def _take_seat(self, player: Player) -> None:
        await self.seat_now.wait()
        spec = player.spec
        if self.mode == "table":
            from protocol.codec import encode
            from protocol.game import JoinTable

            # Posting to enter deals everyone in from the first hand: the tables play six-handed
            # from the start instead of after the big blind has gone round.
            join = JoinTable(
                id=3, table_id=spec.table_id, buy_in=self.buy_in, seat=spec.seat, post_to_enter=True
            )
            await player.ws.send(encode(join))
        else:
            raw_join = {"type": "join", "table_id": spec.table_id, "seat": spec.seat}
            await player.ws.send(msgspec.msgpack.encode(raw_join))
            self._seated_one()

    def _seated_one(self) -> None:
        self.seated += 1
        if self.seated == len(self.players):
            self.all_seated.set()

    async def _read(self, player: Player) -> None:
        ws = player.ws
        counters = self.counters
        decode = FRAME_DECODER.decode
        seat = player.spec.seat
        while True:
            payload = await ws.receive()
            counters.frames += 1
            counters.frame_bytes += len(payload)
            frame = decode(payload)
            body = frame.body
            self.frames_by_type[frame.type if body is None else body.type] += 1
            if body is not None:
                kind = body.type
                if kind == "action_required":
                    if body.seat == seat and body.legal is not None and not self.stopping:
                        await self._act(player, body.hand_number, body.legal)
                elif kind == "action_taken":
                    counters.broadcasts_seen += 1
                    if body.seat == seat:
                        self._own_action_taken(player, body.timed_out)
                elif kind == "showdown" and body.seat == seat:
                    # What our show or muck did (a hand the engine turned up itself, with no
                    # act of ours waiting, is not an action of ours).
                    if player.waiting_for_action() is not None:
                        self._own_action_taken(player, False)
                elif kind == "hand_started" and player.spec.counts_hands:
                    counters.hands += 1
            elif frame.type == "ok":
                act = player.act_with_id(frame.id)
                if act is not None:
                    counters.acts_ok += 1
                    act.replied = True
                    self._settle(player)
            elif frame.type == "seated":
                self._seated_one()
            elif frame.type == "error":
                self.errors[frame.code] += 1
                act = player.act_with_id(frame.id)
                if act is not None:  # refused: no action_taken follows
                    act.replied = act.taken = True
                    self._settle(player)

    def _own_action_taken(self, player: Player, timed_out: bool) -> None:
        counters = self.counters
        if timed_out:
            counters.timed_out += 1
            return
        counters.actions += 1
        act = player.waiting_for_action()
        if act is not None:
            act.taken = True
            if self.measuring and len(self.rtt_ms) < RTT_SAMPLES_MAX:
                self.rtt_ms.append((time.perf_counter() - act.sent_at) * 1000)
            self._settle(player)

    async def _act(self, player: Player, hand_number: int, legal: Legal) -> None:
        import trio

        from protocol.codec import encode
        from protocol.game import Act

        if player.waiting_for_action() is not None:
            return  # a prompt repeated (a resume): our act is on its way already
        action, agree = decide(legal, player.decisions)
        player.decisions += 1
        player.next_id += 1
        if self.think_s > 0:
            await trio.sleep(self.think_s)
            if self.stopping:
                return
        act = Act(
            id=player.next_id,
            table_id=player.spec.table_id,
            hand_number=hand_number,
            action=action,  # type: ignore[arg-type]  # decide returns ActKind values
            agree=agree,
        )
        # The raw baseline server sends no reply: only the action_taken settles an act.
        pending = PendingAct(player.next_id, time.perf_counter(), replied=self.mode == "raw")
        player.acts.append(pending)
        self.in_flight += 1
        self.counters.acts_sent += 1
        await player.ws.send(encode(act))

    def _settle(self, player: Player) -> None:
        acts = player.acts
        while acts and acts[0].replied and acts[0].taken:
            acts.popleft()
            self.in_flight -= 1
        if self.stopping and self.in_flight == 0:
            self.quiet.set()

    # --- the process ------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        counters = asdict(self.counters)
        counters["errors"] = dict(self.errors)
        counters["frames_by_type"] = dict(self.frames_by_type)
        return counters

    async def run(self) -> None:
        import trio

        async with trio.open_nursery() as nursery:
            for player in self.players:
                nursery.start_soon(self.play, player)
            with trio.fail_after(SETUP_TIMEOUT_S):
                await self.all_logged_in.wait()
            _say({"event": "logged_in"})
            await self._control(nursery)

    async def _control(self, nursery: Any) -> None:
        import trio

        while True:
            command = (await trio.to_thread.run_sync(sys.stdin.readline)).strip()
            if command == "seat":
                self.seat_now.set()
                with trio.fail_after(SETUP_TIMEOUT_S):
                    await self.all_seated.wait()
                _say({"event": "seated"})
            elif command == "mark":
                self.measuring = not self.measuring
                _say({"event": "mark", "counters": self.snapshot()})
            elif command in ("stop", ""):  # "" is EOF: the bench has gone
                self.stopping = True
                if self.in_flight == 0:
                    self.quiet.set()
                with trio.move_on_after(SETUP_TIMEOUT_S):
                    await self.quiet.wait()
                _say({"event": "done", "counters": self.snapshot(), "rtt_ms": self.rtt_ms})
                nursery.cancel_scope.cancel()
                return
            else:
                raise ValueError(f"unknown command {command!r}")


def _expect(payload: bytes, kind: str) -> None:
    frame = FRAME_DECODER.decode(payload)
    if frame.type != kind:
        raise RuntimeError(f"expected {kind}, got {frame.type} {frame.code}")


def _say(message: dict[str, Any]) -> None:
    print(json.dumps(message), flush=True)


def main() -> None:
    import trio

    config = json.loads(sys.stdin.readline())
    trio.run(ClientProcess(config).run)


if __name__ == "__main__":
    main()
