"""Deposits and withdrawals through the blockchain cashier (docs/chain.md).

Only translation: the cashier is services/chain/cashier.py ``ChainCashier``, the one the
websocket's ``wallet_deposit``, ``wallet_withdraw`` and ``get_withdrawal`` reach
(server/wallet_requests.py). A deposit is a payment on chain to the cashier contract with
the player's reference, credited at the confirmation line; a withdrawal reserves the chips at
once and is paid in a batch. The Idempotency-Key of a withdrawal is the cashier's key (the
websocket's ``key``, same namespace). A server without ``[chain]`` answers every route here
with ``cashier_unavailable``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Final

import msgspec
from msgspec import Meta

from api.cursors import decode_cursor, encode_cursor
from api.routes.common import EXAMPLE_TIME_MS, Cursor, RowId
from api.routes.wallet import Amount, wallet_problem
from api.routing import Call, Reply, RouteTable
from persistence.chain import WithdrawalState
from services.api_keys import Scope
from services.chain.availability import CashierUnavailable
from services.ledger import WalletError

if TYPE_CHECKING:  # the chain extra is installed only where a cashier runs
    from persistence.chain import Withdrawal
    from services.chain.cashiers import Cashiers

routes = RouteTable()

ChainAddress = Annotated[str, Meta(min_length=1, max_length=42, pattern="^[^\\x00]*$")]
# What any cashier route may answer beyond the common problems.
CASHIER_ERRORS: Final = ("cashier_unavailable",)
# A chain id is the node's (EIP-155): positive; a server has a cashier on a few of them.
ChainId = Annotated[int, Meta(ge=1, le=2**63 - 1)]


class DepositAddressView(msgspec.Struct, frozen=True):
    """Call ``deposit(amount, reference)`` on the contract ``cashier`` on chain ``chain_id``
    (after approving ``token``), or ``deposit_native(reference)`` when ``token`` is the zero
    address. ``rate``: chips per token unit, exact (rounded down)."""

    chain_id: int
    cashier: str
    token: str
    reference: str  # 0x and 64 hex digits: this player's, for every deposit
    rate: str


class WithdrawalRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    amount: Amount  # chips
    address: ChainAddress  # 0x and 40 hex digits (EIP-55 checksummed when mixed case)
    chain_id: ChainId | None = None  # null: the server's first chain


class ChainQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    chain_id: ChainId | None = None  # null: the server's first chain


class WithdrawalView(msgspec.Struct, frozen=True):
    """``state``: ``awaiting_approval`` (large: staff approve first), ``queued``,
    ``batched`` (sent), ``paid``; or ``voided`` (expired or reverted: the chips are back),
    ``rejected`` (by staff: back too), ``refused`` (``reason`` says why)."""

    withdrawal_id: int
    chain_id: int
    address: str
    amount: int  # chips reserved from my wallet
    units: str  # token units paid, a decimal string (it may exceed 64 bits)
    state: str
    transfer_id: int | None  # the ledger transfer, pending until paid
    reason: str
    created_at_ms: int
    updated_at_ms: int


# services/chain/cashier.py WITHDRAWALS_PAGE_MAX (that module needs the chain extra).
WITHDRAWALS_PAGE_MAX: Final = 100
WITHDRAWALS_CURSOR: Final = "withdrawals"


class WithdrawalsQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    cursor: Cursor | None = None
    limit: Annotated[int, Meta(ge=1, le=WITHDRAWALS_PAGE_MAX)] = 50
    state: WithdrawalState | None = None
    chain_id: ChainId | None = None  # null: every chain


class WithdrawalsPage(msgspec.Struct, frozen=True):
    data: list[WithdrawalView]  # newest first
    next_cursor: str | None  # pass as cursor for the next (older) page; null on the last


def _cashier(call: Call) -> Cashiers:
    cashier = call.context.cashier
    if cashier is None:
        raise wallet_problem(CashierUnavailable())
    return cashier


def _view(row: Withdrawal) -> WithdrawalView:
    return WithdrawalView(
        withdrawal_id=row.id, chain_id=row.chain_id, address=row.address, amount=row.chips,
        units=str(row.units), state=row.state, transfer_id=row.transfer_id, reason=row.reason,
        created_at_ms=row.created_at_ms, updated_at_ms=row.updated_at_ms,
    )  # fmt: skip


EXAMPLE_ADDRESS: Final = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
WITHDRAWAL_EXAMPLE: Final = msgspec.to_builtins(
    WithdrawalView(
        withdrawal_id=88, chain_id=1, address=EXAMPLE_ADDRESS, amount=500,
        units="5000000", state="queued", transfer_id=1208, reason="",
        created_at_ms=EXAMPLE_TIME_MS, updated_at_ms=EXAMPLE_TIME_MS,
    )
)  # fmt: skip
WITHDRAWAL_LINKS: Final = {
    "GetWithdrawal": {
        "operationId": "getWithdrawal",
        "parameters": {"withdrawal_id": "$response.body#/withdrawal_id"},
    }
}


@routes.operation(
    operation_id="getDepositAddress",
    method="GET",
    path="/v1/wallet/deposit-address",
    summary="Where and how to deposit: the cashier contract and my deposit reference",
    description="The reference is made on first ask and stays the same. What arrives on"
    " chain is credited at the confirmation line (docs/chain.md); a deposit over my deposit"
    " limit is held until the limit allows it.",
    tag="wallet",
    response=DepositAddressView,
    example=msgspec.to_builtins(
        DepositAddressView(
            chain_id=1, cashier="0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            token="0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
            reference="0x" + "7c" * 32, rate="1/10000",
        )
    ),
    scope=Scope.WALLET_READ,
    personal=True,
    query=ChainQuery,
    errors=(*CASHIER_ERRORS, "unknown_chain", "self_excluded", "cooling_off"),
)  # fmt: skip
async def deposit_address(call: Call) -> Reply:
    query: ChainQuery = call.query
    cashier = _cashier(call)
    try:
        found = await cashier.deposit_instructions(call.player_id, query.chain_id)
    except WalletError as exc:
        raise wallet_problem(exc) from None
    return Reply(
        DepositAddressView(found.chain_id, found.cashier, found.token, found.reference, found.rate)
    )


@routes.operation(
    operation_id="requestWithdrawal",
    method="POST",
    path="/v1/wallet/withdrawals",
    summary="Withdraw chips to a chain address: reserved at once, paid in a batch",
    description="At or above the server's approval threshold the withdrawal waits for staff"
    " (`awaiting_approval`). Refused: `invalid_address`, `invalid_amount` (worth no token"
    " unit at the rate), `insufficient_funds`; a retry of a request the ledger refused is"
    " `withdrawal_refused`.",
    tag="wallet",
    response=WithdrawalView,
    example=WITHDRAWAL_EXAMPLE,
    status=201,
    scope=Scope.WALLET_WRITE,
    personal=True,
    body=WithdrawalRequest,
    body_example={"amount": 500, "address": EXAMPLE_ADDRESS},
    idempotent=True,
    errors=(
        *CASHIER_ERRORS, "unknown_chain", "invalid_address", "invalid_amount",
        "insufficient_funds", "withdrawal_refused",
    ),
    links=WITHDRAWAL_LINKS,
)  # fmt: skip
async def request_withdrawal(call: Call) -> Reply:
    body: WithdrawalRequest = call.body
    cashier = _cashier(call)
    assert call.idempotency_key is not None  # checked by the pipeline: the cashier's key too
    try:
        row = await cashier.request_withdrawal(
            call.player_id, call.idempotency_key, body.amount, body.address, body.chain_id
        )
    except WalletError as exc:
        raise wallet_problem(exc) from None
    return Reply(_view(row), status=201, headers={"Location": f"/v1/wallet/withdrawals/{row.id}"})


@routes.operation(
    operation_id="getWithdrawal",
    method="GET",
    path="/v1/wallet/withdrawals/{withdrawal_id}",
    summary="One withdrawal of mine, as it stands",
    tag="wallet",
    response=WithdrawalView,
    example=WITHDRAWAL_EXAMPLE,
    scope=Scope.WALLET_READ,
    personal=True,
    path_params={"withdrawal_id": RowId},
    errors=(*CASHIER_ERRORS, "unknown_withdrawal"),
)
async def get_withdrawal(call: Call) -> Reply:
    withdrawal_id: int = call.path["withdrawal_id"]
    cashier = _cashier(call)
    try:
        row = await cashier.withdrawal_of(call.player_id, withdrawal_id)
    except WalletError as exc:
        raise wallet_problem(exc) from None
    return Reply(_view(row))


@routes.operation(
    operation_id="listWithdrawals",
    method="GET",
    path="/v1/wallet/withdrawals",
    summary="My withdrawals, newest first, paged",
    description="`state` keeps those in one state (`awaiting_approval`, `queued`, `batched`,"
    " `paid`, `voided`, `rejected`, `refused`, or `requested`: being reserved this moment);"
    " a cursor belongs to the list it was given for, whatever the filter.",
    tag="wallet",
    response=WithdrawalsPage,
    example={"data": [WITHDRAWAL_EXAMPLE], "next_cursor": "WyJ3aXRoZHJhd2FscyIsODhd"},
    scope=Scope.WALLET_READ,
    personal=True,
    query=WithdrawalsQuery,
    errors=(*CASHIER_ERRORS, "unknown_chain"),
)
async def list_withdrawals(call: Call) -> Reply:
    query: WithdrawalsQuery = call.query
    cashier = _cashier(call)
    before_id = None
    if query.cursor is not None:
        before_id = decode_cursor(WITHDRAWALS_CURSOR, query.cursor, RowId)
    try:
        page = await cashier.withdrawals_of(
            call.player_id, state=query.state, before_id=before_id, limit=query.limit,
            chain_id=query.chain_id,
        )  # fmt: skip
    except WalletError as exc:
        raise wallet_problem(exc) from None
    next_id = page.next_before_id
    cursor = None if next_id is None else encode_cursor(WITHDRAWALS_CURSOR, next_id)
    return Reply(WithdrawalsPage([_view(row) for row in page.withdrawals], cursor))
