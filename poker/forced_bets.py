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

# Enum members bound once: an Enum class attribute lookup costs ~70 ns, several per player.
_EACH: Final = AnteMode.EACH
_BIG_BLIND_ANTE: Final = AnteMode.BIG_BLIND
_NO_POST: Final = ReturningPost.NONE
_POST_WITH_DEAD_SMALL: Final = ReturningPost.BIG_BLIND_AND_DEAD_SMALL
_SMALL: Final = BlindKind.SMALL
_BIG: Final = BlindKind.BIG
_POSTED_BIG: Final = BlindKind.POSTED_BIG
_DEAD_SMALL: Final = BlindKind.DEAD_SMALL
_STRADDLE: Final = BlindKind.STRADDLE
_LIVE: Final = Placement.LIVE
_ANTE: Final = Placement.ANTE
_DEAD: Final = Placement.DEAD


def plan_forced_bets(
    config: HandConfig, sb_pos: int, bb_pos: int, posts: Sequence[ReturningPost]
) -> tuple[list[ForcedBet], int]:
    """The forced bets in posting order, and the straddler's position (or NO_STRADDLE).

    Amounts are what is owed; a player short of one posts what they have and is all-in.
    """
    n = len(posts)
    plan: list[ForcedBet] = []
    if config.ante_mode is _EACH:
        plan.extend((pos, None, config.ante, _ANTE) for pos in range(n))
    if sb_pos >= 0:
        plan.append((sb_pos, _SMALL, config.small_blind, _LIVE))
    plan.append((bb_pos, _BIG, config.big_blind, _LIVE))
    if config.ante_mode is _BIG_BLIND_ANTE:
        # After the blind: the blind is live and sets the price, the ante is dead.
        plan.append((bb_pos, None, config.ante, _DEAD))
    straddle_pos = (bb_pos + 1) % n if config.straddle and n > 2 else NO_STRADDLE
    for pos, post in enumerate(posts):
        if post is _NO_POST or pos in (sb_pos, bb_pos, straddle_pos):
            continue
        plan.append((pos, _POSTED_BIG, config.big_blind, _LIVE))
        if post is _POST_WITH_DEAD_SMALL:
            plan.append((pos, _DEAD_SMALL, config.small_blind, _DEAD))
    if straddle_pos != NO_STRADDLE:
        plan.append((straddle_pos, _STRADDLE, config.straddle, _LIVE))
    return plan, straddle_pos
