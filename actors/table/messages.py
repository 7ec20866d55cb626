"""What tables, hands, owners and the lobby say to each other, and the game's refusals.

Messages between actors are frozen tagged msgspec Structs (docs/actors.md). A table's
configuration is actors/table/config.py; what every table shares, actors/table/deps.py.
"""

from __future__ import annotations

from typing import final

import msgspec

from actors.table.config import TableConfig
from poker import AnyAction, AnyEvent, BlindSeats, HandConfig, HandResult, SeatSetup
from protocol import game
from protocol.game import GamePush, TableListing

# --- errors: the player's (client's) mistake, with a stable code for the error frame ---------


class GameRefused(Exception):
    """A game request refused; ``code`` is stable (protocol.game.GAME_ERROR_CODES).
    ``retry_after_ms``: for ``server_busy`` and ``unavailable``, when to try again."""

    def __init__(self, code: str, message: str = "", retry_after_ms: int | None = None) -> None:
        super().__init__(message or code)
        self.code = code
        self.retry_after_ms = retry_after_ms


# --- to a table (from the gateway or the lobby) ---------------------------------------------


class TableMessage(msgspec.Struct, frozen=True, tag=True):
    """Base of every message a table handles."""


class SeatProfile(msgspec.Struct, frozen=True):
    """What a table keeps of a player's profile and preferences (docs/players.md), read once
    when she sits down: her display name for the seat views, and the preferences the table
    acts on. The defaults are a table's ways without a profile (no name; she is asked at the
    showdown; blinds are posted), not the preferences' defaults: whoever seats a player with
    a profile passes her real preferences (actors/table/requests.seat_profile)."""

    display_name: str = ""
    auto_muck: bool = False  # muck her losing hand at the showdown instead of asking her
    auto_post_blinds: bool = True  # False: sat out when a blind is due instead of posting it


class JoinSeat(TableMessage, frozen=True, tag=True):
    """Reply: SeatGranted. ``seat`` None: any free seat. ``same_if_seated``: a player already
    seated here gets their seat back instead of ``already_seated`` (quick-seat retries after
    an answer that came too late), and no money moves."""

    player_id: int
    buy_in: int
    seat: int | None = None
    post_to_enter: bool = False
    same_if_seated: bool = False
    # When the player's session started (ms), for her session time limit at real-money
    # tables (services/limits.py); None: not known, only exclusion and cool-off are checked.
    session_started_ms: int | None = None
    # The session's client address (server/handshake.py), for the one-address rule; None or
    # empty: not known (never conflicts).
    address: str | None = None
    profile: SeatProfile = SeatProfile()


class SeatGranted(msgspec.Struct, frozen=True):
    table_id: str
    seat: int
    stack: int


class TopUpChips(TableMessage, frozen=True, tag=True):
    player_id: int
    amount: int


class SitOutNext(TableMessage, frozen=True, tag=True):
    player_id: int


class SitIn(TableMessage, frozen=True, tag=True):
    """``post_now``: post what is owed to play the next hand; else wait for the big blind."""

    player_id: int
    post_now: bool


class StandUp(TableMessage, frozen=True, tag=True):
    """Reply: chips cashed out now, or None when the player is in a hand (after it)."""

    player_id: int


class JoinWaiting(TableMessage, frozen=True, tag=True):
    player_id: int


class LeaveWaiting(TableMessage, frozen=True, tag=True):
    player_id: int


class AddWatcher(TableMessage, frozen=True, tag=True):
    player_id: int


class RemoveWatcher(TableMessage, frozen=True, tag=True):
    player_id: int


class PlayerAct(TableMessage, frozen=True, tag=True):
    """``action`` and ``decision_id`` (None: the current decision) as protocol.game.Act."""

    player_id: int
    hand_number: int
    action: game.ActKind
    amount: int = 0
    agree: bool = False
    decision_id: int | None = None


class ChooseClientSeed(TableMessage, frozen=True, tag=True):
    """A seated player's client seed (1..64 bytes) for the hands dealt after this message
    (docs/fairness.md). Reply: None; ``not_seated``, ``fairness_input_invalid``."""

    player_id: int
    seed: bytes


class UpdateSeatProfile(TableMessage, frozen=True, tag=True):
    """From the player's session: she changed her display name or the preferences a table
    follows (None: unchanged). Ignored when she does not sit here."""

    player_id: int
    display_name: str | None = None
    auto_muck: bool | None = None
    auto_post_blinds: bool | None = None


