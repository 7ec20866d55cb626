"""What the tournament actors and the rest of the server say to each other (docs/tournaments.md,
"Live system"). Frozen tagged msgspec Structs, like actors/table_messages.py.

Who answers what:

- the directory (:data:`TOURNAMENT_DIRECTORY`, actor ``tournament-directory``, a started after the
  ``tournaments`` supervisor, beside it): :class:`CreateTournament`, :class:`ListTournaments`,
  :class:`SubscribeTournamentLobby` / :class:`UnsubscribeTournamentLobby`; the tournaments
  tell it :class:`SummaryChanged`.
- one tournament (:class:`TournamentAddress`, actor ``tournament:<id>``, a child of the
  ``tournaments`` supervisor; its tables are ``table:t<id>-<n>`` under ``tables``): every
  other message here. Players' requests carry the account id; the directors' (admin API)
  carry nothing more: the admin API audits them.

A refusal is :class:`TournamentRefusal` with a stable ``code`` (protocol/errors.py lists the
codes: the core's ``registration_refused``, ``rebuy_refused``, ``addon_refused``,
``deal_refused``, ``table_refused``, ``structure_invalid``, ``payout_invalid``, and the live
system's ``tournament_not_found``, ``not_registered``, ``tournament_not_running``,
``no_deal_proposed``); a wallet refusal (``insufficient_funds``, ``self_excluded``...) keeps its
wallet code. A refused request changes nothing.
"""

from __future__ import annotations

from typing import Final, Literal, final

import msgspec

from poker.tournament import BountyKind, DealKind, Structure

DIRECTORY_NAME: Final = "tournament-directory"
TOURNAMENT_PREFIX: Final = "tournament:"
TOURNAMENT_TABLE_PREFIX: Final = "t"  # table ids t<tournament>-<table>: "t7-2"

TournamentKind = Literal["sng", "mtt"]
# registering: open for entries, not started; running: dealing; finished: a winner or a deal
# ended it; cancelled: a director cancelled it (every entry refunded).
TournamentState = Literal["registering", "running", "finished", "cancelled"]
TOURNAMENT_STATES: Final[tuple[TournamentState, ...]] = (
    "registering",
    "running",
    "finished",
    "cancelled",
)


@final
class TournamentAddress(msgspec.Struct, frozen=True):
    """The tournament ``tournament_id``: its actor ``tournament:<id>``; its prize pool is the
    ledger account ``prize_pool:tournament:<id>`` (owner ``tournament:<id>``)."""

    tournament_id: int

    @property
    def actor_name(self) -> str:
        return f"{TOURNAMENT_PREFIX}{self.tournament_id}"

    @property
    def pool_owner(self) -> str:
        return self.actor_name

    def table_id(self, table: int) -> str:
        """The table id of the core's table number ``table``."""
        return f"{TOURNAMENT_TABLE_PREFIX}{self.tournament_id}-{table}"

    @staticmethod
    def of_table(table_id: str) -> TournamentAddress | None:
        """The tournament whose table id ``table_id`` is (``t<id>-<n>``); None: not one."""
        head, dash, tail = table_id.removeprefix(TOURNAMENT_TABLE_PREFIX).partition("-")
        if not (table_id.startswith(TOURNAMENT_TABLE_PREFIX) and dash):
            return None
        if not (head.isascii() and head.isdigit() and tail.isascii() and tail.isdigit()):
            return None
        if len(head) > 18:  # not an id the store hands out (bigint)
            return None
        return TournamentAddress(int(head))


@final
class TournamentDirectoryAddress(msgspec.Struct, frozen=True):
    @property
    def actor_name(self) -> str:
        return DIRECTORY_NAME


TOURNAMENT_DIRECTORY: Final = TournamentDirectoryAddress()


