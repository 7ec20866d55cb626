"""A hypothesis fuzz of the club tournament and club table close requests over real
websockets and the public API: ``club_create_tournament`` and ``club_close_table`` with any
fields, register / unregister / reads of the club's tournaments, and the routes
``POST /v1/clubs/{id}/tournaments`` and ``POST /v1/clubs/{id}/tables/close`` with any JSON
body, from the owner, a member and an outsider. Every request is answered (a reply, or an
error with a documented code); a refusal changes nothing (the wallets, the tournaments and
their entries, the open club tables); the outsider never sees a club tournament in a
listing or a push, and never enters one."""

from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.addresses import TableAddress
from api.problems import PROBLEMS
from protocol import clubs as wire
from protocol import game
from protocol import tournaments as tw
from protocol.client import ServerError
from protocol.errors import ERROR_CODE_VALUES
from tests.e2e.harness import PASSWORD, running_server
from tests.e2e.test_club_tournaments_ws import LATER_MS, _peer

WHO = st.sampled_from(["olga", "bea", "oscar"])
CHIPS = st.one_of(st.integers(0, 200), st.integers(-5, 2**64 - 1))  # msgpack's range
PRESETS = st.sampled_from(["hyper-hands", "sng-turbo-6max", "mtt-turbo", "nosuch", ""])
INDEX = st.integers(0, 3)  # an index into the tournaments (or tables) made so far, or none
API_KEYS = st.sampled_from(
    ["name", "preset", "kind", "asset", "buy_in", "fee", "seats_per_table", "entries_min",
     "entries_max", "starts_at_ms", "table_id", "guarantee"]
)  # fmt: skip
API_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 2**64), st.text(max_size=50), PRESETS,
    st.just("club1-nosuch"), st.just(LATER_MS),
)  # fmt: skip
CODES = set(ERROR_CODE_VALUES) | set(game.GAME_ERROR_CODES)


@st.composite
def _create(draw: st.DrawFn) -> Any:
    return wire.ClubCreateTournament(
        id=0, club_id=draw(st.sampled_from([1, 2, 10**9])), name=draw(st.text(max_size=120)),
        preset=draw(PRESETS), kind=draw(st.sampled_from(["sng", "mtt", "xx"])),
        asset=draw(st.sampled_from(["chips", "play", "gold"])), buy_in=draw(CHIPS),
        fee=draw(CHIPS), seats_per_table=draw(st.integers(0, 12)),
        entries_min=draw(st.integers(0, 12)), entries_max=draw(st.integers(0, 20_000)),
        starts_at_ms=draw(st.sampled_from([None, LATER_MS, -1])),
    )  # fmt: skip


REQUEST = st.one_of(
    st.tuples(st.just("create"), _create()),
    st.tuples(st.sampled_from(["register", "unregister", "get", "standings"]), INDEX),
    st.tuples(st.just("close"), INDEX),
    st.tuples(
        st.sampled_from(["api-create", "api-close"]),
        st.dictionaries(API_KEYS, API_VALUES, max_size=6),
    ),
)


def _request(step: tuple[Any, ...], tournaments: list[int], tables: list[str]) -> Any:
    kind = step[0]
    if kind == "create":
        return step[1]
    if kind == "close":
        table_id = tables[step[1]] if step[1] < len(tables) else "club1-nosuch"
        return wire.ClubCloseTable(id=0, club_id=1, table_id=table_id)
    tid = tournaments[step[1]] if step[1] < len(tournaments) else 10**9
    return {
        "register": tw.RegisterTournament,
        "unregister": tw.UnregisterTournament,
        "get": tw.GetTournament,
        "standings": tw.GetTournamentStandings,
    }[kind](id=0, tournament_id=tid)


