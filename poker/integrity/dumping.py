"""Chip-dumping flags: pairs of players where chips flow mostly one way. Pure.

The method (docs/integrity.md has it in full, with its reasons): for every pair of players,
sum the chips each paid the other over the hands both were dealt into (``pair_flows``: a
loser's loss shared among the winners by what each won), in big blinds of each hand's
stakes. A pair is flagged, the net payer as ``giver``, when all of these hold:

- at least ``contested_hands_min`` hands in which chips went between them (either way);
- the giver paid at least ``one_way_share_min`` of all the chips that went between them;
- the net (giver to receiver less receiver to giver) is at least ``net_bb_min`` big blinds;
- the flow is too one-sided for chance: with ``x_i`` what went giver -> receiver in hand
  ``i`` (negative the other way) and ``S`` their sum, if the direction of each hand's flow
  were a fair coin (two honest players of equal skill), ``P(S' >= S) <= exp(-S^2 / (2 sum
  x_i^2))`` (Hoeffding's inequality for a sum of random signs). The flag needs that bound at
  most ``alpha / m``: family-wise ``alpha`` with a Bonferroni correction over the ``m`` pairs
  with chips between them. One big pot (a cooler) never passes: its bound is ``e^-1/2``.

Two passes over the same hands: the totals of every pair, then the hands of the flagged pairs
only (so memory follows the pairs, not pairs x hands).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Final, final

import msgspec

from poker.integrity.hands import Pair, SeatedHand, big_blind_of, nearest_chip, pair_flows

# Sums over a pair's hands are kept in millionths of a chip (integers) and big blinds as
# floats: a sum of exact fractions with many denominators grows without bound (a pair with
# 50,000 three-way pots: a 46,000-bit denominator, seconds per pair). Each hand's flow is
# exact (pair_flows); only the sums are rounded, to a millionth of a chip.
MICRO_CHIPS: Final = 1_000_000
FLAGS_MAX: Final = 1_000  # bound: the largest nets are kept, the rest counted (flags_dropped)
HANDS_LISTED_MAX: Final = 500  # bound per flag: the newest are kept (hands_truncated)
DUMPING_FLAG_PREFIX: Final = "dumping"


@final
class DumpingThresholds(msgspec.Struct, frozen=True):
    contested_hands_min: int = 10
    one_way_share_min: float = 0.8
    net_bb_min: int = 50
    alpha: float = 0.01  # family-wise, over the pairs with chips between them

    def __post_init__(self) -> None:
        if self.contested_hands_min < 1:
            raise ValueError("contested_hands_min must be at least 1")
        if not 0.5 <= self.one_way_share_min <= 1:
            raise ValueError("one_way_share_min must be within 0.5 .. 1")
        if self.net_bb_min < 1:
            raise ValueError("net_bb_min must be at least 1")
        if not 0 < self.alpha < 1:
            raise ValueError("alpha must be within (0, 1)")


@final
class DumpingHand(msgspec.Struct, frozen=True):
    """One hand of a flagged pair. ``chips`` and ``bb``: what went from the giver to the
    receiver in it (negative: the other way)."""

    hand_id: str
    table_id: str
    game: str
    ended_at_ms: int
    chips: int
    bb: float
    patterns: tuple[str, ...] = ()


@final
class DumpingFlag(msgspec.Struct, frozen=True):
    flag_id: str  # "dumping:{asset}:{giver}:{receiver}": names the pair and direction forever
    asset: str
    giver: int
    receiver: int
    hands_together: int  # hands both were dealt into
    contested_hands: int  # of them, hands in which chips went between the two
    giver_losing_hands: int  # of those, hands the giver paid the receiver in
    chips_to_receiver: int  # nearest chip of the exact total
    chips_to_giver: int
    bb_to_receiver: float
    bb_to_giver: float
    net_bb: float
    one_way_share: float
    p_value: float  # the Hoeffding bound: at most this likely between equal honest players
    hands: tuple[DumpingHand, ...] = ()
    hands_truncated: bool = False
    pattern_counts: dict[str, int] = {}


@final
class DumpingReport(msgspec.Struct, frozen=True):
    hands_scanned: int
    pairs_with_flows: int  # m
    p_value_max: float  # alpha / m: the Bonferroni threshold the flags passed
    flags: tuple[DumpingFlag, ...]
    flags_dropped: int  # beyond FLAGS_MAX
    thresholds: DumpingThresholds


def dumping_flag_id(asset: str, giver: int, receiver: int) -> str:
    return f"{DUMPING_FLAG_PREFIX}:{asset}:{giver}:{receiver}"


@dataclass(slots=True)
class _PairTotals:
    """Both directions of one pair (low id, high id): ``*_up`` is low -> high."""

    contested: int = 0
    hands_up: int = 0
    hands_down: int = 0
    bb_up: float = 0.0
    bb_down: float = 0.0
    micro_chips_up: int = 0
    micro_chips_down: int = 0
    squares: float = 0.0  # sum of each hand's flow squared, in big blinds


def _pair_flows_bb(hand: SeatedHand) -> dict[Pair, tuple[Fraction, Fraction]]:
    big_blind = big_blind_of(hand.game)
    return {pair: (chips, chips / big_blind) for pair, chips in pair_flows(hand).items()}


def _totals(hands: Sequence[SeatedHand]) -> dict[tuple[str, int, int], _PairTotals]:
    totals: dict[tuple[str, int, int], _PairTotals] = {}
    for hand in hands:
        for (payer, payee), (chips, bb) in _pair_flows_bb(hand).items():
            low, high = min(payer, payee), max(payer, payee)
            entry = totals.get((hand.asset, low, high))
            if entry is None:
                entry = totals[(hand.asset, low, high)] = _PairTotals()
            entry.contested += 1
            flow_bb = float(bb)
            micro = round(chips * MICRO_CHIPS)
            entry.squares += flow_bb**2
            if payer == low:
                entry.hands_up += 1
                entry.bb_up += flow_bb
                entry.micro_chips_up += micro
            else:
                entry.hands_down += 1
                entry.bb_down += flow_bb
                entry.micro_chips_down += micro
    return totals


def sign_test_bound(net: float, squares: float) -> float:
    """``exp(-S^2 / (2 sum x^2))``: Hoeffding's bound on ``P(S' >= S)`` when each hand's
    flow has a random sign; 1 when the net is not positive."""
    if net <= 0 or squares <= 0:
        return 1.0
    return math.exp(-(net**2) / (2 * squares))


def _flag(
    asset: str,
    low: int,
    high: int,
    t: _PairTotals,
    thresholds: DumpingThresholds,
    p_value_max: float,
) -> DumpingFlag | None:
    """The pair's flag (its giver the net payer) if every threshold holds."""
    if t.contested < thresholds.contested_hands_min:
        return None
    up = t.bb_up >= t.bb_down
    giver, receiver = (low, high) if up else (high, low)
    paid, got = (t.bb_up, t.bb_down) if up else (t.bb_down, t.bb_up)
    chips_paid, chips_got = (
        (t.micro_chips_up, t.micro_chips_down) if up else (t.micro_chips_down, t.micro_chips_up)
    )
    net = paid - got
    share = paid / (paid + got) if paid + got else 0.0
    if share < thresholds.one_way_share_min or net < thresholds.net_bb_min:
        return None
    p_value = sign_test_bound(net, t.squares)
    if p_value > p_value_max:
        return None
    return DumpingFlag(
        flag_id=dumping_flag_id(asset, giver, receiver),
        asset=asset,
        giver=giver,
        receiver=receiver,
        hands_together=0,  # the second pass counts them
        contested_hands=t.contested,
        giver_losing_hands=t.hands_up if up else t.hands_down,
        chips_to_receiver=nearest_chip(Fraction(chips_paid, MICRO_CHIPS)),
        chips_to_giver=nearest_chip(Fraction(chips_got, MICRO_CHIPS)),
        bb_to_receiver=round(paid, 2),
        bb_to_giver=round(got, 2),
        net_bb=round(net, 2),
        one_way_share=round(share, 4),
        p_value=p_value,
    )


