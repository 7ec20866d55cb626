"""Side pots, split pots, odd chips (WSOP tournament rule 73, live rule 149) and rake."""

from __future__ import annotations

from poker import AnteMode, PotShare, ReturningPost, Variant
from poker.events import PotAwarded, PotsUpdated, RakeTaken
from tests.poker import deal, of_type, play_out


def test_side_pots_for_multiple_all_ins() -> None:
    hand, _ = deal(
        [10, 30, 100, 100],
        hole={0: "AsAd", 1: "KsKd", 2: "QsQd", 3: "JsJd"},
        board="2c5d8h9s3c",
    )
    hand.bet_or_raise_to(2, 100)
    hand.check_or_call(3)
    hand.check_or_call(0)
    events = hand.check_or_call(1)
    pots = of_type(events, PotsUpdated)[0].pots
    assert [(p.amount, p.eligible) for p in pots] == [
        (40, (0, 1, 2, 3)),
        (60, (1, 2, 3)),
        (140, (2, 3)),
    ]
    assert hand.is_over
    assert hand.result.stacks == (40, 60, 140, 0)


def test_split_pot_odd_chip_goes_to_the_first_winner_left_of_the_button() -> None:
    # Button on seat 0: seat 1 small blind (folds), seat 2 big blind, seat 0 first to act.
    hand, _ = deal(
        [100, 100, 100],
        button=0,
        hole={0: "2c3d", 2: "2d3c", 1: "4h5h"},
        board="AsKdQhJcTs",
    )
    hand.check_or_call(0)
    hand.fold(1)
    hand.check_or_call(2)
    play_out(hand)
    # Pot 5 split between seats 0 and 2; seat 2 is first left of the button among them.
    assert hand.result.stack_of(2) == 101
    assert hand.result.stack_of(0) == 100
    assert hand.result.stack_of(1) == 99


def test_hi_lo_odd_chip_goes_to_the_high_hand() -> None:
    hand, _ = deal(
        [100, 100, 100],
        variant=Variant.POT_LIMIT_OMAHA_HI_LO,
        hole={1: "KhQcJdTs", 2: "3c4d9s9h"},
        board="Ac2d7hKsKd",
    )
    hand.check_or_call(2)
    hand.fold(0)
    hand.check_or_call(1)
    events = play_out(hand)
    awards = [(a.seat, a.share, a.amount) for a in of_type(events, PotAwarded)]
    assert awards == [(1, PotShare.HIGH, 3), (2, PotShare.LOW, 2)]


def test_hi_lo_high_hand_scoops_when_no_low_qualifies() -> None:
    hand, _ = deal(
        [100, 100, 100],
        variant=Variant.POT_LIMIT_OMAHA_HI_LO,
        hole={1: "KhQcJdTs", 2: "3c4d9s9h"},
        board="KcQd7hKs2d",
    )
    hand.check_or_call(2)
    hand.fold(0)
    hand.check_or_call(1)
    events = play_out(hand)
    awards = [(a.seat, a.share, a.amount) for a in of_type(events, PotAwarded)]
    assert awards == [(1, PotShare.WHOLE, 5)]


def test_tied_lows_split_the_low_half() -> None:
    hand, _ = deal(
        [100, 100, 100],
        variant=Variant.POT_LIMIT_OMAHA_HI_LO,
        hole={0: "As2sQdQh", 1: "Ad2dKcKh", 2: "9c9dJsJh"},
        board="3c4h8dTsTc",
    )
    for _ in range(3):
        hand.check_or_call(hand.actor or 0)
    events = play_out(hand)
    awards = sorted((a.share, a.seat, a.amount) for a in of_type(events, PotAwarded))
    # Pot 6: high 3 to seat 1 (kings and tens); low 3 split 2/1, odd chip to seat 0.
    assert awards == [(PotShare.HIGH, 1, 3), (PotShare.LOW, 0, 2), (PotShare.LOW, 1, 1)]


def test_rake_is_basis_points_of_the_pot_rounded_down() -> None:
    hand, _ = deal([100, 100, 100], hole={0: "AsAd", 1: "7c7d"}, board="2c5d8h9sKc", rake_bp=500)
    for _ in range(3):
        hand.check_or_call(hand.actor or 0)
    hand.bet_or_raise_to(0, 10)
    hand.check_or_call(1)
    hand.fold(2)
    events = play_out(hand)
    # Pot 6 + 20 = 26; 5% = 1.3 -> 1.
    assert [r.amount for r in of_type(events, RakeTaken)] == [1]
    assert hand.result.rake == 1
    assert hand.result.stack_of(0) == 100 - 12 + 25


