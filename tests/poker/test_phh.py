"""PHH reading and writing, checked against PokerKit's own reader and writer."""

from __future__ import annotations

import random

import pokerkit
import pytest

from poker import phh

# The shape of the PHH spec's example hand (a no-limit hand with antes and a hidden hand).
SPEC_STYLE_HAND = """\
variant = 'NT'
ante_trimming_status = true
antes = [500, 500, 500]
blinds_or_straddles = [1000, 2000, 0]
min_bet = 2000
starting_stacks = [1125600, 2000000, 553500]
actions = [
  'd dh p1 ????',
  'd dh p2 Ac2d',  # comments and trailing commas are TOML, so allowed
  'd dh p3 7h6h',
  'p3 cbr 7000',
  'p1 f',
  'p2 cbr 23000',
  'p3 cc',
  'd db Jc3d5c',
  'p2 cbr 35000',
  'p3 cc',
  'd db 4h',
  'p2 cbr 90000',
  'p3 cbr 232600',
  'p2 cbr 1067100',
  'p3 cc',
  'p3 sm 7h6h',
  'p2 sm Ac2d',
  'd db Jh # river',
]
hand = 1
players = ['Phil Hellmuth', 'Tom Dwan', 'Phil Ivey']
author = 'Someone'
_venue_note = "it's a 'quote'"
"""


def test_spec_style_hand_reads_every_field() -> None:
    hand = phh.loads(SPEC_STYLE_HAND)
    assert hand.variant == "NT"
    assert hand.ante_trimming_status is True
    assert hand.antes == (500, 500, 500)
    assert hand.blinds_or_straddles == (1000, 2000, 0)
    assert hand.min_bet == 2000
    assert hand.player_count == 3
    assert hand.actions[0] == "d dh p1 ????"
    assert hand.players == ("Phil Hellmuth", "Tom Dwan", "Phil Ivey")
    assert dict(hand.extra) == {"author": "Someone", "_venue_note": "it's a 'quote'"}


def test_unknown_hole_cards_parse_as_unknown_cards() -> None:
    assert phh.parse_action("d dh p1 ????") == phh.DealHole(0, ("??", "??"))


def test_written_hand_reads_back_equal_including_extra_fields() -> None:
    hand = phh.loads(SPEC_STYLE_HAND)
    assert phh.loads(phh.dumps(hand)) == hand


def test_pokerkit_replays_our_written_hand_to_the_same_finishing_stacks() -> None:
    text = phh.dumps(phh.loads(SPEC_STYLE_HAND))
    states = list(pokerkit.HandHistory.loads(text))
    # p3's seven-high straight beats p2's wheel: p3 doubles up and takes p1's ante and blind.
    assert states[-1].stacks == [1125600 - 1500, 2000000 - 553500, 553500 * 2 + 1500]


def test_pokerkit_written_phhs_reads_as_the_same_hands() -> None:
    rng = random.Random(7)
    pk_hands = []
    for number in range(3):
        stacks = [rng.randint(50, 500) for _ in range(4)]
        pk_hands.append(
            pokerkit.HandHistory(
                variant="FT",
                antes=[0, 0, 0, 0],
                blinds_or_straddles=[1, 2, 0, 0],
                small_bet=2,
                big_bet=4,
                starting_stacks=stacks,
                actions=["d dh p1 AcAd", "d dh p2 KcKd", "d dh p3 QcQd", "d dh p4 JcJd"],
                hand=number + 10,
            )
        )
    ours = phh.loads_all(pokerkit.HandHistory.dumps_all(pk_hands))
    assert [h.hand for h in ours] == [10, 11, 12]
    assert [list(h.starting_stacks) for h in ours] == [h.starting_stacks for h in pk_hands]
    assert all(h.small_bet == 2 and h.big_bet == 4 and h.variant == "FT" for h in ours)


def test_phhs_tables_without_hand_field_take_the_table_name_as_label() -> None:
    one = phh.loads(SPEC_STYLE_HAND.replace("hand = 1\n", ""))
    assert one.hand is None
    text = phh.dumps_all([one, one])
    assert text.startswith("[1]\n")
    assert [h.hand for h in phh.loads_all(text)] == [1, 2]


def test_pokerkit_reads_our_phhs_file() -> None:
    hand = phh.loads(SPEC_STYLE_HAND)
    loaded = list(pokerkit.HandHistory.loads_all(phh.dumps_all([hand, hand])))
    assert len(loaded) == 2
    assert loaded[1].starting_stacks == list(hand.starting_stacks)


