"""Player statistics from finished hands, as tracking software counts them (docs/players.md).

``hand_facts`` reads one finished hand (its PHH history and each player's net and rake share)
and returns, per player, one :class:`StatCounters` worth of that hand: every statistic is a
count or a sum, so a player's figures are the sum of her hands' facts. Adding is associative
and commutative, which is what makes the incremental figures (one hand at a time, in any
order, each exactly once) equal to a rebuild from the stored histories.

Streets: *preflop* is every player action before the first board card; *postflop* is every
action after it. The forced bets (antes, blinds, straddles) are not actions: posting one is
never voluntary, never a raise.

Pure: no I/O, no clock; the store applies what this returns (persistence/players.py). One
memo: a table that writes a history hands its parsed form over (``remember_written``), and
``hand_facts`` of that very text takes it instead of parsing the text back (a tomllib parse of
about 0.3 ms a hand on the store's thread); the facts are the same
(tests/players/test_stats_written.py).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, final

import msgspec

from poker import phh

GAME_CHARS_MAX: Final = 32
# Bound: histories written and not yet counted, kept in their parsed form (a few KB each);
# past it the oldest is dropped, and its hand is counted from its text like any other.
WRITTEN_KEPT_MAX: Final = 1_024

# text -> its history. Written on the event loop's thread, taken on the store's: pop,
# popitem and item assignment are each one call, whole under the interpreter's lock.
_written: OrderedDict[str, phh.HandHistory] = OrderedDict()


def remember_written(text: str, history: phh.HandHistory) -> None:
    """``text`` is ``phh.dumps(history)``, about to be stored: the first ``hand_facts`` of
    it uses ``history`` instead of parsing the text back."""
    _written[text] = history
    while len(_written) > WRITTEN_KEPT_MAX:
        _written.popitem(last=False)


class StatsInputError(ValueError):
    """A hand record the statistics cannot read (its PHH, its players): the caller's bug."""


@final
class StakeKey(msgspec.Struct, frozen=True, order=True):
    """What statistics are kept per: the asset (``chips`` real money, ``play``), the game
    type (the PHH variant code: ``NT``, ``PO``, ...) and the stake (``"1/2"``: blinds)."""

    asset: str
    game: str
    stake: str

    @property
    def big_blind(self) -> int:
        return int(self.stake.rsplit("/", 1)[1])


def stake_key(game: str, asset: str) -> StakeKey:
    """``"NT 1/2"`` (HandRecord.game) and the asset -> the key."""
    parts = game.split(" ")
    if len(game) > GAME_CHARS_MAX or len(parts) != 2:
        raise StatsInputError(f"not a game: {game!r}")
    variant, stake = parts
    blinds = stake.split("/")
    if len(blinds) != 2 or not all(b.isdigit() for b in blinds) or int(blinds[1]) < 1:
        raise StatsInputError(f"not a stake: {game!r}")
    return StakeKey(asset=asset, game=variant, stake=stake)


@final
class StatCounters(msgspec.Struct, frozen=True):
    """Counts and sums over a set of hands. Every field adds (see ``plus``)."""

    hands: int = 0  # hands dealt in
    vpip_hands: int = 0  # put chips in voluntarily preflop (a call or a raise)
    pfr_hands: int = 0  # raised preflop
    three_bet_chances: int = 0  # faced exactly one raise preflop with a decision to make
    three_bet_hands: int = 0  # ... and re-raised it
    postflop_bets_raises: int = 0  # bets and raises on the flop, turn and river
    postflop_calls: int = 0  # calls on the flop, turn and river (checks are not calls)
    saw_flop_hands: int = 0  # had not folded when the first board card was dealt
    showdown_hands: int = 0  # went to showdown: saw the flop, did not fold, hand not won
    #                          uncontested
    showdown_won_hands: int = 0  # went to showdown and collected chips from a pot
    won_hands: int = 0  # ended the hand with more chips than she started with
    net_won: int = 0  # chips won minus chips lost (after rake)
    rake_paid: int = 0  # her share of the rake (poker/rake_shares.py)
    big_blinds_won_centi: int = 0  # sum of net_won / big blind x 100, per hand (bb/100)

    def plus(self, other: StatCounters) -> StatCounters:
        return StatCounters(
            *(getattr(self, f) + getattr(other, f) for f in STAT_FIELDS)  # fields in order
        )


