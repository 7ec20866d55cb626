"""Blinds, antes, straddles and posts: who posts what, who acts first."""

from __future__ import annotations

from poker import AnteMode, BlindKind, BlindSeats, ReturningPost
from poker.events import AntePosted, BlindPosted, PotsUpdated, UncalledBetReturned
from tests.poker import deal, of_type, play_out


def test_blinds_are_posted_by_the_two_seats_left_of_the_button() -> None:
    hand, events = deal([100, 100, 100, 100])  # button seat 3
    blinds = of_type(events, BlindPosted)
    assert [(b.seat, b.kind, b.amount) for b in blinds] == [
        (0, BlindKind.SMALL, 1),
        (1, BlindKind.BIG, 2),
    ]
    assert hand.actor == 2


def test_heads_up_button_posts_small_blind_and_acts_first_preflop() -> None:
    hand, events = deal([100, 100], button=1)
    blinds = of_type(events, BlindPosted)
    assert [(b.seat, b.kind) for b in blinds] == [(1, BlindKind.SMALL), (0, BlindKind.BIG)]
    assert hand.actor == 1


def test_heads_up_big_blind_acts_first_after_the_flop() -> None:
    hand, _ = deal([100, 100], button=1)
    hand.check_or_call(1)
    hand.check_or_call(0)
    assert len(hand.board) == 3
    assert hand.actor == 0


def test_short_small_blind_is_all_in_for_what_it_has() -> None:
    hand, events = deal([1, 100, 100])
    small = of_type(events, BlindPosted)[0]
    assert (small.seat, small.amount, small.all_in) == (0, 1, True)
    assert hand.is_all_in(0)


def test_short_big_blind_is_all_in_and_others_still_call_the_full_blind() -> None:
    hand, events = deal({0: 100, 1: 1, 2: 100})
    big = of_type(events, BlindPosted)[1]
    assert (big.seat, big.amount, big.all_in) == (1, 1, True)
    legal = hand.legal_actions()
    assert legal.seat == 2
    assert legal.call == 2
    assert legal.min_raise_to == 4


def test_each_player_ante_is_dead_money_before_the_blinds() -> None:
    hand, events = deal([100, 100, 100], ante=5, ante_mode=AnteMode.EACH)
    antes = of_type(events, AntePosted)
    assert [(a.seat, a.amount) for a in antes] == [(0, 5), (1, 5), (2, 5)]
    assert events.index(antes[-1]) < events.index(of_type(events, BlindPosted)[0])
    assert hand.bets == {0: 1, 1: 2, 2: 0}  # antes are not bets
    assert hand.pot_total == 18


def test_player_shorter_than_the_ante_is_all_in_and_plays_for_a_main_pot() -> None:
    hand, events = deal(
        {0: 100, 1: 100, 2: 3},
        hole={0: "2c7d", 1: "3h8s", 2: "AsAd"},
        board="KcQd9h4s5c",
        ante=5,
        ante_mode=AnteMode.EACH,
    )
    assert of_type(events, AntePosted)[2].amount == 3
    assert hand.is_all_in(2)
    hand.check_or_call(0)  # small blind completes
    hand.check_or_call(1)  # big blind checks
    pots = of_type(events + play_out(hand), PotsUpdated)[0].pots
    # main pot: 3 from each ante = 9; side pot: 2 + 2 more ante each + the blinds 2 + 2.
    assert [(p.amount, p.eligible) for p in pots] == [(9, (0, 1, 2)), (8, (0, 1))]
    assert hand.result.stack_of(2) == 9


def test_big_blind_ante_is_posted_by_the_big_blind_after_the_blind() -> None:
    hand, events = deal([100, 100, 100], ante=2, ante_mode=AnteMode.BIG_BLIND)
    posts = [e for e in events if isinstance(e, AntePosted | BlindPosted)]
    assert [(type(p).__name__, p.seat, p.amount) for p in posts] == [
        ("BlindPosted", 0, 1),
        ("BlindPosted", 1, 2),
        ("AntePosted", 1, 2),
    ]
    assert hand.pot_total == 5
    assert hand.bets == {0: 1, 1: 2, 2: 0}


def test_short_big_blind_posts_the_blind_before_the_big_blind_ante() -> None:
    _, events = deal([100, 3, 100], ante=2, ante_mode=AnteMode.BIG_BLIND)
    big = of_type(events, BlindPosted)[1]
    ante = of_type(events, AntePosted)[0]
    assert (big.amount, ante.amount, ante.all_in) == (2, 1, True)


def test_straddle_acts_last_preflop_and_the_min_raise_is_three_big_blinds() -> None:
    hand, events = deal([100, 100, 100, 100], straddle=4)
    straddle = of_type(events, BlindPosted)[2]
    assert (straddle.seat, straddle.kind, straddle.amount) == (2, BlindKind.STRADDLE, 4)
    assert hand.actor == 3
    legal = hand.legal_actions()
    assert legal.call == 4
    assert legal.min_raise_to == 6  # live rule 11: three big blinds
    hand.check_or_call(3)
    hand.check_or_call(0)
    hand.check_or_call(1)
    assert hand.actor == 2  # the straddle has the last action and may raise
    assert hand.legal_actions().check
    assert hand.legal_actions().min_raise_to == 6


def test_returning_player_posts_a_live_big_blind_and_keeps_the_option() -> None:
    hand, events = deal([100] * 5, posts={3: ReturningPost.BIG_BLIND})
    posted = of_type(events, BlindPosted)[2]
    assert (posted.seat, posted.kind, posted.amount) == (3, BlindKind.POSTED_BIG, 2)
    assert hand.actor == 2
    hand.check_or_call(2)
    assert hand.actor == 3
    legal = hand.legal_actions()
    assert legal.check and legal.min_raise_to == 4  # live: a check is free


def test_dead_small_blind_goes_to_the_pot_not_to_the_bet() -> None:
    hand, events = deal([100] * 5, posts={3: ReturningPost.BIG_BLIND_AND_DEAD_SMALL})
    kinds = [(e.seat, e.kind, e.amount) for e in of_type(events, BlindPosted)]
    assert (3, BlindKind.DEAD_SMALL, 1) in kinds
    assert hand.bets[3] == 2
    assert hand.pot_total == 6
    assert hand.stacks[3] == 97


def test_table_can_leave_the_small_blind_dead() -> None:
    hand, events = deal([100, 100, 100], blinds=BlindSeats(small=None, big=1), button=0)
    blinds = of_type(events, BlindPosted)
    assert [(b.seat, b.kind) for b in blinds] == [(1, BlindKind.BIG)]
    assert hand.actor == 2


def test_everyone_folding_to_the_big_blind_returns_its_uncalled_part() -> None:
    hand, _ = deal([100, 100, 100])
    hand.fold(2)
    events = hand.fold(0)
    refund = of_type(events, UncalledBetReturned)
    assert [(r.seat, r.amount) for r in refund] == [(1, 1)]
    assert hand.is_over
    assert hand.result.stacks == (99, 101, 100)
