"""The WSOP 2024 rules the engine follows, one test per rule, named for it ("T" tournament
rules, "L" live-action rules; /work/shared/reference/). Rules already covered by the topic
files (test_betting_rules.py, test_forced_bets.py, test_pots_and_rake.py, test_showdown.py)
are not repeated here."""

from __future__ import annotations

import pytest

from poker import BlindSeats, CannotRaise, Hand, PotShare, ReturningPost, Variant
from poker.events import HandShown, PotAwarded, PotsUpdated, RakeTaken, UncalledBetReturned
from tests.poker import deal, of_type, play_out


def _limp_to_flop(hand: Hand) -> None:
    while len(hand.board) < 3:
        seat = hand.actor
        assert seat is not None
        hand.check_or_call(seat)


def test_rule_l172_a_raise_over_a_short_all_in_is_a_full_raise_over_it() -> None:
    # L172: bet 100, all-in 140: a raise is to at least 240.
    hand, _ = deal([1000, 1000, 142, 1000])
    _limp_to_flop(hand)
    hand.bet_or_raise_to(0, 100)
    hand.check_or_call(1)
    hand.bet_or_raise_to(2, 140)  # all-in
    legal = hand.legal_actions()
    assert (legal.seat, legal.call, legal.min_raise_to) == (3, 140, 240)


def test_rule_l173_short_all_in_does_not_reopen_for_the_raiser_but_does_for_the_bettor() -> None:
    # L173: A bets 100, B raises to 200, C all-in for less than 300, A calls: B may not
    # raise again (not fully raised); A could have (B's raise was a full one).
    hand, _ = deal([1000, 1000, 1000, 252])
    _limp_to_flop(hand)
    hand.bet_or_raise_to(0, 100)  # A
    hand.bet_or_raise_to(1, 200)  # B
    hand.fold(2)
    hand.bet_or_raise_to(3, 250)  # C all-in, a raise of 50 < 100
    legal = hand.legal_actions()
    assert (legal.seat, legal.call, legal.min_raise_to) == (0, 150, 350)  # A could raise
    hand.check_or_call(0)  # A calls
    legal = hand.legal_actions()
    assert (legal.seat, legal.call, legal.min_raise_to) == (1, 50, None)
    with pytest.raises(CannotRaise):
        hand.bet_or_raise_to(1, 350)


def test_rule_l150_after_an_all_in_big_blind_the_others_call_the_full_blind() -> None:
    # L150: fold, call the proper big blind, or raise to at least double it; "participants
    # acting after an all in blind do not have the option of calling the all in blind amount".
    hand, _ = deal([100, 1, 100, 100])
    assert hand.bets == {0: 1, 1: 1, 2: 0, 3: 0}
    legal = hand.legal_actions()
    assert (legal.seat, legal.call, legal.min_raise_to) == (2, 2, 4)
    hand.check_or_call(2)
    hand.check_or_call(3)
    events = hand.check_or_call(0)
    # The big blind matched 1 of it: a main pot of 1 from each of four, the rest a side pot.
    pots = of_type(events, PotsUpdated)[0].pots
    assert [(pot.amount, pot.eligible) for pot in pots] == [(4, (0, 1, 2, 3)), (3, (0, 2, 3))]


def test_rule_l161_straddle_acts_last_and_the_next_raise_is_to_three_big_blinds() -> None:
    # L161 (and L11): "The minimum allowed raise after the straddle is three times the big
    # blind"; the straddler has the last action of the first round.
    hand, _ = deal([100, 100, 100, 100, 100], straddle=4)
    assert hand.bets == {0: 1, 1: 2, 2: 4, 3: 0, 4: 0}
    legal = hand.legal_actions()
    assert (legal.seat, legal.call, legal.min_raise_to) == (3, 4, 6)
    for seat in (3, 4, 0, 1):
        hand.check_or_call(seat)
    legal = hand.legal_actions()
    assert (legal.seat, legal.check, legal.min_raise_to) == (2, True, 6)  # the option


