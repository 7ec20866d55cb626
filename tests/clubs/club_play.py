"""Hands played by our engine and run through the real money and storage path, as a table
does it (buy-ins into escrow, rake to the house, cash-outs, the hand record with each
player's rake share): many random hands in a moment, for the rakeback service tests, without
a server (tests/e2e/test_club_rakeback_ws.py plays club hands at a real table actor).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from persistence.hands import HandPlayer, HandRecord
from persistence.store import Store
from poker.cards import Deck
from poker.config import HandConfig, Variant
from poker.hand import Hand
from poker.rake_shares import rake_shares
from poker.simulate import DECISIONS_PER_HAND_MAX, choose_action, seats_for
from services.wallet import Wallet

CONFIG = HandConfig(
    variant=Variant.NO_LIMIT_HOLDEM, small_blind=1, big_blind=2, rake_bp=500, rake_cap=0,
    no_flop_no_drop=False,
)  # fmt: skip


@dataclass(frozen=True)
class PlayedHand:
    hand_id: str
    table_id: str
    rake: int
    players: tuple[int, ...]  # by seat
    shares: tuple[int, ...]  # by seat (weighted contributed, poker/rake_shares.py)
    ended_at_ms: int


async def play_hand(
    store: Store,
    wallet: Wallet,
    rng: random.Random,
    table_id: str,
    hand_id: str,
    players: list[int],
    ended_at_ms: int,
    stack: int = 200,
) -> PlayedHand:
    stacks = [stack] * len(players)
    hand = Hand(CONFIG, seats_for(stacks), len(players) - 1, Deck.shuffled(rng))
    hand.start()
    for _ in range(DECISIONS_PER_HAND_MAX):
        if hand.is_over:
            break
        hand.apply(choose_action(hand.legal_actions(), rng))
    result = hand.result
    by_position = rake_shares(result)
    shares = [0] * len(players)
    for position, seat in enumerate(result.seats):
        shares[seat] = by_position[position]
    for player in players:
        await wallet.buy_in(f"{hand_id}:in:{player}", player, table_id, stack)
    if result.rake:
        await wallet.take_rake(f"{hand_id}:rake", table_id, result.rake)
    for seat, player in enumerate(players):
        left = result.stack_of(seat)
        if left:
            await wallet.cash_out(f"{hand_id}:out:{player}", table_id, player, left)
    record = HandRecord(
        hand_id, table_id, "NLHE 1/2", ended_at_ms - 1_000, ended_at_ms,
        sum(p.amount for p in result.pots), result.rake,
        tuple(HandPlayer(p, seat, result.net_of(seat), shares[seat])
              for seat, p in enumerate(players)),
        "",
    )  # fmt: skip
    assert await store.save_hand(record)
    return PlayedHand(hand_id, table_id, result.rake, tuple(players), tuple(shares), ended_at_ms)