class TournamentRefusal(Exception):
    """A tournament request refused, nothing changed; ``code`` is stable."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code
        self.message = message or code


# --- what a tournament is made from ---------------------------------------------------------


class TournamentSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A director's tournament. ``preset`` (poker.tournament.presets) or a full
    ``structure``, not both. Money is in ``asset`` chips: ``buy_in`` to the prize pool,
    ``fee`` to the house, ``bounty`` to the bounty pool (with ``bounty_kind``).

    When it starts: a sit-and-go (``kind`` ``sng``) when ``entries_max`` players have
    registered; a multi-table tournament at ``starts_at_ms`` (wall clock), or at once if
    that time has passed, provided ``entries_min`` have registered (else it is cancelled
    and refunded)."""

    name: str
    kind: TournamentKind = "mtt"
    preset: str | None = None
    structure: Structure | None = None
    asset: Literal["chips", "play"] = "chips"
    buy_in: int = 0
    fee: int = 0
    bounty: int = 0
    bounty_kind: BountyKind = BountyKind.NONE
    guarantee: int = 0
    seats_per_table: int = 9
    entries_min: int = 2
    entries_max: int = 10_000
    starts_at_ms: int | None = None  # mtt: when it starts; sng: ignored
    paid_bp: int | None = None  # mtt: share of the field paid (None: the core's 15%)
    hand_for_hand_at_pay_jumps: bool = False
    # Hand-for-hand from this many players above the money (TDA RP-8 starts at the bubble:
    # 1); more makes sure a round is played when several busts a hand could jump the bubble.
    hand_for_hand_from_bubble: int = 1
    action_timeout_ms: int = 15_000  # per decision at its tables
    between_hands_ms: int | None = None  # None: the structure's hand_pause_ms
    rebuy_decision_ms: int = 15_000  # a rebuy offered and unanswered this long is declined
    deal_vote_ms: int = 60_000  # a deal proposal lapses unless all agree within it
    # A club tournament (docs/clubs.md): listed and open to the club's members only.
    club_id: int | None = None


# --- to the directory -----------------------------------------------------------------------


class DirectoryMessage(msgspec.Struct, frozen=True, tag=True):
    """Base of every message the directory handles."""


class CreateTournament(DirectoryMessage, frozen=True, tag=True):
    """Reply: TournamentCreated. Refused: structure_invalid, payout_invalid."""

    spec: TournamentSpec


class TournamentCreated(msgspec.Struct, frozen=True):
    tournament_id: int


class TournamentFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Empty fields match everything."""

    state: TournamentState | None = None
    kind: TournamentKind | None = None
    asset: str | None = None
    buy_in_min: int | None = None  # buy_in + fee + bounty, at least
    buy_in_max: int | None = None  # ... at most


class ListTournaments(DirectoryMessage, frozen=True, tag=True):
    """Reply: tuple[TournamentSummary, ...], newest first, at most LISTED_MAX."""

    filter: TournamentFilter = TournamentFilter()


class SubscribeTournamentLobby(DirectoryMessage, frozen=True, tag=True):
    """Reply: the matching summaries now; changes follow as ``tournament_lobby_changed``
    pushes to the player (PlayerChannel)."""

    player_id: int
    filter: TournamentFilter = TournamentFilter()


class UnsubscribeTournamentLobby(DirectoryMessage, frozen=True, tag=True):
    player_id: int


class SummaryChanged(DirectoryMessage, frozen=True, tag=True):
    """From a tournament: its lobby line changed (tell). ``shared``: told by another node's
    directory (several nodes, docs/scaling.md "Tournaments across nodes"): listed and
    pushed here, not shared again."""

    summary: TournamentSummary
    shared: bool = False


LISTED_MAX: Final = 500  # bound: a listing is cut to the newest this many
SUBSCRIBERS_MAX: Final = 10_000  # bound: subscriptions beyond it are refused (lobby_full)


class TournamentSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A tournament's lobby line."""

    tournament_id: int
    name: str
    kind: TournamentKind
    state: TournamentState
    asset: str
    buy_in: int
    fee: int
    bounty: int
    bounty_kind: str
    guarantee: int
    entries: int  # entries so far (re-entries count)
    players_left: int
    entries_max: int
    starts_at_ms: int | None
    prize_pool: int  # collected so far (or the guarantee, if larger)
    level: int  # 1-based; 0 before the start
    club_id: int | None = None  # a club tournament's club


