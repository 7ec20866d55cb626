"""PHH hand histories: read and write the Poker Hand History format as PokerKit writes it.

A ``.phh`` file is one TOML document describing one hand; a ``.phhs`` file holds many, each
under its own table (``[1]``, ``[2]``, ...). This module turns that text into a neutral,
frozen :class:`HandHistory` and back, and parses action strings into typed records. It knows
nothing about our engine (``poker.simulate`` bridges the two), and it does no I/O: callers
hand it text and take text back.

PHH player order is positional, as in PokerKit: ``p1`` is the first player after the button
(the small blind), the last player is the button. Heads-up, ``p1`` is the big blind and ``p2``
the button, who posts the small blind (PokerKit reverses the blind list for two players).

Only integer amounts are accepted: chips are integers everywhere in Tablium, so a history
with decimal or infinite amounts is rejected as unsupported rather than rounded.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final, final

__all__ = [
    "ACTIONS_PER_HAND_MAX",
    "PLAYERS_MAX",
    "CheckOrCall",
    "CompleteBetOrRaiseTo",
    "DealBoard",
    "DealHole",
    "Fold",
    "HandHistory",
    "NoOperation",
    "PhhAction",
    "PhhError",
    "PhhFormatError",
    "PhhUnsupportedError",
    "ShowOrMuck",
    "dumps",
    "dumps_all",
    "format_action",
    "loads",
    "loads_all",
    "parse_action",
    "split_cards",
    "validate_cards",
]

# Bound on one hand's action list. A real hand of 10 players with every street capped has a
# few hundred actions; a longer list is a malformed or hostile file. Policy: reject the hand.
ACTIONS_PER_HAND_MAX: Final = 2_000
# PHH allows any player count; our tables seat at most 10. Policy: reject as unsupported.
PLAYERS_MAX: Final = 10
UNKNOWN_CARD: Final = "??"

# Variant codes and the fields each needs besides the common ones. NT/FT/PO are the PHH spec's
# codes (PokerKit plays them); PT and PO/8 are our extensions, written in the same shape.
_BET_SIZE_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "NT": ("min_bet",),
    "PT": ("min_bet",),
    "PO": ("min_bet",),
    "PO/8": ("min_bet",),
    "FT": ("small_bet", "big_bet"),
}

# Field order when writing, the order PokerKit writes them in (its dataclass order).
_KNOWN_FIELDS: Final = (
    "variant",
    "ante_trimming_status",
    "antes",
    "blinds_or_straddles",
    "small_bet",
    "big_bet",
    "min_bet",
    "starting_stacks",
    "actions",
    "event",
    "hand",
    "seats",
    "seat_count",
    "table",
    "players",
    "finishing_stacks",
)


class PhhError(ValueError):
    """Base of the errors about a hand history given to us (the caller's input is at fault)."""


@final
class PhhFormatError(PhhError):
    """The text is not a well-formed PHH hand history."""


@final
class PhhUnsupportedError(PhhError):
    """A well-formed history that Tablium cannot play (variant, decimal chips, > 10 players)."""


@final
@dataclass(frozen=True, slots=True)
class HandHistory:
    """One hand in PHH terms. Lists are indexed by PHH player (``p1`` is index 0).

    ``extra`` keeps every field this model does not name (``author``, ``venue``, ``_custom``,
    ...) verbatim, so reading then writing a history loses nothing that matters.
    """

    variant: str
    antes: tuple[int, ...]
    blinds_or_straddles: tuple[int, ...]
    starting_stacks: tuple[int, ...]
    actions: tuple[str, ...]
    min_bet: int | None = None
    small_bet: int | None = None
    big_bet: int | None = None
    ante_trimming_status: bool = False
    event: str | None = None
    hand: int | str | None = None
    seats: tuple[int, ...] | None = None
    seat_count: int | None = None
    table: int | str | None = None
    players: tuple[str, ...] | None = None
    finishing_stacks: tuple[int, ...] | None = None
    extra: tuple[tuple[str, object], ...] = field(default=())

    @property
    def player_count(self) -> int:
        return len(self.starting_stacks)


# ---- typed action records -------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True)
class DealHole:
    """``d dh p1 AcKd``: hole cards to one player; ``??`` stands for a card nobody saw."""

    player: int
    cards: tuple[str, ...]


@final
@dataclass(frozen=True, slots=True)
class DealBoard:
    """``d db 7h8h9h``: board cards (three on the flop, one on turn and river)."""

    cards: tuple[str, ...]


@final
@dataclass(frozen=True, slots=True)
class Fold:
    player: int


@final
@dataclass(frozen=True, slots=True)
class CheckOrCall:
    player: int


@final
@dataclass(frozen=True, slots=True)
class CompleteBetOrRaiseTo:
    """``p1 cbr 300``: the player's bet this street becomes ``amount`` in total."""

    player: int
    amount: int


@final
@dataclass(frozen=True, slots=True)
class ShowOrMuck:
    """``p1 sm AcKd`` shows, ``p1 sm`` mucks, ``p1 sm -`` shows cards not recorded."""

    player: int
    cards: tuple[str, ...] | None


@final
@dataclass(frozen=True, slots=True)
class NoOperation:
    """An empty action or a comment alone (``# time out``)."""


PhhAction = (
    DealHole | DealBoard | Fold | CheckOrCall | CompleteBetOrRaiseTo | ShowOrMuck | NoOperation
)

_CARD_RE: Final = re.compile(r"(?:[2-9TJQKA][cdhs]|\?\?)")
_CARDS_RE: Final = re.compile(r"(?:(?:[2-9TJQKA][cdhs]|\?\?))+")
_PLAYER_RE: Final = re.compile(r"p([1-9][0-9]?)")


def split_cards(text: str, action: str = "") -> tuple[str, ...]:
    """``"AcKd"`` -> ``("Ac", "Kd")``; raises PhhFormatError on anything else."""
    if not _CARDS_RE.fullmatch(text):
        where = f" in action {action!r}" if action else ""
        raise PhhFormatError(f"not a card list{where}: {text!r}")
    return tuple(_CARD_RE.findall(text))


def _player(text: str, action: str) -> int:
    match = _PLAYER_RE.fullmatch(text)
    if match is None:
        raise PhhFormatError(f"not a player label in action {action!r}: {text!r}")
    return int(match.group(1)) - 1


def _amount(text: str, action: str) -> int:
    if re.fullmatch(r"[0-9]+", text):
        return int(text)
    if re.fullmatch(r"[0-9]*\.[0-9]+|inf", text):
        raise PhhUnsupportedError(f"non-integer amount in action {action!r}")
    raise PhhFormatError(f"not an amount in action {action!r}: {text!r}")


def parse_action(action: str) -> PhhAction:
    """Parse one PHH action string (a trailing ``# comment`` is ignored)."""
    words = action.split("#", 1)[0].split()
    match words:
        case []:
            return NoOperation()
        case ["d", "dh", player, cards]:
            return DealHole(_player(player, action), split_cards(cards, action))
        case ["d", "db", cards]:
            return DealBoard(split_cards(cards, action))
        case [player, "f"]:
            return Fold(_player(player, action))
        case [player, "cc"]:
            return CheckOrCall(_player(player, action))
        case [player, "cbr", amount]:
            return CompleteBetOrRaiseTo(_player(player, action), _amount(amount, action))
        case [player, "sm"]:
            return ShowOrMuck(_player(player, action), None)
        case [player, "sm", "-"]:
            return ShowOrMuck(_player(player, action), ())
        case [player, "sm", cards]:
            return ShowOrMuck(_player(player, action), split_cards(cards, action))
        case [_, "sd", *_] | [_, "pb"]:
            raise PhhUnsupportedError(f"draw and stud actions are not played here: {action!r}")
    raise PhhFormatError(f"not a PHH action: {action!r}")


def format_action(action: PhhAction) -> str:
    """The PHH string of a typed action; ``parse_action(format_action(a)) == a``."""
    match action:
        case DealHole(player, cards):
            return f"d dh p{player + 1} {''.join(cards)}"
        case DealBoard(cards):
            return f"d db {''.join(cards)}"
        case Fold(player):
            return f"p{player + 1} f"
        case CheckOrCall(player):
            return f"p{player + 1} cc"
        case CompleteBetOrRaiseTo(player, amount):
            return f"p{player + 1} cbr {amount}"
        case ShowOrMuck(player, None):
            return f"p{player + 1} sm"
        case ShowOrMuck(player, ()):
            return f"p{player + 1} sm -"
        case ShowOrMuck(player, cards):
            assert cards is not None
            return f"p{player + 1} sm {''.join(cards)}"
        case NoOperation():
            return ""
    raise AssertionError(f"unknown action record {action!r}")


# ---- reading --------------------------------------------------------------------------------


def _int(value: object, name: str) -> int:
    # bool is an int subclass in Python; a PHH ``true`` where a number belongs is malformed.
    if isinstance(value, bool):
        raise PhhFormatError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        raise PhhUnsupportedError(f"{name} is not an integer ({value!r}); chips are integers")
    raise PhhFormatError(f"{name} must be an integer, got {value!r}")


def _ints(value: object, name: str) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise PhhFormatError(f"{name} must be a list of integers")
    return tuple(_int(item, f"{name}[{index}]") for index, item in enumerate(value))


def _optional_int(raw: Mapping[str, object], name: str) -> int | None:
    return None if raw.get(name) is None else _int(raw[name], name)


def _label(raw: Mapping[str, object], name: str) -> int | str | None:
    value = raw.get(name)
    if value is None or (isinstance(value, int | str) and not isinstance(value, bool)):
        return value
    raise PhhFormatError(f"{name} must be an integer or a string")


def _from_table(raw: Mapping[str, object]) -> HandHistory:
    variant = raw.get("variant")
    if not isinstance(variant, str):
        raise PhhFormatError("missing field 'variant'")
    if variant not in _BET_SIZE_FIELDS:
        raise PhhUnsupportedError(f"variant {variant!r} is not played here")
    for name in ("antes", "blinds_or_straddles", "starting_stacks", "actions"):
        if name not in raw:
            raise PhhFormatError(f"missing field {name!r}")
    for name in _BET_SIZE_FIELDS[variant]:
        if raw.get(name) is None:
            raise PhhFormatError(f"variant {variant} needs field {name!r}")
    stacks = _ints(raw["starting_stacks"], "starting_stacks")
    count = len(stacks)
    if count < 2:
        raise PhhFormatError("a hand needs at least two players")
    if count > PLAYERS_MAX:
        raise PhhUnsupportedError(f"{count} players; tables seat at most {PLAYERS_MAX}")
    antes = _per_player(raw["antes"], "antes", count)
    blinds = _per_player(raw["blinds_or_straddles"], "blinds_or_straddles", count)
    actions = raw["actions"]
    if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
        raise PhhFormatError("actions must be a list of strings")
    if len(actions) > ACTIONS_PER_HAND_MAX:
        raise PhhFormatError(f"more than {ACTIONS_PER_HAND_MAX} actions in one hand")
    for action in actions:
        parse_action(action)  # fail at load time, naming the action, not halfway through play
    finishing = raw.get("finishing_stacks")
    players = raw.get("players")
    if players is not None and (
        not isinstance(players, list) or not all(isinstance(p, str) for p in players)
    ):
        raise PhhFormatError("players must be a list of strings")
    seats = raw.get("seats")
    event = raw.get("event")
    extra = tuple((k, v) for k, v in raw.items() if k not in _KNOWN_FIELDS)
    return HandHistory(
        variant=variant,
        antes=antes,
        blinds_or_straddles=blinds,
        starting_stacks=stacks,
        actions=tuple(actions),
        min_bet=_optional_int(raw, "min_bet"),
        small_bet=_optional_int(raw, "small_bet"),
        big_bet=_optional_int(raw, "big_bet"),
        ante_trimming_status=_flag(raw.get("ante_trimming_status", False)),
        event=event if isinstance(event, str) else None,
        hand=_label(raw, "hand"),
        seats=None if seats is None else _ints(seats, "seats"),
        seat_count=_optional_int(raw, "seat_count"),
        table=_label(raw, "table"),
        players=None if players is None else tuple(players),
        finishing_stacks=None if finishing is None else _ints(finishing, "finishing_stacks"),
        extra=extra,
    )


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise PhhFormatError(f"ante_trimming_status must be true or false, got {value!r}")
    return value


def _per_player(value: object, name: str, count: int) -> tuple[int, ...]:
    # PHH lets a uniform value be written once (``antes = 5``) or a list shorter than the
    # table (trailing zeros left out); PokerKit accepts both, so do we.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (_int(value, name),) * count
    values = _ints(value, name)
    if len(values) > count:
        raise PhhFormatError(f"{name} has {len(values)} entries for {count} players")
    return values + (0,) * (count - len(values))


def _toml(text: str) -> dict[str, object]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PhhFormatError(f"not TOML: {exc}") from exc


def loads(text: str) -> HandHistory:
    """Read one ``.phh`` hand."""
    return _from_table(_toml(text))


def loads_all(text: str) -> list[HandHistory]:
    """Read a ``.phhs`` file (tables ``[1]``, ``[2]``, ...); a lone ``.phh`` hand also works.

    A hand without its own ``hand`` field takes its table name as its label.
    """
    document = _toml(text)
    if "variant" in document:
        return [_from_table(document)]
    hands: list[HandHistory] = []
    for name, table in document.items():
        if not isinstance(table, dict):
            raise PhhFormatError(f"top-level key {name!r} is not a hand table")
        hand = _from_table(table)
        if hand.hand is None:
            hand = _with_label(hand, name)
        hands.append(hand)
    return hands


def _with_label(hand: HandHistory, name: str) -> HandHistory:
    return replace(hand, hand=int(name) if name.isdigit() else name)


# ---- writing --------------------------------------------------------------------------------


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # A literal string when possible (what PokerKit writes); else a basic string, whose
        # escapes are JSON's for everything json.dumps emits.
        if "'" not in value and "\n" not in value and "\\" not in value:
            return f"'{value}'"
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    if isinstance(value, float):
        return repr(value)
    # datetime values from ``time = 12:00:00`` and the like round-trip through str().
    return str(value)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def dumps(hand: HandHistory) -> str:
    """Write one hand as ``.phh`` text (readable by PokerKit for NT, FT and PO)."""
    values: dict[str, object] = {
        "variant": hand.variant,
        "ante_trimming_status": hand.ante_trimming_status,
        "antes": hand.antes,
        "blinds_or_straddles": hand.blinds_or_straddles,
        "small_bet": hand.small_bet,
        "big_bet": hand.big_bet,
        "min_bet": hand.min_bet,
        "starting_stacks": hand.starting_stacks,
        "actions": hand.actions,
        "event": hand.event,
        "hand": hand.hand,
        "seats": hand.seats,
        "seat_count": hand.seat_count,
        "table": hand.table,
        "players": hand.players,
        "finishing_stacks": hand.finishing_stacks,
    }
    values.update(hand.extra)
    lines = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in values.items() if v is not None]
    return "\n".join(lines) + "\n"


def dumps_all(hands: Iterable[HandHistory]) -> str:
    """Write many hands as one ``.phhs`` text, tables ``[1]``, ``[2]``, ..."""
    return "\n".join(f"[{index}]\n{dumps(hand)}" for index, hand in enumerate(hands, 1))


def validate_cards(cards: Sequence[str]) -> None:
    """Raise PhhFormatError if a known card appears twice (``??`` may repeat)."""
    seen: set[str] = set()
    for card in cards:
        if card == UNKNOWN_CARD:
            continue
        if card in seen:
            raise PhhFormatError(f"card {card} dealt twice")
        seen.add(card)
