"""Button and blinds for the next cash-game hand: who is dealt in and who posts what.

Pure rules, no I/O: the table actor keeps the seats, calls :func:`plan_next_hand` between
hands, and builds the hand from the plan. The rules follow the WSOP 2024 live-action rules:

- Dead button (rule 151): the big blind moves to the next player due for it; the small blind
  is the seat that had the big blind, and the button the seat that had the small blind, even
  when that seat is now empty (a dead small blind is simply not posted).
- Heads-up (rule 153; tournament rule 87): the small blind is on the button, and neither
  player takes the big blind twice in a row.
- Missed blinds (rule 156): a player sitting out whose seat the big or small blind passes
  owes it. Coming back, they wait for the big blind, or post it now (live) together with a
  missed small blind (dead, not part of their bet).
- New players (rules 154, 264, 297): wait for the big blind, or post a big blind to be dealt
  in at once, but only from a seat between the big blind and the button: a player who sits in
  the small-blind zone waits.
- A table that cannot deal two settled players starts fresh: everyone who can play is dealt
  in and nobody owes (rule 264: a newcomer may not force an existing player out, and a game
  of one cannot start).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import final


@final
@dataclass(frozen=True, slots=True)
class SeatedPlayer:
    seat: int
    player_id: str
    stack: int
    sitting_out: bool = False
    # New to the table or missed a big blind: waits for the big blind or posts one.
    owes_big_blind: bool = False
    # Missed a small blind: posted dead when coming back before the big blind.
    owes_small_blind: bool = False
    # Chooses to post now rather than wait for the big blind.
    post_to_enter: bool = False

    @property
    def can_play(self) -> bool:
        return not self.sitting_out and self.stack > 0


@final
@dataclass(frozen=True, slots=True)
class Positions:
    """Where the button and the blinds were; seats may be empty (dead button or blind)."""

    button: int
    small_blind: int
    big_blind: int


@final
@dataclass(frozen=True, slots=True)
class EntryPost:
    """A player entering out of position posts a live big blind, plus a dead small blind
    if they missed one."""

    seat: int
    dead_small_blind: bool


@final
@dataclass(frozen=True, slots=True)
class MissedBlind:
    seat: int
    small_blind: bool
    big_blind: bool


@final
@dataclass(frozen=True, slots=True)
class HandPlan:
    positions: Positions
    small_blind_poster: int | None  # None: a dead small blind, posted by nobody
    big_blind_poster: int
    dealt_in: tuple[int, ...]  # clockwise, starting left of the button
    entry_posts: tuple[EntryPost, ...]
    missed: tuple[MissedBlind, ...]  # players sitting out that a blind passed this hand
    settled: tuple[int, ...]  # players who owe nothing any more once this hand is dealt

    @property
    def heads_up(self) -> bool:
        return len(self.dealt_in) == 2


def _clockwise_from(start: int, seat_count: int) -> Iterator[int]:
    """Every seat once, beginning with the one after ``start``."""
    for step in range(1, seat_count + 1):
        yield (start + step) % seat_count


def _in_zone(seat: int, after: int, through: int, seat_count: int) -> bool:
    """Whether ``seat`` lies clockwise in (after, through]; empty when after == through."""
    return 0 < (seat - after) % seat_count <= (through - after) % seat_count


def plan_next_hand(
    players: Sequence[SeatedPlayer], seat_count: int, previous: Positions | None
) -> HandPlan | None:
    """Plan the next hand, or return None when fewer than two players can play."""
    by_seat = {player.seat: player for player in players}
    if len(by_seat) != len(players) or any(not 0 <= s < seat_count for s in by_seat):
        raise ValueError("players must sit in distinct seats 0..seat_count-1")
    if sum(player.can_play for player in players) < 2:
        return None
    if previous is not None:
        plan = _continue(by_seat, seat_count, previous)
        if plan is not None:
            return plan
    return _fresh_start(by_seat, seat_count, previous)


def _fresh_start(
    by_seat: dict[int, SeatedPlayer], seat_count: int, previous: Positions | None
) -> HandPlan:
    start = previous.button if previous is not None else seat_count - 1
    order = [s for s in _clockwise_from(start, seat_count) if s in by_seat and by_seat[s].can_play]
    button = order[0]
    if len(order) == 2:
        small_blind, big_blind = button, order[1]
        dealt: tuple[int, ...] = (order[1], button)
    else:
        small_blind, big_blind = order[1], order[2]
        dealt = (*order[1:], button)
    return HandPlan(
        positions=Positions(button, small_blind, big_blind),
        small_blind_poster=small_blind,
        big_blind_poster=big_blind,
        dealt_in=dealt,
        entry_posts=(),
        missed=(),
        settled=tuple(s for s in dealt if by_seat[s].owes_big_blind or by_seat[s].owes_small_blind),
    )


def _continue(
    by_seat: dict[int, SeatedPlayer], seat_count: int, previous: Positions
) -> HandPlan | None:
    missed_big: list[int] = []
    big_blind: int | None = None
    for seat in _clockwise_from(previous.big_blind, seat_count):
        player = by_seat.get(seat)
        if player is None:
            continue
        if player.can_play:
            big_blind = seat
            break
        missed_big.append(seat)
    if big_blind is None or big_blind == previous.big_blind:
        return None

    small_blind_seat = previous.big_blind
    small_blind_player = by_seat.get(small_blind_seat)
    missed_small = small_blind_player is not None and not small_blind_player.can_play
    button = previous.small_blind

    dealt: list[int] = []
    entry_posts: list[EntryPost] = []
    settled: list[int] = []
    for seat in _clockwise_from(button, seat_count):
        player = by_seat.get(seat)
        if player is None or not player.can_play:
            continue
        owes = player.owes_big_blind or player.owes_small_blind
        if seat == big_blind:
            dealt.append(seat)
            if owes:
                settled.append(seat)
        elif not owes:
            dealt.append(seat)
        elif player.post_to_enter and _in_zone(seat, big_blind, button, seat_count):
            dealt.append(seat)
            entry_posts.append(EntryPost(seat, dead_small_blind=player.owes_small_blind))
            settled.append(seat)

    if len(dealt) < 2:
        return None
    # The walk to the big blind never reaches the small-blind seat (it is where it started),
    # so a player misses one blind or the other here, never both at once.
    missed = [MissedBlind(seat, small_blind=False, big_blind=True) for seat in missed_big]
    if missed_small:
        missed.append(MissedBlind(small_blind_seat, small_blind=True, big_blind=False))
    if len(dealt) == 2:
        # Heads-up: the small blind is on the button, and the big blind (which just moved on)
        # is not the player who had it last hand.
        other = dealt[0] if dealt[1] == big_blind else dealt[1]
        return HandPlan(
            positions=Positions(other, other, big_blind),
            small_blind_poster=other,
            big_blind_poster=big_blind,
            dealt_in=(big_blind, other),
            entry_posts=tuple(post for post in entry_posts if post.seat != other),
            missed=tuple(missed),
            settled=tuple(settled),
        )
    small_blind_poster = small_blind_seat if small_blind_seat in dealt else None
    return HandPlan(
        positions=Positions(button, small_blind_seat, big_blind),
        small_blind_poster=small_blind_poster,
        big_blind_poster=big_blind,
        dealt_in=tuple(dealt),
        entry_posts=tuple(entry_posts),
        missed=tuple(missed),
        settled=tuple(settled),
    )
