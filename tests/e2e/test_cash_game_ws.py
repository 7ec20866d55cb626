"""Six players on real websockets play a long session at one table: chips conserved after
every hand (the table's stacks against its escrow in the ledger, the ledger audit, and each
hand's own frames), wallets + stacks + rake == what the players brought at the end, and no
frame to any player ever carries another player's hole cards before the showdown."""

from __future__ import annotations

from pathlib import Path

import trio
import trio.lowlevel

from protocol import game
from protocol.textframes import Encoding
from services.ledger import RAKE, house_account
from tests.e2e.harness import FUNDS, Server, running_server, table_config
from tests.persistence.stores import store_url

BUY_IN = 200


async def play_session(
    server: Server, table_id: str, hands: int, seed: int, *, some_speak_json: bool = False
) -> None:
    """``some_speak_json``: every other player's connection speaks tablium.json.v1 (text
    frames): the same game, whatever the encoding."""
    print(f"seed={seed} hands={hands}")  # replays a failure
    await server.open_table(table_config(table_id, rake_bp=500))
    frames = server.recorder.stream()
    players = [
        await server.player(
            f"p{i}-{seed}",
            seed * 100 + i,
            refill=BUY_IN,
            encoding=Encoding.JSON if some_speak_json and i % 2 else Encoding.MSGPACK,
        )
        for i in range(6)
    ]
    for player in players:
        await player.join(table_id, BUY_IN)
    watcher = await server.player(f"w-{seed}", seed, funds=0, acting=False)
    await watcher.client.request(game.Watch(id=0, table_id=table_id))
    pacer = players[0].player_id  # every player sees every hand_ended: one audit per hand
    started: dict[int, int] = {}  # hand number -> chips in the hand at its start
    rake = 0
    ended = 0
    # A stalled game fails here instead of hanging the suite (generous: a loaded 2-core
    # machine once took over 120 s for the 200 hands).
    with trio.fail_after(360):
        async for player_id, body in frames:
            if player_id != pacer:
                continue
            if isinstance(body, game.HandStarted):
                started[body.hand_number] = sum(body.stacks)
            elif isinstance(body, game.HandEnded):
                # The hand's own frames: what it started with is what it ended with + rake.
                assert sum(body.stacks) + body.rake == started[body.hand_number], body
                rake += body.rake
                ended += 1
                await server.audit(table_id)
                if ended >= hands:
                    break
    for player in players:
        player.acting = False  # let the table come to rest, then count every chip
    await trio.lowlevel.checkpoint()
    audit = await server.audit(table_id)
    seats = await server.seats(table_id)
    assert seats.hands_played >= hands
    # Hands after the pacer's last one may have ended meanwhile: the rake account has all.
    rake_account = await server.store.ledger_account(house_account(RAKE))
    assert rake_account is not None and rake_account.balance >= rake > 0
    stacks = sum(s.stack + s.pending_top_up for s in seats.seats)
    assert audit.chips == stacks == audit.escrow_balance  # the audit paid what was owed
    assert await server.wallets() + stacks + rake_account.balance == 6 * FUNDS  # watcher: 0
    checked = server.recorder.assert_no_hole_card_leaks()
    assert checked > hands * 7 * 10
    assert server.recorder.of(watcher.player_id, game.HandEnded)  # the watcher saw play
    assert not server.recorder.of(watcher.player_id, game.HoleCards)
    assert not any(
        code for p in players for code in p.refused if code not in ("wrong_hand", "no_hand_running")
    ), [p.refused for p in players]


async def test_six_players_play_200_hands_over_websockets_with_chips_conserved(
    tmp_path: Path,
) -> None:
    async with running_server(tmp_path) as server:
        await play_session(server, "ws-six", hands=200, seed=7)


async def test_a_shorter_session_on_postgresql_with_json_and_msgpack_players(
    tmp_path: Path, postgres_url: str
) -> None:
    database_url = await store_url("postgres", tmp_path, postgres_url)
    async with running_server(tmp_path, database_url) as server:
        await play_session(server, "ws-pg", hands=25, seed=8, some_speak_json=True)
        json_players = [p for p in server.players if p.client.encoding is Encoding.JSON]
        assert len(json_players) == 3 and all(p.client.last_seq > 100 for p in json_players)