# --- to a tournament: players ----------------------------------------------------------------


class TournamentMessage(msgspec.Struct, frozen=True, tag=True):
    """Base of every message a tournament handles."""


class RegisterPlayer(TournamentMessage, frozen=True, tag=True):
    """Register, or (while late registration is open and every earlier entry is out)
    re-enter. Reply: EntryAccepted. Money first (buy-in to the prize pool, fee to fees),
    then the entry. ``address``: the session's client address (server/handshake.py), for the
    one-address rule (docs/integrity.md); None: not known (never conflicts)."""

    player_id: int
    address: str | None = None


class EntryAccepted(msgspec.Struct, frozen=True):
    tournament_id: int
    entry: int
    reentry: bool
    table_id: str | None  # a late entry is seated at once; None before the start


class UnregisterPlayer(TournamentMessage, frozen=True, tag=True):
    """Before the start: the entry is refunded (buy-in, bounty and fee). Reply: None."""

    player_id: int


class BuyRebuy(TournamentMessage, frozen=True, tag=True):
    """Reply: None. Between hands, stack at or below the rule's threshold, rebuys open."""

    player_id: int


class DeclineRebuy(TournamentMessage, frozen=True, tag=True):
    """Turn down a rebuy offered after a bust (the entry is out). Reply: None."""

    player_id: int


class BuyAddOn(TournamentMessage, frozen=True, tag=True):
    """At the first break. Reply: None."""

    player_id: int


class GetTournament(TournamentMessage, frozen=True, tag=True):
    """Reply: TournamentDetails."""


class GetStandings(TournamentMessage, frozen=True, tag=True):
    """Reply: Standings: entries still in by stack (largest first), then the placed by
    place; ``offset``/``limit`` page through them (limit at most STANDINGS_MAX). With
    ``player_id``: that player's own entries only (``total`` counts them)."""

    offset: int = 0
    limit: int = 100
    player_id: int | None = None


STANDINGS_MAX: Final = 500


class ProposeDeal(TournamentMessage, frozen=True, tag=True):
    """At the final table, prizes final, between hands: propose an ICM or chip-chop deal
    (``keep`` chips of the pool still played for). Every remaining player gets
    ``deal_proposed``; the proposer's vote counts as yes. Reply: DealProposal."""

    player_id: int
    kind: DealKind
    keep: int = 0


class VoteDeal(TournamentMessage, frozen=True, tag=True):
    """Yes or no to the deal proposed. One no (or the vote's time running out) drops it;
    the last yes makes it (``deal_made``). Reply: None."""

    player_id: int
    accept: bool
    deal_id: int | None = None  # the proposal voted on (None: the current one)


class DealProposal(msgspec.Struct, frozen=True, kw_only=True):
    deal_id: int
    kind: str
    keep: int
    entries: tuple[int, ...]
    amounts: tuple[int, ...]  # what each entry would get now, in ``entries`` order
    accepted: tuple[int, ...]  # entries that said yes
    expires_in_ms: int


# --- to a tournament: directors (admin API; audited there) -----------------------------------


class StartTournament(TournamentMessage, frozen=True, tag=True):
    """Start now (before its time), with at least two entries. Reply: None."""


class RescheduleStart(TournamentMessage, frozen=True, tag=True):
    """A multi-table tournament still registering starts at ``starts_at_ms`` instead (wall
    clock, ms since the epoch; a time past starts it at once). Reply: None. Refused:
    ``tournament_not_running`` once started, over, or for a sit-and-go (starts when full)."""

    starts_at_ms: int


