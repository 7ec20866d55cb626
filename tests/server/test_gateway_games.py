"""Lobby and table messages (protocol/game.py) through the gateway: requests go to the
tables' GameRequests, refusals keep their codes, table pushes reach the player's sessions."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.table.messages import GameRefused
from protocol.client import ServerError, open_client
from protocol.errors import ErrorCode
from protocol.game import (
    GAME_ERROR_CODES,
    GameRequest,
    HandStarted,
    JoinTable,
    ListTables,
    SitOut,
    TableList,
)
from protocol.messages import Event, Notice, Ok, Reply, SessionState
from server.gateway import GatewayLimits, PlayerChannel
from server.player_requests import DEFAULT_PREFERENCES
from tests.protocol.gateway_harness import PASSWORD, RecordingHooks, push_to_player, running_gateway


class RecordingTables:
    """A GameRequests double: answers from a script and records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, str, GameRequest]] = []

    async def handle(
        self, player_id: int, player: str, request: GameRequest, address: str = ""
    ) -> Reply | None:
        self.asked.append((player_id, player, request))
        if isinstance(request, ListTables):
            return TableList(id=request.id, tables=())
        if isinstance(request, JoinTable):
            raise GameRefused("table_full", f"table {request.table_id} is full")
        return None


async def test_game_requests_reach_the_tables_with_the_players_account(tmp_path: Path) -> None:
    tables = RecordingTables()
    async with (
        running_gateway(tmp_path, game_requests=tables) as gateway,
        open_client(gateway.url) as client,
    ):
        await client.register("alice", PASSWORD)
        listed = await client.request(ListTables(id=0))
        assert isinstance(listed, TableList) and listed.tables == ()
        assert isinstance(await client.request(SitOut(id=0, table_id="t1")), Ok)
        with pytest.raises(ServerError) as info:
            await client.request(JoinTable(id=0, table_id="t1", buy_in=100))
        assert info.value.code == "table_full"
        session = gateway.sessions.of_player("alice")[0]
        assert [(pid, name) for pid, name, _ in tables.asked] == [(session.player_id, "alice")] * 3


async def test_table_pushes_reach_every_session_of_the_player(tmp_path: Path) -> None:
    async with (
        running_gateway(tmp_path, game_requests=RecordingTables()) as gateway,
        open_client(gateway.url) as first,
        open_client(gateway.url) as second,
    ):
        await first.register("alice", PASSWORD)
        await second.login("alice", PASSWORD)
        player_id = gateway.sessions.of_player("alice")[0].player_id
        assert player_id is not None
        body = HandStarted(
            table_id="t1",
            hand_number=1,
            button=0,
            seats=(0, 1),
            stacks=(100, 100),
            small_blind_seat=0,
            big_blind_seat=1,
        )
        gateway.deliver(player_id, body)
        gateway.deliver(player_id + 1000, body)  # nobody: silently nothing
        assert await first.next_event() == Event(seq=1, body=body)
        assert await second.next_event() == Event(seq=1, body=body)


