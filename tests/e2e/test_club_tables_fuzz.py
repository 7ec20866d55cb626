"""A hypothesis fuzz of the club-table requests over real websockets: ``club_create_table``
with any fields, and joins, wait-list entries, watches and quick-seats at the club's tables,
from the owner, a member and an outsider. Every request is answered (a reply, or an error
with a documented code); a refusal changes nothing (the club's tables, their seats, the
wallets); the outsider never sees a club table in a listing or a push."""

from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import clubs as wire
from protocol import game
from protocol.client import ServerError
from protocol.errors import ERROR_CODE_VALUES
from tests.e2e.harness import running_server

WHO = st.sampled_from(["olga", "bea", "oscar"])
CHIPS = st.one_of(st.integers(0, 200), st.integers(-5, 2**64 - 1))  # msgpack's range
TABLE = st.integers(0, 3)  # an index into the club's tables (made so far), or none
VARIANTS = st.sampled_from(["NT", "FT", "PO", "PT", "PO/8", "XX"])


@st.composite
def _create(draw: st.DrawFn) -> Any:
    return wire.ClubCreateTable(
        id=0, club_id=draw(st.sampled_from([1, 2, 10**9])), name=draw(st.text(max_size=70)),
        variant=draw(VARIANTS), small_blind=draw(CHIPS), big_blind=draw(CHIPS),
        seats=draw(st.integers(0, 12)), buy_in_min=draw(CHIPS), buy_in_max=draw(CHIPS),
        ante=draw(CHIPS), asset=draw(st.sampled_from(["chips", "play", "gold"])),
    )  # fmt: skip


REQUEST = st.one_of(
    st.tuples(st.just("create"), _create()),
    st.tuples(st.sampled_from(["join", "wait", "watch"]), TABLE),
    st.tuples(st.just("quick"), st.sampled_from([None, 1, 2]), CHIPS),
)
CODES = set(ERROR_CODE_VALUES) | set(game.GAME_ERROR_CODES)


def _request(step: tuple[Any, ...], tables: list[str]) -> Any:
    kind = step[0]
    if kind == "create":
        return step[1]
    if kind == "quick":
        return game.QuickSeat(id=0, variant="NT", big_blind=2, buy_in=step[2], club_id=step[1])
    table_id = tables[step[1]] if step[1] < len(tables) else "club1-nosuch"
    if kind == "join":
        return game.JoinTable(id=0, table_id=table_id, buy_in=200)
    if kind == "wait":
        return game.JoinWaitList(id=0, table_id=table_id)
    return game.Watch(id=0, table_id=table_id)


@settings(max_examples=4, deadline=None, database=None)
@given(steps=st.lists(st.tuples(WHO, REQUEST), min_size=1, max_size=20))
def test_club_table_requests_are_answered_and_refusals_change_nothing(
    steps: list[tuple[str, tuple[Any, ...]]],
) -> None:
    async def run(tmp: Path) -> None:
        async with running_server(tmp) as server:
            olga = await server.player("olga", 1, acting=False)
            bea = await server.player("bea", 2, acting=False)
            oscar = await server.player("oscar", 3, acting=False)
            players = {"olga": olga, "bea": bea, "oscar": oscar}
            created = await olga.client.request(
                wire.ClubCreate(id=0, name="Owls", join_policy="open")
            )
            assert isinstance(created, wire.ClubInfo) and created.club.club_id == 1
            await bea.client.request(wire.ClubJoin(id=0, code=created.club.code))
            first = await olga.client.request(
                wire.ClubCreateTable(id=0, club_id=1, name="Owls", variant="NT", small_blind=1,
                                     big_blind=2)
            )  # fmt: skip
            assert isinstance(first, wire.ClubTableCreated)
            await oscar.client.request(game.SubscribeLobby(id=0, filter=game.LobbyFilter()))

            async def tables() -> list[str]:
                detail = await olga.client.request(wire.ClubGet(id=0, club_id=1))
                assert isinstance(detail, wire.ClubDetail)
                return detail.tables

            async def state() -> Any:
                found = await tables()
                # Who sits where (not stacks: a hand may post blinds meanwhile).
                seats = [
                    [None if s is None else s.player_id for s in (await server.seats(t)).seats]
                    for t in found
                ]
                balances = [(await p.client.balance()).balance for p in players.values()]
                return found, seats, balances

            for who, step in steps:
                club_tables = await tables()
                request = _request(step, club_tables)
                before = await state()
                try:
                    await players[who].client.request(request)
                except ServerError as refused:
                    assert refused.code in CODES, refused
                    assert await state() == before, (who, request, refused.code)
                else:
                    assert who != "oscar" or not isinstance(request, wire.ClubCreateTable)
                    if isinstance(request, game.JoinTable | game.Watch | game.JoinWaitList):
                        assert who != "oscar" or request.table_id not in club_tables
                listed = await oscar.client.request(
                    game.ListTables(id=0, filter=game.LobbyFilter())
                )
                assert isinstance(listed, game.TableList)
                assert all(t.club_id is None for t in listed.tables)
            club_tables = set(await tables())
            for body in server.recorder.frames[oscar.player_id]:
                listing = getattr(body, "listing", None)
                assert getattr(body, "table_id", None) not in club_tables
                assert listing is None or listing.club_id is None

    with TemporaryDirectory() as tmp:
        trio.run(run, Path(tmp))
