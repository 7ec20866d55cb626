"""Game requests from a player's session, answered through the lobby and the tables.

The gateway's two interfaces for tables (server/gateway.py) are implemented here:
:class:`TableGameRequests` (``GameRequests``: each request of ``protocol.game.GameRequest``
becomes an ask of the lobby or a table) and :class:`TableSessionHooks` (``SessionHooks``: a
dropped, resumed or ended session reaches the player's tables by tells). Refusals carry
stable codes: the game's (``GameRefused``), the engine's (``IllegalAction``) and the wallet's
(``WalletError``); an actor that cannot answer (stopped, restarting, too slow) is
``unavailable`` (with ``retry_after_ms``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, final

from actors.addresses import LOBBY, Address, TableAddress
from actors.registry import Registry
from actors.runtime import ActorRef, TargetError
from actors.seat_matcher import quick_seat
from actors.table.messages import (
    AddWatcher,
    ChooseClientSeed,
    ConnectionChanged,
    FindSeat,
    GameRefused,
    JoinSeat,
    JoinWaiting,
    LeaveWaiting,
    ListTablesQuery,
    PlayerAct,
    PlayerGone,
    RemoveWatcher,
    SeatGranted,
    SeatProfile,
    SitIn,
    SitOutNext,
    StandUp,
    SubscribeListings,
    TopUpChips,
    UnsubscribeListings,
    UpdateSeatProfile,
)
from actors.table.player_tables import PlayerTables
from persistence.store import Store
from poker import IllegalAction
from protocol import game
from protocol.messages import ERROR_MESSAGE_CHARS_MAX, Error, Ok, PushBody
from services import profiles
from services.ledger import WalletError

ASK_TIMEOUT_S: Final = 5.0  # a game actor answers in milliseconds unless it is restarting
UNAVAILABLE_RETRY_AFTER_MS: Final = 1_000  # an actor restarting is back within a second

Answer = game.GameReply | Ok | Error


def _table(registry: Registry, table_id: str) -> ActorRef[Any]:
    ref = registry.resolve(TableAddress(table_id))
    if ref is None:
        raise GameRefused("no_such_table", f"no table {table_id!r}")
    return ref


def _lobby(registry: Registry) -> ActorRef[Any]:
    ref = registry.resolve(LOBBY)
    if ref is None:
        raise GameRefused("unavailable", "the lobby is not running")
    return ref


async def _ask(ref: ActorRef[Any], message: object) -> object:
    return await ref.ask(message, timeout_s=ASK_TIMEOUT_S)


def _seated(request_id: int, granted: object) -> game.Seated:
    assert isinstance(granted, SeatGranted)
    return game.Seated(
        id=request_id, table_id=granted.table_id, seat=granted.seat, stack=granted.stack
    )


async def seat_profile(store: Store | None, player_id: int) -> SeatProfile:
    """Her display name and the preferences a table acts on, read once as she sits down (a
    table never asks per push). Without a store (tests of the routing alone): defaults."""
    if store is None:
        return SeatProfile()
    name = await profiles.display_name(store, player_id)
    prefs = await profiles.preferences(store, player_id)
    return SeatProfile(
        display_name=name or "",
        auto_muck=prefs.auto_muck,
        auto_post_blinds=prefs.auto_post_blinds,
    )


async def _route(
    registry: Registry,
    player_id: int,
    request: game.GameRequest,
    address: str = "",
    store: Store | None = None,
) -> Answer:
    rid = request.id
    match request:
        case game.ListTables(filter=f):
            query = ListTablesQuery(f.variant, f.big_blind, f.asset)
            tables = await _ask(_lobby(registry), query)
            assert isinstance(tables, tuple)
            return game.TableList(id=rid, tables=tables)
        case game.SubscribeLobby(filter=f):
            message = SubscribeListings(player_id, f.variant, f.big_blind, f.asset)
            tables = await _ask(_lobby(registry), message)
            assert isinstance(tables, tuple)
            return game.TableList(id=rid, tables=tables)
        case game.UnsubscribeLobby():
            await _ask(_lobby(registry), UnsubscribeListings(player_id))
        case game.QuickSeat(variant=variant, big_blind=big_blind, buy_in=buy_in, asset=asset):
            profile = await seat_profile(store, player_id)
            find = FindSeat(
                player_id, variant, big_blind, buy_in, asset, address=address, profile=profile
            )
            return _seated(rid, await quick_seat(registry, find))
        case game.JoinTable(table_id=t, buy_in=buy_in, seat=seat, post_to_enter=post):
            profile = await seat_profile(store, player_id)
            join = JoinSeat(player_id, buy_in, seat, post, address=address, profile=profile)
            return _seated(rid, await _ask(_table(registry, t), join))
        case game.JoinWaitList(table_id=t):
            await _ask(_table(registry, t), JoinWaiting(player_id))
        case game.LeaveWaitList(table_id=t):
            await _ask(_table(registry, t), LeaveWaiting(player_id))
        case game.TopUp(table_id=t, amount=amount):
            await _ask(_table(registry, t), TopUpChips(player_id, amount))
        case game.SitOut(table_id=t):
            await _ask(_table(registry, t), SitOutNext(player_id))
        case game.PostMissedBlinds(table_id=t):
            await _ask(_table(registry, t), SitIn(player_id, post_now=True))
        case game.WaitForBigBlind(table_id=t):
            await _ask(_table(registry, t), SitIn(player_id, post_now=False))
        case game.LeaveTable(table_id=t):
            cashed = await _ask(_table(registry, t), StandUp(player_id))
            assert cashed is None or isinstance(cashed, int)
            return game.LeftTable(id=rid, table_id=t, cashed_out=cashed)
        case game.Watch(table_id=t):
            await _ask(_table(registry, t), AddWatcher(player_id))
        case game.Unwatch(table_id=t):
            await _ask(_table(registry, t), RemoveWatcher(player_id))
        case game.Act(table_id=t, hand_number=n, action=action, amount=amount, agree=agree):
            act = PlayerAct(player_id, n, action, amount, agree, request.decision_id)
            await _ask(_table(registry, t), act)
        case game.SetClientSeed(table_id=t, seed=seed):
            await _ask(_table(registry, t), ChooseClientSeed(player_id, bytes.fromhex(seed)))
        case _:
            raise TypeError(f"not a game request: {request!r}")
    return Ok(id=rid)


@final
class TableGameRequests:
    """The gateway's ``GameRequests`` (server/gateway.py): every game request goes to the
    lobby or a table by ask; refusals raise ``GameRefused`` with a stable code (the game's,
    the engine's or the wallet's; ``unavailable`` when the actor could not answer)."""

    def __init__(self, registry: Registry, store: Store | None = None) -> None:
        self.registry = registry
        self.store = store  # profiles and preferences, read when a player sits down

    async def handle(
        self, player_id: int, player: str, request: game.GameRequest, address: str = ""
    ) -> game.GameReply | None:
        """``address``: the session's client address (the one-address rule at tables)."""
        try:
            reply = await _route(self.registry, player_id, request, address, self.store)
        except (WalletError, IllegalAction) as refused:
            code = getattr(refused, "code", "illegal_action")
            raise GameRefused(code, str(refused)[:ERROR_MESSAGE_CHARS_MAX]) from refused
        except TargetError as exc:
            message = str(exc)[:ERROR_MESSAGE_CHARS_MAX]
            raise GameRefused("unavailable", message, UNAVAILABLE_RETRY_AFTER_MS) from exc
        return None if isinstance(reply, Ok | Error) else reply


