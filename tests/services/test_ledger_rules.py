"""The ledger's pure rules (services/ledger.py), without a database."""

from __future__ import annotations

import pytest

from persistence.ledger import (
    AccountRef,
    DailyTotals,
    LedgerAccount,
    PlayerLimits,
    PlayerState,
    TotalsDelta,
    TransferRecord,
    TransferRequest,
)
from services.ledger import (
    NEGATIVE_KINDS,
    TRANSFER_KINDS,
    InsufficientFunds,
    LimitExceeded,
    TransferNotAllowed,
    check_transfer,
    on_resolve,
)

DAY = 20_000


def account(kind: str, owner: str = "", balance: int = 0, reserved: int = 0) -> LedgerAccount:
    return LedgerAccount(1, kind, owner, balance, reserved, kind in NEGATIVE_KINDS)


def request(kind: str, debit: LedgerAccount, credit: LedgerAccount, amount: int) -> TransferRequest:
    return TransferRequest("k", kind, debit.ref, credit.ref, amount)


NO_LIMITS = PlayerLimits()
NOTHING_TODAY = DailyTotals()


def state(limits: PlayerLimits = NO_LIMITS, today: DailyTotals = NOTHING_TODAY) -> PlayerState:
    return PlayerState(limits, today)


def test_every_transfer_kind_names_known_account_kinds() -> None:
    kinds = {"wallet", "escrow", "prize_pool", "rake", "fees", "rakeback", "house", "external"}
    for rule in TRANSFER_KINDS.values():
        assert rule.debit <= kinds and rule.credit <= kinds
        # Counting a deposit or a loss needs a player on the counted side.
        if rule.counts_as_deposit:
            assert rule.credit == {"wallet"}
        if rule.loss_sign > 0:
            assert rule.debit == {"wallet"}
        if rule.loss_sign < 0:
            assert rule.credit == {"wallet"}


def test_available_excludes_reserved_funds() -> None:
    wallet = account("wallet", "1", balance=100, reserved=60)
    with pytest.raises(InsufficientFunds) as raised:
        check_transfer(
            request("player_transfer", wallet, account("wallet", "2"), 41), wallet,
            account("wallet", "2"), {1: state(), 2: state()}, DAY,
        )  # fmt: skip
    assert raised.value.available == 40


def test_the_outside_world_may_go_negative() -> None:
    outside, wallet = account("external", balance=-500), account("wallet", "1")
    deltas = check_transfer(
        request("deposit", outside, wallet, 100), outside, wallet, {1: state()}, DAY
    )
    assert list(deltas) == [TotalsDelta(1, DAY, deposited=100)]


def test_a_kind_refuses_accounts_outside_its_row() -> None:
    escrow, rake = account("escrow", "table:1", balance=100), account("rake")
    with pytest.raises(TransferNotAllowed):
        check_transfer(request("cash_out", escrow, rake, 5), escrow, rake, {}, DAY)


def test_loss_counts_buy_ins_and_gives_back_cash_outs() -> None:
    wallet, escrow = account("wallet", "1", balance=1000), account("escrow", "table:1", balance=900)
    limited = state(PlayerLimits(daily_loss_max=500), DailyTotals(net_loss=450))
    with pytest.raises(LimitExceeded) as raised:
        check_transfer(request("buy_in", wallet, escrow, 51), wallet, escrow, {1: limited}, DAY)
    assert (raised.value.limit, raised.value.used, raised.value.maximum) == ("daily_loss", 450, 500)
    assert list(
        check_transfer(request("buy_in", wallet, escrow, 50), wallet, escrow, {1: limited}, DAY)
    ) == [TotalsDelta(1, DAY, net_loss=50)]
    back = check_transfer(
        request("cash_out", escrow, wallet, 300), escrow, wallet, {1: limited}, DAY
    )
    assert list(back) == [TotalsDelta(1, DAY, net_loss=-300)]


def test_voiding_gives_back_what_the_request_counted_on_its_own_day() -> None:
    record = TransferRecord(
        id=7,
        key="k",
        kind="deposit",
        debit=AccountRef("external"),
        credit=AccountRef("wallet", "3"),
        amount=250,
        state="voided",
        memo="",
        created_at_ms=DAY * 86_400_000 + 5,
        updated_at_ms=0,
    )
    assert list(on_resolve(record, "void")) == [TotalsDelta(3, DAY, deposited=-250)]
    assert list(on_resolve(record, "post")) == []