STAT_FIELDS: Final[tuple[str, ...]] = StatCounters.__struct_fields__


@final
class StatFigures(msgspec.Struct, frozen=True):
    """The percentages and rates derived from counters; None where the denominator is 0."""

    hands: int
    vpip_pct: float | None
    pfr_pct: float | None
    three_bet_pct: float | None
    aggression_factor: float | None
    went_to_showdown_pct: float | None
    won_at_showdown_pct: float | None
    net_won: int
    bb_per_100: float | None
    rake_paid: int


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def figures(c: StatCounters) -> StatFigures:
    return StatFigures(
        hands=c.hands,
        vpip_pct=_pct(c.vpip_hands, c.hands),
        pfr_pct=_pct(c.pfr_hands, c.hands),
        three_bet_pct=_pct(c.three_bet_hands, c.three_bet_chances),
        aggression_factor=(
            round(c.postflop_bets_raises / c.postflop_calls, 2) if c.postflop_calls else None
        ),
        went_to_showdown_pct=_pct(c.showdown_hands, c.saw_flop_hands),
        won_at_showdown_pct=_pct(c.showdown_won_hands, c.showdown_hands),
        net_won=c.net_won,
        # big_blinds_won_centi is in hundredths of a big blind: / hands = bb per 100 hands.
        bb_per_100=round(c.big_blinds_won_centi / c.hands, 2) if c.hands else None,
        rake_paid=c.rake_paid,
    )


@final
@dataclass(frozen=True, slots=True)
class SeatOutcome:
    """What the hand record says of one player besides the PHH: her net and rake share."""

    player_id: int
    net: int
    rake_paid: int


@final
@dataclass(frozen=True, slots=True)
class FinishedHand:
    """One stored hand, as the statistics read it (from persistence's HandRecord)."""

    hand_id: str
    game: str
    asset: str
    ended_at_ms: int
    phh_text: str
    outcomes: tuple[SeatOutcome, ...]


@final
@dataclass(frozen=True, slots=True)
class PlayerHandFacts:
    player_id: int
    key: StakeKey
    counters: StatCounters
    ended_at_ms: int


def _second_highest(values: Sequence[int]) -> int:
    ordered = sorted(values, reverse=True)
    return ordered[1] if len(ordered) > 1 else 0


def hand_facts(hand: FinishedHand) -> list[PlayerHandFacts]:
    """One hand's counters for each player dealt in (PHH position order)."""
    written = _written.pop(hand.phh_text, None)
    if written is not None:
        return facts_from_history(hand, written)
    try:
        history = phh.loads(hand.phh_text)
    except phh.PhhError as exc:
        raise StatsInputError(f"hand {hand.hand_id!r}: {exc}") from exc
    return facts_from_history(hand, history)


