"""Button and blinds between cash-game hands (WSOP 2024 live-action rules 151-156, 264)."""

from __future__ import annotations

import random

import pytest

from poker.seating import EntryPost, HandPlan, MissedBlind, Positions, SeatedPlayer, plan_next_hand

SEATS = 6


def seated(*seats: int, **overrides: dict[str, object]) -> list[SeatedPlayer]:
    players = []
    for seat in seats:
        options = dict(overrides.get(f"s{seat}", {}))
        players.append(SeatedPlayer(seat=seat, player_id=f"p{seat}", stack=100, **options))  # type: ignore[arg-type]
    return players


def plan(players: list[SeatedPlayer], previous: Positions | None) -> HandPlan:
    result = plan_next_hand(players, SEATS, previous)
    assert result is not None
    return result


def test_no_hand_with_fewer_than_two_players_who_can_play() -> None:
    assert plan_next_hand(seated(0), SEATS, None) is None
    assert plan_next_hand(seated(0, 3, s3={"sitting_out": True}), SEATS, None) is None


def test_first_hand_blinds_follow_the_button() -> None:
    first = plan(seated(0, 2, 4), None)
    assert first.positions == Positions(button=0, small_blind=2, big_blind=4)
    assert first.dealt_in == (2, 4, 0)


def test_button_and_blinds_move_one_player_clockwise() -> None:
    players = seated(0, 2, 4, 5)
    second = plan(players, Positions(button=0, small_blind=2, big_blind=4))
    assert second.positions == Positions(button=2, small_blind=4, big_blind=5)
    assert (second.small_blind_poster, second.big_blind_poster) == (4, 5)
    assert second.dealt_in == (4, 5, 0, 2)


def test_dead_small_blind_when_the_big_blind_player_left() -> None:
    # Seat 4 had the big blind and left: nobody posts the small blind, and the big blind
    # still moves to the player due for it (rule 151).
    nxt = plan(seated(0, 2, 5), Positions(button=0, small_blind=2, big_blind=4))
    assert nxt.positions == Positions(button=2, small_blind=4, big_blind=5)
    assert nxt.small_blind_poster is None
    assert nxt.dealt_in == (5, 0, 2)


def test_dead_button_when_the_small_blind_player_left() -> None:
    nxt = plan(seated(0, 4, 5), Positions(button=0, small_blind=2, big_blind=4))
    assert nxt.positions.button == 2  # an empty seat keeps the button
    assert (nxt.small_blind_poster, nxt.big_blind_poster) == (4, 5)


def test_player_sitting_out_misses_the_big_blind_that_passes_them() -> None:
    players = seated(0, 2, 4, 5, s5={"sitting_out": True})
    nxt = plan(players, Positions(button=0, small_blind=2, big_blind=4))
    assert nxt.big_blind_poster == 0
    assert nxt.missed == (MissedBlind(5, small_blind=False, big_blind=True),)
    assert 5 not in nxt.dealt_in


def test_player_sitting_out_in_the_small_blind_seat_misses_it() -> None:
    players = seated(0, 2, 4, 5, s4={"sitting_out": True})
    nxt = plan(players, Positions(button=0, small_blind=2, big_blind=4))
    assert nxt.small_blind_poster is None
    assert nxt.missed == (MissedBlind(4, small_blind=True, big_blind=False),)


def test_returning_player_who_waits_is_dealt_in_at_the_big_blind() -> None:
    players = seated(0, 1, 2, 4, s1={"owes_big_blind": True})
    waiting = plan(players, Positions(button=0, small_blind=2, big_blind=4))
    assert 1 not in waiting.dealt_in  # owes the big blind and chose to wait for it
    due = plan(players, waiting.positions)
    assert due.big_blind_poster == 1
    assert 1 in due.dealt_in and 1 in due.settled


