"""PokerStars-style text hand histories, for people to read (support staff, players).

The text is built from a hand's event stream, so it says what the engine did (amounts,
all-ins, uncalled bets, pots and who won them), not what a client claimed. It is written for a
:class:`Viewer`: staff get the house's complete record (every dealt hand, and the cards of
each mucked hand in the summary); a player gets what they saw at the table: their own cards
and the hands shown at the showdown, never another player's folded or mucked hand. Seats are
the table's own numbers and the header names the table and its size. Pure: returns a string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final, final

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

__all__ = ["Viewer", "format_text_history", "history_for", "text_from_history"]

TABLE_NAME_FIELD: Final = "_table_name"  # PHH user field our tables write: the table's name
DEFAULT_TABLE_NAME: Final = "Tablium"


@final
@dataclass(frozen=True, slots=True)
class Viewer:
    """Who a history is written for. Staff (``player`` None) see every card dealt; a player
    sees their own cards and the hands shown at the showdown, never another player's folded
    or mucked hand. ``player``: their entry in the hand's player ids (the PHH ``players``;
    our tables write player ids there)."""

    player: str | None

    @classmethod
    def staff(cls) -> Viewer:
        return cls(None)

    @classmethod
    def of_player(cls, player_id: int | str) -> Viewer:
        return cls(str(player_id))

    @property
    def is_staff(self) -> bool:
        return self.player is None

    def sees_hole_cards_of(self, player: str) -> bool:
        """Whether this viewer may see ``player``'s cards when they were not shown."""
        return self.player is None or self.player == player


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
    viewer: Viewer,
    table_name: str = DEFAULT_TABLE_NAME,
    max_seats: int | None = None,
    seat_numbers: Mapping[int, int] | None = None,
    names: Mapping[int, str] | None = None,
    started_at: str | None = None,
) -> str:
    """The PokerStars-style history of one finished hand, as ``viewer`` may read it.
    ``seats``' player ids say whose cards are whose (``Viewer.player``); ``names`` by seat
    are printed instead of them. ``seat_numbers``: the number people know each seat by (the
    default: the seat index + 1); ``max_seats``: the table's size (the default: the players
    dealt in)."""
    player_of = {s.seat: s.player_id for s in seats}
    name_of = player_of | dict(names or {})
    numbers = dict(seat_numbers or {})

    def number(seat: int) -> int:
        return numbers.get(seat, seat + 1)

    def sees(seat: int) -> bool:
        return viewer.sees_hole_cards_of(player_of[seat])

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
    holes: dict[int, tuple[str, ...]] = {}
    for event in events:
        match event:
            case HandStarted(button=button, small_blind_seat=sb, big_blind_seat=bb):
                roles[button] = "button"
                if sb is not None:
                    roles[sb] = "small blind"
                roles[bb] = "big blind"
                size = max_seats or len(seats)
                lines.append(
                    f"Table '{table_name}' {size}-max Seat #{number(button)} is the button"
                )
                in_seat_order = sorted(zip(event.seats, event.stacks, strict=True),
                                       key=lambda pair: number(pair[0]))  # fmt: skip
                for seat, stack in in_seat_order:
                    lines.append(f"Seat {number(seat)}: {name_of[seat]} ({stack} in chips)")
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
                holes[seat] = cards
                if sees(seat):
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
    for setup in sorted(seats, key=lambda s: number(s.seat)):
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
            outcome = f"mucked {_cards(holes[seat])}" if sees(seat) and seat in holes else "mucked"
        elif seat in won:
            outcome = f"collected ({won[seat]})"
        else:
            outcome = "did not win"
        lines.append(f"Seat {number(seat)}: {name_of[seat]}{role} {outcome}")
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


def text_from_history(
    history: phh.HandHistory,
    *,
    viewer: Viewer,
    display_names: Mapping[str, str] | None = None,
) -> str:
    """Replay a PHH hand through our engine and write it as text for ``viewer``: players
    from ``players`` (who the viewer is), seats from ``seats`` and the table's size from
    ``seat_count`` when the history has them, its name from ``_table_name`` (else
    ``table``). ``display_names``: player id -> the name to print (players' display names;
    an id without one prints as itself)."""
    from poker.simulate import config_from_history, replay, seats_for

    result = replay(history)
    seats = seats_for(history.starting_stacks)
    if history.players:
        seats = [
            SeatSetup(seat=s.seat, player_id=player, stack=s.stack)
            for s, player in zip(seats, history.players, strict=True)
        ]
    extra = dict(history.extra)
    name = extra.get(TABLE_NAME_FIELD, history.table)
    return format_text_history(
        config_from_history(history),
        seats,
        result.events,
        hand_id=history.hand if history.hand is not None else 0,
        viewer=viewer,
        table_name=str(name) if name is not None else DEFAULT_TABLE_NAME,
        max_seats=history.seat_count,
        seat_numbers=dict(enumerate(history.seats)) if history.seats else None,
        names={s.seat: display_names[s.player_id] for s in seats if s.player_id in display_names}
        if display_names
        else None,
    )


def history_for(history: phh.HandHistory, *, viewer: Viewer) -> phh.HandHistory:
    """The PHH hand as ``viewer`` may read it: staff get it whole; a player gets ``??`` for
    every card of another player that was not shown at the table (folded and mucked hands,
    and a winner's hand that nobody called to see, which PHH can only write as shown). Whose
    cards were shown comes from replaying the hand; a hand our engine cannot replay keeps
    only the viewer's own cards (never more than they saw)."""
    if viewer.is_staff:
        return history
    from poker.simulate import replay

    count = history.player_count
    players = history.players or tuple(f"p{i + 1}" for i in range(count))
    try:
        shown = {e.seat for e in replay(history).events if isinstance(e, HandShown)}
    except phh.PhhError:
        shown = set()
    hidden = {
        i for i in range(count) if i not in shown and not viewer.sees_hole_cards_of(players[i])
    }
    actions: list[str] = []
    for text in history.actions:
        action = phh.parse_action(text)
        match action:
            case phh.DealHole(player=player, cards=cards) if player in hidden:
                text = phh.format_action(phh.DealHole(player, (phh.UNKNOWN_CARD,) * len(cards)))
            case phh.ShowOrMuck(player=player, cards=cards) if player in hidden and cards:
                text = phh.format_action(phh.ShowOrMuck(player, (phh.UNKNOWN_CARD,) * len(cards)))
            case _:
                pass
        actions.append(text)
    return replace(history, actions=tuple(actions))