class CancelTournament(TournamentMessage, frozen=True, tag=True):
    """Before the end. Before the start every entry gets back all it paid (buy-in, bounty,
    fee); once running, places already decided keep their prizes and bounties, the rest of
    the pool goes to the entries still in by their chips, and every fee comes back (keys
    ``tournament:<id>:cancel:<entry>`` and ``...:fee``). Tables close; state ``cancelled``.
    Reply: None."""

    reason: str = ""


class PauseClock(TournamentMessage, frozen=True, tag=True):
    """Stop the level clock and hold every table after its hand. Reply: None."""


class ResumeClock(TournamentMessage, frozen=True, tag=True):
    """Start the clock again where it stood and release the tables. Reply: None."""


class RemoveEntry(TournamentMessage, frozen=True, tag=True):
    """Take an entry out (a director's decision; poker/tournament ``remove_entry``). Before
    the start: with ``refund`` unregistered (buy-in, bounty and fee back); without, struck
    out, its buy-in and bounty staying in the pool as prize money (a cancel before the start
    gives those back). Playing, between its table's hands: with ``refund`` (only while the
    prizes are not final) undone as if it had never entered (its chips leave play; its
    buy-in, rebuys, add-on, the bounty on its head and every fee back, key
    ``tournament:<id>:remove:<entry>``); without, disqualified: out now as if busted alone
    (its chips leave play, it takes the next place and that place's prize, and collects its
    own bounty). Refused: ``not_registered`` (no such entry), ``registration_refused``
    (before the start, not registered), ``table_refused`` (not playing, in a hand, a refund
    once the prizes are final). Reply: None."""

    entry: int
    refund: bool = False
    reason: str = ""


class AdjustStack(TournamentMessage, frozen=True, tag=True):
    """Add (or take, negative) ``chips`` to a playing entry's stack between its table's hands
    (a misdeal correction; the stack stays at least 1). Reply: the new stack. Refused:
    ``table_refused`` (in a hand, not playing, out of bounds)."""

    entry: int
    chips: int
    reason: str = ""


class MoveEntry(TournamentMessage, frozen=True, tag=True):
    """Move a playing entry to ``table`` (the core's table number), to a random empty seat,
    between both tables' hands, with its stack exactly (push ``tournament_moved``, reason
    ``director``). Balancing follows as after any change, never moving this entry again
    while another choice exists. Refused (``table_refused``): not running, not playing, in
    a hand, the same table, no such table, no free seat. Reply: None."""

    entry: int
    table: int


class BreakTable(TournamentMessage, frozen=True, tag=True):
    """Break ``table`` between its hands: its players are redrawn to the other tables as for
    a table the core breaks (TDA 10B). The core breaks a table as soon as the players fit in
    one fewer, so this chooses which table (one the core marked, waiting in a hand, is
    spared) or breaks one during hand-for-hand. Refused (``table_refused``): not running, no
    such table, in a hand, the other tables lack the seats. Reply: None."""

    table: int


class GetResults(TournamentMessage, frozen=True, tag=True):
    """Reply: Results (every entry with its place and what it was paid)."""


# --- the tournament's own -------------------------------------------------------------------


class ClockTick(TournamentMessage, frozen=True, tag=True):
    """Its timer: read the clock (levels, breaks, registration, prizes)."""

    generation: int  # a stale timer (the clock was paused or reset since) is ignored


class VoidUnreported(TournamentMessage, frozen=True, tag=True):
    """Told to itself after a restart, behind whatever its mailbox holds: the table's hand
    the core thought running, with the table between hands, is void unless its report
    (a ``TableHandEnded`` told while the actor restarted) came first."""

    table: int


class RebuyLapsed(TournamentMessage, frozen=True, tag=True):
    entry: int
    offer: int  # which offer (a later offer to the same entry is not declined by it)


class DealLapsed(TournamentMessage, frozen=True, tag=True):
    deal_id: int


