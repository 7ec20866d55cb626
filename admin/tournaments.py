"""Tournaments for directors: create, start, cancel, the clock, entries and tables (each
audited), and list, detail, standings and results (JSON and CSV).

Several nodes (docs/scaling.md, "Tournaments across nodes"): a new tournament may open on
another, less-loaded node; every route works on any node, its asks going to the node that
runs the tournament, and the list is this node's directory's, which lists the room's.

A tournament's changes are messages to its actor (``tournament:<id>``) or to the directory
(``tournament-directory``), not SQL, so they cannot share a transaction with their audit
entry. They are logged write-ahead, as the table routes are (admin/tables.py): an entry with
``"outcome": "requested"`` is committed before the actor is asked (no entry, no ask), and a
second entry with the same request id records the outcome: ``"done"``, ``"refused"`` (with
the tournament's code) or ``"unknown"`` (it did not answer in time: it may have acted). The
ask and the outcome entry are shielded from the caller hanging up. The money a change moves
(a cancellation's refunds, a removal's refund) is the actor's, through the ledger, with keys
unique per tournament and entry: a retried request never pays twice.

A request refused before the actor is asked (bad input, no such tournament) writes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Final, Literal

import msgspec
import trio
from msgspec import Meta, Struct
from quart import Blueprint, Response
from quart_schema import document_querystring, document_request, validate_querystring

from actors.registry import Registry
from actors.runtime import TargetError
from actors.tournament_messages import (
    STANDINGS_MAX,
    TOURNAMENT_DIRECTORY,
    AdjustStack,
    BreakTable,
    CancelTournament,
    CreateTournament,
    GetResults,
    GetStandings,
    GetTournament,
    ListTournaments,
    MoveEntry,
    PauseClock,
    RemoveEntry,
    RescheduleStart,
    Results,
    ResumeClock,
    Standings,
    StartTournament,
    TournamentAddress,
    TournamentCreated,
    TournamentDetails,
    TournamentFilter,
    TournamentKind,
    TournamentMessage,
    TournamentRefusal,
    TournamentSpec,
    TournamentState,
    TournamentSummary,
)
from admin.auth import error, requires
from admin.bodies import ROW_ID_MAX, Reason, read_body
from admin.context import audit_stamp, current_context, record_audit
from admin.permissions import Permission
from poker.tournament import BountyKind, Structure
from poker.tournament.presets import PRESETS
from poker.tournament.state import ENTRIES_MAX
from poker.tournament.structure import CHIPS_MAX

tournament_routes = Blueprint("tournaments", __name__)

TOURNAMENT = f"<int(max={ROW_ID_MAX}):tournament_id>"
ENTRY = f"<int(max={ROW_ID_MAX}):entry>"
TABLE = f"<int(max={ROW_ID_MAX}):table>"

ADMIN_ASK_TIMEOUT_S: Final = 10.0  # a cancellation refunds every entry through the ledger
# A start opens every table and seats the field in one step: 112 tables and 1,000 seats took
# longer than 10 s on SQLite (the swarm's 1,000-bot run was refused "did not answer").
START_ASK_TIMEOUT_S: Final = 120.0
NAME_CHARS_MAX: Final = 64
STACK_CHANGE_MAX: Final = CHIPS_MAX  # the core's bound on chips
# Refusal codes and their statuses; every other code of the actor is a conflict (409).
_STATUS_OF: Final = {
    "tournament_not_found": 404,
    "structure_invalid": 400,
    "payout_invalid": 400,
    "unavailable": 503,
}
CSV_COLUMNS: Final = (
    "place", "tied", "entry", "player_id", "prize", "bounties", "rebuys", "addon",
)  # fmt: skip

Chips = Annotated[int, Meta(ge=0, le=CHIPS_MAX)]
PresetName = Literal[
    "sng-turbo-9max", "sng-turbo-6max", "mtt-regular", "mtt-turbo", "mtt-rebuy", "hyper",
    "hyper-hands",
]  # fmt: skip
assert set(PresetName.__args__) == set(PRESETS), "the presets changed: list them here"  # type: ignore[attr-defined]


class TournamentCreate(Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A tournament from a ``preset`` or a full ``structure`` (exactly one). A sit-and-go
    (``kind: "sng"``) starts when ``entries_max`` have registered; a multi-table tournament at
    ``starts_at_ms`` (milliseconds since the epoch) if ``entries_min`` have registered by then
    (else it is cancelled and refunded), or earlier when a director starts it."""

    name: Annotated[str, Meta(min_length=1, max_length=NAME_CHARS_MAX)]
    reason: Reason
    kind: TournamentKind = "mtt"
    preset: PresetName | None = None
    structure: Structure | None = None
    asset: Literal["chips", "play"] = "chips"
    buy_in: Chips = 0
    fee: Chips = 0
    bounty: Chips = 0
    bounty_kind: BountyKind = BountyKind.NONE
    guarantee: Chips = 0
    seats_per_table: Annotated[int, Meta(ge=2, le=10)] = 9
    entries_min: Annotated[int, Meta(ge=2, le=ENTRIES_MAX)] = 2
    entries_max: Annotated[int, Meta(ge=2, le=ENTRIES_MAX)] = 10_000
    starts_at_ms: Annotated[int, Meta(ge=0, le=2**53)] | None = None
    paid_bp: Annotated[int, Meta(ge=1, le=10_000)] | None = None
    hand_for_hand_at_pay_jumps: bool = False
    hand_for_hand_from_bubble: Annotated[int, Meta(ge=1, le=100)] = 1
    action_timeout_ms: Annotated[int, Meta(ge=1_000, le=600_000)] = 15_000
    between_hands_ms: Annotated[int, Meta(ge=0, le=60_000)] | None = None