@pytest.mark.parametrize(
    ("text", "record"),
    [
        ("d dh p10 AsKs", phh.DealHole(9, ("As", "Ks"))),
        ("d dh p2 AsKsQsJs", phh.DealHole(1, ("As", "Ks", "Qs", "Js"))),
        ("d db 2c3d4h", phh.DealBoard(("2c", "3d", "4h"))),
        ("p3 f", phh.Fold(2)),
        ("p1 cc", phh.CheckOrCall(0)),
        ("p2 cbr 1250", phh.CompleteBetOrRaiseTo(1, 1250)),
        ("p2 sm AcKd", phh.ShowOrMuck(1, ("Ac", "Kd"))),
        ("p2 sm", phh.ShowOrMuck(1, None)),
        ("p2 sm -", phh.ShowOrMuck(1, ())),
        ("", phh.NoOperation()),
    ],
)
def test_action_parses_to_its_record_and_formats_back(text: str, record: phh.PhhAction) -> None:
    assert phh.parse_action(text) == record
    assert phh.format_action(record) == text


def test_comment_after_an_action_is_ignored() -> None:
    assert phh.parse_action("p1 cbr 20 # tank 3 minutes") == phh.CompleteBetOrRaiseTo(0, 20)


@pytest.mark.parametrize(
    "action", ["p0 f", "x1 f", "p1 raise 20", "d dh p1 AcK", "d db 1c2c3c", "p1 cbr -5", "p1"]
)
def test_malformed_action_is_a_format_error_naming_it(action: str) -> None:
    with pytest.raises(phh.PhhFormatError) as caught:
        phh.parse_action(action)
    assert repr(action) in str(caught.value)


def test_decimal_amounts_are_unsupported_not_rounded() -> None:
    with pytest.raises(phh.PhhUnsupportedError, match="integer"):
        phh.loads(SPEC_STYLE_HAND.replace("min_bet = 2000", "min_bet = 0.25"))
    with pytest.raises(phh.PhhUnsupportedError, match="non-integer"):
        phh.parse_action("p1 cbr 2.5")


def test_variants_we_do_not_play_are_unsupported() -> None:
    with pytest.raises(phh.PhhUnsupportedError, match="F7S"):
        phh.loads(SPEC_STYLE_HAND.replace("'NT'", "'F7S'"))


def test_missing_bet_size_field_is_a_format_error() -> None:
    with pytest.raises(phh.PhhFormatError, match="min_bet"):
        phh.loads(SPEC_STYLE_HAND.replace("min_bet = 2000\n", ""))


def test_a_bad_action_fails_at_load_time() -> None:
    with pytest.raises(phh.PhhFormatError, match="p3 bet"):
        phh.loads(SPEC_STYLE_HAND.replace("'p3 cbr 7000'", "'p3 bet 7000'"))


def test_not_toml_is_a_format_error() -> None:
    with pytest.raises(phh.PhhFormatError, match="TOML"):
        phh.loads("variant = 'NT\n")


def test_hand_with_too_many_actions_is_rejected() -> None:
    actions = ", ".join(["'p1 cc'"] * (phh.ACTIONS_PER_HAND_MAX + 1))
    text = SPEC_STYLE_HAND.split("actions = [")[0] + f"actions = [{actions}]\n"
    with pytest.raises(phh.PhhFormatError, match="actions"):
        phh.loads(text)


def test_more_players_than_a_table_seats_is_unsupported() -> None:
    text = (
        "variant = 'NT'\nantes = 0\nblinds_or_straddles = [1, 2]\nmin_bet = 2\n"
        f"starting_stacks = {[100] * 11}\nactions = []\n"
    )
    with pytest.raises(phh.PhhUnsupportedError, match="11 players"):
        phh.loads(text)


def test_uniform_and_short_per_player_lists_expand_like_pokerkit() -> None:
    text = (
        "variant = 'NT'\nantes = 3\nblinds_or_straddles = [1, 2]\nmin_bet = 2\n"
        "starting_stacks = [100, 100, 100, 100]\nactions = []\n"
    )
    hand = phh.loads(text)
    assert hand.antes == (3, 3, 3, 3)
    assert hand.blinds_or_straddles == (1, 2, 0, 0)


def test_random_action_lists_round_trip_through_text() -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    cards = [r + s for r in "23456789TJQKA" for s in "cdhs"]
    for _ in range(200):
        records: list[phh.PhhAction] = []
        for _ in range(rng.randint(0, 30)):
            player = rng.randrange(10)
            records.append(
                rng.choice(
                    [
                        phh.DealHole(player, tuple(rng.sample(cards, rng.choice([2, 4])))),
                        phh.DealBoard(tuple(rng.sample(cards, rng.choice([1, 3])))),
                        phh.Fold(player),
                        phh.CheckOrCall(player),
                        phh.CompleteBetOrRaiseTo(player, rng.randint(1, 10**9)),
                        phh.ShowOrMuck(player, rng.choice([None, (), ("As", "Kd")])),
                    ]
                )
            )
        hand = phh.HandHistory(
            variant="PO",
            antes=(0, 0),
            blinds_or_straddles=(1, 2),
            min_bet=2,
            starting_stacks=(100, 100),
            actions=tuple(phh.format_action(r) for r in records),
        )
        again = phh.loads(phh.dumps(hand))
        assert again == hand, f"seed {seed}"
        assert [phh.parse_action(a) for a in again.actions] == records, f"seed {seed}"