class HoldForDrain(TournamentMessage, frozen=True, tag=True):
    """Its node drains (server/tournament_drain.py; docs/scaling.md, "Draining a node"):
    release no table for another hand here. Once no hand runs (or at once with ``now``: the
    drain's bound passed), the step is stored with the clock as it stands, and the clock
    stops here: the node it moves to goes on from that play time. Reply: DrainHold. Never
    crosses nodes (only the draining node's own drain sends it)."""

    now: bool = False


class DrainHold(msgspec.Struct, frozen=True, kw_only=True):
    state: TournamentState
    hands_running: int  # tables released for a hand whose report has not come yet
    stored: bool  # the step is stored and the clock stopped: it may stop here and move


# --- replies ---------------------------------------------------------------------------------


class LevelInfo(msgspec.Struct, frozen=True, kw_only=True):
    level: int  # 1-based
    small_blind: int
    big_blind: int
    ante: int
    ante_mode: str
    duration: int  # minutes or hands (the structure's unit)


class TableInfo(msgspec.Struct, frozen=True, kw_only=True):
    table: int
    table_id: str
    players: int
    in_hand: bool
    hands_dealt: int


class StandingLine(msgspec.Struct, frozen=True, kw_only=True):
    entry: int
    player_id: int
    status: str  # poker.tournament.EntryStatus
    stack: int
    table_id: str | None
    place: int  # 0: not placed yet
    tied: int
    prize: int  # place prize plus deal money paid
    bounties: int  # bounty cash won
    head: int  # the bounty on this entry now
    display_name: str = ""  # her profile's (empty: none)


class Standings(msgspec.Struct, frozen=True, kw_only=True):
    tournament_id: int
    total: int
    lines: tuple[StandingLine, ...]


class TournamentDetails(msgspec.Struct, frozen=True, kw_only=True):
    summary: TournamentSummary
    structure_name: str
    unit: str  # minutes or hands
    starting_stack: int
    levels: tuple[LevelInfo, ...]
    breaks: tuple[tuple[int, int], ...]  # (after level, minutes)
    late_registration_levels: int
    entries_per_player_max: int
    payouts: tuple[int, ...]  # final once prizes_final; until then as if registration closed
    prizes_final: bool
    collected: int
    overlay: int
    level: LevelInfo | None  # the current level (None before the start)
    on_break: bool
    clock_paused: bool
    level_remaining_ms: int  # -1: no clock (hands structures, the last level, before start)
    next_break_in_ms: int  # -1: no break ahead
    average_stack: int
    players_left: int
    hand_for_hand: bool
    final_table: bool
    tables: tuple[TableInfo, ...]


class ResultLine(msgspec.Struct, frozen=True, kw_only=True):
    entry: int
    player_id: int
    place: int
    tied: int
    prize: int
    bounties: int
    rebuys: int
    addon: bool


class Results(msgspec.Struct, frozen=True, kw_only=True):
    tournament_id: int
    state: TournamentState
    entries: int
    prize_pool: int
    paid: int  # prizes, bounties and deals paid so far
    fees: int
    lines: tuple[ResultLine, ...]


AnyDirectoryMessage = (
    CreateTournament
    | ListTournaments
    | SubscribeTournamentLobby
    | UnsubscribeTournamentLobby
    | SummaryChanged
)
# The players' and the directors' messages: what may come from outside, and cross nodes
# (server/cluster_tournaments.py); never a tournament's own (its clock, lapses).
OutsideTournamentMessage = (
    RegisterPlayer
    | UnregisterPlayer
    | BuyRebuy
    | DeclineRebuy
    | BuyAddOn
    | GetTournament
    | GetStandings
    | ProposeDeal
    | VoteDeal
    | StartTournament
    | RescheduleStart
    | CancelTournament
    | PauseClock
    | ResumeClock
    | RemoveEntry
    | AdjustStack
    | MoveEntry
    | BreakTable
    | GetResults
)
AnyTournamentMessage = (
    OutsideTournamentMessage | ClockTick | VoidUnreported | RebuyLapsed | DealLapsed | HoldForDrain
)
