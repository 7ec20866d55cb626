"""My wallet: balance, entries, transfers, deposit and withdrawal requests.

Only translation: every rule (balances, limits, who may receive, idempotency of transfers) is
services/wallet.py's, as for the websocket's wallet messages. The Idempotency-Key of a POST is
also the wallet's key for the transfer (keys are per player, the same namespace as the
websocket's ``key`` field), so a transfer retried over either door moves money once.
"""

from __future__ import annotations

from typing import Annotated, Final

import msgspec
from msgspec import Meta

from api.cursors import decode_cursor, encode_cursor
from api.problems import PROBLEMS, ApiProblem
from api.routes.common import EXAMPLE_CURSOR, EXAMPLE_TIME_MS, Cursor, Memo, RowId
from api.routing import Call, Reply, RouteTable
from persistence.ledger import HISTORY_PAGE_MAX, AccountRef, TransferRecord
from protocol.messages import PLAYER_NAME_CHARS_MAX
from services.api_keys import Scope
from services.ledger import UnknownPlayer, UnknownTransfer, WalletError, wallet
from services.wallet import AMOUNT_MAX, Balance, HistoryEntry

routes = RouteTable()

Amount = Annotated[int, Meta(ge=1, le=AMOUNT_MAX)]
WALLET_ERRORS: Final = (
    "insufficient_funds", "limit_exceeded", "transfer_not_allowed", "invalid_amount",
)  # fmt: skip


class EntriesQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    cursor: Cursor | None = None
    limit: Annotated[int, Meta(ge=1, le=HISTORY_PAGE_MAX)] = 50


class EntriesPage(msgspec.Struct, frozen=True):
    data: list[HistoryEntry]  # newest first
    next_cursor: str | None  # pass as cursor for the next (older) page; null on the last


class TransferView(msgspec.Struct, frozen=True):
    transfer_id: int
    kind: str  # "player_transfer", "deposit", "withdrawal", ...
    state: str  # "pending", "posted" or "voided"
    amount: int  # always positive: it moves from debit to credit
    debit: AccountRef
    credit: AccountRef
    memo: str
    created_at_ms: int
    updated_at_ms: int


class TransferRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    to_player: Annotated[
        str, Meta(min_length=1, max_length=PLAYER_NAME_CHARS_MAX, pattern="^[^\\x00]*$")
    ]
    amount: Amount
    memo: Memo = ""


class PaymentRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    amount: Amount
    memo: Memo = ""


def _view(record: TransferRecord) -> TransferView:
    return TransferView(
        transfer_id=record.id,
        kind=record.kind,
        state=record.state,
        amount=record.amount,
        debit=record.debit,
        credit=record.credit,
        memo=record.memo,
        created_at_ms=record.created_at_ms,
        updated_at_ms=record.updated_at_ms,
    )


def _refused(exc: WalletError) -> ApiProblem:
    code = exc.code if exc.code in PROBLEMS else "wallet_error"
    return ApiProblem(code, str(exc))


def _key(call: Call) -> str:
    """The request's Idempotency-Key, checked by the pipeline: the wallet's key too."""
    assert call.idempotency_key is not None
    return call.idempotency_key


def _created(record: TransferRecord) -> Reply:
    return Reply(
        _view(record), status=201, headers={"Location": f"/v1/wallet/transfers/{record.id}"}
    )


TRANSFER_EXAMPLE: Final = msgspec.to_builtins(
    TransferView(
        transfer_id=1207,
        kind="player_transfer",
        state="posted",
        amount=250,
        debit=AccountRef("wallet", "42"),
        credit=AccountRef("wallet", "43"),
        memo="for the cab",
        created_at_ms=EXAMPLE_TIME_MS,
        updated_at_ms=EXAMPLE_TIME_MS,
    )
)
PENDING_EXAMPLE: Final = {
    **TRANSFER_EXAMPLE,
    "kind": "deposit",
    "state": "pending",
    "debit": {"kind": "external", "owner": ""},
    "credit": {"kind": "wallet", "owner": "42"},
    "memo": "",
}
ENTRY_EXAMPLE: Final = HistoryEntry(
    transfer_id=1207, kind="player_transfer", state="posted", amount=-250,
    counterparty=AccountRef("wallet", "43"), memo="for the cab",
    created_at_ms=EXAMPLE_TIME_MS, updated_at_ms=EXAMPLE_TIME_MS,
)  # fmt: skip
TRANSFER_LINKS: Final = {
    "GetTransfer": {
        "operationId": "getTransfer",
        "parameters": {"transfer_id": "$response.body#/transfer_id"},
    }
}


@routes.operation(
    operation_id="getBalance",
    method="GET",
    path="/v1/wallet",
    summary="My balance: posted, reserved by pending withdrawals and buy-ins, available",
    tag="wallet",
    response=Balance,
    example=msgspec.to_builtins(Balance(42, 1500, 200, 1300)),
    scope=Scope.WALLET_READ,
    personal=True,
)
async def balance(call: Call) -> Reply:
    return Reply(await call.context.wallet.balance(call.player_id))