class ConnectionChanged(TableMessage, frozen=True, tag=True):
    """From the player's session: the websocket dropped (seat held) or came back."""

    player_id: int
    connected: bool


class PlayerGone(TableMessage, frozen=True, tag=True):
    """From the player's session: it ended (logout, resume grace over, or ended by the
    server, e.g. a ban). The player stands up as with StandUp and shows disconnected; in a
    hand they are in, the hand acts for them at once on their turn and they are cashed out
    when it ends. Ignored when they no longer sit here."""

    player_id: int


class GetListing(TableMessage, frozen=True, tag=True):
    """Reply: TableListing."""


class GetSeats(TableMessage, frozen=True, tag=True):
    """Reply: TableSeats (for the admin API and tests)."""


class AuditEscrow(TableMessage, frozen=True, tag=True):
    """Reply: EscrowAudit, read between two messages so nothing moves meanwhile."""


class SeatInfo(msgspec.Struct, frozen=True):
    seat: int
    player_id: int
    stack: int
    pending_top_up: int
    sitting_out: bool
    owes_big_blind: bool
    owes_small_blind: bool
    connected: bool
    time_bank_ms: int
    leaving: bool


class TableSeats(msgspec.Struct, frozen=True):
    table_id: str
    seats: tuple[SeatInfo, ...]
    hand_number: int  # the running hand, 0 if none
    hands_played: int
    button: int | None
    watchers: tuple[int, ...]
    wait_list: tuple[int, ...]


class EscrowAudit(msgspec.Struct, frozen=True):
    """Invariant between any two messages: chips == escrow_balance."""

    # stacks + pending top-ups + cash-outs and rake not paid yet (chips in a running hand
    # are still in the stacks: stacks change when a hand ends)
    chips: int
    escrow_balance: int


# --- between a table and its hand ------------------------------------------------------------


class StartNextHand(TableMessage, frozen=True, tag=True):
    """The table's own timer: deal the next hand if two or more can play."""


class SettleOwed(TableMessage, frozen=True, tag=True):
    """The table's own: pay cash-outs and rake out of escrow and write finished hands'
    histories. Safe to repeat (idempotency keys; a history's first write wins)."""


Audience = int | None  # a seat (private to its owner) or None (every player and watcher)


class HandProgress(TableMessage, frozen=True, tag=True):
    """From the hand: engine events (for the history, and what the table knows of the hand:
    board, pots, bets, hole cards), the pushes they make, each with its audience (the hand
    decides what is private), and the decision now asked for (``prompt``), if any."""

    hand_number: int
    events: tuple[AnyEvent, ...]
    pushes: tuple[tuple[Audience, GamePush], ...]
    prompt: game.ActionRequired | None = None


class HandFinished(TableMessage, frozen=True, tag=True):
    hand_number: int
    result: HandResult
    time_banks_ms: tuple[tuple[int, int], ...]  # (seat, ms left)
    timed_out: tuple[int, ...]  # seats the timer acted for: sat out after the hand


@final
class HandSetup(msgspec.Struct, frozen=True):
    """What the table gives its hand (the deck travels beside it, once)."""

    table_id: str
    hand_number: int
    config: HandConfig
    seats: tuple[SeatSetup, ...]
    button: int
    blinds: BlindSeats
    time_banks_ms: tuple[tuple[int, int], ...]  # (seat, ms)
    disconnected: tuple[int, ...]
    action_timeout_ms: int
    # Seats whose players keep auto_muck on (their preference): at the showdown a hand that
    # cannot win is mucked for them at once instead of being asked for.
    auto_muck: tuple[int, ...] = ()


class HandMessage(msgspec.Struct, frozen=True, tag=True):
    """Base of every message a hand handles."""


class HandAct(HandMessage, frozen=True, tag=True):
    """``decision_id``: the prompt answered (refused unless current); None: the current one."""

    action: AnyAction  # typed, with its seat (actors/hand.engine_action made it)
    decision_id: int | None = None


class DecisionTimeout(HandMessage, frozen=True, tag=True):
    """The hand's own timer: ``decision`` counts prompts, so a stale timer is ignored."""

    decision: int
    time_bank: bool


class SeatConnection(HandMessage, frozen=True, tag=True):
    seat: int
    connected: bool


class SeatGone(HandMessage, frozen=True, tag=True):
    """The seat's player left the table during the hand (stood up, or their session ended):
    nobody will answer for them, so the hand acts for them at once on each of their turns."""

    seat: int


# --- between a table and its owner (a table manager: a tournament) --------------------------