class OperatorRequest(Struct, frozen=True, forbid_unknown_fields=True):
    reason: Reason


class RemoveRequest(Struct, frozen=True, forbid_unknown_fields=True):
    reason: Reason
    refund: bool = False  # true: buy-in, bounty and fee back, chips leave play


class StackRequest(Struct, frozen=True, forbid_unknown_fields=True):
    """``chips`` added to the stack (negative: taken off)."""

    chips: Annotated[int, Meta(ge=-STACK_CHANGE_MAX, le=STACK_CHANGE_MAX)]
    reason: Reason


class ScheduleRequest(Struct, frozen=True, forbid_unknown_fields=True):
    """The new start of a multi-table tournament not started yet (ms since the epoch)."""

    starts_at_ms: Annotated[int, Meta(ge=0, le=2**53)]
    reason: Reason


class MoveRequest(Struct, frozen=True, forbid_unknown_fields=True):
    table: Annotated[int, Meta(ge=1, le=ENTRIES_MAX)]  # the tournament's table number
    reason: Reason


class ListQuery(Struct, frozen=True):
    state: TournamentState | None = None
    kind: TournamentKind | None = None
    asset: Literal["chips", "play"] | None = None
    buy_in_min: Annotated[int, Meta(ge=0, le=3 * CHIPS_MAX)] | None = None
    buy_in_max: Annotated[int, Meta(ge=0, le=3 * CHIPS_MAX)] | None = None


class StandingsQuery(Struct, frozen=True):
    offset: Annotated[int, Meta(ge=0, le=ENTRIES_MAX * 100)] = 0
    limit: Annotated[int, Meta(ge=1, le=STANDINGS_MAX)] = 100


class TournamentList(Struct, frozen=True):
    tournaments: list[TournamentSummary]


class TournamentView(Struct, frozen=True):
    """One tournament for a director: its details (structure, level, clock, prize pool,
    payouts, tables), a page of entrants (standings) and the results so far."""

    details: TournamentDetails
    entrants: Standings
    results: Results


class Created(Struct, frozen=True):
    tournament_id: int
    details: TournamentDetails


def _registry() -> Registry:
    registry = current_context().registry
    assert registry is not None, "the admin app runs inside a server with a runtime"
    return registry


def _refused(exc: TournamentRefusal) -> Any:
    return error(_STATUS_OF.get(exc.code, 409), exc.code, exc.message)


async def _ask_tournament(
    tournament_id: int, message: TournamentMessage, timeout_s: float = ADMIN_ASK_TIMEOUT_S
) -> Any:
    """The tournament's answer, on this node or the one that runs it (several nodes:
    server/cluster_tournaments.py); TournamentRefusal when it refuses, is not there, or does
    not answer in time (``unavailable``: it may have acted)."""
    ask = current_context().ask_tournament
    try:
        if ask is not None:
            return await ask(tournament_id, message, timeout_s)
        ref = _registry().resolve(TournamentAddress(tournament_id))
        if ref is None:
            raise TournamentRefusal("tournament_not_found", f"no live tournament {tournament_id}")
        return await ref.ask(message, timeout_s=timeout_s)
    except TargetError as exc:
        message_text = f"tournament {tournament_id} did not answer"
        raise TournamentRefusal("unavailable", message_text) from exc


