"""The raw baseline of ``tablium bench table``: the floor our websocket transport sets.

A server on the gateway's own websocket (server/websocket.py; ``"transport":
"trio-websocket"`` in the plan: trio-websocket with its defaults, the gateway's transport until
issue 25's cut 3) that plays no poker: players join a "table" of ``seats`` connections with
one frame; then, each time the player whose turn it is sends a frame (an ``act``, not even
decoded), it sends every seat the same number of frames a real table sends per action,
and the next player's ``action_required`` to each seat. Every ``actions_per_hand`` actions it
waits ``between_hands_ms`` before that prompt, as a real table waits between hands, so both
run at a similar rate. It writes as the gateway does with each transport: on ours, each
recipient's frames of an action in one ``send_burst`` (one socket write, cut 1); on
trio-websocket, one ``send_message`` (one socket write) per frame.

What a real table costs beyond this is ours: actors, the engine, storage, encoding, timers,
sessions. Run as ``python -m server.bench.table_baseline`` with one JSON line of
configuration on stdin; it prints its port, then serves until stdin closes.
"""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any, Final, Protocol, final

import msgspec

SEQ_PLACEHOLDER: Final = 1  # the clients do not check seqs; a real frame's seq is this size


@final
class BaselineTable:
    """One table's seats and turn; frames are sent from the task that read the act."""

    conns: list[Peer]

    def __init__(self, table_id: str, plan: dict[str, Any], nursery: Any) -> None:
        self.table_id = table_id
        self.seats: int = int(plan["seats"])
        self.frames_per_action: float = float(plan["frames_per_action"])
        self.filler_bytes: int = max(0, int(plan["filler_bytes"]))
        self.between_hands_s: float = float(plan["between_hands_ms"]) / 1000
        self.actions_per_hand: int = max(1, round(float(plan["actions_per_hand"])))
        self.nursery = nursery
        self.conns = [None] * self.seats  # type: ignore[list-item]  # filled by join
        self.joined = 0
        self.turn = 0
        self.hand_number = 1
        self.actions = 0
        self.filler_credit = 0.0  # fractional fillers owed, carried to the next action
        self.next_filler_seat = 0
        self.filler = self._event(
            {"type": "pots_changed", "table_id": table_id, "pad": b"x" * self.filler_bytes}
        )

    @staticmethod
    def _event(body: dict[str, Any]) -> bytes:
        return msgspec.msgpack.encode({"type": "event", "seq": SEQ_PLACEHOLDER, "body": body})

    async def join(self, seat: int, peer: Peer) -> None:
        if not 0 <= seat < self.seats or self.conns[seat] is not None:
            raise ValueError(f"{self.table_id}: bad or taken seat {seat}")
        self.conns[seat] = peer
        self.joined += 1
        if self.joined == self.seats:
            await self._prompt()

    async def on_frame(self, seat: int) -> None:
        """A frame from ``seat``: an act when it is their turn, ignored otherwise."""
        if seat != self.turn or self.joined < self.seats:
            return
        self.actions += 1
        taken = self._event(
            {
                "type": "action_taken",
                "table_id": self.table_id,
                "hand_number": self.hand_number,
                "seat": seat,
                "action": "check",
                "amount": 0,
                "bet_to": 0,
                "all_in": False,
            }
        )
        outbox: list[list[bytes]] = [[taken] for _ in range(self.seats)]
        # Per action: an action_taken and an action_required to every seat, plus fillers.
        self.filler_credit += max(0.0, self.frames_per_action - 2 * self.seats)
        fillers = int(self.filler_credit)
        self.filler_credit -= fillers
        for _ in range(fillers):
            outbox[self.next_filler_seat].append(self.filler)
            self.next_filler_seat = (self.next_filler_seat + 1) % self.seats
        self.turn = (self.turn + 1) % self.seats
        if self.actions % self.actions_per_hand == 0:
            self.hand_number += 1
            self.nursery.start_soon(self._prompt_after_pause)
        else:
            prompt = self._prompt_frame()
            for frames in outbox:
                frames.append(prompt)
        # The actor's frames first: the round trip then measures one receive and one send,
        # the floor for it too.
        for to in [*range(seat, self.seats), *range(seat)]:
            await self.conns[to].send(outbox[to])

    async def _prompt_after_pause(self) -> None:
        import trio

        await trio.sleep(self.between_hands_s)
        await self._prompt()

    async def _prompt(self) -> None:
        prompt = self._prompt_frame()
        for peer in self.conns:
            await peer.send([prompt])

    def _prompt_frame(self) -> bytes:
        return self._event(
            {
                "type": "action_required",
                "table_id": self.table_id,
                "hand_number": self.hand_number,
                "seat": self.turn,
                "legal": {"fold": True, "check": True},
                "act_within_ms": 15_000,
                "time_bank_ms": 30_000,
            }
        )


class Peer(Protocol):
    async def send(self, frames: list[bytes]) -> None: ...


