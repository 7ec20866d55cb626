"""The tournament scenario against an in-process server: the swarm creates a ``hyper``
tournament through the admin API, its bots register over their websockets, play it to one
winner following their moves, and the report's ``tournament`` section agrees with the
server's own results."""

from __future__ import annotations

from pathlib import Path

import httpx

from loadtest.swarm import SwarmOptions, run_swarm
from server.auth import TokenSigner
from tests.loadtest.test_swarm import JWT_SECRET, server

BOTS = 12  # two tables of nine: balancing, a table broken, the final table
PLAY_LIMIT_S = 240.0  # hyper with random play ends in well under a minute here


def admin_token() -> str:
    token, _claims = TokenSigner(JWT_SECRET).issue("swarm", "admin")  # creates and funds
    return token


async def test_a_swarm_plays_a_tournament_it_created_to_one_winner(tmp_path: Path) -> None:
    async with server(tmp_path) as listening:
        options = SwarmOptions(
            url=listening.ws_url,
            bots=BOTS,
            ramp_s=2.0,
            duration_s=PLAY_LIMIT_S,
            pace_s=0.0,
            strategy="random",
            scenario="tournament",
            preset="hyper",
            buy_in=100,
            admin_url=listening.admin_url,
            staff_token=admin_token(),
        )
        report = await run_swarm(options, progress=None)
        section = report["tournament"]
        headers = {"Authorization": f"Bearer {admin_token()}"}
        async with httpx.AsyncClient(base_url=listening.admin_url, headers=headers) as admin:
            tid = section["tournament_id"]
            results = (await admin.get(f"/tournaments/{tid}/results")).json()
    assert section["created"] is True and section["structure"] == "hyper"
    assert section["finished"] is True, section
    assert section["entrants"] == results["entries"] >= BOTS
    assert section["registered_by_bots"] == section["entrants"]
    winner = section["winner"]
    assert winner is not None and winner["name"] is not None
    (first,) = [line for line in results["lines"] if line["place"] == 1]
    assert (winner["player_id"], winner["entry"]) == (first["player_id"], first["entry"])
    # No deal, no bounties: every chip of the pool was paid as prizes.
    assert section["payouts_total"] == section["prize_pool"] == results["prize_pool"] > 0
    assert section["hands"] > 0 and section["duration_s"] > 0
    # Two tables at the start, one broken down to the final table (random play busts
    # players so fast that the first poll may already see one).
    assert section["moves"].get("break", 0) >= 1
    assert 1 <= section["tables_max"] <= 2
    assert section["table_spread_max"] <= 2
    assert report["bots"]["finished"] == BOTS
    # Only refusals the scenario expects (a late re-entry once registration closed).
    assert set(report["errors"]) <= {"not_registered_registration_refused", "server_busy"}