@settings(max_examples=4, deadline=None, database=None)
@given(steps=st.lists(st.tuples(WHO, REQUEST), min_size=1, max_size=20))
def test_club_tournament_requests_are_answered_and_refusals_change_nothing(
    steps: list[tuple[str, tuple[Any, ...]]],
) -> None:
    async def run(tmp: Path) -> None:
        async with running_server(tmp) as server:
            names = ("olga", "bea", "oscar")
            peers = {n: await server.nursery.start(_peer, server, n) for n in names}
            olga, bea, oscar = peers["olga"], peers["bea"], peers["oscar"]
            created = await olga.client.request(
                wire.ClubCreate(id=0, name="Owls", join_policy="open")
            )
            assert isinstance(created, wire.ClubInfo) and created.club.club_id == 1
            await bea.client.request(wire.ClubJoin(id=0, code=created.club.code))
            first = await olga.client.request(
                wire.ClubCreateTournament(id=0, club_id=1, name="Owls", preset="hyper-hands",
                                          buy_in=10, fee=1, starts_at_ms=LATER_MS)
            )  # fmt: skip
            assert isinstance(first, wire.ClubTournamentCreated)
            table = await olga.client.request(
                wire.ClubCreateTable(id=0, club_id=1, name="Owls", variant="NT", small_blind=1,
                                     big_blind=2)
            )  # fmt: skip
            assert isinstance(table, wire.ClubTableCreated)
            await oscar.client.request(tw.SubscribeTournaments(id=0))
            async with httpx.AsyncClient(base_url=server.listening.api_url) as http:
                tokens = {}
                for name in peers:
                    login = await http.post(
                        "/v1/auth/login", json={"name": name, "password": PASSWORD}
                    )
                    tokens[name] = login.json()["access_token"]

                async def club_tournaments() -> list[int]:
                    listed = await olga.client.request(tw.ListTournaments(id=0))
                    assert isinstance(listed, tw.TournamentList)
                    return sorted(t.tournament_id for t in listed.tournaments if t.club_id == 1)

                async def tables() -> list[str]:
                    detail = await olga.client.request(wire.ClubGet(id=0, club_id=1))
                    assert isinstance(detail, wire.ClubDetail)
                    return detail.tables

                async def state() -> Any:
                    entries = []
                    for tid in await club_tournaments():
                        standings = await olga.client.request(
                            tw.GetTournamentStandings(id=0, tournament_id=tid)
                        )
                        assert isinstance(standings, tw.TournamentStandings)
                        entries.append([(e.player_id, e.status) for e in standings.standings])
                    found = await tables()
                    open_now = [t for t in found if server.registry.resolve(TableAddress(t))]
                    balances = [(await p.balance()) for p in peers.values()]
                    return await club_tournaments(), entries, open_now, balances

                for n, (who, step) in enumerate(steps):
                    before = await state()
                    if step[0].startswith("api-"):
                        path = "/v1/clubs/1/" + ("tournaments" if step[0] == "api-create"
                                                 else "tables/close")  # fmt: skip
                        headers = {"Authorization": f"Bearer {tokens[who]}",
                                   "Idempotency-Key": f"k-{n}"}  # fmt: skip
                        answer = await http.post(path, json=step[1], headers=headers)
                        assert answer.status_code in (200, 201, 400, 403, 404, 409, 422, 503)
                        if answer.status_code >= 400:
                            assert answer.json()["code"] in PROBLEMS, answer.text
                            assert await state() == before, (who, step, answer.text)
                        else:
                            assert who != "oscar"
                        continue
                    request = _request(step, await club_tournaments(), await tables())
                    try:
                        await peers[who].client.request(request)
                    except ServerError as refused:
                        assert refused.code in CODES, refused
                        assert await state() == before, (who, request, refused.code)
                    else:  # every tournament and table here is the club's
                        assert who != "oscar", request
                    listed = await oscar.client.request(tw.ListTournaments(id=0))
                    assert isinstance(listed, tw.TournamentList)
                    assert all(t.club_id is None for t in listed.tournaments)
            mine = set(await club_tournaments())
            for body in oscar.seen:
                line = getattr(body, "tournament", None)
                assert line is None or line.club_id is None
                assert getattr(body, "tournament_id", None) not in mine

    with TemporaryDirectory() as tmp:
        trio.run(run, Path(tmp))
