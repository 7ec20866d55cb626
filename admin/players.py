"""Players, their wallets and their hands: what support staff look at and correct."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from msgspec import Meta, Struct
from quart import Blueprint
from quart_schema import document_querystring, document_request, validate_querystring

from admin.auth import error, requires
from admin.bodies import ROW_ID_MAX, Reason, RowId, read_body
from admin.context import audit_stamp, current_context
from admin.permissions import Permission
from persistence import Account
from persistence.accounts import ACCOUNTS_PAGE_MAX
from persistence.hands import HANDS_PAGE_MAX
from persistence.ledger import HISTORY_PAGE_MAX, IDEMPOTENCY_KEY_CHARS_MAX, MEMO_CHARS_MAX
from services.ledger import WalletError, wallet
from services.wallet import AMOUNT_MAX

player_routes = Blueprint("players", __name__)

ADJUSTMENT_KEY_PREFIX = "admin:"  # namespaces operators' keys in the ledger
# Bound on a client-supplied idempotency key: with its prefix it must fit the ledger's bound.
KEY_CHARS_MAX = IDEMPOTENCY_KEY_CHARS_MAX - len(ADJUSTMENT_KEY_PREFIX)
# Path segments: the int converter (ASCII digits only, admin/app.py) with the database's
# bound (a larger id is not found).
PLAYER = f"<int(max={ROW_ID_MAX}):player_id>"


class PlayerView(Struct, frozen=True):
    id: int
    name: str
    role: str
    banned: bool
    created_at: datetime


class PlayerSearch(Struct, frozen=True):
    q: str = ""
    after_id: RowId | None = None
    limit: Annotated[int, Meta(ge=1, le=ACCOUNTS_PAGE_MAX)] = 50


class PlayerPage(Struct, frozen=True):
    players: list[PlayerView]
    next_after_id: int | None  # pass as after_id for the next page; None on the last one


class BanRequest(Struct, frozen=True, forbid_unknown_fields=True):
    reason: Reason


class AdjustmentRequest(Struct, frozen=True, forbid_unknown_fields=True):
    # Positive credits the player from the house; negative debits it back.
    amount: Annotated[int, Meta(ge=-AMOUNT_MAX, le=AMOUNT_MAX)]
    # The reason is also the transfer's memo, so the ledger's bound applies.
    reason: Annotated[str, Meta(min_length=1, max_length=MEMO_CHARS_MAX)]
    # Retrying with the same key returns the original transfer instead of moving money twice.
    key: Annotated[str, Meta(min_length=1, max_length=KEY_CHARS_MAX)]


class PageQuery(Struct, frozen=True):
    before_id: RowId | None = None
    limit: Annotated[int, Meta(ge=1, le=HISTORY_PAGE_MAX)] = 50


class HandsQuery(Struct, frozen=True):
    before_seq: RowId | None = None
    limit: Annotated[int, Meta(ge=1, le=HANDS_PAGE_MAX)] = 50


def _view(account: Account) -> PlayerView:
    # Never the password hash.
    return PlayerView(account.id, account.name, account.role, account.banned, account.created_at)


async def _account_or_404(player_id: int) -> Account | None:
    return await current_context().store.get_account(player_id)


def _no_player(player_id: int) -> Any:
    return error(404, "not_found", f"no player with id {player_id}")


@player_routes.get("/players")
@requires(Permission.PLAYERS_READ)
@validate_querystring(PlayerSearch)
@document_querystring(PlayerSearch)
async def search_players(query_args: PlayerSearch) -> Any:
    """Players whose name starts with ``q`` (ignoring case), in id order, paged."""
    found = await current_context().store.search_accounts(
        query_args.q, query_args.after_id, query_args.limit
    )
    next_after = found[-1].id if len(found) == query_args.limit else None
    return PlayerPage([_view(a) for a in found], next_after)


@player_routes.get(f"/players/{PLAYER}")
@requires(Permission.PLAYERS_READ)
async def player_detail(player_id: int) -> Any:
    """One player's account (never the password hash)."""
    account = await _account_or_404(player_id)
    return _no_player(player_id) if account is None else _view(account)


async def _set_banned(player_id: int, banned: bool) -> Any:
    body = await read_body(BanRequest)
    context = current_context()
    stamp = audit_stamp(
        "players.ban" if banned else "players.unban", f"player:{player_id}", body.reason
    )
    # The change and its audit entry: one transaction (persistence/audit.py).
    after = await context.store.set_account_banned(player_id, banned, audit_as=stamp)
    if after is None:
        return _no_player(player_id)
    if banned:
        # After the commit: a ban that rolled back must not have cut anyone off.
        await context.on_banned(player_id)
    await context.on_ban_changed(player_id, banned)
    return _view(after)


@player_routes.post(f"/players/{PLAYER}/ban")
@requires(Permission.PLAYERS_BAN)
@document_request(BanRequest)
async def ban_player(player_id: int) -> Any:
    """Ban a player (audited, with a reason); a banned player cannot log in, and her live
    sessions end at once."""
    return await _set_banned(player_id, True)


@player_routes.post(f"/players/{PLAYER}/unban")
@requires(Permission.PLAYERS_BAN)
@document_request(BanRequest)
async def unban_player(player_id: int) -> Any:
    """Lift a ban (audited, with a reason)."""
    return await _set_banned(player_id, False)


@player_routes.get(f"/players/{PLAYER}/wallet")
@requires(Permission.WALLET_READ)
async def wallet_balance(player_id: int) -> Any:
    """The player's wallet: posted balance, reserved by pending transfers, available."""
    if await _account_or_404(player_id) is None:
        return _no_player(player_id)
    return await current_context().wallet.balance(player_id)


@player_routes.get(f"/players/{PLAYER}/wallet/entries")
@requires(Permission.WALLET_READ)
@validate_querystring(PageQuery)
@document_querystring(PageQuery)
async def wallet_entries(player_id: int, query_args: PageQuery) -> Any:
    """The player's ledger entries, newest first, paged by ``before_id``."""
    if await _account_or_404(player_id) is None:
        return _no_player(player_id)
    return await current_context().wallet.history(
        player_id, before_id=query_args.before_id, limit=query_args.limit
    )


@player_routes.post(f"/players/{PLAYER}/wallet/adjustments")
@requires(Permission.WALLET_ADJUST)
@document_request(AdjustmentRequest)
async def adjust_wallet(player_id: int) -> Any:
    """Correct a balance (audited, with a reason): a double-entry transfer with the house."""
    body = await read_body(AdjustmentRequest)
    if body.amount == 0:
        return error(400, "invalid_request", "an adjustment moves a non-zero amount")
    context = current_context()
    if await _account_or_404(player_id) is None:
        return _no_player(player_id)
    stamp = audit_stamp("wallet.adjust", f"player:{player_id}", body.reason)
    try:
        # The transfer and its audit entry: one transaction (persistence/store.py).
        return await context.wallet.adjust(
            ADJUSTMENT_KEY_PREFIX + body.key,
            wallet(player_id),
            body.amount,
            memo=body.reason,
            audit_as=stamp,
        )
    except WalletError as exc:
        return error(409, exc.code, str(exc))


@player_routes.get(f"/players/{PLAYER}/hands")
@requires(Permission.HANDS_READ)
@validate_querystring(HandsQuery)
@document_querystring(HandsQuery)
async def player_hands(player_id: int, query_args: HandsQuery) -> Any:
    """Hands the player was dealt into, newest first, paged by ``before_seq``."""
    return await current_context().store.hands_by_player(
        player_id, query_args.before_seq, query_args.limit, may_lag=True
    )
