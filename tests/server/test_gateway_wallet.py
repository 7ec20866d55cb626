"""The wallet over the protocol: balance, paged history, transfers, deposits and withdrawals
through the blockchain cashier, on the real ledger (SQLite)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from protocol.client import Client, ServerError, open_client
from protocol.errors import ErrorCode
from protocol.messages import (
    Balance,
    GetWithdrawal,
    HistoryPage,
    ListWithdrawals,
    TransferResult,
    WalletBalance,
    WalletDeposit,
    WalletHistory,
    WalletTransfer,
    WalletWithdraw,
)
from server.gateway import GatewayLimits
from services.chain.settings import ChainSettings
from services.ledger import EXTERNAL, house_account, wallet
from services.wallet import Wallet
from tests.protocol.gateway_harness import PASSWORD, gateway_and_store, running_gateway

# A cashier whose player side (deposit references, withdrawal requests) needs no node.
CHAIN = ChainSettings(
    chain_id=31337, rpc_url="http://127.0.0.1:9", cashier="0x" + "c0" * 20, token="",
    rate="1/100", approval_threshold_chips=10_000,
)  # fmt: skip
ADDRESS = "0x" + "ab" * 20


async def balance(client: Client) -> tuple[int, int, int]:
    reply = await client.request(WalletBalance(id=0))
    assert isinstance(reply, Balance)
    return reply.balance, reply.reserved, reply.available


async def transfer(client: Client, message: object) -> TransferResult:
    reply = await client.request(message)  # type: ignore[arg-type]
    assert isinstance(reply, TransferResult)
    return reply


async def test_deposit_transfer_withdraw_and_history(tmp_path: Path) -> None:
    async with (
        gateway_and_store(tmp_path, chain=CHAIN) as (gateway, store),
        open_client(gateway.url) as alice,
        open_client(gateway.url) as bob,
    ):
        await alice.register("alice", PASSWORD)
        await bob.register("bob", PASSWORD)
        assert await balance(alice) == (0, 0, 0)

        where = await alice.deposit_address()
        assert (where.chain_id, where.rate) == (CHAIN.chain_id, "1/100")
        assert (await alice.deposit_address()).reference == where.reference  # hers, for good
        # What the chain watcher does when her payment reaches the confirmation line.
        account = await store.get_account_by_name("alice")
        assert account is not None
        deposit = await Wallet(store).move(
            "chain:test", "deposit", house_account(EXTERNAL), wallet(account.id), 1000
        )
        assert await balance(alice) == (1000, 0, 1000)

        sent = await alice.transfer("bob", 300, key="t-1")
        assert sent.state == "posted"
        again = await alice.transfer("bob", 300, key="t-1")
        assert again.transfer_id == sent.transfer_id  # a retry moves nothing twice
        assert (await bob.balance()).available == 300

        withdrawal = await alice.withdraw(200, key="w-1", address=ADDRESS)
        assert (withdrawal.state, withdrawal.amount, withdrawal.units) == ("queued", 200, "20000")
        assert await balance(alice) == (700, 200, 500)
        read = await alice.withdrawal(withdrawal.withdrawal_id)
        assert msgspec.structs.replace(read, id=withdrawal.id) == withdrawal
        again = await alice.withdraw(200, key="w-1", address=ADDRESS)
        assert again.withdrawal_id == withdrawal.withdrawal_id  # a retry reserves nothing twice
        assert await balance(alice) == (700, 200, 500)

        first = await alice.history(limit=2)
        assert [e.transfer_id for e in first.entries] == [withdrawal.transfer_id, sent.transfer_id]
        assert [e.amount for e in first.entries] == [-200, -300]
        sent_to = first.entries[1].counterparty
        assert (sent_to.kind, sent_to.asset) == ("wallet", "chips") and sent_to.owner.isdigit()
        assert first.next_before_id is not None
        rest = await alice.request(WalletHistory(id=0, before_id=first.next_before_id))
        assert isinstance(rest, HistoryPage)
        assert [(e.transfer_id, e.state) for e in rest.entries] == [(deposit.id, "posted")]
        assert rest.next_before_id is None


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (WalletTransfer(id=0, to_player="bob", amount=10_000, key="k"), "insufficient_funds"),
        (WalletTransfer(id=0, to_player="nobody", amount=1, key="k"), "unknown_player"),
        (WalletTransfer(id=0, to_player="alice", amount=1, key="k"), "transfer_to_self"),
    ],
    ids=["insufficient-funds", "unknown-player", "to-self"],
)
async def test_refused_wallet_requests_get_the_service_code(
    tmp_path: Path, message: WalletTransfer, code: str
) -> None:
    async with (
        running_gateway(tmp_path) as gateway,
        open_client(gateway.url) as alice,
        open_client(gateway.url) as bob,
    ):
        await alice.register("alice", PASSWORD)
        await bob.register("bob", PASSWORD)
        with pytest.raises(ServerError) as info:
            await alice.request(message)
        assert info.value.code == code
        assert await balance(alice) == (0, 0, 0)


async def test_amounts_must_be_positive_integers(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gateway, open_client(gateway.url) as alice:
        await alice.register("alice", PASSWORD)
        for amount in (0, -5):
            with pytest.raises(ServerError) as info:
                await alice.request(WalletDeposit(id=0, amount=amount, key="k"))
            assert info.value.code == ErrorCode.INVALID_MESSAGE


async def test_amounts_must_be_positive_integers_for_withdrawals_too(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, chain=CHAIN) as gateway, open_client(gateway.url) as c:
        await c.register("alice", PASSWORD)
        for amount in (0, -5):
            with pytest.raises(ServerError) as info:
                await c.request(WalletWithdraw(id=0, amount=amount, key="k", address=ADDRESS))
            assert info.value.code == ErrorCode.INVALID_MESSAGE


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (WalletWithdraw(id=0, amount=5, key="k", address="0x" + "0" * 40), "invalid_address"),
        (WalletWithdraw(id=0, amount=5, key="k", address="alice"), "invalid_address"),
        (WalletWithdraw(id=0, amount=50_000, key="k", address=ADDRESS), "insufficient_funds"),
        (GetWithdrawal(id=0, withdrawal_id=7), "unknown_withdrawal"),
    ],
    ids=["zero-address", "not-an-address", "insufficient-funds", "unknown-withdrawal"],
)
async def test_refused_cashier_requests_get_the_cashiers_code(
    tmp_path: Path, message: WalletWithdraw | GetWithdrawal, code: str
) -> None:
    async with running_gateway(tmp_path, chain=CHAIN) as gateway, open_client(gateway.url) as c:
        await c.register("alice", PASSWORD)
        with pytest.raises(ServerError) as info:
            await c.request(message)
        assert info.value.code == code
        assert await balance(c) == (0, 0, 0)


async def test_a_withdrawal_refused_once_is_refused_again_under_its_key(tmp_path: Path) -> None:
    async with (
        gateway_and_store(tmp_path, chain=CHAIN) as (gateway, store),
        open_client(gateway.url) as alice,
    ):
        await alice.register("alice", PASSWORD)
        with pytest.raises(ServerError) as first:
            await alice.withdraw(50, key="w", address=ADDRESS)
        assert first.value.code == ErrorCode.INSUFFICIENT_FUNDS
        await Wallet(store).adjust("top-up", wallet(1), 100, memo="test")
        with pytest.raises(ServerError) as again:
            await alice.withdraw(50, key="w", address=ADDRESS)
        assert again.value.code == ErrorCode.WITHDRAWAL_REFUSED
        assert await balance(alice) == (100, 0, 100)


async def test_list_withdrawals_pages_mine_newest_first_and_filters_by_state(
    tmp_path: Path,
) -> None:
    async with (
        gateway_and_store(tmp_path, chain=CHAIN) as (gateway, store),
        open_client(gateway.url) as alice,
        open_client(gateway.url) as bob,
    ):
        await alice.register("alice", PASSWORD)
        await bob.register("bob", PASSWORD)
        await Wallet(store).adjust("top-up", wallet(1), 100, memo="test")
        await Wallet(store).adjust("top-up-bob", wallet(2), 100, memo="test")
        for n in range(3):
            await alice.withdraw(10 + n, key=f"w-{n}", address=ADDRESS)
        with pytest.raises(ServerError):
            await alice.withdraw(500, key="too-much", address=ADDRESS)
        await bob.withdraw(7, key="w-0", address=ADDRESS)

        first = await alice.withdrawals(limit=3)
        assert [w.amount for w in first.withdrawals] == [500, 12, 11]
        assert first.next_before_id == first.withdrawals[-1].withdrawal_id
        rest = await alice.withdrawals(limit=3, before_id=first.next_before_id)
        assert [w.amount for w in rest.withdrawals] == [10] and rest.next_before_id is None
        queued = await alice.withdrawals(state="queued")
        assert [(w.amount, w.state) for w in queued.withdrawals] == [
            (12, "queued"),
            (11, "queued"),
            (10, "queued"),
        ]
        refused = await alice.withdrawals(state="refused")
        assert [w.reason != "" for w in refused.withdrawals] == [True]
        one = await alice.withdrawal(first.withdrawals[1].withdrawal_id)
        assert msgspec.structs.asdict(one) | {"id": 0} == msgspec.structs.asdict(
            first.withdrawals[1]
        ) | {"id": 0}
        assert [w.amount for w in (await bob.withdrawals()).withdrawals] == [7]


async def test_without_a_cashier_deposits_and_withdrawals_are_unavailable(
    tmp_path: Path,
) -> None:
    async with running_gateway(tmp_path) as gateway, open_client(gateway.url) as alice:
        await alice.register("alice", PASSWORD)
        for message in (
            WalletDeposit(id=0),
            WalletDeposit(id=0, amount=10, key="d"),  # an older client's frame
            WalletWithdraw(id=0, amount=10, key="w", address=ADDRESS),
            GetWithdrawal(id=0, withdrawal_id=1),
            ListWithdrawals(id=0),
        ):
            with pytest.raises(ServerError) as info:
                await alice.request(message)
            assert info.value.code == ErrorCode.CASHIER_UNAVAILABLE
        assert await balance(alice) == (0, 0, 0)


async def test_guests_have_no_wallet(tmp_path: Path) -> None:
    limits = GatewayLimits(guest_login=True)
    async with running_gateway(tmp_path, limits=limits) as gateway, open_client(gateway.url) as c:
        await c.guest_login()
        with pytest.raises(ServerError) as info:
            await c.request(WalletBalance(id=0))
        assert info.value.code == ErrorCode.WALLET_UNAVAILABLE


async def test_the_wallet_needs_a_login(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gateway, open_client(gateway.url) as client:
        with pytest.raises(ServerError) as info:
            await client.request(WalletBalance(id=0))
        assert info.value.code == ErrorCode.NOT_AUTHENTICATED


def test_the_wallet_refusal_codes_of_this_version_are_documented_error_codes() -> None:
    import services.ledger

    codes = {
        cls.code
        for cls in vars(services.ledger).values()
        if isinstance(cls, type) and issubclass(cls, services.ledger.WalletError)
    }
    import services.limits
    import services.play_money
    import services.wallet

    for module in (services.limits, services.play_money, services.wallet):
        codes |= {
            cls.code
            for cls in vars(module).values()
            if isinstance(cls, type) and issubclass(cls, services.ledger.WalletError)
        }
    codes.discard(services.ledger.WalletError.code)  # the base: never raised itself
    assert codes <= {code.value for code in ErrorCode}  # every refusal is a documented code