@routes.operation(
    operation_id="listEntries",
    method="GET",
    path="/v1/wallet/entries",
    summary="My ledger entries, newest first",
    description="Amounts are from my side: positive in, negative out.",
    tag="wallet",
    response=EntriesPage,
    example=msgspec.to_builtins(EntriesPage([ENTRY_EXAMPLE], EXAMPLE_CURSOR)),
    scope=Scope.WALLET_READ,
    personal=True,
    query=EntriesQuery,
)
async def entries(call: Call) -> Reply:
    query: EntriesQuery = call.query
    before_id = None
    if query.cursor is not None:
        before_id = decode_cursor("wallet", query.cursor, RowId)
    page = await call.context.wallet.history(call.player_id, before_id, query.limit)
    cursor = None if page.next_before_id is None else encode_cursor("wallet", page.next_before_id)
    return Reply(EntriesPage(page.entries, cursor))


@routes.operation(
    operation_id="getTransfer",
    method="GET",
    path="/v1/wallet/transfers/{transfer_id}",
    summary="One transfer of mine",
    tag="wallet",
    response=TransferView,
    example=TRANSFER_EXAMPLE,
    scope=Scope.WALLET_READ,
    personal=True,
    path_params={"transfer_id": RowId},
    errors=("unknown_transfer",),
)
async def get_transfer(call: Call) -> Reply:
    transfer_id: int = call.path["transfer_id"]
    mine = wallet(call.player_id)
    try:
        record = await call.context.wallet.transfer_by_id(transfer_id)
    except UnknownTransfer:
        record = None
    if record is None or mine not in (record.debit, record.credit):
        # Someone else's transfer answers as no transfer at all.
        raise ApiProblem("unknown_transfer", f"you have no transfer {transfer_id}")
    return Reply(_view(record))


@routes.operation(
    operation_id="createTransfer",
    method="POST",
    path="/v1/wallet/transfers",
    summary="Send chips to another player, posted at once",
    tag="wallet",
    response=TransferView,
    example=TRANSFER_EXAMPLE,
    status=201,
    scope=Scope.WALLET_WRITE,
    personal=True,
    body=TransferRequest,
    body_example={"to_player": "bob", "amount": 250, "memo": "for the cab"},
    idempotent=True,
    errors=(*WALLET_ERRORS, "unknown_player"),
    links=TRANSFER_LINKS,
)
async def create_transfer(call: Call) -> Reply:
    body: TransferRequest = call.body
    context = call.context
    accounts = context.accounts()
    recipient = (
        await accounts.find(body.to_player)
        if accounts is not None
        else await context.store.get_account_by_name(body.to_player)
    )
    key = _key(call)
    try:
        if recipient is None:
            raise UnknownPlayer(f"no player named {body.to_player!r}")
        # The wallet refuses banned recipients as unknown players (its rule, not ours).
        record = await context.wallet.transfer_to_player(
            key, call.player_id, recipient.id, body.amount, body.memo
        )
    except WalletError as exc:
        raise _refused(exc) from None
    return _created(record)


@routes.operation(
    operation_id="requestDeposit",
    method="POST",
    path="/v1/wallet/deposits",
    summary="Ask to deposit: a pending transfer, posted when the payment arrives",
    tag="wallet",
    response=TransferView,
    example=PENDING_EXAMPLE,
    status=201,
    scope=Scope.WALLET_WRITE,
    personal=True,
    body=PaymentRequest,
    body_example={"amount": 1000, "memo": ""},
    idempotent=True,
    errors=WALLET_ERRORS,
    links=TRANSFER_LINKS,
)
async def request_deposit(call: Call) -> Reply:
    body: PaymentRequest = call.body
    try:
        record = await call.context.wallet.request_deposit(
            _key(call), call.player_id, body.amount, body.memo
        )
    except WalletError as exc:
        raise _refused(exc) from None
    return _created(record)


@routes.operation(
    operation_id="requestWithdrawal",
    method="POST",
    path="/v1/wallet/withdrawals",
    summary="Ask to withdraw: the amount is reserved until paid out or refused",
    tag="wallet",
    response=TransferView,
    example={
        **PENDING_EXAMPLE,
        "kind": "withdrawal",
        "debit": PENDING_EXAMPLE["credit"],
        "credit": PENDING_EXAMPLE["debit"],
    },
    status=201,
    scope=Scope.WALLET_WRITE,
    personal=True,
    body=PaymentRequest,
    body_example={"amount": 500, "memo": ""},
    idempotent=True,
    errors=WALLET_ERRORS,
    links=TRANSFER_LINKS,
)
async def request_withdrawal(call: Call) -> Reply:
    body: PaymentRequest = call.body
    try:
        record = await call.context.wallet.request_withdrawal(
            _key(call), call.player_id, body.amount, body.memo
        )
    except WalletError as exc:
        raise _refused(exc) from None
    return _created(record)
