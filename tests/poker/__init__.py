"""Engine tests. ``deal`` builds a started hand with chosen cards, for rule-by-rule tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from poker import (
    ALL_CARDS,
    BlindSeats,
    Deck,
    Event,
    Hand,
    HandConfig,
    ReturningPost,
    SeatSetup,
    Variant,
    parse_cards,
)


def deal(
    stacks: Sequence[int] | Mapping[int, int],
    *,
    button: int | None = None,
    variant: Variant = Variant.NO_LIMIT_HOLDEM,
    hole: Mapping[int, str] | None = None,
    board: str = "",
    blinds: BlindSeats | None = None,
    posts: Mapping[int, ReturningPost] | None = None,
    **config: Any,
) -> tuple[Hand, list[Event]]:
    """A started hand. ``stacks``: a list (seats 0..n-1) or seat -> stack. ``button``
    defaults to the highest seat, so seat order is dealing order. Blinds default to 1/2
    (fixed limit: bets 2/4). Unnamed hole cards are the lowest cards nobody else holds."""
    by_seat = dict(enumerate(stacks)) if isinstance(stacks, Sequence) else dict(stacks)
    if button is None:
        button = max(by_seat)
    config.setdefault("small_blind", 1)
    config.setdefault("big_blind", 2)
    if variant is Variant.FIXED_LIMIT_HOLDEM:
        config.setdefault("small_bet", 2)
        config.setdefault("big_bet", 4)
    hand_config = HandConfig(variant=variant, **config)
    order = Hand.dealing_order(list(by_seat), button)
    named = {seat: parse_cards(text) for seat, text in (hole or {}).items()}
    used = {card.index for cards in named.values() for card in cards}
    used.update(card.index for card in parse_cards(board))
    spare = [card for card in ALL_CARDS if card.index not in used]
    per = variant.hole_cards
    hole_in_order = []
    for seat in order:
        if seat in named:
            hole_in_order.append(list(named[seat]))
        else:
            hole_in_order.append([spare.pop(0) for _ in range(per)])
    deck = Deck.for_deal(hole_in_order, board)
    seats = [
        SeatSetup(
            seat=seat,
            player_id=f"p{seat}",
            stack=stack,
            posts=(posts or {}).get(seat, ReturningPost.NONE),
        )
        for seat, stack in by_seat.items()
    ]
    hand = Hand(hand_config, seats, button, deck, blinds)
    events = hand.start()
    return hand, events


def of_type(events: Sequence[Event], kind: type[Event]) -> list[Any]:
    return [event for event in events if isinstance(event, kind)]


def play_out(hand: Hand) -> list[Event]:
    """Check/call everyone down; show every hand asked for; agree to run it twice."""
    events: list[Event] = []
    while not hand.is_over:
        seat = hand.actor
        assert seat is not None
        legal = hand.legal_actions()
        if legal.show:
            events += hand.show(seat)
        elif legal.run_it_twice:
            events += hand.agree_run_it_twice(seat, True)
        else:
            events += hand.check_or_call(seat)
    return events
