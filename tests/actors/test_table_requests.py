"""Wire game requests answered through the lobby and the tables (what the gateway will call):
every answer is a valid frame of the protocol, refusals carry stable codes, and a whole
sit-down / act / leave cycle works from requests alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from actors.registry import Registry
from actors.table.messages import GameRefused, GetSeats, ListTablesQuery
from actors.table.requests import (
    TableGameRequests,
    TableSessionHooks,
    connection_changed,
)
from protocol import game
from protocol.messages import Error, Ok
from services.ledger import wallet
from tests.actors.test_table_fakes import FUNDS, nlhe, running_game, sqlite_url

Frame = game.GameReply | Ok | Error
_decoder = msgspec.msgpack.Decoder(Frame)


async def answer(registry: Registry, player_id: int, request: game.GameRequest) -> Frame:
    """The frame the gateway sends for ``request`` (server/connection.py: the reply, ``ok``,
    or an ``error`` with the refusal's code, message and retry hint)."""
    try:
        reply = await TableGameRequests(registry).handle(player_id, "", request)
    except GameRefused as refused:
        return Error(
            id=request.id, code=refused.code, message=str(refused)[:500],
            retry_after_ms=refused.retry_after_ms,
        )  # fmt: skip
    return Ok(id=request.id) if reply is None else reply


def on_the_wire(reply: Any) -> Any:
    """What the client decodes: the reply through msgpack and the strict decoder."""
    return _decoder.decode(msgspec.msgpack.encode(reply))


async def test_requests_sit_act_and_leave_through_the_actors(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=51) as session:
        registry = session.runtime.registry
        table = await session.open_table(nlhe("wire", seats=2, between_hands_ms=10))
        await session.fund([1, 2])
        stream = session.channel.stream()

        async def ask(player_id: int, request: game.GameRequest) -> Any:
            return on_the_wire(await answer(registry, player_id, request))

        listed = await ask(1, game.SubscribeLobby(id=1, filter=game.LobbyFilter(variant="NT")))
        assert isinstance(listed, game.TableList) and listed.tables[0].table_id == "wire"
        assert await ask(3, game.Watch(id=4, table_id="wire")) == Ok(id=4)  # sees every prompt
        seated = await ask(1, game.JoinTable(id=2, table_id="wire", buy_in=100))
        assert seated == game.Seated(id=2, table_id="wire", seat=0, stack=100)
        assert await ask(2, game.QuickSeat(id=3, variant="NT", big_blind=2, buy_in=120)) == (
            game.Seated(id=3, table_id="wire", seat=1, stack=120)
        )

        # Act on the first prompt from requests only (the watcher sees every prompt).
        async def prompt() -> game.ActionRequired:
            async for player_id, body in stream:
                if player_id == 3 and isinstance(body, game.ActionRequired):
                    return body
            raise AssertionError("no prompt")

        first = await prompt()
        wrong = await ask(1, game.Act(
            id=5, table_id="wire", hand_number=first.hand_number + 7, action="check_or_call"
        ))  # fmt: skip
        assert isinstance(wrong, Error) and wrong.code == "wrong_hand"
        other = 2 if first.seat == 0 else 1
        not_yours = await ask(other, game.Act(
            id=6, table_id="wire", hand_number=first.hand_number, action="check_or_call"
        ))  # fmt: skip
        assert isinstance(not_yours, Error) and not_yours.code == "not_your_turn"
        folded = await ask(first.seat + 1, game.Act(
            id=7, table_id="wire", hand_number=first.hand_number, action="fold"
        ))  # fmt: skip
        assert folded == Ok(id=7)

        connection_changed(registry, 1, ["wire"], connected=False)
        seats = await table.ask(GetSeats())
        assert [s.connected for s in seats.seats] == [False, True]
        connection_changed(registry, 1, ["wire"], connected=True)

        left = await ask(1, game.LeaveTable(id=8, table_id="wire"))
        assert isinstance(left, game.LeftTable) and left.id == 8
        await session.assert_conserved(table)
        # Out of the hand at once (it ended on the fold), or after it: paid either way.
        if left.cashed_out is not None:
            balance = (await session.wallet.balance(1)).balance
            assert balance == FUNDS - 100 + left.cashed_out


async def test_refusals_are_error_frames_with_stable_codes(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=52) as session:
        registry = session.runtime.registry
        await session.open_table(nlhe("codes", between_hands_ms=60_000))
        await session.wallet.adjust("tiny", wallet(9), 10, "a small wallet")
        cases: list[tuple[game.GameRequest, str]] = [
            (game.JoinTable(id=1, table_id="nope", buy_in=100), "no_such_table"),
            (game.JoinTable(id=2, table_id="codes", buy_in=1), "buy_in_out_of_range"),
            (game.JoinTable(id=3, table_id="codes", buy_in=100), "insufficient_funds"),
            (game.TopUp(id=4, table_id="codes", amount=10), "not_seated"),
            (game.Act(id=5, table_id="codes", hand_number=1, action="fold"), "not_seated"),
            (game.QuickSeat(id=6, variant="PO", big_blind=2, buy_in=100), "no_such_game"),
        ]
        for request, code in cases:
            reply = on_the_wire(await answer(registry, 9, request))
            assert isinstance(reply, Error), request
            assert (reply.id, reply.code) == (request.id, code)


async def test_session_hooks_hold_the_seat_resend_state_and_release_on_end(
    tmp_path: Path,
) -> None:
    async with running_game(sqlite_url(tmp_path), seed=53) as session:
        registry = session.runtime.registry
        hooks = TableSessionHooks(registry, session.deps.player_tables)
        games = TableGameRequests(registry)
        table = await session.open_table(nlhe("hooks", between_hands_ms=60_000))
        other = await session.open_table(nlhe("other", between_hands_ms=60_000))
        await session.fund([1, 2])
        assert await games.handle(1, "p1", game.JoinTable(id=1, table_id="hooks", buy_in=100))
        assert await games.handle(1, "p1", game.Watch(id=2, table_id="other")) is None
        assert await games.handle(1, "p1", game.SubscribeLobby(id=3))
        assert session.deps.player_tables.seats_of(1) == ["hooks"]
        assert session.deps.player_tables.watched_by(1) == ["other"]

        assert hooks.table_ids(1) == ["hooks", "other"]  # for the resumed session_state
        hooks.session_detached(1, "p1", "s1")
        seats = await table.ask(GetSeats())
        assert [(s.player_id, s.connected) for s in seats.seats] == [(1, False)]  # held

        before = len(session.channel.bodies[1])
        assert hooks.current_state(1, "p1") == ()
        seats = await table.ask(GetSeats())
        assert [(s.player_id, s.connected) for s in seats.seats] == [(1, True)]
        resent = [b for _, b in session.channel.bodies[1][before:]]
        assert any(isinstance(b, game.TableSnapshot) and b.table_id == "hooks" for b in resent)

        hooks.session_ended(1, "p1", "s1")
        assert (await table.ask(GetSeats())).seats == ()
        assert (await other.ask(GetSeats())).watchers == ()
        await session.assert_conserved(table)
        assert (await session.wallet.balance(1)).balance == FUNDS
        assert session.deps.player_tables.seats_of(1) == []
        lobby = registry.get("lobby")
        before = len(session.channel.bodies[1])
        await games.handle(2, "p2", game.JoinTable(id=4, table_id="other", buy_in=100))
        await lobby.ask(ListTablesQuery())
        assert not any(
            isinstance(b, game.LobbyTableChanged) for _, b in session.channel.bodies[1][before:]
        )