class HoldAfterHand(TableMessage, frozen=True, tag=True):
    """The owner's hold: no new hand after the running one (a synchronized break, or
    hand-for-hand on the bubble) until ``Release``. Players see ``paused``. Tell-only.
    A tournament's table (``bankroll="tournament"``) also holds by itself from its opening
    and after every hand: its owner releases it for each hand it decides to deal."""


class OwnerDeal(msgspec.Struct, frozen=True, kw_only=True):
    """The owner's plan of the hand it releases (a tournament's ``DealHand``): the table
    deals exactly these players, with these positions and blind posters, instead of its own
    plan, whose cash rules (a newcomer waits for the big blind) are not the owner's."""

    button: int
    small_blind: int
    big_blind: int
    small_blind_poster: int | None  # None: a dead small blind
    big_blind_poster: int
    dealt: tuple[tuple[int, int], ...]  # (seat, player id), clockwise from the button's left


class Release(TableMessage, frozen=True, tag=True):
    """The owner's release of its hold: hands start again (unless an operator closed it).
    ``deal``: the next hand is the owner's plan (kept until dealt; see ``OwnerDeal``)."""

    deal: OwnerDeal | None = None


class SetStakes(TableMessage, frozen=True, tag=True):
    """Blinds and ante from the next hand on (a tournament's level); the running hand keeps
    its own. Refused (``GameRefused`` ``invalid_stakes``, nothing changed) when the table's
    config would not accept them."""

    small_blind: int
    big_blind: int
    ante: int = 0


class SeatPlayer(TableMessage, frozen=True, tag=True):
    """The owner seats a player with ``stack`` of its chips (a tournament's table only), at
    ``seat`` or any free one. Reply: SeatGranted. ``profile``: her display name for the seat
    views and auto-muck (blinds are always posted at a tournament's table)."""

    player_id: int
    stack: int
    seat: int | None = None
    profile: SeatProfile = SeatProfile()


class RemovePlayer(TableMessage, frozen=True, tag=True):
    """The owner takes a player away (to another table, or eliminated): between hands, or
    during a hand she is not dealt in. Reply: her stack (int), which goes back to the
    owner. ``hand_running`` while she is in the running hand (the owner asks after it)."""

    player_id: int


class TableHandEnded(msgspec.Struct, frozen=True, tag=True):
    """Told to the table's owner (``TableConfig.owner``) after every hand: each seated
    player's stack, and the players the hand left with nothing (a tournament's eliminations)."""

    table_id: str
    hand_number: int
    stacks: tuple[tuple[int, int], ...]  # (player id, stack), by seat
    busted: tuple[int, ...]
    # The engine's result (seats, pots: who won the pot holding a bust's last chips), for
    # the owner's bounties; None for a voided hand.
    result: HandResult | None = None


# --- to the lobby ----------------------------------------------------------------------------


class LobbyMessage(msgspec.Struct, frozen=True, tag=True):
    """Base of every message the lobby handles."""


class ListingChanged(LobbyMessage, frozen=True, tag=True):
    listing: TableListing
    config: TableConfig


class TableClosed(LobbyMessage, frozen=True, tag=True):
    table_id: str


class ListTablesQuery(LobbyMessage, frozen=True, tag=True):
    """Reply: tuple[TableListing, ...]. Empty filter fields match everything."""

    variant: str | None = None
    big_blind: int | None = None
    asset: str | None = None


class SubscribeListings(LobbyMessage, frozen=True, tag=True):
    """Reply: the matching listings now; changes follow as pushes."""

    player_id: int
    variant: str | None = None
    big_blind: int | None = None
    asset: str | None = None


class UnsubscribeListings(LobbyMessage, frozen=True, tag=True):
    player_id: int


class FindSeat(LobbyMessage, frozen=True, tag=True):
    """Quick seat. Reply: SeatGranted."""

    player_id: int
    variant: str
    big_blind: int
    buy_in: int
    asset: str = "chips"
    # Tables the requester tried and found full (or gone) during this quick-seat.
    excluded: tuple[str, ...] = ()
    session_started_ms: int | None = None  # as JoinSeat's
    address: str | None = None  # as JoinSeat's
    profile: SeatProfile = SeatProfile()  # as JoinSeat's


class OpenTable(LobbyMessage, frozen=True, tag=True):
    """An operator's new table: its id reserved. Reply: a TableToOpen (actors/table/admin.py
    ``open_table`` opens it). ``here``: on this node whatever placement says (a table
    another node placed here, server/cluster_placement.py)."""

    config: TableConfig
    here: bool = False
