"""How a bot chooses its action: pure functions of what the server said is legal.

Sans-IO: no trio, no clock; randomness comes from the caller's seeded ``random.Random`` so a
swarm run with a fixed seed makes the same choices given the same deals.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final, Protocol, final

from protocol.game import ActKind, Legal

RANKS: Final = "23456789TJQKA"


@final
@dataclass(frozen=True, slots=True)
class Decision:
    action: ActKind
    amount: int = 0  # bet_or_raise_to: the street total
    agree: bool = False  # run_it_twice


class Strategy(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def disconnect_chance(self) -> float:
        """Chance, after each of its actions, that the bot cuts its connection and resumes."""
        ...

    def decide(self, legal: Legal, hole_cards: tuple[str, ...], rng: random.Random) -> Decision:
        """A decision the ``legal`` record allows (the server still has the last word)."""
        ...


def _passive(legal: Legal) -> Decision:
    """Check if free, else call if allowed, else fold: always legal when acting is asked."""
    if legal.check or legal.call is not None:
        return Decision("check_or_call")
    if legal.fold:
        return Decision("fold")
    return _showdown_or_default(legal)


def _showdown_or_default(legal: Legal) -> Decision:
    if legal.show:
        return Decision("show")
    if legal.muck:
        return Decision("muck")
    if legal.run_it_twice:
        return Decision("run_it_twice", agree=False)
    return Decision("check_or_call")


def _is_showdown_or_offer(legal: Legal) -> bool:
    betting = legal.fold or legal.check or legal.call is not None or legal.min_raise_to is not None
    return not betting


def _raise_to(legal: Legal, rng: random.Random) -> int | None:
    low, high = legal.min_raise_to, legal.max_raise_to
    if low is None or high is None:
        return None
    # Mostly small raises: a swarm of all-ins would end hands after one street.
    return rng.randint(low, min(high, low * 3))


def hand_score(hole_cards: tuple[str, ...]) -> int:
    """A coarse preflop strength, 0..34: pairs and high cards score higher."""
    ranks = sorted((RANKS.index(card[0]) for card in hole_cards if card[:1] in RANKS), reverse=True)
    if len(ranks) < 2:
        return 0
    best = ranks[0] + ranks[1]
    pair = len(set(ranks)) < len(ranks)
    return best + (10 if pair else 0)


@final
@dataclass(frozen=True, slots=True)
class RandomLegal:
    """Any legal action, uniformly by kind: the widest coverage of the server's paths."""

    name: str = "random"
    disconnect_chance: float = 0.0

    def decide(self, legal: Legal, hole_cards: tuple[str, ...], rng: random.Random) -> Decision:
        if _is_showdown_or_offer(legal):
            choices = [d for ok, d in _offer_choices(legal, rng) if ok]
            return rng.choice(choices) if choices else _showdown_or_default(legal)
        options: list[Decision] = []
        if legal.fold and not legal.check:  # folding when a check is free is legal but silly
            options.append(Decision("fold"))
        if legal.check or legal.call is not None:
            options.append(Decision("check_or_call"))
        raise_to = _raise_to(legal, rng)
        if raise_to is not None:
            options.append(Decision("bet_or_raise_to", amount=raise_to))
        return rng.choice(options) if options else _passive(legal)


def _offer_choices(legal: Legal, rng: random.Random) -> list[tuple[bool, Decision]]:
    return [
        (legal.show, Decision("show")),
        (legal.muck, Decision("muck")),
        (legal.run_it_twice, Decision("run_it_twice", agree=rng.random() < 0.5)),
    ]


@final
@dataclass(frozen=True, slots=True)
class TightAggressive:
    """Plays strong starting cards and bets them; folds the rest when facing a bet."""

    name: str = "tag"
    disconnect_chance: float = 0.0
    score_to_play: int = 18  # a pair of sixes or better, or two cards from king-ten up

    def decide(self, legal: Legal, hole_cards: tuple[str, ...], rng: random.Random) -> Decision:
        if _is_showdown_or_offer(legal):
            return _showdown_or_default(legal)
        strong = hand_score(hole_cards) >= self.score_to_play
        if strong:
            raise_to = _raise_to(legal, rng)
            if raise_to is not None and rng.random() < 0.7:
                return Decision("bet_or_raise_to", amount=raise_to)
            return _passive(legal)
        if legal.check:
            return Decision("check_or_call")
        return Decision("fold") if legal.fold else _passive(legal)


@final
@dataclass(frozen=True, slots=True)
class CallingStation:
    """Never raises, never folds a hand it can continue: long hands, many showdowns."""

    name: str = "station"
    disconnect_chance: float = 0.0

    def decide(self, legal: Legal, hole_cards: tuple[str, ...], rng: random.Random) -> Decision:
        if _is_showdown_or_offer(legal):
            return _showdown_or_default(legal)
        return _passive(legal)


@final
@dataclass(frozen=True, slots=True)
class Flaky:
    """Plays like RandomLegal, and now and then drops its connection to exercise resume."""

    name: str = "flaky"
    disconnect_chance: float = 0.05

    def decide(self, legal: Legal, hole_cards: tuple[str, ...], rng: random.Random) -> Decision:
        return RandomLegal().decide(legal, hole_cards, rng)


STRATEGIES: Final[dict[str, Strategy]] = {
    s.name: s for s in (RandomLegal(), TightAggressive(), CallingStation(), Flaky())
}
# "mix": bots take the strategies in turn (bot i plays MIX_ORDER[i % 4]).
MIX_ORDER: Final = ("random", "tag", "station", "flaky")
STRATEGY_CHOICES: Final = (*STRATEGIES, "mix")


def strategy_for(
    choice: str, bot_index: int, flaky_disconnect_chance: float | None = None
) -> Strategy:
    """The strategy bot ``bot_index`` plays under the command's ``--strategy`` choice."""
    name = MIX_ORDER[bot_index % len(MIX_ORDER)] if choice == "mix" else choice
    if name == "flaky" and flaky_disconnect_chance is not None:
        return Flaky(disconnect_chance=flaky_disconnect_chance)
    return STRATEGIES[name]