def test_player_due_for_the_big_blind_posts_it_rather_than_an_entry_post() -> None:
    owing = {"owes_big_blind": True, "owes_small_blind": True, "post_to_enter": True}
    nxt = plan(seated(0, 1, 2, 4, s0=owing), Positions(button=1, small_blind=2, big_blind=4))
    assert nxt.big_blind_poster == 0
    assert nxt.entry_posts == ()
    assert nxt.settled == (0,)


def test_returning_player_may_post_big_blind_live_and_small_blind_dead() -> None:
    owing = {"owes_big_blind": True, "owes_small_blind": True, "post_to_enter": True}
    # Next hand: button 0, small blind 1, big blind 2; seat 4 sits between the big blind and
    # the button, where a returning player may post to come in at once (rule 156).
    nxt = plan(seated(0, 1, 2, 4, s4=owing), Positions(button=5, small_blind=0, big_blind=1))
    assert nxt.positions == Positions(button=0, small_blind=1, big_blind=2)
    assert nxt.entry_posts == (EntryPost(4, dead_small_blind=True),)
    assert 4 in nxt.dealt_in and 4 in nxt.settled


def test_new_player_in_the_small_blind_zone_must_wait() -> None:
    # Positions after this hand: button 2, small blind 4, big blind 0. Seat 3 sits between the
    # button and the big blind, so it may not buy in by posting (rule 154).
    players = seated(0, 2, 3, 4, s3={"owes_big_blind": True, "post_to_enter": True})
    nxt = plan(players, Positions(button=5, small_blind=2, big_blind=4))
    assert nxt.positions.button == 2
    assert 3 not in nxt.dealt_in
    assert nxt.entry_posts == ()


def test_heads_up_the_button_posts_the_small_blind() -> None:
    first = plan(seated(1, 4), None)
    assert first.positions == Positions(button=1, small_blind=1, big_blind=4)
    assert first.dealt_in == (4, 1)


def test_heads_up_nobody_takes_the_big_blind_twice_in_a_row() -> None:
    players = seated(1, 4)
    positions = plan(players, None).positions
    big_blinds = []
    for _ in range(6):
        hand = plan(players, positions)
        big_blinds.append(hand.big_blind_poster)
        assert hand.small_blind_poster == hand.positions.button
        positions = hand.positions
    assert big_blinds == [1, 4, 1, 4, 1, 4]


def test_going_heads_up_does_not_give_anyone_the_big_blind_twice() -> None:
    # Three-handed: button 0, small blind 1, big blind 2; then the button leaves.
    nxt = plan(seated(1, 2), Positions(button=0, small_blind=1, big_blind=2))
    assert nxt.big_blind_poster == 1
    assert nxt.positions.button == nxt.small_blind_poster == 2


def test_table_of_newcomers_starts_fresh_and_nobody_owes() -> None:
    players = seated(0, 3, s0={"owes_big_blind": True}, s3={"owes_big_blind": True})
    fresh = plan(players, Positions(button=5, small_blind=5, big_blind=3))
    assert sorted(fresh.dealt_in) == [0, 3]
    assert sorted(fresh.settled) == [0, 3]


@pytest.mark.parametrize("seed", range(20))
def test_every_player_pays_each_blind_once_per_orbit(seed: int) -> None:
    rng = random.Random(seed)
    seats = sorted(rng.sample(range(SEATS), rng.randint(3, SEATS)))
    players = seated(*seats)
    positions = plan(players, None).positions
    big_blinds: list[int] = []
    small_blinds: list[int | None] = []
    for _ in range(len(seats) * 3):
        hand = plan(players, positions)
        big_blinds.append(hand.big_blind_poster)
        small_blinds.append(hand.small_blind_poster)
        assert hand.dealt_in[-1] == hand.positions.button, f"seed={seed}"
        positions = hand.positions
    for start in range(0, len(big_blinds), len(seats)):
        orbit = big_blinds[start : start + len(seats)]
        assert sorted(orbit) == seats, f"seed={seed}"