async def _ask_directory(message: CreateTournament | ListTournaments) -> Any:
    ref = _registry().resolve(TOURNAMENT_DIRECTORY)
    if ref is None:
        raise TournamentRefusal("unavailable", "the tournament directory is not running")
    try:
        return await ref.ask(message, timeout_s=ADMIN_ASK_TIMEOUT_S)
    except TargetError as exc:
        raise TournamentRefusal("unavailable", "the tournament directory did not answer") from exc


async def _details(tournament_id: int) -> TournamentDetails:
    details = await _ask_tournament(tournament_id, GetTournament())
    assert isinstance(details, TournamentDetails)
    return details


async def _write_ahead(
    action: str,
    target: str,
    reason: str,
    *,
    before: Any,
    requested: dict[str, Any],
    operation: Callable[[], Awaitable[Any]],
    done: Callable[[Any], dict[str, Any]],
    done_target: Callable[[Any], str] | None = None,
) -> Any:
    """Log the intent, ask, log the outcome (see the module's docstring). Returns what
    ``operation`` returned, or the refusal to answer with (a tuple)."""
    stamp = audit_stamp(action, target, reason)
    await record_audit(stamp, before=before, after={"outcome": "requested", **requested})
    # Bounded: the ask times out (ADMIN_ASK_TIMEOUT_S), and so does a database statement.
    with trio.CancelScope(shield=True):
        try:
            answer = await operation()
        except TournamentRefusal as exc:
            outcome = "unknown" if exc.code == "unavailable" else "refused"
            await record_audit(stamp, before=before, after={"outcome": outcome, "error": exc.code})
            return _refused(exc)
        if done_target is not None:
            stamp = msgspec.structs.replace(stamp, target=done_target(answer))
        await record_audit(stamp, before=before, after={"outcome": "done", **done(answer)})
    return answer


def _brief(details: TournamentDetails) -> dict[str, Any]:
    """What an audit entry keeps of a tournament: its state, level and money."""
    summary = details.summary
    return {
        "state": summary.state,
        "level": summary.level,
        "clock_paused": details.clock_paused,
        "entries": summary.entries,
        "players_left": summary.players_left,
        "prize_pool": summary.prize_pool,
    }


# --- reading ---------------------------------------------------------------------------------


@tournament_routes.get("/tournaments")
@requires(Permission.TOURNAMENTS_READ)
@validate_querystring(ListQuery)
@document_querystring(ListQuery)
async def list_tournaments(query_args: ListQuery) -> Any:
    """Tournaments, newest first (at most 500), filtered by state, kind, asset and total
    buy-in (buy-in + fee + bounty)."""
    wanted = TournamentFilter(**msgspec.structs.asdict(query_args))
    try:
        summaries = await _ask_directory(ListTournaments(filter=wanted))
    except TournamentRefusal as exc:
        return _refused(exc)
    return TournamentList(tournaments=list(summaries))


@tournament_routes.get(f"/tournaments/{TOURNAMENT}")
@requires(Permission.TOURNAMENTS_READ)
@validate_querystring(StandingsQuery)
@document_querystring(StandingsQuery)
async def get_tournament(tournament_id: int, query_args: StandingsQuery) -> Any:
    """One tournament: structure, level and clock, prize pool and payouts, tables, a page of
    entrants (``offset``, ``limit``: by stack, then the placed by place) and the results."""
    try:
        details = await _details(tournament_id)
        standings = await _ask_tournament(
            tournament_id, GetStandings(offset=query_args.offset, limit=query_args.limit)
        )
        results = await _ask_tournament(tournament_id, GetResults())
    except TournamentRefusal as exc:
        return _refused(exc)
    return TournamentView(details=details, entrants=standings, results=results)


async def _results(tournament_id: int) -> Results | Any:
    try:
        results = await _ask_tournament(tournament_id, GetResults())
    except TournamentRefusal as exc:
        return _refused(exc)
    assert isinstance(results, Results)
    return results


