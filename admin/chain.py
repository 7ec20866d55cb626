"""The blockchain cashier for staff: deposits, withdrawals, approvals and the pause switch.

The rules live in services/chain/cashier.py (which also writes the audit entries, so every
door records the same thing); these routes only translate. Reading needs ``wallet:read``;
approving, rejecting and pausing move money and need ``wallet:adjust``, with a reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from msgspec import Meta, Struct
from quart import Blueprint, g
from quart_schema import document_querystring, document_request, validate_querystring

from admin.auth import Identity, error, requires
from admin.bodies import ROW_ID_MAX, Reason, RowId, read_body
from admin.context import current_context
from admin.permissions import Permission
from persistence.chain import CHAIN_PAGE_MAX
from services.ledger import WalletError

if TYPE_CHECKING:  # imported when a chain is configured: the chain extra may be absent
    from services.chain.cashier import ChainCashier, StaffAction

chain_routes = Blueprint("chain", __name__)

CHAIN = f"<int(max={ROW_ID_MAX}):chain_id>"
WITHDRAWAL = f"<int(max={ROW_ID_MAX}):withdrawal_id>"

DepositStateName = Literal[
    "new", "pending", "held", "unmatched", "too_small", "reorged", "credited"
]
WithdrawalStateName = Literal[
    "requested", "awaiting_approval", "queued", "batched", "paid", "voided", "rejected", "refused"
]


class DepositQuery(Struct, frozen=True):
    state: DepositStateName | None = None
    player_id: RowId | None = None
    before_id: RowId | None = None
    limit: Annotated[int, Meta(ge=1, le=CHAIN_PAGE_MAX)] = 50


class WithdrawalQuery(Struct, frozen=True):
    state: WithdrawalStateName | None = None
    player_id: RowId | None = None
    before_id: RowId | None = None
    limit: Annotated[int, Meta(ge=1, le=CHAIN_PAGE_MAX)] = 50


class ReasonBody(Struct, frozen=True, forbid_unknown_fields=True):
    reason: Reason


class ChainStatus(Struct, frozen=True):
    chain_id: int
    cashier: str
    token: str
    withdrawals_paused: bool


def _cashier(chain_id: int) -> ChainCashier | None:
    return current_context().chains.get(chain_id)


def _no_chain(chain_id: int) -> Any:
    return error(404, "not_found", f"no cashier runs on chain {chain_id}")


def _staff(reason: str) -> StaffAction:
    from services.chain.cashier import StaffAction

    identity: Identity = g.identity
    return StaffAction(identity.subject, identity.role, reason, g.request_id)


@chain_routes.get("/chains")
@requires(Permission.WALLET_READ)
async def chains() -> Any:
    """Every chain a cashier runs on, in the configured order (the players' default first)."""
    found = []
    for chain_id, cashier in current_context().chains.items():
        s = cashier.settings
        paused = await cashier.withdrawals_paused()
        found.append(ChainStatus(chain_id, s.cashier_address, s.token_address, paused))
    return found


@chain_routes.get(f"/chains/{CHAIN}")
@requires(Permission.WALLET_READ)
async def chain_status(chain_id: int) -> Any:
    """The chain's cashier: its contract, its token, whether withdrawals are paused."""
    cashier = _cashier(chain_id)
    if cashier is None:
        return _no_chain(chain_id)
    s = cashier.settings
    return ChainStatus(chain_id, s.cashier_address, s.token_address,
                       await cashier.withdrawals_paused())  # fmt: skip


@chain_routes.get(f"/chains/{CHAIN}/deposits")
@requires(Permission.WALLET_READ)
@validate_querystring(DepositQuery)
@document_querystring(DepositQuery)
async def deposits(chain_id: int, query_args: DepositQuery) -> Any:
    """Deposits seen on chain, newest first, paged by ``before_id``."""
    cashier = _cashier(chain_id)
    if cashier is None:
        return _no_chain(chain_id)
    q = query_args
    return await cashier.list_deposits(
        state=q.state, player_id=q.player_id, before_id=q.before_id, limit=q.limit
    )


@chain_routes.get(f"/chains/{CHAIN}/withdrawals")
@requires(Permission.WALLET_READ)
@validate_querystring(WithdrawalQuery)
@document_querystring(WithdrawalQuery)
async def withdrawals(chain_id: int, query_args: WithdrawalQuery) -> Any:
    """Withdrawal requests, newest first (``state=awaiting_approval``: what needs a decision)."""
    cashier = _cashier(chain_id)
    if cashier is None:
        return _no_chain(chain_id)
    q = query_args
    return await cashier.list_withdrawals(
        state=q.state, player_id=q.player_id, before_id=q.before_id, limit=q.limit
    )


async def _decide(chain_id: int, withdrawal_id: int, approve: bool) -> Any:
    cashier = _cashier(chain_id)
    if cashier is None:
        return _no_chain(chain_id)
    body = await read_body(ReasonBody)
    try:
        if approve:
            return await cashier.approve(withdrawal_id, _staff(body.reason))
        return await cashier.reject(withdrawal_id, _staff(body.reason))
    except WalletError as exc:
        status = 404 if exc.code == "unknown_withdrawal" else 409
        return error(status, exc.code, str(exc))


@chain_routes.post(f"/chains/{CHAIN}/withdrawals/{WITHDRAWAL}/approve")
@requires(Permission.WALLET_ADJUST)
@document_request(ReasonBody)
async def approve_withdrawal(chain_id: int, withdrawal_id: int) -> Any:
    """Let a large withdrawal go into the next batch (audited, with a reason)."""
    return await _decide(chain_id, withdrawal_id, True)


@chain_routes.post(f"/chains/{CHAIN}/withdrawals/{WITHDRAWAL}/reject")
@requires(Permission.WALLET_ADJUST)
@document_request(ReasonBody)
async def reject_withdrawal(chain_id: int, withdrawal_id: int) -> Any:
    """Refuse a large withdrawal: the player's chips are released (audited, with a reason)."""
    return await _decide(chain_id, withdrawal_id, False)


async def _pause(chain_id: int, paused: bool) -> Any:
    cashier = _cashier(chain_id)
    if cashier is None:
        return _no_chain(chain_id)
    body = await read_body(ReasonBody)
    await cashier.set_withdrawals_paused(paused, _staff(body.reason))
    return await chain_status(chain_id)


@chain_routes.post(f"/chains/{CHAIN}/withdrawals/pause")
@requires(Permission.WALLET_ADJUST)
@document_request(ReasonBody)
async def pause_withdrawals(chain_id: int) -> Any:
    """Stop sending withdrawal batches (requests still queue); audited, with a reason."""
    return await _pause(chain_id, True)


@chain_routes.post(f"/chains/{CHAIN}/withdrawals/resume")
@requires(Permission.WALLET_ADJUST)
@document_request(ReasonBody)
async def resume_withdrawals(chain_id: int) -> Any:
    """Send withdrawal batches again; audited, with a reason."""
    return await _pause(chain_id, False)
