"""Pots: building main and side pots, splitting with odd chips, rake.

Positions, not seats: position 0 is the first dealt-in seat clockwise from the button, so
"first seat left of the button" (WSOP tournament rule 73, live rule 149) is simply the lowest
position.
"""

from __future__ import annotations

from collections.abc import Sequence

from poker.config import BASIS_POINTS


def build_pots(
    committed: Sequence[int], live: Sequence[bool], dead: int
) -> list[tuple[int, tuple[int, ...]]]:
    """Main pot first, then side pots: ``(amount, eligible positions)``.

    ``committed`` is what each position put in this hand (antes, live blinds, bets);
    ``live`` says who has not folded; ``dead`` (a big-blind ante, dead small blinds) goes to
    the main pot. A pot's level is each live player's total, so an all-in player can win
    from every player only what they matched. Neighbouring pots with the same eligible
    players are merged.
    """
    live_positions = [p for p in range(len(committed)) if live[p]]
    levels = sorted({committed[p] for p in live_positions})
    if len(levels) <= 1:
        # Nobody live is all-in for less: one pot (the common case, kept cheap).
        return [(sum(committed) + dead, tuple(live_positions))]
    pots: list[tuple[int, tuple[int, ...]]] = []
    previous = 0
    top = len(levels) - 1
    for index, level in enumerate(levels):
        amount = 0
        for paid in committed:
            if paid > previous:
                # The top pot also takes anything above the last live level (a folded
                # player's chips beyond every live total cannot exist after uncalled bets
                # are returned, but they must not vanish if they did).
                amount += (paid if index == top or paid < level else level) - previous
        eligible = tuple(p for p in range(len(committed)) if live[p] and committed[p] >= level)
        if pots and pots[-1][1] == eligible:
            pots[-1] = (pots[-1][0] + amount, eligible)
        elif amount or not pots:
            pots.append((amount, eligible))
        previous = level
    if not pots:
        pots.append((0, tuple(p for p in range(len(committed)) if live[p])))
    pots[0] = (pots[0][0] + dead, pots[0][1])
    return pots


def split_evenly(amount: int, winners: Sequence[int]) -> list[int]:
    """Shares of ``amount`` for ``winners`` (positions, ascending): the odd chips go one each
    to the winners first clockwise from the button (WSOP tournament rule 73; live rule 149)."""
    share, odd = divmod(amount, len(winners))
    return [share + 1 if i < odd else share for i in range(len(winners))]


def split_high_low(amount: int) -> tuple[int, int]:
    """High half and low half: the odd chip of the whole pot goes to the high side
    (tournament rule 73; live rule 149)."""
    low = amount // 2
    return amount - low, low


def split_runs(amount: int) -> tuple[int, int]:
    """First-run and second-run halves of a pot run twice; the odd chip goes to the first run."""
    second = amount // 2
    return amount - second, second


def rake_for(amount: int, rake_bp: int, cap_left: int | None) -> int:
    """Basis points of ``amount``, rounded down, no more than ``cap_left`` (None: no cap)."""
    rake = amount * rake_bp // BASIS_POINTS
    if cap_left is not None and rake > cap_left:
        rake = cap_left
    return rake
