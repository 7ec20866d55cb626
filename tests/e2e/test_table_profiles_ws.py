"""Profiles and preferences at a table over real websockets (issue 19): seat views and table
snapshots carry each player's display name, and show a new one at once; a player who turns
auto_post_blinds off while seated is sat out when a blind she did not agree to comes round,
and sitting in brings her back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from actors.table.admin import pause_table, resume_table
from protocol import game
from server.auth import TokenSigner
from tests.e2e.harness import (
    JWT_SECRET,
    PASSWORD,
    check_down_one_hand,
    running_server,
    table_config,
    wait_for,
)


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


async def test_a_name_changed_over_the_api_or_by_staff_reaches_the_table_at_once(
    tmp_path: Path,
) -> None:
    """The public API's profile change and a staff rename tell her tables, as the
    websocket's own change does (not only at her next sit-down)."""
    async with running_server(tmp_path) as server:
        await server.open_table(table_config("apiname", between_hands_ms=0))
        frames = server.recorder.stream()
        await pause_table(server.registry, "apiname")
        alice, bob = [
            await server.player(f"apin{name}", 500 + i, acting=False) for i, name in enumerate("ab")
        ]
        for player in (alice, bob):
            await player.join("apiname", 200)

        def alice_sees(name: str) -> Callable[[int, game.GamePush], bool]:
            def seen(player_id: int, body: game.GamePush) -> bool:
                return (
                    player_id == alice.player_id
                    and isinstance(body, game.SeatChanged)
                    and body.view is not None
                    and body.view.player_id == bob.player_id
                    and body.view.display_name == name
                )

            return seen

        async with httpx.AsyncClient(base_url=server.listening.api_url) as api:
            login = await api.post("/v1/auth/login", json={"name": "apinb", "password": PASSWORD})
            assert login.status_code == 200, login.text
            bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
            changed = await api.post(
                "/v1/me/profile", json={"display_name": "Bob Over HTTP"}, headers=bearer
            )
            assert changed.status_code == 200, changed.text
        await wait_for(frames, alice_sees("Bob Over HTTP"))

        staff, _ = TokenSigner(JWT_SECRET).issue("sam", "admin")
        async with httpx.AsyncClient(
            base_url=server.listening.admin_url, headers={"Authorization": f"Bearer {staff}"}
        ) as admin:
            renamed = await admin.post(
                f"/players/{bob.player_id}/display-name",
                json={"display_name": "Bob Renamed", "reason": "offensive name"},
            )
            assert renamed.status_code == 200, renamed.text
        await wait_for(frames, alice_sees("Bob Renamed"))
