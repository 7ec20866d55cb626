"""PokerStars-style text hand histories, for people to read (support staff, players).

The text is built from a hand's event stream, so it says what the engine did (amounts,
all-ins, uncalled bets, pots and who won them), not what a client claimed. Unlike a
PokerStars history written for one player, every dealt hand is listed: this is the house's
complete record. Pure: returns a string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from poker import phh
from poker.config import HandConfig, Limit, SeatSetup, Variant
from poker.events import (
    ActionKind,
    AntePosted,
    BlindKind,
    BlindPosted,
    BoardDealt,
    Event,
    HandEnded,
    HandMucked,
    HandShown,
    HandStarted,
    HoleCardsDealt,
    PlayerActed,
    PotAwarded,
    PotShare,
    RakeTaken,
    Street,
    UncalledBetReturned,
)

__all__ = ["format_text_history", "text_from_history"]

_GAME_NAMES: Final[Mapping[Variant, str]] = {
    Variant.NO_LIMIT_HOLDEM: "Hold'em No Limit",
    Variant.FIXED_LIMIT_HOLDEM: "Hold'em Limit",
    Variant.POT_LIMIT_HOLDEM: "Hold'em Pot Limit",
    Variant.POT_LIMIT_OMAHA: "Omaha Pot Limit",
    Variant.POT_LIMIT_OMAHA_HI_LO: "Omaha Hi/Lo Pot Limit",
}
_BLIND_WORDS: Final[Mapping[BlindKind, str]] = {
    BlindKind.SMALL: "posts small blind",
    BlindKind.BIG: "posts big blind",
    BlindKind.STRADDLE: "posts straddle",
    BlindKind.POSTED_BIG: "posts big blind",
    BlindKind.DEAD_SMALL: "posts dead small blind",
}
_STREET_TITLES: Final[Mapping[Street, str]] = {
    Street.FLOP: "FLOP",
    Street.TURN: "TURN",
    Street.RIVER: "RIVER",
}
_STREET_NAMES: Final[Mapping[Street, str]] = {
    Street.PREFLOP: "before Flop",
    Street.FLOP: "on the Flop",
    Street.TURN: "on the Turn",
    Street.RIVER: "on the River",
}


def _cards(cards: Sequence[str]) -> str:
    return "[" + " ".join(cards) + "]"


def _pot_name(index: int, pot_count: int) -> str:
    if pot_count <= 1:
        return "pot"
    return "main pot" if index == 0 else f"side pot-{index}"


def format_text_history(
    config: HandConfig,
    seats: Sequence[SeatSetup],
    events: Sequence[Event],
    *,
    hand_id: str | int,
    table_name: str = "Tablium",
    names: Mapping[int, str] | None = None,
    started_at: str | None = None,
) -> str:
    """The PokerStars-style history of one finished hand. ``names`` by seat (default the
    seats' player ids); seats are printed 1-based, as people count them."""
    name_of = {s.seat: s.player_id for s in seats} | dict(names or {})
    stakes = (
        f"{config.small_bet}/{config.big_bet}"
        if config.variant.limit is Limit.FIXED_LIMIT
        else f"{config.small_blind}/{config.big_blind}"
    )
    when = f" - {started_at}" if started_at else ""
    lines = [f"Tablium Hand #{hand_id}: {_GAME_NAMES[config.variant]} ({stakes}){when}"]
    roles: dict[int, str] = {}
    board: list[list[str]] = [[], []]
    street = Street.PREFLOP
    street_high = 0
    folded_on: dict[int, Street] = {}
    shown: dict[int, tuple[str, ...]] = {}
    mucked: set[int] = set()
    won: dict[int, int] = {}
    won_with: dict[int, str] = {}
    pot_totals: dict[int, int] = {}
    rake = 0
    saw_showdown = False
    hole_section = False
    for event in events:
        match event:
            case HandStarted(button=button, small_blind_seat=sb, big_blind_seat=bb):
                roles[button] = "button"
                if sb is not None:
                    roles[sb] = "small blind"
                roles[bb] = "big blind"
                lines.append(
                    f"Table '{table_name}' {len(seats)}-max Seat #{button + 1} is the button"
                )
                for seat, stack in zip(event.seats, event.stacks, strict=True):
                    lines.append(f"Seat {seat + 1}: {name_of[seat]} ({stack} in chips)")
            case AntePosted(seat=seat, amount=amount, all_in=all_in):
                lines.append(f"{name_of[seat]}: posts the ante {amount}{_all_in(all_in)}")
            case BlindPosted(seat=seat, kind=kind, amount=amount, all_in=all_in):
                if kind is not BlindKind.DEAD_SMALL:
                    street_high = max(street_high, amount)
                lines.append(f"{name_of[seat]}: {_BLIND_WORDS[kind]} {amount}{_all_in(all_in)}")
            case HoleCardsDealt(seat=seat, cards=cards):
                if not hole_section:
                    lines.append("*** HOLE CARDS ***")
                    hole_section = True
                lines.append(f"Dealt to {name_of[seat]} {_cards(cards)}")
            case BoardDealt(street=new_street, cards=cards, run=run):
                street, street_high = new_street, 0
                earlier = board[run][:]
                board[run].extend(cards)
                title = _STREET_TITLES[new_street]
                if run == 1:
                    title = f"SECOND {title}"
                shown_before = f" {_cards(earlier)}" if earlier else ""
                lines.append(f"*** {title} ***{shown_before} {_cards(cards)}")
            case PlayerActed(seat=seat, action=kind, amount=amount, bet_to=bet_to):
                lines.append(
                    f"{name_of[seat]}: {_action(kind, amount, bet_to, street_high)}"
                    f"{_all_in(event.all_in)}"
                )
                if kind is ActionKind.FOLD:
                    folded_on[seat] = street
                street_high = max(street_high, bet_to)
            case UncalledBetReturned(seat=seat, amount=amount):
                lines.append(f"Uncalled bet ({amount}) returned to {name_of[seat]}")
            case HandShown(seat=seat, cards=cards):
                if not saw_showdown:
                    lines.append("*** SHOW DOWN ***")
                    saw_showdown = True
                shown[seat] = cards
                lines.append(f"{name_of[seat]}: shows {_cards(cards)}")
            case HandMucked(seat=seat):
                if not saw_showdown:
                    lines.append("*** SHOW DOWN ***")
                    saw_showdown = True
                mucked.add(seat)
                lines.append(f"{name_of[seat]}: mucks hand")
            case RakeTaken(amount=amount):
                rake += amount
            case PotAwarded(pot_index=index, seat=seat, amount=amount, share=share):
                pot_totals[index] = pot_totals.get(index, 0) + amount
                won[seat] = won.get(seat, 0) + amount
                if event.hand:
                    won_with[seat] = event.hand
                part = "" if share is PotShare.WHOLE else f" ({share.value})"
                lines.append(f"{name_of[seat]} collected {amount} from {{pot:{index}}}{part}")
            case HandEnded():
                pass
    pot_count = len(pot_totals)
    lines = [_name_pots(line, pot_count) for line in lines]
    total = sum(pot_totals.values()) + rake
    lines.append("*** SUMMARY ***")
    if pot_count > 1:
        parts = " ".join(
            f"{_pot_name(i, pot_count).capitalize()} {pot_totals[i]}." for i in sorted(pot_totals)
        )
        lines.append(f"Total pot {total} {parts} | Rake {rake}")
    else:
        lines.append(f"Total pot {total} | Rake {rake}")
    if board[0]:
        lines.append(f"Board {_cards(board[0])}")
    if board[1]:
        lines.append(f"Second board {_cards(board[1])}")
    for setup in sorted(seats, key=lambda s: s.seat):
        seat = setup.seat
        role = f" ({roles[seat]})" if seat in roles else ""
        if seat in folded_on:
            outcome = f"folded {_STREET_NAMES[folded_on[seat]]}"
        elif seat in shown:
            shown_text = _cards(shown[seat])
            with_text = f" with {won_with[seat]}" if seat in won_with else ""
            outcome = (
                f"showed {shown_text} and won ({won[seat]}){with_text}"
                if seat in won
                else f"showed {shown_text} and lost"
            )
        elif seat in mucked:
            outcome = "mucked"
        elif seat in won:
            outcome = f"collected ({won[seat]})"
        else:
            outcome = "did not win"
        lines.append(f"Seat {seat + 1}: {name_of[seat]}{role} {outcome}")
    return "\n".join(lines) + "\n"


def _name_pots(line: str, pot_count: int) -> str:
    if "{pot:" not in line:
        return line
    head, _, rest = line.partition("{pot:")
    index, _, tail = rest.partition("}")
    return f"{head}{_pot_name(int(index), pot_count)}{tail}"


def _all_in(all_in: bool) -> str:
    return " and is all-in" if all_in else ""


def _action(kind: ActionKind, amount: int, bet_to: int, street_high: int) -> str:
    match kind:
        case ActionKind.FOLD:
            return "folds"
        case ActionKind.CHECK:
            return "checks"
        case ActionKind.CALL:
            return f"calls {amount}"
        case ActionKind.BET:
            return f"bets {bet_to}"
    return f"raises {bet_to - street_high} to {bet_to}"


def text_from_history(history: phh.HandHistory) -> str:
    """Replay a PHH hand through our engine and write it as text (names from ``players``)."""
    from poker.simulate import config_from_history, replay, seats_for

    result = replay(history)
    names = dict(enumerate(history.players)) if history.players else None
    return format_text_history(
        config_from_history(history),
        seats_for(history.starting_stacks),
        result.events,
        hand_id=history.hand if history.hand is not None else 0,
        names=names,
    )
