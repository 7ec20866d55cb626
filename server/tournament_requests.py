"""The gateway's tournament messages (protocol/tournaments.py), served by the tournament
directory and the ``tournament:<id>`` actors by ask (actors/tournament_messages.py says
which answers what). Refusals keep their stable code (protocol/errors.py); an actor that
could not answer (restarting, or its node did not answer in time) is
``tournaments_unavailable``.

The directory is this node's (every node lists every tournament of the room); a tournament
is asked wherever it runs (server/cluster_tournaments.py: on another node over the bus)."""

from __future__ import annotations

from typing import Any, Final, Protocol, final

import trio

from actors.runtime import Registry, TargetError
from actors.table.messages import GameRefused
from actors.tournament_directory import wire_line
from actors.tournament_messages import (
    DIRECTORY_NAME,
    BuyAddOn,
    BuyRebuy,
    DeclineRebuy,
    EntryAccepted,
    GetStandings,
    GetTournament,
    ListTournaments,
    ProposeDeal,
    RegisterPlayer,
    StandingLine,
    Standings,
    SubscribeTournamentLobby,
    TournamentDetails,
    TournamentFilter,
    TournamentRefusal,
    TournamentSummary,
    UnregisterPlayer,
    UnsubscribeTournamentLobby,
    VoteDeal,
)
from poker.tournament import DealKind
from protocol import tournaments as wire
from protocol.messages import ERROR_MESSAGE_CHARS_MAX
from server.cluster_tournaments import RoomTournaments
from services.ledger import WalletError

ASK_TIMEOUT_S: Final = 10.0  # a registration moves money and stores a step
UNAVAILABLE_RETRY_AFTER_MS: Final = 1_000


def standing(line: StandingLine) -> wire.StandingEntry:
    return wire.StandingEntry(
        entry=line.entry, player_id=line.player_id,
        status=line.status,  # type: ignore[arg-type]
        stack=line.stack, table_id=line.table_id, place=line.place, tied=line.tied,
        prize=line.prize, bounties=line.bounties, head=line.head,
        display_name=line.display_name or None,
    )  # fmt: skip


def view(details: TournamentDetails, mine: tuple[wire.StandingEntry, ...]) -> wire.TournamentView:
    def level(info: Any) -> wire.LevelLine:
        return wire.LevelLine(
            level=info.level, small_blind=info.small_blind, big_blind=info.big_blind,
            ante=info.ante, ante_mode=info.ante_mode, duration=info.duration,
        )  # fmt: skip

    summary: TournamentSummary = details.summary
    may_register = summary.state in ("registering", "running") and (
        not mine or all(m.status == "out" for m in mine)
    )
    return wire.TournamentView(
        line=wire_line(summary),
        structure=details.structure_name,
        unit=details.unit,  # type: ignore[arg-type]
        starting_stack=details.starting_stack,
        levels=tuple(level(lv) for lv in details.levels),
        late_registration_levels=details.late_registration_levels,
        entries_per_player_max=details.entries_per_player_max,
        payouts=details.payouts,
        prizes_final=details.prizes_final,
        level=None if details.level is None else level(details.level),
        on_break=details.on_break,
        clock_paused=details.clock_paused,
        level_remaining_ms=details.level_remaining_ms,
        next_break_in_ms=details.next_break_in_ms,
        average_stack=details.average_stack,
        players_left=details.players_left,
        hand_for_hand=details.hand_for_hand,
        final_table=details.final_table,
        tables=tuple(
            wire.TableLine(table_id=t.table_id, players=t.players, in_hand=t.in_hand)
            for t in details.tables
        ),
        my_entries=mine,
        may_register=may_register and len(mine) < details.entries_per_player_max,
    )


def _filter(request: wire.ListTournaments | wire.SubscribeTournaments) -> TournamentFilter:
    return TournamentFilter(
        state=request.state, kind=request.kind, asset=request.asset,
        buy_in_min=request.buy_in_min, buy_in_max=request.buy_in_max,
    )  # fmt: skip


class TournamentRequestHandler(Protocol):
    """What the gateway asks: TournamentRequests, or a gate around it
    (actors/club_tournaments.py ``ClubTournamentGate``: club tournaments for members)."""

    async def handle(self, player_id: int, request: Any, address: str = "") -> Any: ...


