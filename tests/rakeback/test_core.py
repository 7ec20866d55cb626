"""The rakeback arithmetic (rakeback/): attribution, tiers and the grace rule, commission, and
conservation of every chip and every remainder (docs/rakeback.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import rakeback
from poker.rake_shares import apportion as engine_apportion
from rakeback.attribution import (
    FeeEntry,
    HandRake,
    HandSeat,
    InconsistentHand,
    apportion,
    attribute,
    attribute_hand,
    totals_by_player,
)
from rakeback.periods import InvalidPeriodId, Period, parse_period, period_containing
from rakeback.settlement import InvalidProgram, Program, settle
from rakeback.tiers import DEFAULT_TIERS, InvalidTiers, Tier, TierTable

TIERS = TierTable((Tier("A", 0, 1_000), Tier("B", 100, 2_000), Tier("C", 1_000, 3_000)))


@st.composite
def hands(draw: st.DrawFn) -> HandRake:
    n = draw(st.integers(2, 9))
    players = draw(st.lists(st.integers(1, 30), min_size=n, max_size=n, unique=True))
    rake = draw(st.integers(0, 5_000))
    weights = draw(st.lists(st.integers(0, 1_000), min_size=n, max_size=n))
    if not any(weights):
        weights[0] = 1
    shares = apportion(rake, weights)
    pairs = enumerate(zip(players, shares, strict=True))
    seats = tuple(HandSeat(p, seat, share) for seat, (p, share) in pairs)
    return HandRake(f"h{draw(st.integers(0, 10**6))}", rake, seats)


@given(hands(), st.sampled_from(["weighted", "dealt"]))
def test_a_hands_attribution_sums_to_its_rake(hand: HandRake, method: str) -> None:
    parts = attribute_hand(hand, method)  # type: ignore[arg-type]
    assert sum(parts.values()) == hand.rake
    assert all(v > 0 for v in parts.values())


@given(hands())
def test_dealt_splits_equally_odd_chips_to_the_lowest_seats(hand: HandRake) -> None:
    parts = attribute_hand(hand, "dealt")
    by_seat = [parts.get(s.player_id, 0) for s in sorted(hand.seats, key=lambda s: s.seat)]
    assert max(by_seat) - min(by_seat) <= 1
    assert by_seat == sorted(by_seat, reverse=True)


@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=10))
def test_apportion_is_the_engines_rule(total: int, weights: list[int]) -> None:
    if not any(weights):
        weights[0] = 1
    assert apportion(total, weights) == engine_apportion(total, weights)


def test_weighted_refuses_shares_that_do_not_sum_to_the_rake() -> None:
    hand = HandRake("h", 10, (HandSeat(1, 0, 4), HandSeat(2, 1, 5)))
    with pytest.raises(InconsistentHand):
        attribute_hand(hand, "weighted")


def test_a_hand_stored_without_shares_is_attributed_as_dealt() -> None:
    hand = HandRake("h", 5, (HandSeat(1, 4, 0), HandSeat(2, 1, 0), HandSeat(3, 2, 0)))
    assert attribute_hand(hand, "weighted") == {2: 2, 3: 2, 1: 1}


def test_fees_count_for_the_payer_and_refunds_never_below_zero() -> None:
    items = attribute([], [FeeEntry(7, 1, 50), FeeEntry(8, 1, -50), FeeEntry(9, 2, -30)],
                      "weighted")  # fmt: skip
    assert [i.origin for i in items] == ["transfer:7", "transfer:8", "transfer:9"]
    assert totals_by_player(items) == {1: {"tournament": 0}, 2: {"tournament": 0}}


def test_periods_are_utc_days_and_monday_weeks() -> None:
    at = 1_764_633_600_000 + 5_000  # 2025-12-02 00:00:05 UTC, a Tuesday
    assert period_containing("day", at).id == "day:2025-12-02"
    week = period_containing("week", at)
    assert week.id == "week:2025-12-01"
    assert week.end_ms - week.start_ms == 7 * 86_400_000
    assert parse_period(week.id) == week
    assert week.previous().following() == week
    for bad in ("week:2025-12-02", "day:2025-02-30", "month:2025-12", "day:25-12-01", ""):
        with pytest.raises(InvalidPeriodId):
            parse_period(bad)


@given(st.sampled_from(["day", "week"]), st.integers(0, 4 * 10**12))
def test_an_instant_lies_in_its_period(kind: str, at: int) -> None:
    period = period_containing(kind, at)  # type: ignore[arg-type]
    assert period.start_ms <= at < period.end_ms
    assert parse_period(period.id) == period


def test_tiers_earned_by_thresholds() -> None:
    assert [TIERS.earned(p) for p in (0, 99, 100, 999, 1_000, 10**9)] == [0, 0, 1, 1, 2, 2]


def test_grace_rule_drops_at_most_one_tier_per_period() -> None:
    assert TIERS.next_status(2, 0) == 1
    assert TIERS.next_status(1, 0) == 0
    assert TIERS.next_status(0, 5_000) == 2  # up as far as the points go
    assert TIERS.next_status(2, 150) == 1


@given(st.integers(0, 5), st.integers(0, 10**6))
def test_status_moves_down_one_step_at_most(status: int, points: int) -> None:
    nxt = TIERS.next_status(status, points)
    assert nxt >= min(TIERS.clamp(status), len(TIERS.tiers) - 1) - 1
    assert nxt >= TIERS.earned(points)
    assert TIERS.paid_tier(status, points) >= TIERS.clamp(status)


@pytest.mark.parametrize(
    "tiers",
    [
        (),
        (Tier("A", 5, 100),),
        (Tier("A", 0, 100), Tier("B", 0, 200)),
        (Tier("A", 0, 300), Tier("B", 10, 200)),
        (Tier("A", 0, 10_001),),
        (Tier("", 0, 100),),
        (Tier("A", 0, 100), Tier("A", 10, 200)),
    ],
)
def test_bad_tier_tables_are_refused(tiers: tuple[Tier, ...]) -> None:
    with pytest.raises(InvalidTiers):
        TierTable(tiers)


def test_points_rate_rounds_down_once() -> None:
    table = TierTable(DEFAULT_TIERS.tiers, points_per_chip_num=3, points_per_chip_den=2)
    assert table.points(5) == 7


def test_agent_commission_is_her_cut_minus_what_members_get() -> None:
    program = Program(TIERS, deal_bp=5_000, agent_rates_bp={9: 3_500},
                      member_agents={1: 9, 2: 9})  # fmt: skip
    s = settle(program, {1: {"cash": 1_000}, 2: {"cash": 50}, 3: {"cash": 10}}, {})
    by_player = {p.player_id: p for p in s.players}
    assert by_player[1].rate_bp == 3_000 and by_player[1].total_rakeback == 300
    assert by_player[2].total_rakeback == 5
    (agent,) = s.agents
    assert agent.members_rake == 1_050
    assert agent.commission == 1_050 * 3_500 // 10_000 - 305
    assert s.share == 1_060 * 5_000 // 10_000
    assert s.house_kept == 1_060 - s.share


def test_a_tier_or_agent_rate_above_the_clubs_deal_is_refused() -> None:
    with pytest.raises(InvalidProgram):
        Program(TIERS, deal_bp=2_000)
    with pytest.raises(InvalidProgram):
        Program(TIERS, deal_bp=5_000, agent_rates_bp={9: 6_000})
    with pytest.raises(InvalidProgram):
        Program(TIERS, member_agents={4: 4})


@st.composite
def programs(draw: st.DrawFn) -> tuple[Program, dict[int, dict[str, int]], dict[int, int]]:
    club = draw(st.booleans())
    deal = draw(st.integers(TIERS.top_bp, 10_000)) if club else None
    players = draw(st.lists(st.integers(1, 40), min_size=0, max_size=25, unique=True))
    agents = draw(st.lists(st.integers(41, 45), max_size=4, unique=True))
    cap = deal if deal is not None else 10_000
    rates = {a: draw(st.integers(0, cap)) for a in agents}
    member_agents: dict[int, int] = {}
    for p in players:
        with_agent: bool = draw(st.booleans())
        if agents and with_agent:
            member_agents[p] = draw(st.sampled_from(agents))
    rake = {p: {"cash": draw(st.integers(0, 10**6)), "tournament": draw(st.integers(0, 10**4))}
            for p in players}  # fmt: skip
    statused: list[int] = draw(st.lists(st.integers(1, 50), max_size=8))
    statuses = {p: draw(st.integers(0, 3)) for p in statused}
    program = Program(TIERS, deal_bp=deal, agent_rates_bp=rates, member_agents=member_agents)
    return program, rake, statuses


@given(programs())
def test_every_chip_and_every_remainder_is_accounted_for(
    case: tuple[Program, dict[int, dict[str, int]], dict[int, int]],
) -> None:
    program, rake, statuses = case
    s = settle(program, rake, statuses)  # type: ignore[arg-type]
    total = sum(sum(v.values()) for v in rake.values())
    assert s.total_rake == total
    assert s.house_kept + s.paid + s.payer_kept == total
    assert s.payer_kept >= 0 and s.house_kept >= 0
    if program.deal_bp is None:
        assert s.payer_kept == 0
    for p in s.players:
        owed = sum(p.rake[src] * p.rate_bp for src in p.rake)
        assert p.total_rakeback * 10_000 + p.remainder_units == owed
        assert 0 <= p.remainder_units < 10_000 * len(p.rake)
    for a in s.agents:
        members = [p for p in s.players if p.agent_id == a.agent_id]
        assert a.members_rake == sum(p.total_rake for p in members)
        cut = a.members_rake * a.rate_bp // 10_000
        assert a.commission == max(0, cut - sum(p.total_rakeback for p in members))


def test_a_player_without_rake_keeps_a_row_while_her_status_decays() -> None:
    s = settle(Program(TIERS), {}, {5: 2})
    (row,) = s.players
    assert (row.status, row.paid_tier, row.next_status, row.total_rakeback) == (2, 2, 1, 0)
    assert settle(Program(TIERS), {}, {5: 0}).players == ()


def test_the_package_is_pure() -> None:
    forbidden = {"asyncio", "trio", "socket", "os", "io", "time", "secrets", "threading"}
    for path in Path(rakeback.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = {node.module.split(".")[0]}
            else:
                continue
            assert not names & (forbidden | {"persistence", "services", "actors"}), path
    assert isinstance(Period("day", 0).id, str)
