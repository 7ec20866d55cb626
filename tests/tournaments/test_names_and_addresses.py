"""Display names reach tournament standings and the seat views of tournament tables
(issue 19), and the one-address rule holds at registration (issue 26, docs/integrity.md):
a second account still in the tournament from the same client address is refused with
``same_address_in_tournament`` and nothing changes, unless staff allowed the network or
named the players together."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import msgspec
import pytest
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.table.config import TableRules
from actors.tournament_messages import (
    GetStandings,
    RegisterPlayer,
    Standings,
    StartTournament,
    TournamentRefusal,
    TournamentSpec,
    UnregisterPlayer,
)
from actors.tournament_views import NAME_FRESH_S
from persistence.audit import AuditStamp
from players.profiles import ProfileChange
from poker.integrity.table_rules import AddressRule, address_key
from poker.tournament import preset
from protocol import game
from protocol import tournaments as wire
from server.tournament_requests import TournamentRequests
from services import profiles
from tests.actors.test_table_fakes import sqlite_url
from tests.e2e.clock import autojump_between_threads
from tests.tournaments.harness import FUNDS, Room, tournament_room

HOME = "203.0.113.7"  # not loopback: the default rule applies to it
NEIGHBOUR = "198.51.100.9"


def _spec() -> TournamentSpec:
    structure = msgspec.structs.replace(preset("hyper"), name="names", starting_stack=1_000)
    return TournamentSpec(
        name="Names", kind="mtt", structure=structure, buy_in=100, fee=10,
        seats_per_table=6, starts_at_ms=2**62, action_timeout_ms=5_000,
    )  # fmt: skip


async def _accounts(room: Room, names: list[str]) -> list[int]:
    ids = []
    for name in names:
        account = await room.store.create_account(name.lower(), "x", "player")
        await profiles.update_profile(room.store, account.id, ProfileChange(display_name=name))
        ids.append(account.id)
    await room.fund(ids)
    return ids


async def test_standings_and_tournament_seat_views_carry_display_names(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    async with tournament_room(sqlite_url(tmp_path), seed=91) as room:
        ids = await _accounts(room, ["Ann Ace", "Bo Bluff", "Cy Check"])
        names = dict(zip(ids, ["Ann Ace", "Bo Bluff", "Cy Check"], strict=True))
        tid = await room.create(_spec())
        actor = room.tournament(tid)
        for player in ids:
            await actor.ask(RegisterPlayer(player_id=player))
        standings = await actor.ask(GetStandings(limit=10))
        assert isinstance(standings, Standings)
        assert {line.player_id: line.display_name for line in standings.lines} == names
        await actor.ask(StartTournament())
        snapshots = room.channel.of(ids[0], game.TableSnapshot)
        assert snapshots, "seated players get the table's snapshot"
        seen = {seat.player_id: seat.display_name for seat in snapshots[-1].seats}
        assert seen == {p: names[p] for p in seen} and ids[0] in seen
        # Over the websocket's request handler: the wire standings carry them too.
        requests = TournamentRequests(room.runtime.registry)
        page = await requests.handle(
            ids[1], wire.GetTournamentStandings(id=1, tournament_id=tid, offset=0, limit=10)
        )
        assert isinstance(page, wire.TournamentStandings)
        assert {s.player_id: s.display_name for s in page.standings} == names
        # A rename shows in the standings within NAME_FRESH_S, not only once she is reseated.
        stamp = AuditStamp("sam", "support", "players.rename", f"player:{ids[2]}", "ok", "r1")
        await profiles.staff_rename(room.store, ids[2], "Cy Raise", stamp)
        await trio.sleep(NAME_FRESH_S)
        standings = await actor.ask(GetStandings(limit=10))
        assert isinstance(standings, Standings)
        renamed = {line.player_id: line.display_name for line in standings.lines}
        assert renamed == {**names, ids[2]: "Cy Raise"}


async def test_a_second_account_from_one_address_is_refused_and_nothing_changes(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    async with tournament_room(sqlite_url(tmp_path), seed=92) as room:
        first, second, third = await _accounts(room, ["Ann", "Bob", "Cat"])
        tid = await room.create(_spec())
        requests = TournamentRequests(room.runtime.registry)
        register = wire.RegisterTournament(id=1, tournament_id=tid)
        await requests.handle(first, register, HOME)
        with pytest.raises(TournamentRefusal) as refused:
            await requests.handle(second, register, HOME)
        assert refused.value.code == "same_address_in_tournament"
        assert await room.balance(second) == FUNDS  # nothing moved
        assert await room.pool(tid) == 100
        await requests.handle(third, register, NEIGHBOUR)  # another address: welcome
        await requests.handle(second, register, "")  # an unknown address never conflicts
        # Once the first player is no longer in the tournament, her address is free.
        actor = room.tournament(tid)
        await actor.ask(UnregisterPlayer(player_id=second))
        await actor.ask(UnregisterPlayer(player_id=first))
        await requests.handle(second, register, HOME)
        standings = await actor.ask(GetStandings(limit=10))
        assert sorted(line.player_id for line in standings.lines) == sorted([second, third])


@pytest.mark.parametrize(
    "rule",
    [
        AddressRule(allowed_networks=("203.0.113.0/24",)),
        AddressRule(allowed_groups=(frozenset({1, 2}),)),
        AddressRule(enabled=False),
    ],
    ids=["allowed_network", "allowed_group", "rule_off"],
)
async def test_staff_exceptions_let_one_address_register_twice(
    tmp_path: Path,
    autojump_clock: trio.testing.MockClock,
    monkeypatch: pytest.MonkeyPatch,
    rule: AddressRule,
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    rules = TableRules(address=rule)
    async with tournament_room(sqlite_url(tmp_path), seed=93, rules=rules) as room:
        first, second = await _accounts(room, ["Ann", "Bob"])
        assert (first, second) == (1, 2)  # the group above names them
        tid = await room.create(_spec())
        actor = room.tournament(tid)
        await actor.ask(RegisterPlayer(player_id=first, address=HOME))
        await actor.ask(RegisterPlayer(player_id=second, address=HOME))
        assert await room.pool(tid) == 200


ADDRESSES = ["203.0.113.7", "203.0.113.8", "2001:db8::1", "2001:db8::2", "", "::ffff:203.0.113.7"]
ops_strategy = st.lists(
    st.tuples(
        st.sampled_from(["register", "unregister"]),
        st.integers(1, 4),
        st.sampled_from(ADDRESSES),
    ),
    max_size=16,
)


@settings(max_examples=15, deadline=None)
@given(ops=ops_strategy)
def test_registrations_follow_the_one_address_model(ops: list[tuple[str, int, str]]) -> None:
    """Against a model: a registration is refused exactly when another player still
    registered shares the address (IPv6 by /64, IPv4-mapped as IPv4; unknown never), and a
    refusal moves no money."""

    async def main() -> None:
        with tempfile.TemporaryDirectory() as scratch:
            async with tournament_room(f"sqlite:///{scratch}/t.sqlite3", seed=94) as room:
                await room.fund([1, 2, 3, 4])
                tid = await room.create(_spec())
                requests = TournamentRequests(room.runtime.registry)
                registered: dict[int, str] = {}
                for action, player, address in ops:
                    if action == "register":
                        key = address_key(address)
                        clash = key is not None and any(
                            other != player and address_key(theirs) == key
                            for other, theirs in registered.items()
                        )
                        expected = (
                            "registration_refused" if player in registered
                            else "same_address_in_tournament" if clash
                            else None
                        )  # fmt: skip
                        request: Any = wire.RegisterTournament(id=1, tournament_id=tid)
                    else:
                        expected = None if player in registered else "not_registered"
                        request = wire.UnregisterTournament(id=1, tournament_id=tid)
                    try:
                        await requests.handle(player, request, address)
                    except TournamentRefusal as exc:
                        assert exc.code == expected, (action, player, address, registered)
                    else:
                        assert expected is None, (action, player, address, registered)
                        if action == "register":
                            registered[player] = address
                        else:
                            del registered[player]
                    assert await room.pool(tid) == 100 * len(registered)

    trio.run(main)