@final
class TournamentRequests:
    """Serves protocol/tournaments.py's requests for one gateway."""

    def __init__(self, registry: Registry, room: RoomTournaments | None = None) -> None:
        self.registry = registry
        self.room = room or RoomTournaments(registry)  # none: this node's tournaments only

    async def _ask(self, name: str, message: Any, missing: str) -> Any:
        """This node's directory."""
        ref = self.registry.lookup(name)
        if ref is None:
            raise TournamentRefusal(missing, f"no {name}")
        try:
            return await ref.ask(message, timeout_s=ASK_TIMEOUT_S)
        except TargetError as exc:
            raise TournamentRefusal("tournaments_unavailable", str(exc)[:200]) from exc

    async def _at(self, tournament_id: int, message: Any, player_id: int) -> Any:
        """The tournament, wherever it runs; its answers to ``player_id`` follow her."""
        try:
            return await self.room.ask(tournament_id, message, ASK_TIMEOUT_S, player_id=player_id)
        except (WalletError, GameRefused) as refused:
            code = getattr(refused, "code", "tournament_refused")
            raise TournamentRefusal(code, str(refused)[:ERROR_MESSAGE_CHARS_MAX]) from refused
        except TargetError as exc:
            raise TournamentRefusal("tournaments_unavailable", str(exc)[:200]) from exc

    async def _both(self, tournament_id: int, first: Any, second: Any, player_id: int) -> Any:
        """Two reads of one tournament at once (from another node: one wait for both, not
        two in a row); the first refusal, if any, as ``_at`` raises it."""
        answers: list[Any] = [None, None]
        refusals: list[TournamentRefusal] = []

        async def read(index: int, message: Any) -> None:
            try:
                answers[index] = await self._at(tournament_id, message, player_id)
            except TournamentRefusal as refused:
                refusals.append(refused)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(read, 0, first)
            nursery.start_soon(read, 1, second)
        if refusals:
            raise refusals[0]
        return answers[0], answers[1]

    async def handle(
        self, player_id: int, request: Any, address: str = ""
    ) -> wire.TournamentReply | None:
        """The reply, or None for ``ok``; TournamentRefusal with a stable code otherwise.
        ``address``: the session's client address, for the one-address rule."""
        match request:
            case wire.ListTournaments():
                found = await self._ask(
                    DIRECTORY_NAME, ListTournaments(filter=_filter(request)),
                    "tournaments_unavailable",
                )  # fmt: skip
                return wire.TournamentList(
                    id=request.id, tournaments=tuple(wire_line(s) for s in found)
                )
            case wire.SubscribeTournaments():
                message = SubscribeTournamentLobby(player_id=player_id, filter=_filter(request))
                found = await self._ask(DIRECTORY_NAME, message, "tournaments_unavailable")
                return wire.TournamentList(
                    id=request.id, tournaments=tuple(wire_line(s) for s in found)
                )
            case wire.UnsubscribeTournaments():
                await self._ask(
                    DIRECTORY_NAME, UnsubscribeTournamentLobby(player_id=player_id),
                    "tournaments_unavailable",
                )  # fmt: skip
                return None
            case wire.GetTournament(tournament_id=tid):
                details, standings = await self._both(
                    tid, GetTournament(), GetStandings(player_id=player_id), player_id
                )
                assert isinstance(details, TournamentDetails) and isinstance(standings, Standings)
                mine = tuple(standing(s) for s in standings.lines)
                return wire.TournamentDetails(id=request.id, tournament=view(details, mine))
            case wire.RegisterTournament(tournament_id=tid):
                register = RegisterPlayer(player_id=player_id, address=address or None)
                accepted = await self._at(tid, register, player_id)
                assert isinstance(accepted, EntryAccepted)
                return wire.TournamentRegistered(
                    id=request.id, tournament_id=tid, entry=accepted.entry,
                    reentry=accepted.reentry, table_id=accepted.table_id,
                )  # fmt: skip
            case wire.UnregisterTournament(tournament_id=tid):
                await self._at(tid, UnregisterPlayer(player_id=player_id), player_id)
            case wire.TournamentRebuy(tournament_id=tid):
                await self._at(tid, BuyRebuy(player_id=player_id), player_id)
            case wire.DeclineTournamentRebuy(tournament_id=tid):
                await self._at(tid, DeclineRebuy(player_id=player_id), player_id)
            case wire.TournamentAddOn(tournament_id=tid):
                await self._at(tid, BuyAddOn(player_id=player_id), player_id)
            case wire.GetTournamentStandings(tournament_id=tid, offset=offset, limit=limit):
                page = await self._at(tid, GetStandings(offset=offset, limit=limit), player_id)
                assert isinstance(page, Standings)
                return wire.TournamentStandings(
                    id=request.id, tournament_id=tid, total=page.total,
                    standings=tuple(standing(s) for s in page.lines),
                )  # fmt: skip
            case wire.ProposeTournamentDeal(tournament_id=tid, kind=kind, keep=keep):
                proposal = ProposeDeal(player_id=player_id, kind=DealKind(kind), keep=keep)
                await self._at(tid, proposal, player_id)
            case wire.VoteTournamentDeal(tournament_id=tid, deal_id=deal_id, accept=accept):
                vote = VoteDeal(player_id=player_id, accept=accept, deal_id=deal_id)
                await self._at(tid, vote, player_id)
            case _:
                raise TypeError(f"not a tournament request: {request!r}")
        return None
