"""A whole multi-table tournament over real websockets, on SQLite and on PostgreSQL.

27 bots (the swarm's tournament bots, loadtest/tournament.py) register over their websockets
for a three-table MTT a director created through the admin API: late registration and one
re-entry through level 2, a break after it, a progressive knockout bounty, 40% of the field
paid so that the bubble comes with two tables left (hand-for-hand). The director starts it
once all 27 are in; the bots play it to one winner, following their moves. At the end the
ledger audits clean (every tournament's prize pool against its entries and payouts), every
chip of the pool and of the bounties was paid, and the report agrees with the results.

The server runs in this trio run on trio's autojump clock (held still while the store's
thread works: tests/e2e/clock.py), so one-minute levels, the break and the pauses between
hands pass as fast as the machine plays."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import trio
import trio.testing

from loadtest.bot import WALLET_BUY_INS
from loadtest.swarm import SwarmOptions, run_swarm
from poker.tournament import Break, Structure, levels_from_big_blinds
from server.auth import TokenSigner
from tests.e2e.clock import autojump_between_threads
from tests.e2e.harness import JWT_SECRET, running_server
from tests.persistence.stores import BACKENDS, store_url

PLAYERS = 27
BUY_IN, FEE, BOUNTY = 100, 10, 50
STARTING_STACK = 500
BETWEEN_HANDS_MS = 5_000  # virtual time: about a dozen hands a table per one-minute level
PLAY_LIMIT_S = 4 * 3600.0  # virtual seconds: far beyond what the event takes
STRUCTURE = Structure(
    name="e2e-mtt",
    levels=levels_from_big_blinds(
        (20, 30, 40, 60, 80, 120, 160, 240, 320, 400, 600, 800, 1200, 1600, 2400, 3200, 4800),
        1,
        big_blind_ante_from=3,
    ),
    starting_stack=STARTING_STACK,
    breaks=(Break(2, 1),),
    late_registration_levels=2,
    entries_per_player_max=2,
)


def director_headers() -> dict[str, str]:
    token, _ = TokenSigner(JWT_SECRET).issue("td", "admin")  # creates, starts and funds
    return {"Authorization": f"Bearer {token}"}


async def create_mtt(admin: httpx.AsyncClient) -> int:
    created = await admin.post(
        "/tournaments",
        json={
            "name": "E2E three tables",
            "structure": msgspec.to_builtins(STRUCTURE),
            "buy_in": BUY_IN,
            "fee": FEE,
            "bounty": BOUNTY,
            "bounty_kind": "progressive",
            "seats_per_table": 9,
            "paid_bp": 4_000,
            "between_hands_ms": BETWEEN_HANDS_MS,
            "action_timeout_ms": 30_000,
            "reason": "e2e",
        },
    )
    assert created.status_code == 200, created.text
    return int(created.json()["tournament_id"])


async def start_when_full(admin: httpx.AsyncClient, tournament_id: int) -> None:
    """The director starts it once all 27 have registered."""
    while True:
        view = (await admin.get(f"/tournaments/{tournament_id}")).json()
        if view["details"]["summary"]["entries"] >= PLAYERS:
            break
        await trio.sleep(1)
    started = await admin.post(f"/tournaments/{tournament_id}/start", json={"reason": "full"})
    assert started.status_code == 200, started.text


@pytest.mark.skip(
    reason="not passing yet (2026-12-02): on a loaded machine the three tables, re-entries and"
    " the break ran (310 virtual seconds in 2 minutes), then heads-up crawled (about one hand"
    " per 15 s of real time) and the test did not finish in 15 minutes; to be found before it"
    " joins the suite"
)
@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_three_table_mtt_with_reentries_a_break_hand_for_hand_and_pko_bounties(
    backend: str,
    tmp_path: Path,
    postgres_url: str,
    autojump_clock: trio.testing.MockClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    database_url = await store_url(backend, tmp_path, postgres_url)
    # 27 bots and a watcher register from one address, as a swarm does.
    limits = {"registrations_per_ip_per_hour": 1_000, "login_hashes_per_ip_max": 100}
    async with running_server(tmp_path, database_url, **limits) as server:
        listening = server.listening
        async with httpx.AsyncClient(
            base_url=listening.admin_url, headers=director_headers(), timeout=60
        ) as admin:
            tournament_id = await create_mtt(admin)
            options = SwarmOptions(
                url=listening.ws_url,
                bots=PLAYERS,
                ramp_s=5.0,
                duration_s=PLAY_LIMIT_S,
                pace_s=0.0,
                strategy="random",
                scenario="tournament",
                tournament_id=str(tournament_id),
                admin_url=listening.admin_url,
                staff_token=director_headers()["Authorization"].split()[1],
                reentry_chance=1.0,  # every bust while registration is open re-enters
                rebuy_chance=0.0,
                seed=15,
            )
            report: dict[str, Any] = {}

            async def swarm() -> None:
                report.update(await run_swarm(options, progress=None))

            async with trio.open_nursery() as nursery:
                nursery.start_soon(swarm)
                await start_when_full(admin, tournament_id)
            results = (await admin.get(f"/tournaments/{tournament_id}/results")).json()
            view = (await admin.get(f"/tournaments/{tournament_id}?limit=500")).json()
            ledger = (await admin.get("/ledger/audit")).json()
            wallets = await _bot_wallets(admin)
    section = report["tournament"]
    assert section["finished"] is True, section
    assert results["state"] == "finished"
    entries = results["entries"]
    assert section["entrants"] == entries == PLAYERS + section["reentries"]
    assert section["reentries"] >= 1, "nobody busted during late registration"
    assert section["tables_max"] == 3
    assert section["break_seen"], "the break after level 2 was never seen"
    assert section["hand_for_hand_seen"] and section["hand_for_hand_rounds"] >= 1
    # One winner; every entry placed; the prizes are the pool, the bounties every head.
    places = sorted(line["place"] for line in results["lines"])
    assert places[0] == 1 and places.count(1) == 1 and 0 not in places
    (first,) = [line for line in results["lines"] if line["place"] == 1]
    assert section["winner"]["player_id"] == first["player_id"]
    prizes = sum(line["prize"] for line in results["lines"])
    bounties = sum(line["bounties"] for line in results["lines"])
    assert prizes == results["prize_pool"] == entries * BUY_IN
    assert bounties == entries * BOUNTY  # progressive: cash halves, and the winner's own head
    assert section["payouts_total"] == prizes + bounties == results["paid"]
    assert results["fees"] == entries * FEE
    assert view["details"]["summary"]["players_left"] == 1
    # The money: the ledger's invariants, tournament prize pools included.
    assert ledger["consistent"] is True, ledger["violations"]
    # Each bot was credited 20 entries' price; all the money came back but the fees.
    price = BUY_IN + FEE + BOUNTY
    assert len(wallets) == PLAYERS
    assert sum(wallets.values()) == PLAYERS * WALLET_BUY_INS * price - entries * FEE
    assert set(report["errors"]) <= {"not_registered_registration_refused", "server_busy"}


async def _bot_wallets(admin: httpx.AsyncClient) -> dict[str, int]:
    found = (await admin.get("/players", params={"q": "bot0", "limit": 100})).json()["players"]
    balances = {}
    for player in found:
        wallet = (await admin.get(f"/players/{player['id']}/wallet")).json()
        balances[player["name"]] = int(wallet["balance"])
    return balances
