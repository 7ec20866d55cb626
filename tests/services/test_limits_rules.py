"""The responsible-gaming rules, pure (services/limits.py, services/ledger.py): fuzzed."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from persistence.ledger import (
    DAY_MS,
    LIMIT_NAMES,
    AccountRef,
    DailyTotals,
    Exclusion,
    LedgerAccount,
    PlayerLimits,
    PlayerRules,
    PlayerState,
    TransferRequest,
)
from services.ledger import (
    NEGATIVE_KINDS,
    CoolingOff,
    SelfExcluded,
    WalletError,
    WrongAsset,
    check_transfer,
)
from services.limits import RAISE_WAIT_MS, change_limits, exclude, settled

NOW = 1_750_000_000_000
LOOSE = 10**18  # "no limit", for comparisons

values = st.one_of(st.none(), st.integers(min_value=1, max_value=1_440))
changes = st.dictionaries(st.sampled_from(LIMIT_NAMES), values, max_size=4)


def looseness(limits: PlayerLimits, name: str) -> int:
    value = getattr(limits, name)
    return LOOSE if value is None else int(value)


@settings(deadline=None, max_examples=300)
@given(steps=st.lists(st.tuples(changes, st.integers(0, 2 * DAY_MS)), min_size=1, max_size=8))
def test_no_limit_is_ever_loosened_before_its_24_hours(
    steps: list[tuple[dict[str, int | None], int]],
) -> None:
    rules, now = PlayerRules(), NOW
    for change, wait_ms in steps:
        before = rules.effective(now)
        try:
            rules = change_limits(rules, change, now)
        except WalletError as refused:
            assert refused.code in {"limit_raise_pending", "invalid_amount"}
            continue
        after = rules.effective(now)
        for name in LIMIT_NAMES:
            assert looseness(after, name) <= looseness(before, name)  # never looser at once
            if name in change and change[name] is not None:
                wanted = change[name]
                if looseness(before, name) >= (LOOSE if wanted is None else wanted):
                    assert getattr(after, name) == wanted  # a lowering holds at once
        assert all(p.effective_at_ms <= now + RAISE_WAIT_MS for p in rules.pending.values())
        later = settled(rules, now + RAISE_WAIT_MS)
        assert later.pending == {}
        for name, value in change.items():  # 24 hours on, every change asked for holds
            assert getattr(later.limits, name) == value
        now += wait_ms


@settings(deadline=None, max_examples=300)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["cool_off", "self_exclusion"]),
            st.integers(0, 4000),
            st.integers(0, 400 * DAY_MS),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_an_exclusion_never_ends_sooner(steps: list[tuple[str, int, int]]) -> None:
    rules, now = PlayerRules(), NOW
    for kind, days, wait_ms in steps:
        before = rules.excluded(now)
        try:
            rules = exclude(rules, kind, days, now)  # type: ignore[arg-type]
        except WalletError as refused:
            assert refused.code in {"invalid_exclusion", "exclusion_cannot_be_shortened"}
            assert rules.excluded(now) == before
        else:
            after = rules.excluded(now)
            assert after is not None
            if before is not None:
                assert after.until_ms >= before.until_ms
                assert not (before.kind == "self_exclusion" and after.kind == "cool_off")
        now += wait_ms


def _account(kind: str, owner: str, asset: str = "chips", balance: int = 1_000) -> LedgerAccount:
    return LedgerAccount(1, kind, owner, balance, 0, kind in NEGATIVE_KINDS, asset)


def test_an_excluded_player_is_refused_before_her_balance_is_looked_at() -> None:
    broke = _account("wallet", "7", balance=0)
    pool = _account("escrow", "table:1")
    request = TransferRequest("k", "buy_in", broke.ref, pool.ref, 10)
    for kind, error in (("self_exclusion", SelfExcluded), ("cool_off", CoolingOff)):
        state = PlayerState(
            PlayerLimits(), DailyTotals(), exclusion=Exclusion(kind, NOW, NOW + DAY_MS)
        )
        try:
            check_transfer(request, broke, pool, {7: state}, NOW // DAY_MS)
        except error:
            pass
        else:
            raise AssertionError("not refused")


def test_a_kind_moves_only_its_assets() -> None:
    house = _account("house", "", "chips")
    wallet = _account("wallet", "7", "chips")
    request = TransferRequest("k", "play_grant", house.ref, wallet.ref, 10)
    try:
        check_transfer(request, house, wallet, {}, 0)
    except WrongAsset:
        pass
    else:
        raise AssertionError("real money granted for nothing")
    play = _account("wallet", "7", "play")
    request = TransferRequest("k", "buy_in", play.ref, AccountRef("escrow", "table:1", "chips"), 10)
    try:
        check_transfer(request, play, _account("escrow", "table:1"), {}, 0)
    except WrongAsset:
        pass
    else:
        raise AssertionError("play money into a real-money pool")
