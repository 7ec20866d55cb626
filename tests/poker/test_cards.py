"""Cards and decks: codes, seeded shuffles, exact stacking."""

from __future__ import annotations

import random

import eval7
import pytest

from poker import ALL_CARDS, Card, Deck, DeckExhausted, Hand, HandConfig, SeatSetup, Variant


def test_every_card_code_round_trips_through_parse_and_index() -> None:
    assert len({card.code for card in ALL_CARDS}) == 52
    for index, card in enumerate(ALL_CARDS):
        assert Card.parse(card.code) is card
        assert Card.from_index(index) is card
        assert int(card) == index
        assert str(card) == card.code


def test_cards_are_eval7_cards_with_the_same_identity() -> None:
    for card in ALL_CARDS:
        assert card == eval7.Card(card.code)
        assert str(eval7.Card(card.code)) == card.code


def test_bad_card_code_is_rejected() -> None:
    with pytest.raises(ValueError):
        Card.parse("1x")


def test_shuffled_deck_is_a_permutation_reproducible_from_its_seed() -> None:
    first = Deck.shuffled(random.Random(7)).cards
    again = Deck.shuffled(random.Random(7)).cards
    other = Deck.shuffled(random.Random(8)).cards
    assert first == again
    assert first != other
    assert sorted(card.index for card in first) == list(range(52))


def test_stacked_deck_draws_in_the_given_order() -> None:
    deck = Deck.stacked(["As", "Kd", "2c"])
    assert [card.code for card in deck.draw(2)] == ["As", "Kd"]
    assert deck.remaining == 1
    with pytest.raises(DeckExhausted):
        deck.draw(2)


def test_deck_refuses_duplicate_cards() -> None:
    with pytest.raises(ValueError):
        Deck.stacked(["As", "As"])


def test_deck_for_deal_reproduces_hole_cards_and_board() -> None:
    config = HandConfig(variant=Variant.NO_LIMIT_HOLDEM, small_blind=1, big_blind=2)
    seats = [SeatSetup(seat=s, player_id=f"p{s}", stack=100) for s in (2, 5, 7)]
    order = Hand.dealing_order([2, 5, 7], button=5)
    assert order == (7, 2, 5)
    deck = Deck.for_deal(["AsAd", "KsKd", "QsQd"], "2c3c4c5h6h")
    hand = Hand(config, seats, 5, deck)
    hand.start()
    assert [c.code for c in hand.hole_cards(7)] == ["As", "Ad"]
    assert [c.code for c in hand.hole_cards(2)] == ["Ks", "Kd"]
    assert [c.code for c in hand.hole_cards(5)] == ["Qs", "Qd"]
    while not hand.is_over:
        seat = hand.actor
        assert seat is not None
        if hand.legal_actions().show:
            hand.show(seat)
        else:
            hand.check_or_call(seat)
    assert [c.code for c in hand.board] == ["2c", "3c", "4c", "5h", "6h"]


def test_shuffle_puts_every_card_first_equally_often() -> None:
    rng = random.Random(2024)
    draws = 26_000
    counts = [0] * 52
    for _ in range(draws):
        counts[Deck.shuffled(rng).cards[0].index] += 1
    expected = draws / 52
    chi_square = sum((count - expected) ** 2 / expected for count in counts)
    # 51 degrees of freedom: mean 51, and above 100 with probability ~5e-5.
    assert chi_square < 100, chi_square


def test_shuffle_draws_from_the_injected_rng_only() -> None:
    class CountingRandom(random.Random):
        calls = 0

        def getrandbits(self, k: int) -> int:
            CountingRandom.calls += 1
            return super().getrandbits(k)

    Deck.shuffled(CountingRandom(1))
    assert CountingRandom.calls >= 1
