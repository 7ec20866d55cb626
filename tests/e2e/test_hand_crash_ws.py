"""A hand actor killed mid-hand while players play over websockets: a single crash resumes
the hand from its snapshot; crashes past its restart intensity escalate to the table, which
voids the hand with every chip back. No chip is lost either way (checked after every hand),
and no hole card leaks across the restarts."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from actors.hand import HandActor
from actors.table.messages import HandAct, HandMessage
from protocol import game
from tests.e2e.harness import Server, running_server, table_config


class Boom(RuntimeError):
    """An injected bug."""


async def play(
    server: Server, table_id: str, until: int, seed: int
) -> list[game.HandEnded | game.HandVoided]:
    """Four bots play until ``until`` hands ended; an audit after every hand and void.
    Returns what the first player saw of hands ending and being voided."""
    await server.open_table(table_config(table_id))
    frames = server.recorder.stream()
    players = [await server.player(f"{table_id}{i}", seed + i, refill=200) for i in range(4)]
    for player in players:
        await player.join(table_id, 200)
    pacer = players[0].player_id
    outcomes: list[game.HandEnded | game.HandVoided] = []
    with trio.fail_after(60):
        async for player_id, body in frames:
            if player_id == pacer and isinstance(body, game.HandEnded | game.HandVoided):
                outcomes.append(body)
                await server.audit(table_id)
                if sum(isinstance(o, game.HandEnded) for o in outcomes) >= until:
                    break
    assert server.recorder.assert_no_hole_card_leaks() > until * 20
    return outcomes


async def test_killed_hand_actor_resumes_the_hand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = HandActor.handle
    acts = 0

    async def crash_on_seventh_act(self: HandActor, message: HandMessage) -> object:
        nonlocal acts
        if isinstance(message, HandAct):
            acts += 1
            if acts == 7:
                raise Boom("injected crash in the hand actor")
        return await handle(self, message)

    monkeypatch.setattr(HandActor, "handle", crash_on_seventh_act)
    async with running_server(tmp_path) as server:
        outcomes = await play(server, "crash", until=6, seed=30)
        assert acts > 7
        assert [o.hand_number for o in outcomes] == list(range(1, 7))  # none voided
        assert all(isinstance(o, game.HandEnded) for o in outcomes)
        refused = [code for p in server.players for code in p.refused]
        assert "hand_restarting" in refused  # the act that killed it was refused


async def test_hand_crashing_past_its_intensity_is_voided_with_every_chip_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = HandActor.handle

    async def crash_in_hand_two(self: HandActor, message: HandMessage) -> object:
        if isinstance(message, HandAct) and self.setup.hand_number == 2:
            raise Boom("injected crash on every act of hand 2")
        return await handle(self, message)

    monkeypatch.setattr(HandActor, "handle", crash_in_hand_two)
    async with running_server(tmp_path) as server:
        outcomes = await play(server, "void", until=3, seed=40)
        voided = [o for o in outcomes if isinstance(o, game.HandVoided)]
        assert [v.hand_number for v in voided] == [2]
        started = {
            h.hand_number: h
            for h in server.recorder.of(server.players[0].player_id, game.HandStarted)
        }
        before = started[2]
        assert dict(zip(voided[0].seats, voided[0].stacks, strict=True)) == dict(
            zip(before.seats, before.stacks, strict=True)
        )  # every stack back to the start of the voided hand
