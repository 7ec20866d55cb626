"""A tournament over real websockets: players list it, register (money leaves the wallet),
read its details, are seated and moved by pushes (following to the new table without
asking), play its hands with the ordinary table messages, and are paid as they finish."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path
from typing import Any

import trio

from actors.tournament_messages import (
    DIRECTORY_NAME,
    CreateTournament,
    StartTournament,
    TournamentAddress,
    TournamentCreated,
    TournamentSpec,
)
from protocol import game
from protocol import tournaments as wire
from protocol.client import ServerError, open_client
from protocol.messages import Event
from services.ledger import prize_pool, wallet
from tests.actors.test_table_fakes import choose
from tests.e2e.harness import FUNDS, PASSWORD, running_server

PLAYERS = 6


async def test_players_register_follow_moves_and_are_paid_over_websockets(
    tmp_path: Path,
) -> None:
    async with running_server(tmp_path) as server:
        directory = server.registry.lookup(DIRECTORY_NAME)
        assert directory is not None
        spec = TournamentSpec(
            name="Two tables", kind="mtt", preset="hyper-hands", buy_in=100, fee=10,
            seats_per_table=3, entries_max=PLAYERS, starts_at_ms=2**62,
            action_timeout_ms=10_000, between_hands_ms=0,
        )  # fmt: skip
        created = await directory.ask(CreateTournament(spec=spec), timeout_s=10)
        assert isinstance(created, TournamentCreated)
        tid = created.tournament_id
        pushes: dict[int, list[Any]] = {}
        done = trio.Event()
        finished: set[int] = set()

        async def play(name: str, seed: int, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
            rng = random.Random(seed)
            async with open_client(server.listening.ws_url) as client:
                await client.register(name, PASSWORD)
                player_id = server.gateway.sessions.of_player(name)[0].player_id
                assert player_id is not None
                await server.wallet.adjust(f"fund:{name}", wallet(player_id), FUNDS, "funds")
                listed = await client.request(wire.ListTournaments(id=0, state="registering"))
                assert isinstance(listed, wire.TournamentList)
                assert [t.tournament_id for t in listed.tournaments] == [tid]
                reply = await client.request(wire.RegisterTournament(id=0, tournament_id=tid))
                assert isinstance(reply, wire.TournamentRegistered) and reply.entry >= 1
                details = await client.request(wire.GetTournament(id=0, tournament_id=tid))
                assert isinstance(details, wire.TournamentDetails)
                assert [e.entry for e in details.tournament.my_entries] == [reply.entry]
                mine: list[Any] = pushes.setdefault(player_id, [])
                task_status.started()
                where: tuple[str, int] | None = None
                async for item in client.events():
                    if not isinstance(item, Event):
                        continue
                    body = item.body
                    mine.append(body)
                    if isinstance(body, wire.TournamentSeated | wire.TournamentMoved):
                        where = (body.table_id, body.seat)  # followed without asking
                    elif isinstance(body, game.ActionRequired):
                        if where != (body.table_id, body.seat):
                            continue
                        action, amount, agree = choose(body.legal, rng)
                        act = game.Act(
                            id=0, table_id=body.table_id, hand_number=body.hand_number,
                            decision_id=body.decision_id, action=action,  # type: ignore[arg-type]
                            amount=amount, agree=agree,
                        )  # fmt: skip
                        with contextlib.suppress(ServerError):  # the hand moved on meanwhile
                            await client.request(act)
                    elif isinstance(body, wire.TournamentStateChanged) and body.event == "finished":
                        finished.add(player_id)
                        if len(finished) == PLAYERS:
                            done.set()
                        await done.wait()
                        return

        with trio.fail_after(120):
            async with trio.open_nursery() as nursery:
                for n in range(PLAYERS):  # one at a time: logins are rate-limited
                    await nursery.start(play, f"tplayer{n}", 40 + n)
                actor = server.registry.lookup(TournamentAddress(tid).actor_name)
                assert actor is not None
                await actor.ask(StartTournament(), timeout_s=10)
        bodies = [b for mine in pushes.values() for b in mine]
        seated = [b for b in bodies if isinstance(b, wire.TournamentSeated)]
        assert len(seated) == PLAYERS and {b.table_id for b in seated} == {
            f"t{tid}-1",
            f"t{tid}-2",
        }
        # Two tables of three: the first bust breaks a table, its players move.
        moved = [b for b in bodies if isinstance(b, wire.TournamentMoved)]
        assert moved and all(b.from_table_id != b.table_id for b in moved)
        placed = [b for b in bodies if isinstance(b, wire.TournamentPlaced)]
        assert sorted(b.place for b in placed) == list(range(1, PLAYERS + 1))
        paid = [b for b in bodies if isinstance(b, wire.TournamentPaid)]
        assert sum(b.amount for b in paid) == 100 * PLAYERS
        pool = await server.store.ledger_account(prize_pool(f"tournament:{tid}", "chips"))
        assert pool is not None and pool.balance == 0
        audit = await server.wallet.audit()
        assert audit.consistent, audit
