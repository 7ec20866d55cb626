"""Assets (real-money chips and play money) and play money, on both backends. After every
test the ledger must audit clean, per asset."""

from __future__ import annotations

from functools import partial

import pytest

from persistence.ledger import AccountRef, TransferRequest
from persistence.store import Store
from persistence.work import Query, Work
from services.ledger import (
    CHIPS,
    PLAY,
    InsufficientFunds,
    WrongAsset,
    escrow,
    house_account,
    prize_pool,
    wallet,
)
from services.play_money import (
    PlayMoneyDisabled,
    PlayMoneyPolicy,
    RefillNotNeeded,
    RefillTooEarly,
)
from services.wallet import Balance, Wallet, WalletPolicy
from tests.persistence.stores import ManualClock
from tests.services.wallet_store import clock, funded, player, store, w

__all__ = ["clock", "store", "w"]  # fixtures

HOUR_MS = 3_600_000
POLICY = WalletPolicy(
    play=PlayMoneyPolicy(
        starting_balance=5_000, refill_below=500, refill_amount=2_000, refill_period_ms=HOUR_MS
    )
)


@pytest.fixture
def pw(store: Store) -> Wallet:
    return Wallet(store, POLICY)


async def test_a_play_money_table_never_touches_a_real_money_balance(
    store: Store, pw: Wallet
) -> None:
    alice = await funded(store, pw, "alice", 1_000)
    await pw.grant_starting_play_chips(alice)
    await pw.buy_in("seat:1", alice, "table:play-1", 800, asset=PLAY)
    await pw.take_rake("rake:1", "table:play-1", 5, asset=PLAY)
    await pw.cash_out("leave:1", "table:play-1", alice, 795, asset=PLAY)
    assert await pw.balance(alice) == Balance(alice, 1_000, 0, 1_000, CHIPS)
    assert await pw.balance(alice, PLAY) == Balance(alice, 4_995, 0, 4_995, PLAY)
    rake = await store.ledger_account(house_account("rake", PLAY))
    assert rake is not None and rake.balance == 5
    assert await store.ledger_account(house_account("rake")) is None
    audit = await pw.audit()
    assert audit.balance_by_asset == {CHIPS: 0, PLAY: 0}


async def test_a_buy_in_of_the_wrong_asset_is_refused_and_changes_nothing(
    store: Store, pw: Wallet
) -> None:
    alice = await funded(store, pw, "alice", 1_000)
    await pw.grant_starting_play_chips(alice)
    await pw.buy_in("seat:1", alice, "table:real", 100)  # the escrow is real money now
    with pytest.raises(WrongAsset) as raised:
        await pw.buy_in("seat:2", alice, "table:real", 100, asset=PLAY)
    assert raised.value.code == "wrong_asset"
    with pytest.raises(WrongAsset):  # the same for a tournament's prize pool
        await pw.tournament_buy_in("t:1", alice, "tournament:9", 50, asset=PLAY)
        await pw.tournament_buy_in("t:2", alice, "tournament:9", 50)
    assert await pw.pool_asset("escrow", "table:real") == CHIPS
    assert await pw.pool_asset("prize_pool", "tournament:9") == PLAY
    assert (await pw.balance(alice, PLAY)).balance == 4_950
    assert (await pw.balance(alice)).balance == 900
    assert await store.ledger_account(escrow("table:real", PLAY)) is None
    assert await store.ledger_account(prize_pool("tournament:9")) is None


async def test_a_transfer_between_assets_is_refused(store: Store, pw: Wallet) -> None:
    alice = await funded(store, pw, "alice", 1_000)
    with pytest.raises(WrongAsset):
        await pw.move("x", "buy_in", wallet(alice), escrow("table:1", PLAY), 10)
    with pytest.raises(WrongAsset):  # an asset nobody knows
        await pw.move("y", "buy_in", wallet(alice, "gold"), escrow("table:1", "gold"), 10)
    with pytest.raises(WrongAsset):  # play money is no deposit, no withdrawal, no gift
        await pw.move("z", "player_transfer", wallet(alice, PLAY), wallet(alice + 1, PLAY), 1)
    with pytest.raises(WrongAsset):  # and real money is never granted for nothing
        await pw.move("g", "play_grant", house_account("house"), wallet(alice), 1)


