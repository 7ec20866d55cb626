"""A history the table hands over as it writes it counts exactly as its stored text does
(players/stats.py ``remember_written``): the statistics never depend on whether the store
parsed the text back."""

from __future__ import annotations

import random
from collections import OrderedDict
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from players import stats
from players.stats import FinishedHand, SeatOutcome, hand_facts, remember_written
from poker import phh
from poker.config import Variant
from poker.simulate import random_setup, simulate_hand


def _written(seed: int, players: int, variant: Variant, edge: bool) -> tuple[str, FinishedHand]:
    rng = random.Random(seed)
    setup = random_setup(variant, players, rng, edge_cases=edge)
    history = simulate_hand(setup, rng)
    ids = list(range(100, 100 + players))
    history = replace(
        history,
        players=tuple(str(p) for p in ids),
        table="t-1",
        hand=seed,
        seat_count=10,
        seats=tuple(range(1, players + 1)),
        extra=(*history.extra, ("_table_name", "Written")),
    )
    text = phh.dumps(history)
    assert history.finishing_stacks is not None
    hand = FinishedHand(
        hand_id=f"h-{seed}",
        game=f"{variant.value} 1/2",
        asset="chips",
        ended_at_ms=1_750_000_000_000,
        phh_text=text,
        outcomes=tuple(
            SeatOutcome(player_id=p, net=end - start, rake_paid=0)
            for p, start, end in zip(
                ids, history.starting_stacks, history.finishing_stacks, strict=True
            )
        ),
    )
    remember_written(text, history)
    return text, hand


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    players=st.integers(2, 9),
    variant=st.sampled_from(list(Variant)),
    edge=st.booleans(),
)
def test_the_written_history_counts_as_its_text_parsed_back(
    seed: int, players: int, variant: Variant, edge: bool
) -> None:
    text, hand = _written(seed, players, variant, edge)
    from_written = hand_facts(hand)  # takes the history handed over
    assert text not in stats._written
    from_text = hand_facts(hand)  # nothing handed over now: parses the text
    assert from_written == from_text


def test_the_handed_over_histories_are_bounded_oldest_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(stats, "_written", OrderedDict())
    monkeypatch.setattr(stats, "WRITTEN_KEPT_MAX", 3)
    texts = [_written(seed, 3, Variant.NO_LIMIT_HOLDEM, False)[0] for seed in range(5)]
    assert list(stats._written) == texts[2:]