def find_dumping(
    hands: Sequence[SeatedHand], thresholds: DumpingThresholds | None = None
) -> DumpingReport:
    """Flag the pairs of ``hands`` (any order) that pass ``thresholds``; each flag lists the
    pair's hands with chips between them, newest first. Patterns are added later from the
    hands' histories (:func:`with_patterns`)."""
    thresholds = thresholds or DumpingThresholds()
    totals = _totals(hands)
    p_value_max = thresholds.alpha / max(1, len(totals))
    flags = [
        flag
        for (asset, low, high), entry in totals.items()
        if (flag := _flag(asset, low, high, entry, thresholds, p_value_max)) is not None
    ]
    flags.sort(key=lambda f: (-f.net_bb, f.flag_id))
    dropped = max(0, len(flags) - FLAGS_MAX)
    flags = flags[:FLAGS_MAX]
    return DumpingReport(
        hands_scanned=len(hands),
        pairs_with_flows=len(totals),
        p_value_max=p_value_max,
        flags=tuple(_with_hands(flags, hands)),
        flags_dropped=dropped,
        thresholds=thresholds,
    )


def _with_hands(flags: list[DumpingFlag], hands: Sequence[SeatedHand]) -> list[DumpingFlag]:
    by_pair = {(f.asset, f.giver, f.receiver): f for f in flags}
    together: dict[tuple[str, int, int], int] = dict.fromkeys(by_pair, 0)
    listed: dict[tuple[str, int, int], list[DumpingHand]] = {key: [] for key in by_pair}
    for hand in hands:
        ids = {p.player_id for p in hand.players}
        flows = None
        for asset, giver, receiver in by_pair:
            if asset != hand.asset or giver not in ids or receiver not in ids:
                continue
            together[(asset, giver, receiver)] += 1
            flows = flows if flows is not None else _pair_flows_bb(hand)
            paid = flows.get((giver, receiver))
            got = flows.get((receiver, giver))
            if paid is None and got is None:
                continue
            if paid is not None:
                chips, bb = paid
            else:
                assert got is not None
                chips, bb = -got[0], -got[1]
            listed[(asset, giver, receiver)].append(
                DumpingHand(
                    hand_id=hand.hand_id,
                    table_id=hand.table_id,
                    game=hand.game,
                    ended_at_ms=hand.ended_at_ms,
                    chips=nearest_chip(chips),
                    bb=round(float(bb), 2),
                )
            )
    out = []
    for key, flag in by_pair.items():
        found = sorted(listed[key], key=lambda h: (-h.ended_at_ms, h.hand_id))
        out.append(
            msgspec.structs.replace(
                flag,
                hands_together=together[key],
                hands=tuple(found[:HANDS_LISTED_MAX]),
                hands_truncated=len(found) > HANDS_LISTED_MAX,
            )
        )
    return out


def with_patterns(flag: DumpingFlag, patterns: dict[str, tuple[str, ...]]) -> DumpingFlag:
    """The flag with each listed hand's patterns (by hand id; poker.integrity.patterns) and
    their counts."""
    hands = tuple(
        msgspec.structs.replace(hand, patterns=patterns.get(hand.hand_id, ()))
        for hand in flag.hands
    )
    counts: dict[str, int] = {}
    for hand in hands:
        for name in hand.patterns:
            counts[name] = counts.get(name, 0) + 1
    return msgspec.structs.replace(flag, hands=hands, pattern_counts=dict(sorted(counts.items())))
