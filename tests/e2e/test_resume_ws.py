"""A player whose connection drops mid-hand keeps the seat; the client resumes by itself and
gets the table again (own cards only) and the pending prompt, and the hand finishes."""

from __future__ import annotations

from pathlib import Path

from protocol import game
from tests.e2e.harness import running_server, table_config, wait_for


async def test_player_disconnects_mid_hand_and_resumes(tmp_path: Path) -> None:
    async with running_server(tmp_path) as server:
        await server.open_table(table_config("resume"))
        frames = server.recorder.stream()
        alice = await server.player("alice", 1)
        bob = await server.player("bob", 2, acting=False)  # this test acts for bob
        await alice.join("resume", 200)
        seat = (await bob.join("resume", 200)).seat

        def bobs_turn(p: int, b: game.GamePush) -> bool:
            return p == bob.player_id and isinstance(b, game.ActionRequired) and b.seat == seat

        _, first = await wait_for(frames, bobs_turn)
        assert isinstance(first, game.ActionRequired)
        (dealt,) = [
            h for h in server.recorder.of(bob.player_id, game.HoleCards)
            if h.hand_number == first.hand_number
        ]  # fmt: skip
        await bob.client.simulate_network_drop()
        await wait_for(
            frames,
            lambda p, b: (
                p == alice.player_id
                and isinstance(b, game.SeatChanged)
                and b.view is not None
                and b.view.player_id == bob.player_id
                and not b.view.connected
            ),
        )
        # Back (the client reconnects and resumes on its own): the table as bob may see it,
        # with his own cards, then his turn again.
        _, snapshot = await wait_for(
            frames, lambda p, b: p == bob.player_id and isinstance(b, game.TableSnapshot)
        )
        assert isinstance(snapshot, game.TableSnapshot)
        assert snapshot.hand_number == first.hand_number and snapshot.to_act == seat
        assert snapshot.hole_cards == dealt.cards
        _, again = await wait_for(frames, bobs_turn)
        assert isinstance(again, game.ActionRequired)
        assert again.hand_number == first.hand_number
        assert bob.client.reconnects == 1
        bob.acting = True
        await bob.answer(again)
        await wait_for(
            frames,
            lambda p, b: (
                p == bob.player_id
                and isinstance(b, game.HandEnded)
                and b.hand_number == first.hand_number
            ),
        )
        assert not bob.refused, bob.refused
        await server.audit("resume")
        assert server.recorder.assert_no_hole_card_leaks() > 0