def facts_from_history(hand: FinishedHand, history: phh.HandHistory) -> list[PlayerHandFacts]:
    key = stake_key(hand.game, hand.asset)
    count = history.player_count
    if history.players is None or len(history.players) != count:
        raise StatsInputError(f"hand {hand.hand_id!r}: PHH without its players")
    try:
        ids = [int(name) for name in history.players]
    except ValueError as exc:
        raise StatsInputError(f"hand {hand.hand_id!r}: players are not ids") from exc
    outcome_of: Mapping[int, SeatOutcome] = {o.player_id: o for o in hand.outcomes}
    if sorted(outcome_of) != sorted(ids):
        raise StatsInputError(f"hand {hand.hand_id!r}: PHH players differ from the record's")

    stacks = list(history.starting_stacks)
    antes = [0] * count
    bets = [0] * count  # this street's chips per player (blinds count preflop)
    blinds = history.blinds_or_straddles
    # The engine's order (poker/forced_bets.py): antes paid by everyone (PHH's ante trimming
    # on) before the blinds; a big-blind ante after its blind.
    antes_first = history.ante_trimming_status
    for p in range(count):
        # Heads-up, PHH (as PokerKit) lists the forced bets reversed: p1 is the big blind.
        forced = 1 - p if count == 2 else p
        ante = history.antes[forced] if forced < len(history.antes) else 0
        blind = abs(blinds[forced]) if forced < len(blinds) else 0
        if antes_first:
            antes[p] = min(ante, stacks[p])
            stacks[p] -= antes[p]
        bets[p] = min(blind, stacks[p])
        stacks[p] -= bets[p]
        if not antes_first:
            antes[p] = min(ante, stacks[p])
            stacks[p] -= antes[p]
    live = [0] * count  # chips in the pots besides antes: the uncalled part goes back
    # The amount to call preflop is the full big blind even when its poster was all-in for
    # less (the engine's rule, as the WSOP's); a straddle counts for what was posted.
    high = max([*bets, *(abs(b) for b in history.blinds_or_straddles[:2])], default=0)
    preflop = True
    raises = 0  # raises over the forced bets this street (preflop: an open raise is 1)
    folded = [False] * count
    vpip = [False] * count
    pfr = [False] * count
    chance = [False] * count
    three_bet = [False] * count
    bets_raises = [0] * count
    calls = [0] * count
    saw_flop = [False] * count

    for text in history.actions:
        try:
            action = phh.parse_action(text)
        except phh.PhhError as exc:
            raise StatsInputError(f"hand {hand.hand_id!r}: {exc}") from exc
        match action:
            case phh.DealBoard():
                if preflop:
                    preflop = False
                    saw_flop = [not f for f in folded]
                for p in range(count):
                    live[p] += bets[p]
                bets = [0] * count
                high = 0
                raises = 0
            case phh.Fold(player=p):
                _check_player(hand, p, count)
                if preflop and raises == 1 and not chance[p] and not pfr[p]:
                    chance[p] = True  # folding to an open raise is a 3-bet chance not taken
                folded[p] = True
            case phh.CheckOrCall(player=p):
                _check_player(hand, p, count)
                owed = min(high - bets[p], stacks[p])
                if preflop and raises == 1 and not chance[p] and not pfr[p]:
                    chance[p] = True
                if owed > 0:
                    if preflop:
                        vpip[p] = True
                    else:
                        calls[p] += 1
                bets[p] += owed
                stacks[p] -= owed
            case phh.CompleteBetOrRaiseTo(player=p, amount=amount):
                _check_player(hand, p, count)
                added = min(max(amount - bets[p], 0), stacks[p])
                if preflop:
                    if raises == 1 and not chance[p] and not pfr[p]:
                        chance[p] = True
                        three_bet[p] = True
                    vpip[p] = True
                    pfr[p] = True
                else:
                    bets_raises[p] += 1
                bets[p] += added
                stacks[p] -= added
                high = max(high, bets[p])
                raises += 1
            case _:
                pass
    for p in range(count):
        live[p] += bets[p]
    unfolded = [p for p in range(count) if not folded[p]]
    showdown = len(unfolded) > 1
    cap = _second_highest(live)

    facts: list[PlayerHandFacts] = []
    for p, player_id in enumerate(ids):
        outcome = outcome_of[player_id]
        went = showdown and not folded[p] and saw_flop[p]
        # What she took from the pots: her net plus what she put in (antes, and her live
        # chips up to what the others matched; the rest came back uncalled).
        collected = outcome.net + antes[p] + min(live[p], cap)
        counters = StatCounters(
            hands=1,
            vpip_hands=int(vpip[p]),
            pfr_hands=int(pfr[p]),
            three_bet_chances=int(chance[p]),
            three_bet_hands=int(three_bet[p]),
            postflop_bets_raises=bets_raises[p],
            postflop_calls=calls[p],
            saw_flop_hands=int(saw_flop[p]),
            showdown_hands=int(went),
            showdown_won_hands=int(went and collected > 0),
            won_hands=int(outcome.net > 0),
            net_won=outcome.net,
            rake_paid=outcome.rake_paid,
            big_blinds_won_centi=_centi_big_blinds(outcome.net, key.big_blind),
        )
        facts.append(PlayerHandFacts(player_id, key, counters, hand.ended_at_ms))
    return facts


