"""Profiles and preferences at a table over real websockets (issue 19): seat views and table
snapshots carry each player's display name, and show a new one at once; a player who turns
auto_post_blinds off while seated is sat out when a blind she did not agree to comes round,
and sitting in brings her back."""

from __future__ import annotations

from pathlib import Path

from actors.table_admin import pause_table, resume_table
from protocol import game
from tests.e2e.harness import check_down_one_hand, running_server, table_config, wait_for


async def test_seat_views_carry_display_names_and_tables_follow_auto_post(
    tmp_path: Path,
) -> None:
    async with running_server(tmp_path) as server:
        await server.open_table(table_config("prof", between_hands_ms=0))
        frames = server.recorder.stream()
        await pause_table(server.registry, "prof")
        alice, bob, carol = [
            await server.player(f"prof{name}", 400 + i, acting=False)
            for i, name in enumerate("abc")
        ]
        await alice.client.update_profile(display_name="Alice Ace")
        for player in (alice, bob, carol):
            await player.join("prof", 200)
        snapshot = server.recorder.of(carol.player_id, game.TableSnapshot)[-1]
        names = {view.player_id: view.display_name for view in snapshot.seats}
        # Bob's profile has the name he signed up with; Alice renamed herself first.
        assert names == {
            alice.player_id: "Alice Ace",
            bob.player_id: "profb",
            carol.player_id: "profc",
        }
        # Changed while seated: the table shows the new name at once, and follows the new
        # preference from the next hand.
        await bob.client.update_profile(display_name="Bob Bluff")
        await wait_for(
            frames,
            lambda p, b: (
                p == carol.player_id
                and isinstance(b, game.SeatChanged)
                and b.view is not None
                and b.view.display_name == "Bob Bluff"
            ),
        )
        await carol.client.set_preferences({"auto_post_blinds": False})
        await resume_table(server.registry, "prof")
        carol_seat = carol.seats["prof"]

        def carol_sat_out(player_id: int, body: game.GamePush) -> bool:
            return (
                player_id == alice.player_id
                and isinstance(body, game.SeatChanged)
                and body.seat == carol_seat
                and body.view is not None
                and body.view.state == "sitting_out"
            )

        players = [alice, bob, carol]
        for _ in range(6):  # her one agreed blind, then the next one due sits her out
            await check_down_one_hand(frames, players)
            if any(
                carol_sat_out(alice.player_id, b) for b in server.recorder.frames[alice.player_id]
            ):
                break
        else:
            raise AssertionError("carol was never sat out at a blind")
        posted = [
            b for b in server.recorder.of(carol.player_id, game.BlindPosted) if b.seat == carol_seat
        ]
        assert len(posted) == 1 and posted[0].kind in ("small", "big")
        await carol.client.request(game.PostMissedBlinds(id=0, table_id="prof"))
        back = len(server.recorder.of(carol.player_id, game.HandStarted))
        for _ in range(4):  # hands go on (the one running, then hers)
            await check_down_one_hand(frames, players)
            started = server.recorder.of(carol.player_id, game.HandStarted)[back:]
            if any(carol_seat in hand.seats for hand in started):
                break
        else:
            raise AssertionError("carol sat in and was never dealt in")
