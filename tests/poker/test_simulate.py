"""Random legal play written as PHH, and PHH replay through our engine."""

from __future__ import annotations

import random
from dataclasses import replace

import msgspec
import pytest

from poker import AnteMode, Variant, phh
from poker.events import BlindKind, BlindPosted, HoleCardsDealt
from poker.simulate import (
    IllegalHistory,
    config_from_history,
    random_setup,
    replay,
    simulate_hand,
    simulate_hands,
)

ALL_VARIANTS = list(Variant)


def _hand(text: str) -> phh.HandHistory:
    return phh.loads(text)


HEADS_UP = """\
variant = 'NT'
antes = [0, 0]
blinds_or_straddles = [1, 2]
min_bet = 2
starting_stacks = [100, 100]
actions = ['d dh p1 AsAd', 'd dh p2 KsKd', 'p2 cbr 6', 'p1 cc', 'd db 2c7d9h', 'p1 cc',
           'p2 cbr 10', 'p1 f']
"""


@pytest.mark.parametrize("variant", ALL_VARIANTS, ids=str)
def test_simulated_hands_replay_to_their_recorded_finishing_stacks(variant: Variant) -> None:
    seed = 4242
    for number, history in enumerate(
        simulate_hands(variant, 6, 60, random.Random(seed), edge_cases=True)
    ):
        again = phh.loads(phh.dumps(history))
        assert replay(again).finishing_stacks == history.finishing_stacks, (
            f"seed {seed} hand {number}\n{phh.dumps(history)}"
        )


@pytest.mark.parametrize("variant", ALL_VARIANTS, ids=str)
def test_simulation_conserves_chips(variant: Variant) -> None:
    for history in simulate_hands(variant, 9, 40, random.Random(9), edge_cases=True):
        assert history.finishing_stacks is not None
        assert sum(history.finishing_stacks) == sum(history.starting_stacks)
        assert min(history.finishing_stacks) >= 0


def test_same_seed_same_hands_other_seed_other_hands() -> None:
    def run(seed: int) -> str:
        return phh.dumps_all(simulate_hands(Variant.NO_LIMIT_HOLDEM, 6, 20, random.Random(seed)))

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_simulated_hands_are_labelled_one_to_n() -> None:
    hands = list(simulate_hands(Variant.POT_LIMIT_OMAHA, 4, 3, random.Random(1)))
    assert [h.hand for h in hands] == [1, 2, 3]
    first = [phh.parse_action(h.actions[0]) for h in hands]
    assert all(isinstance(a, phh.DealHole) and len(a.cards) == 4 for a in first)


def test_heads_up_p1_is_the_big_blind_and_p2_the_button() -> None:
    result = replay(_hand(HEADS_UP))
    blinds = {e.seat: e.kind for e in result.events if isinstance(e, BlindPosted)}
    assert blinds == {0: BlindKind.BIG, 1: BlindKind.SMALL}
    # p2 raised to 6, p1 called; p1 folded to the flop bet of 10.
    assert result.finishing_stacks == (94, 106)


def test_replay_deals_the_recorded_cards() -> None:
    result = replay(_hand(HEADS_UP))
    dealt = {e.seat: e.cards for e in result.events if isinstance(e, HoleCardsDealt)}
    assert dealt == {0: ("As", "Ad"), 1: ("Ks", "Kd")}


def test_replay_names_the_first_illegal_action() -> None:
    history = _hand(HEADS_UP.replace("'p1 cc', 'd db", "'p1 cbr 7', 'd db"))
    with pytest.raises(IllegalHistory) as caught:
        replay(history)
    assert caught.value.index == 3
    assert caught.value.action == "p1 cbr 7"
    assert "amount_too_small" in caught.value.reason


def test_replay_refuses_an_action_out_of_turn() -> None:
    history = _hand(HEADS_UP.replace("'p2 cbr 6', 'p1 cc'", "'p1 cc', 'p2 cc'"))
    with pytest.raises(IllegalHistory, match="p1 cc"):
        replay(history)


def test_replay_refuses_actions_after_the_hand_is_over() -> None:
    history = _hand(HEADS_UP.replace("'p1 f']", "'p1 f', 'p1 cc']"))
    with pytest.raises(IllegalHistory, match="already over"):
        replay(history)


def test_replay_refuses_a_history_that_stops_before_the_hand_ends() -> None:
    history = _hand(HEADS_UP.replace(", 'p1 f']", "]"))
    with pytest.raises(IllegalHistory, match="ends before p1 acts"):
        replay(history)


def test_unknown_hole_cards_of_a_folded_player_replay() -> None:
    history = _hand(HEADS_UP.replace("d dh p1 AsAd", "d dh p1 ????"))
    assert replay(history).finishing_stacks == (94, 106)


def test_a_card_dealt_twice_is_a_format_error() -> None:
    with pytest.raises(phh.PhhFormatError, match="twice"):
        replay(_hand(HEADS_UP.replace("KsKd", "AsKd")))


def test_pokerkits_pointless_big_blind_check_is_accepted() -> None:
    # PokerKit offers the big blind a check when the only other player is all-in; our engine
    # ends the betting there. The check moves no chips, so replay accepts it.
    history = _hand(
        """\
variant = 'NT'
antes = [0, 0, 0]
blinds_or_straddles = [1, 3, 0]
min_bet = 3
starting_stacks = [2, 22, 433]
actions = ['d dh p1 Ad3s', 'd dh p2 6c5h', 'd dh p3 7c7h', 'p3 f', 'p1 cc', 'p2 cc',
           'p1 sm Ad3s', 'p2 sm 6c5h', 'd db As7sQc', 'd db Qs', 'd db Td']
"""
    )
    assert replay(history).finishing_stacks == (4, 20, 433)