def _centi_big_blinds(net: int, big_blind: int) -> int:
    """Hundredths of a big blind, rounded toward zero (so a rebuild rounds alike)."""
    scaled = abs(net) * 100 // big_blind
    return scaled if net >= 0 else -scaled


def _check_player(hand: FinishedHand, p: int, count: int) -> None:
    if not 0 <= p < count:
        raise StatsInputError(f"hand {hand.hand_id!r}: action by unknown player p{p + 1}")


def rebuild(hands: Sequence[FinishedHand]) -> dict[tuple[int, StakeKey], StatCounters]:
    """Every player's counters from scratch, each hand counted once (by hand id)."""
    totals: dict[tuple[int, StakeKey], StatCounters] = {}
    seen: set[str] = set()
    for hand in hands:
        if hand.hand_id in seen:
            continue
        seen.add(hand.hand_id)
        for fact in hand_facts(hand):
            slot = (fact.player_id, fact.key)
            totals[slot] = totals.get(slot, StatCounters()).plus(fact.counters)
    return totals


# --- tournaments ----------------------------------------------------------------------------


@final
class TournamentCounters(msgspec.Struct, frozen=True):
    """A player's tournament record per asset. ROI = (prizes - buy-ins) / buy-ins, where a
    buy-in includes its fee; in the money % = cashes / entries; best finish: lowest place."""

    entries: int = 0
    cashes: int = 0
    buy_ins_paid: int = 0  # buy-ins plus fees, re-entries included
    prizes_won: int = 0
    best_finish: int | None = None  # 1 = won; None: never finished one
    points: int = 0  # tournament points (players/leaderboards.py: tournament_points)


@final
@dataclass(frozen=True, slots=True)
class TournamentResult:
    """One player's finished tournament entry."""

    tournament_id: str
    player_id: int
    asset: str
    entrants: int
    place: int  # 1 = winner
    buy_in_paid: int
    prize: int
    finished_at_ms: int


def add_tournament(
    c: TournamentCounters, result: TournamentResult, points: int
) -> TournamentCounters:
    best = result.place if c.best_finish is None else min(c.best_finish, result.place)
    return TournamentCounters(
        entries=c.entries + 1,
        cashes=c.cashes + int(result.prize > 0),
        buy_ins_paid=c.buy_ins_paid + result.buy_in_paid,
        prizes_won=c.prizes_won + result.prize,
        best_finish=best,
        points=c.points + points,
    )


@final
class TournamentFigures(msgspec.Struct, frozen=True):
    entries: int
    in_the_money_pct: float | None
    roi_pct: float | None
    best_finish: int | None
    prizes_won: int
    points: int


def tournament_figures(c: TournamentCounters) -> TournamentFigures:
    roi = (
        round(100 * (c.prizes_won - c.buy_ins_paid) / c.buy_ins_paid, 2) if c.buy_ins_paid else None
    )
    return TournamentFigures(
        entries=c.entries,
        in_the_money_pct=_pct(c.cashes, c.entries),
        roi_pct=roi,
        best_finish=c.best_finish,
        prizes_won=c.prizes_won,
        points=c.points,
    )