async def test_the_database_refuses_a_transfer_between_assets_by_itself(
    store: Store, pw: Wallet
) -> None:
    # Below the rules: a row that names accounts of another asset than its own is refused by
    # the schema's trigger (the ledger_assets migration), whatever wrote it.
    alice = await funded(store, pw, "alice", 100)
    await pw.grant_starting_play_chips(alice)
    real = await store.ledger_account(wallet(alice))
    play = await store.ledger_account(wallet(alice, PLAY))
    assert real is not None and play is not None

    def forged(asset: str) -> Work[None]:
        yield Query(
            "INSERT INTO ledger_transfers (idempotency_key, content_hash, kind,"
            " debit_account_id, credit_account_id, debit_kind, debit_owner, credit_kind,"
            " credit_owner, amount, state, memo, created_at_ms, updated_at_ms, asset)"
            " VALUES ($1, '', 'adjustment', $2, $3, 'wallet', $4, 'wallet', $4, 1, 'posted',"
            " '', 0, 0, $5)",
            (f"forged-{asset}", real.id, play.id, str(alice), asset),
        )

    for asset in (CHIPS, PLAY):
        with pytest.raises(Exception, match="asset"):
            await store.run(partial(forged, asset))
    assert (await pw.balance(alice)).balance == 100


async def test_a_new_player_gets_play_money_once(store: Store, pw: Wallet) -> None:
    alice = await player(store, "alice")
    first = await pw.grant_starting_play_chips(alice)
    again = await pw.grant_starting_play_chips(alice)
    assert first is not None and again is not None and again.id == first.id
    assert await pw.balance(alice, PLAY) == Balance(alice, 5_000, 0, 5_000, PLAY)
    assert (await pw.balance(alice)).balance == 0
    entries = (await pw.history(alice, asset=PLAY)).entries
    assert [(e.kind, e.amount) for e in entries] == [("play_grant", 5_000)]
    house = await store.ledger_account(house_account("house", PLAY))
    assert house is not None and house.balance == -5_000


async def test_a_refill_is_for_players_below_the_threshold_once_per_period(
    store: Store, pw: Wallet, clock: ManualClock
) -> None:
    alice = await player(store, "alice")
    await pw.grant_starting_play_chips(alice)
    with pytest.raises(RefillNotNeeded) as not_needed:
        await pw.claim_play_chips(alice)
    assert not_needed.value.code == "refill_not_needed"
    await pw.buy_in("seat", alice, "table:p", 4_600, asset=PLAY)  # 400 left: below 500
    refill = await pw.claim_play_chips(alice)
    assert (refill.kind, refill.amount, refill.asset) == ("play_grant", 2_000, PLAY)
    await pw.buy_in("seat2", alice, "table:p", 2_000, asset=PLAY)  # below again
    clock.advance(HOUR_MS - 1_000)
    with pytest.raises(RefillTooEarly) as early:
        await pw.claim_play_chips(alice)
    assert (early.value.code, early.value.retry_after_ms) == ("refill_too_early", 1_000)
    assert (await pw.balance(alice, PLAY)).balance == 400
    clock.advance(1_000)
    await pw.claim_play_chips(alice)
    assert (await pw.balance(alice, PLAY)).balance == 2_400


async def test_two_claims_at_once_make_one_refill(store: Store, pw: Wallet) -> None:
    import trio

    alice = await player(store, "alice")
    outcomes: list[str] = []

    async def claim() -> None:
        try:
            await pw.claim_play_chips(alice)
            outcomes.append("refilled")
        except (RefillTooEarly, RefillNotNeeded):  # the first refill lifted her above 500
            outcomes.append("refused")

    async with trio.open_nursery() as nursery:
        for _ in range(4):
            nursery.start_soon(claim)
    assert sorted(outcomes) == ["refilled", "refused", "refused", "refused"]
    assert (await pw.balance(alice, PLAY)).balance == 2_000


async def test_an_operator_may_give_no_play_money(store: Store) -> None:
    none = Wallet(store, WalletPolicy(play=PlayMoneyPolicy(starting_balance=0, refill_amount=0)))
    alice = await player(store, "alice")
    assert await none.grant_starting_play_chips(alice) is None
    with pytest.raises(PlayMoneyDisabled):
        await none.claim_play_chips(alice)


async def test_play_money_buys_nothing_beyond_its_balance(store: Store, pw: Wallet) -> None:
    alice = await player(store, "alice")
    await pw.grant_starting_play_chips(alice)
    with pytest.raises(InsufficientFunds):
        await pw.buy_in("seat", alice, "table:p", 5_001, asset=PLAY)


async def test_a_real_money_retry_stored_before_assets_is_still_a_retry() -> None:
    # The content hash of a real-money transfer is the one stored before assets existed
    # (computed with the code of that time), so a retry after the upgrade replays it.
    request = TransferRequest(
        "k", "buy_in", AccountRef("wallet", "7"), AccountRef("escrow", "table:1"), 300, True, ""
    )
    assert request.content_hash() == (
        "c42c9776d3bb562a28798b739ab91675e81ad6074fe6450777036cb643e47672"
    )
