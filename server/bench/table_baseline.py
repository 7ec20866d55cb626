"""The raw baseline of ``tablium bench table``: the floor our websocket transport sets.

A trio-websocket server (the library the gateway uses, with its defaults) that plays no poker:
players join a "table" of ``seats`` connections with one frame; then, each time the player
whose turn it is sends a frame (an ``act``, not even decoded), it sends every seat the same
number of frames a real table sends per action, measured in the run just before: one
``action_taken`` event to each seat, fillers of the real frames' average size spread evenly,
and the next player's ``action_required`` to each seat. Every ``actions_per_hand`` actions it
waits ``between_hands_ms`` before that prompt, as a real table waits between hands, so both
run at a similar rate. One socket write per frame per recipient, as the gateway does.

What a real table costs beyond this is ours: actors, the engine, storage, encoding, timers,
sessions. Run as ``python -m server.bench.table_baseline`` with one JSON line of
configuration on stdin; it prints its port, then serves until stdin closes.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Final, final

import msgspec

SEQ_PLACEHOLDER: Final = 1  # the clients do not check seqs; a real frame's seq is this size


@final
class BaselineTable:
    """One table's seats and turn; frames are sent from the task that read the act."""

    def __init__(self, table_id: str, plan: dict[str, Any], nursery: Any) -> None:
        self.table_id = table_id
        self.seats: int = int(plan["seats"])
        self.frames_per_action: float = float(plan["frames_per_action"])
        self.filler_bytes: int = max(0, int(plan["filler_bytes"]))
        self.between_hands_s: float = float(plan["between_hands_ms"]) / 1000
        self.actions_per_hand: int = max(1, round(float(plan["actions_per_hand"])))
        self.nursery = nursery
        self.conns: list[Any] = [None] * self.seats
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

    async def join(self, seat: int, ws: Any) -> None:
        if not 0 <= seat < self.seats or self.conns[seat] is not None:
            raise ValueError(f"{self.table_id}: bad or taken seat {seat}")
        self.conns[seat] = ws
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
        # The actor's own frame first: the round trip then measures one receive and one send,
        # the floor for it too.
        for ws in self.conns[seat:] + self.conns[:seat]:
            await ws.send_message(taken)
        # Per action: an action_taken and an action_required to every seat, plus fillers.
        self.filler_credit += max(0.0, self.frames_per_action - 2 * self.seats)
        fillers = int(self.filler_credit)
        self.filler_credit -= fillers
        for _ in range(fillers):
            await self.conns[self.next_filler_seat].send_message(self.filler)
            self.next_filler_seat = (self.next_filler_seat + 1) % self.seats
        self.turn = (self.turn + 1) % self.seats
        if self.actions % self.actions_per_hand == 0:
            self.hand_number += 1
            self.nursery.start_soon(self._prompt_after_pause)
        else:
            await self._prompt()

    async def _prompt_after_pause(self) -> None:
        import trio

        await trio.sleep(self.between_hands_s)
        await self._prompt()

    async def _prompt(self) -> None:
        prompt = self._event(
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
        for ws in self.conns:
            await ws.send_message(prompt)


def serve(plan: dict[str, Any]) -> None:
    from functools import partial

    import trio
    from trio_websocket import ConnectionClosed, WebSocketRequest, serve_websocket

    tables: dict[str, BaselineTable] = {}
    join_decoder = msgspec.msgpack.Decoder(dict[str, Any])

    async def main() -> None:
        async with trio.open_nursery() as nursery:

            async def player(request: WebSocketRequest) -> None:
                ws = await request.accept()
                try:
                    first = await ws.get_message()
                    join = join_decoder.decode(first.encode() if isinstance(first, str) else first)
                    table_id, seat = str(join["table_id"]), int(join["seat"])
                    table = tables.get(table_id)
                    if table is None:
                        table = tables[table_id] = BaselineTable(table_id, plan, nursery)
                    await table.join(seat, ws)
                    while True:
                        await ws.get_message()
                        await table.on_frame(seat)
                except ConnectionClosed:
                    pass

            server = await nursery.start(partial(serve_websocket, player, "127.0.0.1", 0, None))
            print(server.port, flush=True)
            # The bench closes our stdin to stop us.
            await trio.to_thread.run_sync(sys.stdin.read)
            nursery.cancel_scope.cancel()

    trio.run(main)


if __name__ == "__main__":
    serve(json.loads(sys.stdin.readline()))
