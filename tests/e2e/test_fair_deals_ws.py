"""Provably fair deals over real websockets (issue 26, docs/fairness.md): players contribute
client seeds with the SDK, play hands to the showdown, and each checks every hand from what
she saw (Python, and the JavaScript SDK on the same hand); then each fetches her stored
histories over the websocket (``my_hand``) and ``tablium hands verify`` verifies them from
the history alone, and refuses one with a changed card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio

from actors.table.admin import pause_table, resume_table
from poker import phh
from server.cli import main
from tests.clients.node import JS_DIR, run_node
from tests.e2e.harness import check_down_one_hand, running_server, table_config
from tests.fair_deals import DealWatch, ObservedHand

HANDS = 3


def js_check(hand: ObservedHand, own_seat: int, own_seed: bytes, tmp_path: Path) -> str:
    """The JavaScript SDK's verdict on one hand (clients/js/src/fairness.mjs)."""
    ended = hand.ended
    assert ended is not None and hand.commitment is not None
    observed = {
        "commitment": hand.commitment,
        "serverSeed": ended.server_seed,
        "handId": hand.hand_id,
        "clientSeeds": {str(s.seat): s.seed for s in ended.client_seeds},
        "dealingOrder": list(hand.dealing_order),
        "holeCardsEach": 2,
        "holeCards": {str(seat): list(cards) for seat, cards in hand.hole_cards.items()},
        "boards": [[run, list(cards)] for run, cards in hand.boards],
        "ownSeat": own_seat,
        "ownClientSeed": own_seed.hex(),
    }
    script = tmp_path / "check.mjs"
    script.write_text(
        f"import {{ verifyObserved }} from {json.dumps(str(JS_DIR / 'src' / 'fairness.mjs'))};\n"
        f"const hand = {json.dumps(observed)};\n"
        "try { await verifyObserved(hand); console.log('verified'); }\n"
        "catch (error) { console.log(error.code ?? String(error)); }\n",
        encoding="utf-8",
    )
    result = run_node([str(script)])
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout.strip()


async def test_a_hand_played_over_websockets_verifies_live_and_from_its_stored_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running_server(tmp_path) as server:
        await server.open_table(table_config("fair-ws", between_hands_ms=0))
        frames = server.recorder.stream()
        await pause_table(server.registry, "fair-ws")  # everyone seated and seeded first
        players = [await server.player(f"fair{i}", 260 + i, acting=False) for i in range(3)]
        seeds: dict[int, bytes] = {}
        for player in players:
            await player.join("fair-ws", 200)
            seeds[player.player_id] = await player.client.set_client_seed("fair-ws")
        await resume_table(server.registry, "fair-ws")
        for _ in range(HANDS):
            await check_down_one_hand(frames, players)

        # Live: each player checks every hand from her own pushes, her seed included.
        for player in players:
            watch = DealWatch()
            for body in server.recorder.frames[player.player_id]:
                watch.see(body)
            assert len(watch.ended) >= HANDS
            own_seat = player.seats["fair-ws"]
            for hand in watch.ended:
                assert hand.announced == hand.commitment  # committed before it started
                hand.verify(2, own_seat=own_seat, own_seed=seeds[player.player_id])
        first = players[0]
        hand_one = DealWatch()
        for body in server.recorder.frames[first.player_id]:
            hand_one.see(body)
        own_seat, own_seed = first.seats["fair-ws"], seeds[first.player_id]
        assert js_check(hand_one.ended[0], own_seat, own_seed, tmp_path) == "verified"
        assert js_check(hand_one.ended[0], own_seat, b"not mine", tmp_path) == (
            "client_seed_substituted"
        )

        # Later, from the stored history alone: the player's own copy, over the websocket.
        # The last hand's history is stored after its hand_ended push (docs/protocol.md).
        with trio.fail_after(10):
            while len((page := await first.client.my_hands()).hands) < HANDS:  # noqa: ASYNC110
                await trio.sleep(0.05)  # (a stored row: no event to wait on)
        files = []
        for summary in page.hands:
            history = await first.client.my_hand(summary.hand_id)
            path = tmp_path / f"{summary.hand_id.replace(':', '-')}.phh"
            path.write_text(history.history, encoding="utf-8")
            files.append(path)
        capsys.readouterr()
        assert main(["hands", "verify", *map(str, files)]) == 0
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert len(lines) == len(files) and all(line["verified"] for line in lines), lines

        # A history whose deal was changed afterwards fails, naming the card.
        hand = phh.loads(files[0].read_text(encoding="utf-8"))
        fields = dict(hand.extra)
        dealt = str(fields["_fair_dealt"])
        fields["_fair_dealt"] = dealt[2:4] + dealt[:2] + dealt[4:]
        tampered = tmp_path / "tampered.phh"
        tampered.write_text(
            files[0].read_text(encoding="utf-8").replace(dealt, str(fields["_fair_dealt"])),
            encoding="utf-8",
        )
        assert main(["hands", "verify", str(tampered)]) == 1
        (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert line["code"] == "deal_mismatch", line