def test_rake_is_capped_per_hand_across_side_pots() -> None:
    hand, _ = deal(
        [50, 100, 100],
        hole={0: "AsAd", 1: "KsKd", 2: "7c7d"},
        board="2c5d8h9s3c",
        rake_bp=1000,
        rake_cap=12,
    )
    hand.bet_or_raise_to(2, 100)
    hand.check_or_call(0)
    events = hand.check_or_call(1)
    rakes = [(r.pot_index, r.amount) for r in of_type(events, RakeTaken)]
    # Main pot 150 -> 15 capped to 12; side pot 100 -> nothing left under the cap.
    assert rakes == [(0, 12)]
    assert hand.result.rake == 12
    assert hand.result.stacks == (138, 100, 0)


def test_no_flop_no_drop() -> None:
    hand, _ = deal([100, 100, 100], rake_bp=500)
    hand.bet_or_raise_to(2, 50)
    hand.fold(0)
    events = hand.fold(1)
    assert of_type(events, RakeTaken) == []
    assert hand.result.rake == 0
    assert hand.result.stacks == (99, 98, 103)


def test_rake_before_the_flop_when_no_flop_no_drop_is_off() -> None:
    hand, _ = deal([100, 100, 100], rake_bp=1000, no_flop_no_drop=False)
    hand.bet_or_raise_to(2, 50)
    hand.check_or_call(0)
    hand.fold(1)
    events = play_out(hand)
    assert hand.result.rake == 10  # pot 102 -> 10.2 -> 10
    assert of_type(events, RakeTaken)[0].amount == 10


def test_antes_and_blinds_are_won_by_the_last_player_standing() -> None:
    hand, _ = deal([100, 100, 100], ante=1, ante_mode=AnteMode.EACH)
    hand.fold(2)
    hand.fold(0)
    assert hand.result.stacks == (98, 103, 99)


def test_hi_lo_side_pots_are_split_high_and_low_separately() -> None:
    # Seat 0 is all-in for 20 with the nut low; seats 1 and 2 play a side pot.
    hand, _ = deal(
        [20, 100, 100],
        variant=Variant.POT_LIMIT_OMAHA_HI_LO,
        hole={0: "As2sQdJh", 1: "KhKdKc9s", 2: "3c4d9h9d"},
        board="7c8h5dKsTc",
    )
    hand.bet_or_raise_to(2, 7)  # pot-limit raise to 7
    hand.bet_or_raise_to(0, 20)  # all-in
    hand.check_or_call(1)
    hand.check_or_call(2)
    events = play_out(hand)
    awards = sorted((a.pot_index, a.share, a.seat, a.amount) for a in of_type(events, PotAwarded))
    # Main pot 60: high to seat 1 (trip kings) 30, low to seat 0 (8-7-5-2-A) 30.
    # After the flop seats 1 and 2 check it down: no side pot money, so only the main pot.
    assert awards == [(0, PotShare.HIGH, 1, 30), (0, PotShare.LOW, 0, 30)]
    assert hand.result.stacks == (30, 110, 80)


def test_pot_limit_counts_dead_money_in_the_pot() -> None:
    hand, _ = deal(
        [1000] * 4,
        variant=Variant.POT_LIMIT_HOLDEM,
        posts={3: ReturningPost.BIG_BLIND_AND_DEAD_SMALL},
    )
    # Seat 2 to act: blinds 1 + 2, seat 3's live 2 and dead 1 = 6 in the pot; call 2 -> 8.
    legal = hand.legal_actions()
    assert (legal.seat, legal.call, legal.max_raise_to) == (2, 2, 10)


def test_rule_73_identical_hands_winning_high_and_low_split_the_pot_evenly() -> None:
    # T73 / L149: "If identical hands win both high and low (ex: 2 wheels in Omaha/8) the pot
    # will be split as evenly as possible." Pot 6: 3/3, not high 2/1 plus low 2/1 (= 4/2).
    hand, _ = deal(
        [100, 100, 100],
        variant=Variant.POT_LIMIT_OMAHA_HI_LO,
        hole={0: "As2sKdQd", 1: "Ah2hKcQc", 2: "9c9dTcTd"},
        board="3d4c5h8sJs",
    )
    for _ in range(3):
        hand.check_or_call(hand.actor or 0)
    events = play_out(hand)
    awards = [(a.seat, a.share, a.amount) for a in of_type(events, PotAwarded)]
    assert hand.result.stack_of(0) - 98 == 3
    assert hand.result.stack_of(1) - 98 == 3
    # Still reported as a high half (3) and a low half (3), each paid to both winners.
    assert sum(amount for _, share, amount in awards if share is PotShare.HIGH) == 3
    assert sum(amount for _, share, amount in awards if share is PotShare.LOW) == 3