async def test_without_tables_game_requests_are_refused(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gateway, open_client(gateway.url) as client:
        await client.register("alice", PASSWORD)
        with pytest.raises(ServerError) as info:
            await client.request(ListTables(id=0))
        assert info.value.code == ErrorCode.GAMES_UNAVAILABLE


async def test_guests_cannot_play(tmp_path: Path) -> None:
    limits = GatewayLimits(guest_login=True)
    async with (
        running_gateway(tmp_path, limits=limits, game_requests=RecordingTables()) as gateway,
        open_client(gateway.url) as client,
    ):
        await client.guest_login()
        with pytest.raises(ServerError) as info:
            await client.request(ListTables(id=0))
        assert info.value.code == ErrorCode.ACCOUNT_REQUIRED


async def test_game_requests_need_a_login(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gateway, open_client(gateway.url) as client:
        with pytest.raises(ServerError) as info:
            await client.request(ListTables(id=0))
        assert info.value.code == ErrorCode.NOT_AUTHENTICATED


class RefusingTables:
    """A GameRequests double that refuses every request with the code it is given."""

    def __init__(self) -> None:
        self.code = ""

    async def handle(
        self, player_id: int, player: str, request: GameRequest, address: str = ""
    ) -> Reply | None:
        raise GameRefused(self.code, f"refused with {self.code}")


async def test_every_game_refusal_code_reaches_the_client_unchanged(tmp_path: Path) -> None:
    tables = RefusingTables()
    limits = GatewayLimits(rate_burst_requests=200)
    async with (
        running_gateway(tmp_path, game_requests=tables, limits=limits) as gateway,
        open_client(gateway.url) as client,
    ):
        await client.register("alice", PASSWORD)
        for code in [*GAME_ERROR_CODES, ErrorCode.INSUFFICIENT_FUNDS.value]:
            tables.code = code
            with pytest.raises(ServerError) as info:
                await client.request(SitOut(id=0, table_id="t1"))
            assert info.value.code == code
        assert gateway.session_crashes == 0


async def test_a_resume_sends_the_tables_state_from_the_hooks(tmp_path: Path) -> None:
    snapshot_bodies = [
        HandStarted(
            table_id=table_id,
            hand_number=7,
            button=0,
            seats=(0, 1),
            stacks=(90, 110),
            small_blind_seat=0,
            big_blind_seat=1,
        )
        for table_id in ("t1", "t2", "t1")
    ]
    hooks = RecordingHooks(state=snapshot_bodies)
    async with (
        running_gateway(tmp_path, hooks=hooks, game_requests=RecordingTables()) as gateway,
        open_client(gateway.url) as client,
    ):
        await client.register("alice", PASSWORD)
        push_to_player(gateway, "alice", Notice(code="n", text="before the drop"))
        assert (await client.next_event()).seq == 1  # type: ignore[union-attr]
        await client.simulate_network_drop()
        state = await client.next_event()
        assert state == Event(
            seq=2, body=SessionState(table_ids=["t1", "t2"], preferences=DEFAULT_PREFERENCES)
        )
        pushed = [await client.next_event() for _ in snapshot_bodies]
        assert [e.body for e in pushed if isinstance(e, Event)] == snapshot_bodies


async def test_a_resume_names_every_table_the_player_sits_at_even_without_pushes(
    tmp_path: Path,
) -> None:
    hooks = RecordingHooks(table_ids=["t3", "t1"])
    async with (
        running_gateway(tmp_path, hooks=hooks, game_requests=RecordingTables()) as gateway,
        open_client(gateway.url) as client,
    ):
        await client.register("alice", PASSWORD)
        push_to_player(gateway, "alice", Notice(code="n", text="before the drop"))
        assert (await client.next_event()).seq == 1  # type: ignore[union-attr]
        await client.simulate_network_drop()
        state = await client.next_event()
        assert state == Event(
            seq=2, body=SessionState(table_ids=["t3", "t1"], preferences=DEFAULT_PREFERENCES)
        )


async def test_the_tables_channel_reaches_players_once_the_gateway_runs(tmp_path: Path) -> None:
    channel = PlayerChannel()
    body = HandStarted(
        table_id="t1",
        hand_number=1,
        button=0,
        seats=(0, 1),
        stacks=(100, 100),
        small_blind_seat=0,
        big_blind_seat=1,
    )
    channel.deliver(1, body)  # before the gateway: dropped, never raised
    async with (
        running_gateway(tmp_path, channel=channel) as gateway,
        open_client(gateway.url) as client,
    ):
        await client.register("alice", PASSWORD)
        player_id = gateway.sessions.of_player("alice")[0].player_id
        assert player_id is not None
        channel.deliver(player_id, body)
        assert await client.next_event() == Event(seq=1, body=body)
    assert channel.gateway is None  # a stopped gateway is let go
