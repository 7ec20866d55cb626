"""Settling a finished hand: pots, rake, hand values, splits, odd chips, run it twice.

Pots are awarded in reverse order of formation, the last side pot first (WSOP live rule 149);
``PotResult`` lists and ``pot_index`` still number them main pot first (0 = main).
Rake comes off each pot (main pot first) before it is split, in basis points rounded down,
until the hand's cap is used up; nothing is taken when no flop was dealt and the table plays
"no flop, no drop". A pot run twice is halved (odd chip to the first run); in hi/lo each half
(or the whole pot) is halved again between the best high and the best qualifying low, the odd
chip going high (tournament rule 73); tied hands split a share with the odd chips going one
each to the tied winners first clockwise from the button (rule 73, live rule 149).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import msgspec

from poker.cards import Card
from poker.config import HandConfig
from poker.errors import EngineInvariantBroken
from poker.evaluation import describe_high, describe_low, high_value, omaha_high, omaha_low
from poker.events import Event, PotAwarded, PotShare, RakeTaken
from poker.pots import build_pots, rake_for, split_evenly, split_high_low, split_runs
from poker.rake_shares import pot_contributions

# Enum members bound once (an Enum class attribute lookup costs ~70 ns).
_WHOLE: Final = PotShare.WHOLE
_HIGH: Final = PotShare.HIGH
_LOW: Final = PotShare.LOW


# gc=False on the result records: numbers, strings and tuples of frozen records, never in a
# reference cycle; untracked, they are cheaper to build at the end of every hand.
class Award(msgspec.Struct, frozen=True, array_like=True, gc=False):
    run: int
    share: PotShare
    seat: int
    amount: int


class PotResult(msgspec.Struct, frozen=True, gc=False):
    amount: int  # before rake
    rake: int
    eligible: tuple[int, ...]
    awards: tuple[Award, ...]
    # Each position's chips in this pot (the order of HandResult.seats); the main pot also
    # holds ``dead`` chips under nobody's name. Who paid the rake (poker/rake_shares.py).
    contributions: tuple[int, ...] = ()
    dead: int = 0


class HandResult(msgspec.Struct, frozen=True, gc=False):
    seats: tuple[int, ...]
    starting_stacks: tuple[int, ...]
    stacks: tuple[int, ...]  # finishing, in the order of ``seats``
    pots: tuple[PotResult, ...]
    rake: int
    board: tuple[str, ...]
    second_board: tuple[str, ...]  # the second run's full board; () when run once

    def stack_of(self, seat: int) -> int:
        return self.stacks[self.seats.index(seat)]

    def net_of(self, seat: int) -> int:
        index = self.seats.index(seat)
        return self.stacks[index] - self.starting_stacks[index]


def settle(
    *,
    config: HandConfig,
    seats: Sequence[int],
    committed: Sequence[int],
    contenders: Sequence[bool],
    dead: int,
    hole: Sequence[list[Card]],
    boards: Sequence[list[Card]],
    rake_allowed: bool,
    stacks: list[int],
    events: list[Event],
) -> tuple[list[PotResult], int]:
    """Award every pot into ``stacks``; append the events; return the pot results and rake."""
    rake_bp = config.rake_bp if rake_allowed else 0
    cap_left = config.rake_cap if config.rake_cap else None
    live = [p for p, contending in enumerate(contenders) if contending]
    if len(live) == 1:
        # Won without a showdown (the hand's most common end): one pot, every chip in the
        # middle, to the one hand left. build_pots would say the same at several times the
        # cost; the chip count is checked at the end of every hand all the same.
        amount = sum(committed) + dead
        rake = rake_for(amount, rake_bp, cap_left) if rake_bp else 0
        if rake:
            events.append(RakeTaken(pot_index=0, amount=rake))
        awards: list[Award] = []
        _pay(0, 0, _WHOLE, live, (amount - rake,), "", seats, stacks, events, awards)
        return [
            PotResult(
                amount=amount,
                rake=rake,
                eligible=(seats[live[0]],),
                awards=tuple(awards),
                contributions=tuple(committed),
                dead=dead,
            )
        ], rake
    variant = config.variant
    if variant.is_omaha:
        highs = [{p: omaha_high(hole[p], board) for p in live} for board in boards]
    else:
        # holdem_high inlined (eval7 on hole + board): one call per player saved.
        highs = [{p: high_value(hole[p] + board) for p in live} for board in boards]
    lows: list[dict[int, int | None]] = []
    if variant.is_hi_lo:
        lows = [{p: omaha_low(hole[p], board) for p in live} for board in boards]
    pots = build_pots(committed, contenders, dead)
    shares = pot_contributions(committed, contenders)
    if len(shares) != len(pots):
        raise EngineInvariantBroken("pot contributions disagree with the pots")
    # The rake comes off main pot first (the cap runs out on the side pots: our decision)...
    rakes: list[int] = []
    for index, (amount, eligible) in enumerate(pots):
        if not eligible:
            raise EngineInvariantBroken(f"pot {index} of {amount} has nobody to win it")
        rake = rake_for(amount, rake_bp, cap_left) if rake_bp else 0
        if cap_left is not None:
            cap_left -= rake
        rakes.append(rake)
    # ...but the pots are awarded in reverse order of formation, the last side pot first
    # (WSOP live rule 149); each pot's RakeTaken comes just before its awards.
    results: list[PotResult] = []  # built last pot first, reversed at the end
    for index in range(len(pots) - 1, -1, -1):
        amount, eligible = pots[index]
        rake = rakes[index]
        if rake:
            events.append(RakeTaken(pot_index=index, amount=rake))
        rest = amount - rake
        awards = []
        if len(eligible) == 1:
            _pay(index, 0, _WHOLE, eligible, (rest,), "", seats, stacks, events, awards)
        else:
            halves = (rest,) if len(boards) == 1 else split_runs(rest)
            for run, share in enumerate(halves):
                for part, winners, amounts, text in _split_share(
                    share, eligible, highs[run], lows[run] if lows else None
                ):
                    _pay(index, run, part, winners, amounts, text, seats, stacks, events, awards)
        results.append(
            PotResult(
                amount=amount,
                rake=rake,
                eligible=tuple([seats[p] for p in eligible]),
                awards=tuple(awards),
                contributions=shares[index][0],
                dead=dead if index == 0 else 0,
            )
        )
    results.reverse()
    return results, sum(rakes)


def _split_share(
    share: int,
    eligible: Sequence[int],
    highs: dict[int, int],
    lows: dict[int, int | None] | None,
) -> list[tuple[PotShare, list[int], Sequence[int], str]]:
    """Who wins ``share`` of a pot (one run's part of it) and how much each: ``(part,
    winners, their amounts, hand text)`` for the whole, or for the high and the low half."""
    best = -1
    high_winners: list[int] = []
    for p in eligible:
        value = highs[p]
        if value > best:
            best = value
            high_winners = [p]
        elif value == best:
            high_winners.append(p)
    low_key: int | None = None
    if lows is not None:
        for p in eligible:
            key = lows[p]
            if key is not None and (low_key is None or key < low_key):
                low_key = key
    if low_key is None:
        return [(_WHOLE, high_winners, _even_shares(share, high_winners), describe_high(best))]
    low_winners = [p for p in eligible if lows is not None and lows[p] == low_key]
    high_part, low_part = split_high_low(share)
    high_shares = _even_shares(high_part, high_winners)
    if len(low_winners) > 1 and low_winners == high_winners:
        # Identical hands winning both halves split the pot as evenly as possible (T73,
        # L149): halving first would hand the first winner an odd chip from each half.
        totals = split_evenly(share, low_winners)
        low_shares = [total - high for total, high in zip(totals, high_shares, strict=True)]
    else:
        low_shares = _even_shares(low_part, low_winners)
    return [
        (_HIGH, high_winners, high_shares, describe_high(best)),
        (_LOW, low_winners, low_shares, describe_low(low_key)),
    ]


def _even_shares(amount: int, winners: Sequence[int]) -> list[int]:
    return [amount] if len(winners) == 1 else split_evenly(amount, winners)


def _pay(
    pot_index: int,
    run: int,
    share: PotShare,
    winners: Sequence[int],
    amounts: Sequence[int],
    hand: str,
    seats: Sequence[int],
    stacks: list[int],
    events: list[Event],
    awards: list[Award],
) -> None:
    """Pay ``amounts[i]`` to ``winners[i]`` (positions)."""
    for pos, won in zip(winners, amounts, strict=True):
        stacks[pos] += won
        seat = seats[pos]
        # Positional: Award(run, share, seat, amount), PotAwarded(pot_index, run, share,
        # seat, amount, hand), as declared.
        awards.append(Award(run, share, seat, won))
        events.append(PotAwarded(pot_index, run, share, seat, won, hand))
