"""Our engine and PHH histories, both ways: random legal play written as PHH, and PHH replay.

``simulate_hand`` plays one hand with random legal actions drawn from an injected
``random.Random`` and returns it as a PHH :class:`~poker.phh.HandHistory` with finishing
stacks. ``replay`` plays a PHH history through our engine and returns the finishing stacks, or
raises :class:`IllegalHistory` naming the first action our engine refuses. Both are pure.

Seats: PHH player ``p{i+1}`` sits in seat ``i`` and the button is the last seat, so the
engine's default blinds (the two seats after the button; heads-up the button posts the small
blind) land on exactly the players PHH (and PokerKit) expect.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Final, final

from poker import phh
from poker.actions import AnyAction, BetOrRaiseTo, CheckOrCall, Fold, LegalActions, Muck, Show
from poker.cards import ALL_CARDS, Deck
from poker.config import AnteMode, HandConfig, Limit, SeatSetup, Variant
from poker.errors import IllegalAction, InvalidSetup
from poker.events import (
    ActionKind,
    AntePosted,
    BlindPosted,
    BoardDealt,
    Event,
    HandMucked,
    HandShown,
    HoleCardsDealt,
    PlayerActed,
    PotAwarded,
)
from poker.hand import Hand

__all__ = [
    "IllegalHistory",
    "ReplayResult",
    "TableSetup",
    "choose_action",
    "config_from_history",
    "engine_actions",
    "history_from_events",
    "history_header",
    "random_setup",
    "replay",
    "seats_for",
    "simulate_hand",
    "simulate_hands",
    "stacked_deck",
]

# Bound on decisions in one simulated hand, so a rules bug that never ends a hand fails loudly
# instead of looping. 10 players x 4 streets x (capped or all-in-bounded raises) stays far
# below it. Policy: raise AssertionError (our bug, not the caller's).
DECISIONS_PER_HAND_MAX: Final = 1_000
# Fixed limit: "a maximum of one bet and four raises in each betting round" (WSOP live rule
# 126). PHH has no field for it; PokerKit allows four raises over the big blind preflop (the
# same) but only a bet and three raises after the flop.
WSOP_RAISES_CAP: Final = 4


@final
class IllegalHistory(phh.PhhError):
    """A PHH history our engine cannot play: names the first action it refuses (and why)."""

    def __init__(self, index: int, action: str, reason: str, events: Sequence[Event] = ()) -> None:
        super().__init__(f"action {index} {action!r}: {reason}")
        self.index = index
        self.action = action
        self.reason = reason
        self.events = tuple(events)  # what the engine did before it refused


@final
@dataclass(frozen=True, slots=True)
class TableSetup:
    """What one simulated hand needs. ``stacks`` in PHH order: p1 (small blind) .. button."""

    config: HandConfig
    stacks: tuple[int, ...]


@final
@dataclass(frozen=True, slots=True)
class ReplayResult:
    finishing_stacks: tuple[int, ...]  # PHH order
    events: tuple[Event, ...]


# ---- PHH fields <-> HandConfig -------------------------------------------------------------


def config_from_history(history: phh.HandHistory) -> HandConfig:
    """Our HandConfig for a PHH hand, or PhhUnsupportedError for forced bets we do not play."""
    variant = Variant(history.variant)
    count = history.player_count
    if max(len(history.blinds_or_straddles), len(history.antes)) > count:
        raise phh.PhhFormatError("more blinds or antes than players")
    blinds = history.blinds_or_straddles + (0,) * (count - len(history.blinds_or_straddles))
    if any(blinds[3:]) or (count == 2 and any(blinds[2:])):
        raise phh.PhhUnsupportedError("only a small blind, a big blind and one straddle")
    straddle = blinds[2] if count > 2 else 0
    antes = history.antes + (0,) * (count - len(history.antes))
    if not any(antes):
        ante, ante_mode = 0, AnteMode.NONE
    elif len(set(antes)) == 1:
        ante, ante_mode = antes[0], AnteMode.EACH
    elif antes[1] and not any(antes[:1] + antes[2:]):
        ante, ante_mode = antes[1], AnteMode.BIG_BLIND
    else:
        raise phh.PhhUnsupportedError("antes must be uniform or a big blind ante")
    try:
        return HandConfig(
            variant=variant,
            raises_cap=_extra_int(history, "_raises_cap", WSOP_RAISES_CAP),
            small_blind=blinds[0],
            big_blind=blinds[1],
            ante=ante,
            ante_mode=ante_mode,
            straddle=straddle,
            small_bet=history.small_bet or 0,
            big_bet=history.big_bet or 0,
            rake_bp=_extra_int(history, "_rake_bp", 0),
            rake_cap=_extra_int(history, "_rake_cap", 0),
            no_flop_no_drop=_extra_int(history, "_no_flop_no_drop", 1) != 0,
        )
    except InvalidSetup as exc:
        raise phh.PhhUnsupportedError(str(exc)) from exc


def seats_for(stacks: Sequence[int]) -> list[SeatSetup]:
    return [SeatSetup(seat=i, player_id=f"p{i + 1}", stack=s) for i, s in enumerate(stacks)]


# ---- random legal play ----------------------------------------------------------------------


def choose_action(legal: LegalActions, rng: random.Random) -> AnyAction:
    """A random legal action, weighted so that hands see every street and showdowns, with
    re-raises and all-ins common but not the rule: facing a bet, fold 25%, raise 20%, call
    55%; otherwise bet 35%, check 65%. A raise is the minimum 55% of the time, up to three
    times it 30%, the maximum (all-in) 15%. At a showdown, a player who may muck does so 20%
    of the time."""
    seat = legal.seat
    if legal.show or legal.muck:
        if legal.show and (not legal.muck or rng.random() < 0.8):
            return Show(seat=seat)
        return Muck(seat=seat)
    roll = rng.random()
    facing_bet = not legal.check
    if facing_bet and legal.fold and roll < 0.25:
        return Fold(seat=seat)
    raise_share = 0.2 if facing_bet else 0.35
    if legal.min_raise_to is not None and legal.max_raise_to is not None and roll > 1 - raise_share:
        low, high = legal.min_raise_to, legal.max_raise_to
        pick = rng.random()
        if pick < 0.55:
            amount = low
        elif pick < 0.85:
            amount = rng.randint(low, max(low, min(high, 3 * low)))
        else:
            amount = high
        return BetOrRaiseTo(seat=seat, amount=amount)
    if legal.check or legal.call is not None:
        return CheckOrCall(seat=seat)
    if legal.fold:
        return Fold(seat=seat)
    raise AssertionError(f"no legal action offered: {legal!r}")


def _action_text(event: PlayerActed) -> str:
    player = f"p{event.seat + 1}"
    match event.action:
        case ActionKind.FOLD:
            return f"{player} f"
        case ActionKind.CHECK | ActionKind.CALL:
            return f"{player} cc"
    return f"{player} cbr {event.bet_to}"


def history_from_events(
    config: HandConfig, stacks: Sequence[int], events: Sequence[Event], finishing: Sequence[int]
) -> phh.HandHistory:
    """The PHH history of a hand our engine played, from its event stream.

    Showdown actions go after the last board card even when our engine tabled all-in hands
    before the run-out (WSOP tournament rule 70): PHH, like PokerKit, has shows only
    at the showdown.
    """
    actions: list[str] = []
    showdown: list[str] = []
    holes: dict[int, tuple[str, ...]] = {}
    decided: set[int] = set()
    winners: list[int] = []
    for event in events:
        match event:
            case HoleCardsDealt(seat=seat, cards=cards):
                holes[seat] = cards
                actions.append(f"d dh p{seat + 1} {''.join(cards)}")
            case PotAwarded(seat=seat) if seat not in winners:
                winners.append(seat)
            case BoardDealt(cards=cards, run=0):
                actions.append(f"d db {''.join(cards)}")
            case PlayerActed():
                actions.append(_action_text(event))
            case HandShown(seat=seat, cards=cards):
                decided.add(seat)
                showdown.append(f"p{seat + 1} sm {''.join(cards)}")
            case HandMucked(seat=seat):
                decided.add(seat)
                showdown.append(f"p{seat + 1} sm")
    if showdown:
        # The last claimant wins without showing once the others muck. PHH has no "won
        # unshown": a reader mucks a player with no show, PokerKit then burns the pot. So the
        # winner's cards are written as shown, as PokerKit writes its own showdowns.
        showdown.extend(
            f"p{seat + 1} sm {''.join(holes[seat])}" for seat in winners if seat not in decided
        )
    return replace(
        history_header(config, stacks),
        actions=tuple(actions + showdown),
        finishing_stacks=tuple(finishing),
    )


def _extra_int(history: phh.HandHistory, name: str, default: int) -> int:
    value = dict(history.extra).get(name, default)
    if isinstance(value, bool):
        return int(value)
    if not isinstance(value, int):
        raise phh.PhhFormatError(f"{name} must be an integer, got {value!r}")
    return value


def _house_fields(config: HandConfig) -> tuple[tuple[str, object], ...]:
    # Rules PHH has no field for, as user-defined fields (PHH's leading underscore), written
    # only when they differ from what a reader assumes: no rake, WSOP's raise cap.
    fields: list[tuple[str, object]] = []
    if config.rake_bp:
        fields += [("_rake_bp", config.rake_bp), ("_rake_cap", config.rake_cap)]
        fields.append(("_no_flop_no_drop", config.no_flop_no_drop))
    if config.variant.limit is Limit.FIXED_LIMIT and config.raises_cap != WSOP_RAISES_CAP:
        fields.append(("_raises_cap", config.raises_cap))
    return tuple(fields)


def history_header(config: HandConfig, stacks: Sequence[int]) -> phh.HandHistory:
    """A PHH history of ``config`` and starting ``stacks``, with no actions yet."""
    count = len(stacks)
    antes = [0] * count
    if config.ante_mode is AnteMode.EACH:
        antes = [config.ante] * count
    elif config.ante_mode is AnteMode.BIG_BLIND:
        antes[1] = config.ante  # index 1 is the big blind's position, heads-up too
    blinds = [0] * count
    blinds[0], blinds[1] = config.small_blind, config.big_blind
    if config.straddle:
        blinds[2] = config.straddle
    fixed = config.variant.limit is Limit.FIXED_LIMIT
    return phh.HandHistory(
        variant=str(config.variant),
        antes=tuple(antes),
        blinds_or_straddles=tuple(blinds),
        min_bet=None if fixed else config.big_blind,
        small_bet=config.small_bet if fixed else None,
        big_bet=config.big_bet if fixed else None,
        # Uniform antes count in each player's contribution (side pots for a short ante); a
        # big blind ante is dead money in the main pot. PokerKit needs the flag to agree.
        ante_trimming_status=config.ante_mode is AnteMode.EACH,
        starting_stacks=tuple(stacks),
        actions=(),
        extra=_house_fields(config),
    )


def simulate_hand(setup: TableSetup, rng: random.Random) -> phh.HandHistory:
    """Play one hand with random legal actions; the PHH history with finishing stacks."""
    count = len(setup.stacks)
    hand = Hand(setup.config, seats_for(setup.stacks), count - 1, Deck.shuffled(rng))
    events = hand.start()
    for _ in range(DECISIONS_PER_HAND_MAX):
        if hand.is_over:
            break
        events += hand.apply(choose_action(hand.legal_actions(), rng))
    else:
        raise AssertionError(f"hand not over after {DECISIONS_PER_HAND_MAX} decisions")
    finishing = [hand.result.stack_of(seat) for seat in range(count)]
    return history_from_events(setup.config, setup.stacks, events, finishing)


def random_setup(
    variant: Variant, players: int, rng: random.Random, *, edge_cases: bool = False
) -> TableSetup:
    """Blinds, antes and stacks for one hand. ``edge_cases`` favours the rare situations:
    stacks shorter than the ante or the blinds, odd blinds that leave odd chips, straddles,
    and several short stacks all-in at once."""
    big_blind = rng.choice([2, 3, 10, 25]) if edge_cases else 2
    small_blind = big_blind // 2 if not edge_cases else rng.choice([big_blind // 2, 1])
    ante_mode = AnteMode.NONE
    ante = 0
    if edge_cases and rng.random() < 0.5:
        ante_mode = rng.choice([AnteMode.EACH, AnteMode.BIG_BLIND])
        ante = (
            rng.choice([1, big_blind // 2 or 1, big_blind])
            if ante_mode is AnteMode.EACH
            else big_blind
        )
    limit = variant.limit
    straddle = 0
    if edge_cases and limit is not Limit.FIXED_LIMIT and players > 2 and rng.random() < 0.15:
        straddle = 2 * big_blind
    config = HandConfig(
        variant=variant,
        raises_cap=WSOP_RAISES_CAP,
        small_blind=small_blind,
        big_blind=big_blind,
        ante=ante,
        ante_mode=ante_mode,
        straddle=straddle,
        small_bet=big_blind if limit is Limit.FIXED_LIMIT else 0,
        big_bet=2 * big_blind if limit is Limit.FIXED_LIMIT else 0,
    )
    stacks = tuple(_random_stack(big_blind, ante, rng, edge_cases) for _ in range(players))
    return TableSetup(config=config, stacks=stacks)


def _random_stack(big_blind: int, ante: int, rng: random.Random, edge_cases: bool) -> int:
    if not edge_cases:
        return 100 * big_blind
    roll = rng.random()
    if roll < 0.15:
        return rng.randint(1, max(1, ante, big_blind))  # shorter than the forced bets
    if roll < 0.4:
        return rng.randint(1, 10 * big_blind)
    return rng.randint(10 * big_blind, 200 * big_blind)


def simulate_hands(
    variant: Variant, players: int, count: int, rng: random.Random, *, edge_cases: bool = False
) -> Iterator[phh.HandHistory]:
    """``count`` independent hands (fresh stacks each), labelled 1..count."""
    for number in range(1, count + 1):
        setup = random_setup(variant, players, rng, edge_cases=edge_cases)
        yield replace(simulate_hand(setup, rng), hand=number)


# ---- replay ---------------------------------------------------------------------------------


def stacked_deck(config: HandConfig, history: phh.HandHistory) -> Deck:
    """The deck that makes our engine deal exactly the cards the history shows.

    ``Deck.for_deal`` knows the engine's dealing order and burns. Hole cards the history does
    not know (``??``) are filled with unused cards, lowest first, so replay is deterministic.
    """
    count = history.player_count
    holes: list[list[str]] = [[] for _ in range(count)]
    board: list[str] = []
    for text in history.actions:
        action = phh.parse_action(text)
        if isinstance(action, phh.DealHole):
            if not 0 <= action.player < count:
                raise phh.PhhFormatError(f"no such player in {text!r}")
            holes[action.player].extend(action.cards)
        elif isinstance(action, phh.DealBoard):
            board.extend(action.cards)
    per_player = config.variant.hole_cards
    for player, cards in enumerate(holes):
        if len(cards) > per_player:
            raise phh.PhhFormatError(f"p{player + 1} dealt {len(cards)} hole cards")
        cards.extend([phh.UNKNOWN_CARD] * (per_player - len(cards)))
    if len(board) > 5 or phh.UNKNOWN_CARD in board:
        raise phh.PhhFormatError(f"board must be at most 5 known cards: {board}")
    known = [c for c in (*(c for h in holes for c in h), *board) if c != phh.UNKNOWN_CARD]
    phh.validate_cards(known)
    used = set(known)
    spare = iter(card.code for card in ALL_CARDS if card.code not in used)
    filled = [[next(spare) if c == phh.UNKNOWN_CARD else c for c in cards] for cards in holes]
    # Seat i is player p{i+1} and the button is the last seat (see seats_for).
    order = Hand.dealing_order(range(count), count - 1)
    return Deck.for_deal(["".join(filled[seat]) for seat in order], "".join(board))


def _to_engine(action: phh.PhhAction, text: str, index: int) -> AnyAction | None:
    match action:
        case phh.Fold(player):
            return Fold(seat=player)
        case phh.CheckOrCall(player):
            return CheckOrCall(seat=player)
        case phh.CompleteBetOrRaiseTo(player, amount):
            return BetOrRaiseTo(seat=player, amount=amount)
        case phh.ShowOrMuck(player, None):
            return Muck(seat=player)
        case phh.ShowOrMuck(player, _):
            return Show(seat=player)
        case phh.DealHole() | phh.DealBoard() | phh.NoOperation():
            return None
    raise IllegalHistory(index, text, "not an action our engine plays")


def engine_actions(history: phh.HandHistory) -> list[AnyAction]:
    """The history's player actions as our engine's action records, in history order."""
    records = []
    for index, text in enumerate(history.actions):
        record = _to_engine(phh.parse_action(text), text, index)
        if record is not None:
            records.append(record)
    return records


def replay(history: phh.HandHistory) -> ReplayResult:
    """Play a PHH history through our engine.

    Showdown: our engine asks players in WSOP order; a ``sm`` action is matched to the
    player asked, wherever it stands among the history's remaining showdown actions, and a
    player the history never shows is shown (a hand that reaches showdown is tabled).
    """
    config = config_from_history(history)
    count = history.player_count
    hand = Hand(
        config, seats_for(history.starting_stacks), count - 1, stacked_deck(config, history)
    )
    events: list[Event] = list(hand.start())
    pending: list[tuple[int, str, AnyAction]] = []
    for index, text in enumerate(history.actions):
        engine_action = _to_engine(phh.parse_action(text), text, index)
        if engine_action is not None:
            pending.append((index, text, engine_action))
    while pending or not hand.is_over:
        if hand.is_over:
            betting = [entry for entry in pending if not isinstance(entry[2], Show | Muck)]
            silent = _all_in_or_folded(events)
            for index, text, action in betting:
                # PokerKit offers the big blind a check that no opponent can answer (all of
                # them all-in); our engine ends the betting there. Such a check moves no
                # chips, so it is accepted; any other action after the end is refused.
                others = set(range(count)) - {action.seat}
                if not (isinstance(action, CheckOrCall) and others <= silent):
                    raise IllegalHistory(index, text, "the hand is already over", events)
            break  # showdown actions for hands our engine tabled by itself (all-in)
        legal = hand.legal_actions()
        if legal.show or legal.muck:
            index, text, action = _showdown_choice(legal, pending)
        else:
            index, text, action = _betting_choice(legal, pending, len(history.actions))
        try:
            events += hand.apply(action)
        except IllegalAction as exc:
            raise IllegalHistory(index, text, f"{exc.code}: {exc}", events) from None
    stacks = tuple(hand.result.stack_of(seat) for seat in range(count))
    return ReplayResult(finishing_stacks=stacks, events=tuple(events))


def _all_in_or_folded(events: Sequence[Event]) -> set[int]:
    seats: set[int] = set()
    for event in events:
        match event:
            case AntePosted(seat=seat, all_in=True) | BlindPosted(seat=seat, all_in=True):
                seats.add(seat)
            case (
                PlayerActed(seat=seat, all_in=True) | PlayerActed(seat=seat, action=ActionKind.FOLD)
            ):
                seats.add(seat)
    return seats


def _betting_choice(
    legal: LegalActions, pending: list[tuple[int, str, AnyAction]], end: int
) -> tuple[int, str, AnyAction]:
    # Shows recorded before the board ran out (PokerKit writes all-in shows early) wait for
    # the showdown; the next betting action is the first one that is not a show or muck.
    for position, entry in enumerate(pending):
        if not isinstance(entry[2], Show | Muck):
            del pending[position]
            return entry
    raise IllegalHistory(end, "", f"the history ends before p{legal.seat + 1} acts")


def _showdown_choice(
    legal: LegalActions, pending: list[tuple[int, str, AnyAction]]
) -> tuple[int, str, AnyAction]:
    for position, (index, text, action) in enumerate(pending):
        if isinstance(action, Show | Muck) and action.seat == legal.seat:
            del pending[position]
            return index, text, action
    default: AnyAction = Show(seat=legal.seat) if legal.show else Muck(seat=legal.seat)
    return -1, f"p{legal.seat + 1} sm -", default
