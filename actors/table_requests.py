"""Game requests from a player's session, answered through the lobby and the tables.

The gateway calls :func:`answer` for every request of ``protocol.game.GameRequest`` with the
session's player id, and sends back what it returns (a reply of protocol/game.py, or
``protocol.messages.Ok`` / ``Error``). Refusals become error frames with stable codes: the
game's (``GameRefused``), the engine's (``IllegalAction``) and the wallet's (``WalletError``);
an actor that cannot answer (stopped, restarting, too slow) is ``unavailable``.

Sessions also report their connection: :func:`connection_changed` for every table the player
sits at, when the websocket drops (the seat is held) and when it comes back.
"""

from __future__ import annotations

from typing import Any, Final

from actors.registry import Registry
from actors.runtime import ActorRef, TargetError
from actors.table_messages import (
    AddWatcher,
    ConnectionChanged,
    FindSeat,
    GameRefused,
    JoinSeat,
    JoinWaiting,
    LeaveWaiting,
    ListTablesQuery,
    PlayerAct,
    RemoveWatcher,
    SeatGranted,
    SitIn,
    SitOutNext,
    StandUp,
    SubscribeListings,
    TopUpChips,
    UnsubscribeListings,
)
from poker import IllegalAction
from protocol import game
from protocol.messages import ERROR_MESSAGE_CHARS_MAX, Error, Ok
from services.ledger import WalletError

LOBBY: Final = "lobby"
ASK_TIMEOUT_S: Final = 5.0  # a game actor answers in milliseconds unless it is restarting

Answer = game.GameReply | Ok | Error


def _table(registry: Registry, table_id: str) -> ActorRef[Any]:
    ref = registry.lookup(f"table:{table_id}")
    if ref is None:
        raise GameRefused("no_such_table", f"no table {table_id!r}")
    return ref


def _lobby(registry: Registry) -> ActorRef[Any]:
    ref = registry.lookup(LOBBY)
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


async def _route(registry: Registry, player_id: int, request: game.GameRequest) -> Answer:
    rid = request.id
    match request:
        case game.ListTables(filter=f):
            tables = await _ask(_lobby(registry), ListTablesQuery(f.variant, f.big_blind))
            assert isinstance(tables, tuple)
            return game.TableList(id=rid, tables=tables)
        case game.SubscribeLobby(filter=f):
            message = SubscribeListings(player_id, f.variant, f.big_blind)
            tables = await _ask(_lobby(registry), message)
            assert isinstance(tables, tuple)
            return game.TableList(id=rid, tables=tables)
        case game.UnsubscribeLobby():
            await _ask(_lobby(registry), UnsubscribeListings(player_id))
        case game.QuickSeat(variant=variant, big_blind=big_blind, buy_in=buy_in):
            found = await _ask(_lobby(registry), FindSeat(player_id, variant, big_blind, buy_in))
            return _seated(rid, found)
        case game.JoinTable(table_id=t, buy_in=buy_in, seat=seat, post_to_enter=post):
            join = JoinSeat(player_id, buy_in, seat, post)
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
            act = PlayerAct(player_id, n, action, amount, agree)
            await _ask(_table(registry, t), act)
        case _:
            raise TypeError(f"not a game request: {request!r}")
    return Ok(id=rid)


async def answer(registry: Registry, player_id: int, request: game.GameRequest) -> Answer:
    """The reply to ``request`` from ``player_id`` (never raises for a refusal)."""
    try:
        return await _route(registry, player_id, request)
    except (GameRefused, WalletError, IllegalAction) as refused:
        code = getattr(refused, "code", "refused")
        return Error(id=request.id, code=code, message=str(refused)[:ERROR_MESSAGE_CHARS_MAX])
    except TargetError as exc:
        message = str(exc)[:ERROR_MESSAGE_CHARS_MAX]
        return Error(id=request.id, code="unavailable", message=message, retry_after_ms=1000)


def connection_changed(
    registry: Registry, player_id: int, table_ids: list[str], connected: bool
) -> None:
    """Tell every table the player sits at that their connection dropped or came back."""
    for table_id in table_ids:
        ref = registry.lookup(f"table:{table_id}")
        if ref is not None:
            ref.tell(ConnectionChanged(player_id=player_id, connected=connected))
