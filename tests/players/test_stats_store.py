"""Statistics counted where hands are stored, on both backends: each hand once, and equal to
a rebuild from the stored histories."""

from __future__ import annotations

import random
from functools import partial

from persistence import players as stored
from persistence.store import Store
from players.stats import rebuild
from services.player_stats import rebuild_stats, stats_view
from tests.players.hands import hand_record, simulated_hand

PLAYERS = list(range(1, 9))


async def _accounts(store: Store, count: int) -> None:
    for i in range(count):
        await store.create_account(f"p{i + 1}", "x", "player")


def _hands(seed: int, count: int) -> list:  # type: ignore[type-arg]
    rng = random.Random(seed)
    return [
        simulated_hand(
            rng.randrange(2**32),
            rng.sample(PLAYERS, rng.randint(2, 6)),
            hand_id=f"h{i}",
            ended_at_ms=1_750_000_000_000 + i * 3_600_000,
            asset=rng.choice(["chips", "play"]),
        )
        for i in range(count)
    ]


async def test_incremental_figures_equal_a_rebuild_from_the_stored_hands(store: Store) -> None:
    await _accounts(store, len(PLAYERS))
    hands = _hands(7, 40)
    for hand in hands:
        assert await store.save_hand(hand_record(hand)) is True
    incremental = await store.run(stored.all_stats)
    assert incremental == rebuild(hands)
    progress_before = [await store.run(partial(stored.get_progress, p)) for p in PLAYERS]
    top_before = await store.run(partial(stored.top_scores, "xp", "m2025-06", 100))
    achievements_before = [await store.run(partial(stored.achievements, p)) for p in PLAYERS]

    report = await rebuild_stats(store)

    assert (report.hands_read, report.hands_counted) == (40, 40)
    assert await store.run(stored.all_stats) == incremental
    assert [await store.run(partial(stored.get_progress, p)) for p in PLAYERS] == progress_before
    assert await store.run(partial(stored.top_scores, "xp", "m2025-06", 100)) == top_before
    assert [await store.run(partial(stored.achievements, p)) for p in PLAYERS] == (
        achievements_before
    )


async def test_a_hand_stored_twice_is_counted_once(store: Store) -> None:
    await _accounts(store, len(PLAYERS))
    (hand,) = _hands(3, 1)
    applied = []

    async def hook(result: stored.HandApplied) -> None:
        applied.append(result)

    store.hand_hooks.append(hook)
    assert await store.save_hand(hand_record(hand)) is True
    assert await store.save_hand(hand_record(hand)) is False
    assert len(applied) == 1
    assert await store.run(stored.all_stats) == rebuild([hand])
    first = applied[0]
    assert {a.code for a in first.achievements} >= {"first_hand"}
    view = await stats_view(store, hand.outcomes[0].player_id, audience="public")
    assert view.hands == 1 and view.xp >= 10 and view.stakes[0].figures.hands == 1


async def test_private_statistics_are_hidden_from_others_but_not_staff(store: Store) -> None:
    await _accounts(store, len(PLAYERS))
    (hand,) = _hands(5, 1)
    await store.save_hand(hand_record(hand))
    player = hand.outcomes[0].player_id
    public = await stats_view(store, player, audience="public", stats_privacy="private")
    staff = await stats_view(store, player, audience="staff", stats_privacy="private")
    assert public.private and public.stakes == [] and public.level == staff.level
    assert not staff.private and staff.stakes