@final
class TableSessionHooks:
    """The gateway's ``SessionHooks`` (server/gateway.py) for tables. Tells only, to the
    tables the player's sessions know her at (their session actors keep it: the tables tell
    them, actors/table/player_tables.py).

    - detached (websocket dropped): every table the player sits at holds the seat and runs
      the player's time bank when it is their turn;
    - ended (logout, grace over, ended by the server): they stand up (cashed out, after a
      hand they are in, which acts for them at once on their turn) and show disconnected,
      stop watching, and leave the lobby's subscribers;
    - resumed (``current_state``): their tables mark them connected and send each a
      ``table_snapshot`` (own cards included) and their pending ``action_required`` as pushes.
    """

    def __init__(self, registry: Registry, player_tables: PlayerTables) -> None:
        self.registry = registry
        # What the player's sessions were told by her tables (actors/table/player_tables.py).
        self.player_tables = player_tables

    def session_detached(self, player_id: int | None, player: str, session_id: str) -> None:
        if player_id is not None:
            seats = self.player_tables.seats_of(player_id)
            connection_changed(self.registry, player_id, seats, connected=False)

    def session_ended(self, player_id: int | None, player: str, session_id: str) -> None:
        if player_id is None:
            return
        for table_id in self.player_tables.seats_of(player_id):
            # Not a plain StandUp: the seat must also show disconnected (a logout never
            # detaches first), and the hand must not wait for them on their turn.
            _tell(self.registry, TableAddress(table_id), PlayerGone(player_id=player_id))
        for table_id in self.player_tables.watched_by(player_id):
            _tell(self.registry, TableAddress(table_id), RemoveWatcher(player_id=player_id))
        _tell(self.registry, LOBBY, UnsubscribeListings(player_id=player_id))

    def current_state(self, player_id: int | None, player: str) -> Sequence[PushBody]:
        # The tables answer with pushes of their own (a tell each, nothing to wait for).
        if player_id is not None:
            seats = self.player_tables.seats_of(player_id)
            connection_changed(self.registry, player_id, seats, connected=True)
        return ()

    def profile_changed(
        self,
        player_id: int,
        display_name: str | None = None,
        auto_muck: bool | None = None,
        auto_post_blinds: bool | None = None,
    ) -> None:
        """Her new display name or preferences reach every table she sits at (a tell each)."""
        change = UpdateSeatProfile(player_id, display_name, auto_muck, auto_post_blinds)
        for table_id in self.player_tables.seats_of(player_id):
            _tell(self.registry, TableAddress(table_id), change)

    def table_ids(self, player_id: int | None) -> list[str]:
        """The tables the player sits at or watches, for the resumed session's
        ``session_state`` (the tables' own pushes follow as tells, after it)."""
        if player_id is None:
            return []
        seated = self.player_tables.seats_of(player_id)
        watched = self.player_tables.watched_by(player_id)
        return seated + [t for t in watched if t not in seated]


def _tell(registry: Registry, address: Address, message: object) -> None:
    ref = registry.resolve(address)
    if ref is not None:
        ref.tell(message)


def connection_changed(
    registry: Registry, player_id: int, table_ids: list[str], connected: bool
) -> None:
    """Tell every table the player sits at that their connection dropped or came back."""
    for table_id in table_ids:
        _tell(
            registry,
            TableAddress(table_id),
            ConnectionChanged(player_id=player_id, connected=connected),
        )