@tournament_routes.get(f"/tournaments/{TOURNAMENT}/results")
@requires(Permission.TOURNAMENTS_READ)
async def results_json(tournament_id: int) -> Any:
    """Every entry with its place and what it was paid (prize, bounties), the prize pool and
    what has been paid so far."""
    return await _results(tournament_id)


def results_csv(results: Results) -> str:
    """One line per entry, placed first by place, then the entries still in."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    lines = sorted(results.lines, key=lambda line: (line.place == 0, line.place, line.entry))
    for line in lines:
        place, tied = line.place or "", line.tied or ""
        addon = "yes" if line.addon else "no"
        row = (place, tied, line.entry, line.player_id, line.prize, line.bounties, line.rebuys)
        writer.writerow((*row, addon))
    return out.getvalue()


@tournament_routes.get(f"/tournaments/{TOURNAMENT}/results.csv")
@requires(Permission.TOURNAMENTS_READ)
async def results_as_csv(tournament_id: int) -> Any:
    """The results as a CSV download (columns: place, tied, entry, player_id, prize,
    bounties, rebuys, addon; an entry still in has no place)."""
    results = await _results(tournament_id)
    if not isinstance(results, Results):
        return results
    name = f"tournament-{tournament_id}-results.csv"
    return Response(
        results_csv(results),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- changing --------------------------------------------------------------------------------


@tournament_routes.post("/tournaments")
@requires(Permission.TOURNAMENTS_WRITE)
@document_request(TournamentCreate)
async def create_tournament() -> Any:
    """Create a tournament from a preset or a full structure; audited (the outcome entry's
    target is the new ``tournament:<id>``): its id and details."""
    body = await read_body(TournamentCreate)
    if (body.preset is None) == (body.structure is None):
        return error(400, "invalid_request", "give a preset or a structure, exactly one")
    if body.entries_min > body.entries_max:
        return error(400, "invalid_request", "entries_min is above entries_max")
    fields = msgspec.structs.asdict(body)
    reason = fields.pop("reason")
    spec = TournamentSpec(**fields)
    if _registry().resolve(TOURNAMENT_DIRECTORY) is None:  # refused before anything is logged
        return error(503, "unavailable", "the tournament directory is not running")

    async def create() -> int:
        created = await _ask_directory(CreateTournament(spec=spec))
        assert isinstance(created, TournamentCreated)
        return created.tournament_id

    created = await _write_ahead(
        "tournaments.create",
        "tournaments",
        reason,
        before=None,
        requested={"spec": msgspec.to_builtins(spec)},
        operation=create,
        done=lambda tournament_id: {"tournament_id": tournament_id},
        done_target=lambda tournament_id: TournamentAddress(tournament_id).actor_name,
    )
    if not isinstance(created, int):
        return created  # the refusal
    try:
        details = await _details(created)
    except TournamentRefusal as exc:  # created (and logged so), but it did not answer since
        return _refused(exc)
    return Created(tournament_id=created, details=details)


async def _operate(
    tournament_id: int,
    action: str,
    reason: str,
    message: TournamentMessage,
    requested: dict[str, Any] | None = None,
) -> Any:
    """Ask the tournament for a change, audited write-ahead; answer with its details after."""
    try:
        # Checked before anything is logged: no such tournament is a refusal with no entry.
        before = await _details(tournament_id)
    except TournamentRefusal as exc:
        return _refused(exc)

    async def operate() -> TournamentDetails:
        slow = isinstance(message, StartTournament)
        await _ask_tournament(
            tournament_id, message, START_ASK_TIMEOUT_S if slow else ADMIN_ASK_TIMEOUT_S
        )
        return await _details(tournament_id)

    return await _write_ahead(
        action,
        TournamentAddress(tournament_id).actor_name,
        reason,
        before=_brief(before),
        requested=requested or {},
        operation=operate,
        done=_brief,
    )


@tournament_routes.post(f"/tournaments/{TOURNAMENT}/start")
@requires(Permission.TOURNAMENTS_WRITE)
@document_request(OperatorRequest)
async def start(tournament_id: int) -> Any:
    """Start now, before its time (at least two entries). Audited."""
    body = await read_body(OperatorRequest)
    return await _operate(tournament_id, "tournaments.start", body.reason, StartTournament())


@tournament_routes.post(f"/tournaments/{TOURNAMENT}/schedule")
@requires(Permission.TOURNAMENTS_WRITE)
@document_request(ScheduleRequest)
async def schedule(tournament_id: int) -> Any:
    """Move the start of a multi-table tournament still registering (a time past: it starts
    at once, or is cancelled with too few entries). Audited; ``tournament.rescheduled``."""
    body = await read_body(ScheduleRequest)
    message = RescheduleStart(starts_at_ms=body.starts_at_ms)
    requested = {"starts_at_ms": body.starts_at_ms}
    return await _operate(tournament_id, "tournaments.schedule", body.reason, message, requested)


@tournament_routes.post(f"/tournaments/{TOURNAMENT}/cancel")
@requires(Permission.TOURNAMENTS_WRITE)
@document_request(OperatorRequest)
async def cancel(tournament_id: int) -> Any:
    """Cancel: every entry's buy-in, bounty and fee go back through the ledger, the tables
    close. Audited."""
    body = await read_body(OperatorRequest)
    message = CancelTournament(reason=body.reason)
    return await _operate(tournament_id, "tournaments.cancel", body.reason, message)


@tournament_routes.post(f"/tournaments/{TOURNAMENT}/pause")
@requires(Permission.TOURNAMENTS_WRITE)
@document_request(OperatorRequest)
async def pause(tournament_id: int) -> Any:
    """Stop the level clock; every table holds after its running hand. Audited."""
    body = await read_body(OperatorRequest)
    return await _operate(tournament_id, "tournaments.pause", body.reason, PauseClock())


@tournament_routes.post(f"/tournaments/{TOURNAMENT}/resume")
@requires(Permission.TOURNAMENTS_WRITE)
@document_request(OperatorRequest)
async def resume(tournament_id: int) -> Any:
    """Start the clock again where it stood; the tables deal again. Audited."""
    body = await read_body(OperatorRequest)
    return await _operate(tournament_id, "tournaments.resume", body.reason, ResumeClock())


@tournament_routes.post(f"/tournaments/{TOURNAMENT}/entries/{ENTRY}/remove")
@requires(Permission.TOURNAMENTS_WRITE)
@document_request(RemoveRequest)
async def remove_entry(tournament_id: int, entry: int) -> Any:
    """Take an entry out between hands: with ``refund`` its buy-in, bounty and fee go back and
    its chips leave play; without, it is eliminated as if busted. Audited."""
    body = await read_body(RemoveRequest)
    message = RemoveEntry(entry=entry, refund=body.refund, reason=body.reason)
    requested = {"entry": entry, "refund": body.refund}
    return await _operate(tournament_id, "tournaments.remove", body.reason, message, requested)


@tournament_routes.post(f"/tournaments/{TOURNAMENT}/entries/{ENTRY}/stack")
@requires(Permission.TOURNAMENTS_WRITE)
@document_request(StackRequest)
async def adjust_stack(tournament_id: int, entry: int) -> Any:
    """Add ``chips`` to an entry's stack (negative: take them off) between hands. Audited."""
    body = await read_body(StackRequest)
    message = AdjustStack(entry=entry, chips=body.chips, reason=body.reason)
    requested = {"entry": entry, "chips": body.chips}
    return await _operate(tournament_id, "tournaments.stack", body.reason, message, requested)


@tournament_routes.post(f"/tournaments/{TOURNAMENT}/entries/{ENTRY}/move")
@requires(Permission.TOURNAMENTS_WRITE)
@document_request(MoveRequest)
async def move_entry(tournament_id: int, entry: int) -> Any:
    """Move an entry to another of the tournament's tables (its number) between hands; the
    player's client follows (``tournament_moved``). Audited."""
    body = await read_body(MoveRequest)
    message = MoveEntry(entry=entry, table=body.table)
    requested = {"entry": entry, "table": body.table}
    return await _operate(tournament_id, "tournaments.move", body.reason, message, requested)


@tournament_routes.post(f"/tournaments/{TOURNAMENT}/tables/{TABLE}/break")
@requires(Permission.TOURNAMENTS_WRITE)
@document_request(OperatorRequest)
async def break_table(tournament_id: int, table: int) -> Any:
    """Break a table now: its players draw seats at the others. Audited."""
    body = await read_body(OperatorRequest)
    requested = {"table": table}
    message = BreakTable(table=table)
    return await _operate(tournament_id, "tournaments.break_table", body.reason, message, requested)
