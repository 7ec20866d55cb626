"""Finished hands for the player-statistics tests: simulated by our engine, as tables store them."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace

from persistence.hands import HandPlayer, HandRecord
from players.stats import FinishedHand, SeatOutcome
from poker import phh
from poker.config import Variant
from poker.simulate import random_setup, simulate_hand


def simulated_hand(
    seed: int,
    player_ids: Sequence[int],
    *,
    variant: Variant = Variant.NO_LIMIT_HOLDEM,
    hand_id: str | None = None,
    ended_at_ms: int = 1_750_000_000_000,
    edge_cases: bool = False,
    asset: str = "chips",
) -> FinishedHand:
    """One hand of random legal play between ``player_ids`` (PHH order: p1 first)."""
    rng = random.Random(seed)
    setup = random_setup(variant, len(player_ids), rng, edge_cases=edge_cases)
    history = simulate_hand(setup, rng)
    history = replace(history, players=tuple(str(p) for p in player_ids))
    assert history.finishing_stacks is not None
    outcomes = tuple(
        SeatOutcome(player_id=p, net=end - start, rake_paid=0)
        for p, start, end in zip(
            player_ids, history.starting_stacks, history.finishing_stacks, strict=True
        )
    )
    config = setup.config
    return FinishedHand(
        hand_id=hand_id or f"h-{seed}",
        game=f"{config.variant.value} {config.small_blind}/{config.big_blind}",
        asset=asset,
        ended_at_ms=ended_at_ms,
        phh_text=phh.dumps(history),
        outcomes=outcomes,
    )


def scripted_hand(
    actions: Sequence[str],
    nets: Sequence[int],
    *,
    stacks: Sequence[int] | None = None,
    blinds: tuple[int, int] = (1, 2),
    hand_id: str = "scripted",
) -> FinishedHand:
    """A hand written by hand: ``actions`` in PHH, players 1..n (p1 is id 1)."""
    count = len(nets)
    history = phh.HandHistory(
        variant="NT",
        antes=(0,) * count,
        blinds_or_straddles=(*blinds, *(0,) * (count - 2)),
        min_bet=blinds[1],
        starting_stacks=tuple(stacks or (200,) * count),
        actions=tuple(actions),
        players=tuple(str(i + 1) for i in range(count)),
    )
    return FinishedHand(
        hand_id=hand_id,
        game=f"NT {blinds[0]}/{blinds[1]}",
        asset="chips",
        ended_at_ms=1_750_000_000_000,
        phh_text=phh.dumps(history),
        outcomes=tuple(SeatOutcome(i + 1, net, 0) for i, net in enumerate(nets)),
    )


def hand_record(hand: FinishedHand, *, table_id: str = "table:1") -> HandRecord:
    """``hand`` as a table stores it (persistence/hands.py)."""
    return HandRecord(
        hand_id=hand.hand_id,
        table_id=table_id,
        game=hand.game,
        started_at_ms=hand.ended_at_ms - 1000,
        ended_at_ms=hand.ended_at_ms,
        pot_total=0,
        rake=sum(o.rake_paid for o in hand.outcomes),
        players=tuple(
            HandPlayer(o.player_id, seat, o.net, o.rake_paid)
            for seat, o in enumerate(hand.outcomes)
        ),
        phh=hand.phh_text,
        asset=hand.asset,
    )