@final
class TrioWebsocketPeer:
    """Our transport as the gateway uses it: trio-websocket, one send_message per frame."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    async def send(self, frames: list[bytes]) -> None:
        for frame in frames:
            await self.ws.send_message(frame)


@final
class OurPeer:
    """Our transport as the gateway uses it: server/websocket.py, one burst per recipient."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    async def send(self, frames: list[bytes]) -> None:
        from server.websocket import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):  # a peer gone at the end of the run
            await self.ws.send_burst(frames)


@final
class BatchedPeer:
    """wsproto on a trio stream, every frame of one action for this peer in ONE socket write
    (what a transport that batches could cost)."""

    def __init__(self, stream: Any, protocol: Any) -> None:
        import trio

        self.stream = stream
        self.protocol = protocol
        self.lock = trio.StrictFIFOLock()  # the act's task and a prompt after a pause

    async def send(self, frames: list[bytes]) -> None:
        import trio
        from wsproto.events import BytesMessage

        data = b"".join(self.protocol.send(BytesMessage(data=frame)) for frame in frames)
        async with self.lock:
            with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                await self.stream.send_all(data)  # a peer gone at the end of the run


def serve(plan: dict[str, Any]) -> None:
    from functools import partial

    import trio

    tables: dict[str, BaselineTable] = {}
    join_decoder = msgspec.msgpack.Decoder(dict[str, Any])

    async def play(first: bytes | str, peer: Peer, frames: Any, nursery: Any) -> None:
        """Join the table the first frame names, then hand every later frame to it."""
        join = join_decoder.decode(first.encode() if isinstance(first, str) else first)
        table_id, seat = str(join["table_id"]), int(join["seat"])
        table = tables.get(table_id)
        if table is None:
            table = tables[table_id] = BaselineTable(table_id, plan, nursery)
        await table.join(seat, peer)
        async for _ in frames:
            await table.on_frame(seat)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            if plan.get("writes") == "per_recipient":
                listeners = await nursery.start(
                    partial(trio.serve_tcp, partial(_wsproto_player, play, nursery), 0,
                            host="127.0.0.1")
                )  # fmt: skip
                port = listeners[0].socket.getsockname()[1]
            elif plan.get("transport", "ours") == "ours":
                from server.websocket import serve_websocket as serve_ours

                port = await nursery.start(
                    partial(
                        serve_ours,
                        partial(_our_player, play, nursery),
                        "127.0.0.1",
                        0,
                        None,
                        handler_nursery=nursery,
                        message_bytes_max=1 << 20,
                        handshake_timeout_s=10.0,
                    )
                )
            else:
                from trio_websocket import serve_websocket

                handler = partial(_trio_websocket_player, play, nursery)
                server = await nursery.start(
                    partial(serve_websocket, handler, "127.0.0.1", 0, None)
                )
                port = server.port
            print(port, flush=True)
            # The bench closes our stdin to stop us.
            await trio.to_thread.run_sync(sys.stdin.read)
            nursery.cancel_scope.cancel()

    trio.run(main)


async def _trio_websocket_player(play: Any, nursery: Any, request: Any) -> None:
    from trio_websocket import ConnectionClosed

    ws = await request.accept()

    async def frames() -> Any:
        while True:
            yield await ws.get_message()

    with contextlib.suppress(ConnectionClosed):
        await play(await ws.get_message(), TrioWebsocketPeer(ws), frames(), nursery)


async def _our_player(play: Any, nursery: Any, request: Any) -> None:
    import trio

    from server.websocket import ConnectionClosed

    ws = await request.accept()

    async def frames() -> Any:
        while True:
            yield await ws.get_message()

    try:
        with contextlib.suppress(ConnectionClosed):
            await play(await ws.get_message(), OurPeer(ws), frames(), nursery)
    finally:
        with trio.move_on_after(1.0):
            await ws.aclose()


async def _wsproto_player(play: Any, nursery: Any, stream: Any) -> None:
    import trio
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import (
        AcceptConnection,
        BytesMessage,
        CloseConnection,
        Ping,
        Request,
        TextMessage,
    )

    protocol = WSConnection(ConnectionType.SERVER)
    peer = BatchedPeer(stream, protocol)

    async def frames() -> Any:
        while True:
            try:
                data = await stream.receive_some(65536)
            except trio.BrokenResourceError:
                return
            if not data:
                return
            protocol.receive_data(data)
            for event in protocol.events():
                if isinstance(event, Request):
                    async with peer.lock:
                        await stream.send_all(protocol.send(AcceptConnection()))
                elif isinstance(event, BytesMessage | TextMessage):
                    yield event.data
                elif isinstance(event, Ping):
                    async with peer.lock:
                        await stream.send_all(protocol.send(event.response()))
                elif isinstance(event, CloseConnection):
                    return

    messages = frames()
    async for first in messages:
        await play(first, peer, messages, nursery)
        return


if __name__ == "__main__":
    serve(json.loads(sys.stdin.readline()))
