"""Who posts which forced bet, in which order, and where the chips go.

Order: antes (``each``), small blind, big blind, the big-blind ante, returning players'
posts, straddle. Reasons and WSOP references: docs/poker-engine.md, "Forced bets".
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Final

from poker.config import AnteMode, HandConfig, ReturningPost
from poker.events import BlindKind


class Placement(Enum):
    LIVE = 1  # part of the player's bet on the street (blinds, straddle, a posted big blind)
    ANTE = 2  # in the pot under the player's name: counts toward their side-pot level
    DEAD = 3  # dead money in the main pot (big-blind ante, a dead small blind)


# (position, kind or None for an ante, amount, placement); a tuple keeps this cheap per hand.
ForcedBet = tuple[int, BlindKind | None, int, Placement]
NO_STRADDLE: Final = -1


def plan_forced_bets(
    config: HandConfig, sb_pos: int, bb_pos: int, posts: Sequence[ReturningPost]
) -> tuple[list[ForcedBet], int]:
    """The forced bets in posting order, and the straddler's position (or NO_STRADDLE).

    Amounts are what is owed; a player short of one posts what they have and is all-in.
    """
    n = len(posts)
    plan: list[ForcedBet] = []
    if config.ante_mode is AnteMode.EACH:
        plan.extend((pos, None, config.ante, Placement.ANTE) for pos in range(n))
    if sb_pos >= 0:
        plan.append((sb_pos, BlindKind.SMALL, config.small_blind, Placement.LIVE))
    plan.append((bb_pos, BlindKind.BIG, config.big_blind, Placement.LIVE))
    if config.ante_mode is AnteMode.BIG_BLIND:
        # After the blind: the blind is live and sets the price, the ante is dead.
        plan.append((bb_pos, None, config.ante, Placement.DEAD))
    straddle_pos = (bb_pos + 1) % n if config.straddle and n > 2 else NO_STRADDLE
    for pos, post in enumerate(posts):
        if post is ReturningPost.NONE or pos in (sb_pos, bb_pos, straddle_pos):
            continue
        plan.append((pos, BlindKind.POSTED_BIG, config.big_blind, Placement.LIVE))
        if post is ReturningPost.BIG_BLIND_AND_DEAD_SMALL:
            plan.append((pos, BlindKind.DEAD_SMALL, config.small_blind, Placement.DEAD))
    if straddle_pos != NO_STRADDLE:
        plan.append((straddle_pos, BlindKind.STRADDLE, config.straddle, Placement.LIVE))
    return plan, straddle_pos