def test_forced_bets_map_to_our_config() -> None:
    base = _hand(HEADS_UP)
    each = replace(base, antes=(5, 5), blinds_or_straddles=(1, 2))
    assert config_from_history(each).ante_mode is AnteMode.EACH
    big_blind_ante = replace(base, antes=(0, 2, 0), starting_stacks=(100, 100, 100))
    assert config_from_history(big_blind_ante).ante_mode is AnteMode.BIG_BLIND
    straddled = replace(big_blind_ante, blinds_or_straddles=(1, 2, 4), antes=(0, 0, 0))
    assert config_from_history(straddled).straddle == 4


@pytest.mark.parametrize(
    ("antes", "blinds"),
    [((0, 0, 0, 0), (1, 2, 4, 8)), ((1, 2, 3, 4), (1, 2, 0, 0)), ((0, 0, 0, 0), (2, 1, 0, 0))],
    ids=["two straddles", "uneven antes", "small blind above big blind"],
)
def test_forced_bets_we_do_not_play_are_unsupported(
    antes: tuple[int, ...], blinds: tuple[int, ...]
) -> None:
    history = replace(
        _hand(HEADS_UP), antes=antes, blinds_or_straddles=blinds, starting_stacks=(50,) * 4
    )
    with pytest.raises(phh.PhhUnsupportedError):
        config_from_history(history)


def test_edge_case_setups_reach_the_rare_situations() -> None:
    rng = random.Random(3)
    setups = [random_setup(Variant.NO_LIMIT_HOLDEM, 6, rng, edge_cases=True) for _ in range(300)]
    assert any(s.config.ante_mode is AnteMode.EACH for s in setups)
    assert any(s.config.ante_mode is AnteMode.BIG_BLIND for s in setups)
    assert any(s.config.straddle for s in setups)
    assert any(min(s.stacks) < s.config.big_blind for s in setups)
    assert any(s.config.ante and min(s.stacks) < s.config.ante for s in setups)


def test_simulate_hand_with_a_plain_setup_writes_every_street() -> None:
    rng = random.Random(11)
    streets = set()
    for _ in range(50):
        history = simulate_hand(random_setup(Variant.FIXED_LIMIT_HOLDEM, 3, rng), rng)
        streets.add(sum(1 for a in history.actions if a.startswith("d db")))
    assert streets >= {0, 3}


# The first televised million-dollar pot, as PokerKit's test suite writes it in PHH (comments,
# double quotes, an unknown hand, shows before the river card).
DWAN_IVEY_2009 = """\
variant = "NT"
ante_trimming_status = true
antes = [500, 500, 500]
blinds_or_straddles = [1000, 2000, 0]
min_bet = 2000
starting_stacks = [1125600, 2000000, 553500]
actions = [
  "d dh p1 Ac2d",  # Ivey
  "d dh p2 ????",  # Antonius
  "d dh p3 7h6h",  # Dwan
  "p3 cbr 7000", "p1 cbr 23000", "p2 f", "p3 cc",
  "d db Jc3d5c", "p1 cbr 35000", "p3 cc",
  "d db 4h", "p1 cbr 90000", "p3 cbr 232600", "p1 cbr 1067100", "p3 cc",
  "p1 sm Ac2d", "p3 sm 7h6h",
  "d db Jh",
]
author = "Juho Kim"
year = 2009
players = ["Phil Ivey", "Patrik Antonius", "Tom Dwan"]
"""


def test_a_published_hand_replays_as_in_pokerkit() -> None:
    import pokerkit

    history = phh.loads(DWAN_IVEY_2009)
    # Dwan's seven-high straight beats Ivey's wheel. Dwan is all-in for 553,500 and doubles
    # up plus Antonius' ante and big blind; Ivey loses what Dwan matched.
    expected = (1125600 - 553500, 2000000 - 2500, 2 * 553500 + 2500)
    assert replay(history).finishing_stacks == expected
    *_, state = pokerkit.HandHistory.loads(DWAN_IVEY_2009)
    assert tuple(state.stacks) == expected


def test_a_published_hand_with_decimal_stacks_is_refused_not_rounded() -> None:
    text = DWAN_IVEY_2009.replace("[1125600, 2000000, 553500]", "[1259450.25, 678473.5, 1]")
    with pytest.raises(phh.PhhUnsupportedError, match="integer"):
        phh.loads(text)


def test_rake_and_a_house_raise_cap_travel_in_user_fields_and_replay() -> None:
    rng = random.Random(21)
    raked = 0
    for _ in range(40):
        setup = random_setup(Variant.FIXED_LIMIT_HOLDEM, 4, rng)
        config = msgspec.structs.replace(
            setup.config, rake_bp=500, rake_cap=3, raises_cap=3, no_flop_no_drop=False
        )
        history = phh.loads(phh.dumps(simulate_hand(replace(setup, config=config), rng)))
        assert dict(history.extra) == {
            "_rake_bp": 500,
            "_rake_cap": 3,
            "_no_flop_no_drop": False,
            "_raises_cap": 3,
        }
        assert config_from_history(history) == config
        assert replay(history).finishing_stacks == history.finishing_stacks
        assert history.finishing_stacks is not None
        raked += sum(history.starting_stacks) - sum(history.finishing_stacks)
    assert raked > 0  # the rake was taken, and replay took the same