def test_rule_l127_a_round_that_begins_three_handed_stays_capped_when_heads_up() -> None:
    hand, _ = deal([1000, 1000, 1000], variant=Variant.FIXED_LIMIT_HOLDEM, raises_cap=3)
    hand.fold(2)  # heads-up now, but the round began with three players
    raises = 0
    while hand.legal_actions().min_raise_to is not None:
        seat = hand.actor
        assert seat is not None
        hand.bet_or_raise_to(seat, hand.legal_actions().min_raise_to or 0)
        raises += 1
    assert raises == 3  # the big blind is the bet, then three raises
    assert max(hand.bets.values()) == 8


def test_rule_l127_heads_up_from_the_start_of_a_round_is_uncapped() -> None:
    hand, _ = deal([1000, 1000], variant=Variant.FIXED_LIMIT_HOLDEM, raises_cap=3)
    for _ in range(6):
        seat = hand.actor
        assert seat is not None
        hand.bet_or_raise_to(seat, hand.legal_actions().min_raise_to or 0)
    assert max(hand.bets.values()) == 14


def test_rule_t74_equal_all_ins_share_one_pot_level() -> None:
    # Two all-ins of the same size make one main pot, not two; side pots split separately.
    hand, _ = deal(
        [50, 50, 200, 200],
        hole={0: "AsAd", 1: "AhAc", 2: "KsKd", 3: "QsQd"},
        board="2c5d8h9s3c",
    )
    hand.bet_or_raise_to(2, 200)
    hand.check_or_call(3)
    hand.check_or_call(0)
    events = hand.check_or_call(1)
    pots = of_type(events, PotsUpdated)[0].pots
    assert [(pot.amount, pot.eligible) for pot in pots] == [(200, (0, 1, 2, 3)), (300, (2, 3))]
    events += play_out(hand)
    awards = sorted((a.pot_index, a.seat, a.amount) for a in of_type(events, PotAwarded))
    assert awards == [(0, 0, 100), (0, 1, 100), (1, 2, 300)]


def test_rule_l149_side_pots_are_awarded_last_formed_first() -> None:
    # L149: "The side pots are split in reverse order of formation with the last side pot
    # formed being split first." Three all-ins of different sizes make a main pot and two
    # side pots; the awards come side pot 2, side pot 1, then the main pot. The rake (main
    # pot first until the cap is used up) and every chip are as before: only the order moves.
    hand, _ = deal(
        [50, 120, 300, 300],
        hole={0: "AsAd", 1: "KsKd", 2: "QsQd", 3: "JsJd"},
        board="2c5d8h9s3c",
        rake_bp=500,
        rake_cap=12,
    )
    hand.bet_or_raise_to(2, 300)
    hand.check_or_call(3)
    hand.check_or_call(0)
    events = hand.check_or_call(1)
    pots = of_type(events, PotsUpdated)[0].pots
    assert [pot.amount for pot in pots] == [200, 210, 360]
    events += play_out(hand)
    settlement = [
        (type(e).__name__, e.pot_index) for e in events if isinstance(e, PotAwarded | RakeTaken)
    ]
    assert settlement == [
        ("PotAwarded", 2),
        ("RakeTaken", 1),
        ("PotAwarded", 1),
        ("RakeTaken", 0),
        ("PotAwarded", 0),
    ]
    awards = [(a.pot_index, a.seat, a.amount) for a in of_type(events, PotAwarded)]
    assert awards == [(2, 2, 360), (1, 1, 208), (0, 0, 190)]
    assert [pot.rake for pot in hand.result.pots] == [10, 2, 0]  # main pot first
    assert hand.result.stacks == (190, 208, 360, 0)


def test_uncalled_bet_with_several_all_ins_returns_the_excess_over_the_second_highest() -> None:
    hand, _ = deal([500, 100, 300, 20])
    hand.bet_or_raise_to(2, 300)  # all-in
    hand.check_or_call(3)  # all-in for 20
    hand.bet_or_raise_to(0, 500)  # all-in
    events = hand.check_or_call(1)  # all-in for 100
    returned = of_type(events, UncalledBetReturned)
    assert [(r.seat, r.amount) for r in returned] == [(0, 200)]
    pots = of_type(events, PotsUpdated)[0].pots
    assert [pot.amount for pot in pots] == [80, 240, 400]


def test_rule_t73_odd_chip_goes_left_of_a_dead_button() -> None:
    # The button is the empty seat 5: seat 7 is the first seat clockwise from it (and posts
    # the small blind), seat 1 the big blind, seat 3 acts first.
    hand, _ = deal(
        {1: 100, 3: 100, 7: 100},
        button=5,
        blinds=BlindSeats(small=7, big=1),
        hole={7: "2c3d", 1: "AhKc", 3: "AsKd"},
        board="QsJh9d5c4h",
    )
    assert hand.seats == (7, 1, 3)
    hand.check_or_call(3)
    hand.fold(7)  # pot 1 + 2 + 2 = 5, split by seats 1 and 3
    events = play_out(hand)
    awards = {a.seat: a.amount for a in of_type(events, PotAwarded)}
    assert awards == {1: 3, 3: 2}


def test_rule_l156_returning_player_posts_live_big_and_dead_small() -> None:
    hand, _ = deal([100, 100, 100, 100], posts={3: ReturningPost.BIG_BLIND_AND_DEAD_SMALL})
    assert hand.bets == {0: 1, 1: 2, 2: 0, 3: 2}
    assert hand.pot_total == 1 + 2 + 2 + 1
    hand.check_or_call(2)
    legal = hand.legal_actions()
    assert (legal.seat, legal.check, legal.min_raise_to) == (3, True, 4)  # option to raise


def test_rule_t70_all_in_hands_face_up_with_the_all_in_player_first() -> None:
    # L145: when betting ended before the river in no-limit, the player who pushed all-in
    # turns the hand over first; T70: every hand is face up before the runout.
    hand, _ = deal([100, 100, 100])
    _limp_to_flop(hand)
    hand.check_or_call(0)
    hand.bet_or_raise_to(1, 98)  # all-in
    hand.fold(2)
    events = hand.check_or_call(0)
    assert [shown.seat for shown in of_type(events, HandShown)] == [1, 0]
    assert hand.is_over


def test_rule_t73_hi_lo_ties_on_both_halves_with_a_third_player_in_the_pot() -> None:
    # Two identical hands win both halves of a pot a third player paid into: 18 chips split
    # 9/9 (halving first would give high 9 = 5/4 and low 9 = 5/4, so 10/8).
    hand, _ = deal(
        [100, 100, 100],
        variant=Variant.POT_LIMIT_OMAHA_HI_LO,
        hole={0: "As2sKdQd", 1: "Ah2hKcQc", 2: "9c9dTcTd"},
        board="3d4c5h8sJs",
    )
    hand.bet_or_raise_to(2, 6)
    hand.check_or_call(0)
    hand.check_or_call(1)
    events = play_out(hand)
    shares: dict[int, int] = {}
    for award in of_type(events, PotAwarded):
        shares[award.seat] = shares.get(award.seat, 0) + award.amount
        assert award.share in (PotShare.HIGH, PotShare.LOW)
    assert shares == {0: 9, 1: 9}


def test_pot_limit_maximum_facing_a_raise_counts_the_pending_call() -> None:
    # T101 pot limit: a raise is at most the pot after calling. Facing a pot raise to 7
    # (blinds 1/2): pot 1 + 2 + 7 = 10, the call of 7 makes 17, so the raise is to 24.
    hand, _ = deal([1000, 1000, 1000, 1000], variant=Variant.POT_LIMIT_OMAHA)
    legal = hand.legal_actions()
    assert (legal.seat, legal.max_raise_to) == (2, 7)
    hand.bet_or_raise_to(2, 7)
    legal = hand.legal_actions()
    assert (legal.seat, legal.call, legal.min_raise_to, legal.max_raise_to) == (3, 7, 12, 24)


def test_eight_or_better_wheel_is_the_best_low_and_a_nine_does_not_qualify() -> None:
    # Omaha hi/lo (T Omaha 8 or better): A-2-3-4-5 is the best low; 9-high lows do not count.
    hand, _ = deal(
        [100, 100, 100],
        variant=Variant.POT_LIMIT_OMAHA_HI_LO,
        hole={0: "As2dKcKd", 1: "Ah6cQsQh", 2: "9c9dJcJd"},
        board="3s4h5d2h8c",
    )
    for _ in range(3):
        hand.check_or_call(hand.actor or 0)
    events = play_out(hand)
    lows = [(a.seat, a.amount) for a in of_type(events, PotAwarded) if a.share is PotShare.LOW]
    assert lows == [(0, 3)]
