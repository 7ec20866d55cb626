"""Table rules against the usual abuses, pure: ratholing, and two players of one address at
one table. The table actor asks these before it seats a player; a refusal is a typed error
whose ``code`` the table sends as its error frame (protocol/game.py GAME_ERROR_CODES), and
nothing changes. No I/O, no clock: the caller passes the time. See docs/integrity.md.

Ratholing: a player who leaves a cash table with a big stack and comes back soon with a small
one "rat-holes" the difference. A player who leaves a cash table and returns to it within
``window_ms`` must buy in for at least the stack she left with (and may bring that much even
when it is over the table's maximum). Tournament tables have no buy-ins: the rule is off.

One address per table: two sessions from the same address cannot sit at the same table (a
player with two accounts, or two players sharing a screen), except players staff named
together (a household) or an address staff allowed (an office or campus network behind one
NAT). IPv6 addresses compare by their /64 network (one subscriber's prefix); IPv4-mapped
IPv6 addresses as their IPv4 address; an unknown address never conflicts.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import ClassVar, Final, final

import msgspec

from poker.errors import PokerError

RATHOLE_WINDOW_MS_DEFAULT: Final = 60 * 60 * 1000  # one hour, as most online rooms
RATHOLE_WINDOW_MS_MAX: Final = 24 * 60 * 60 * 1000  # a setting above a day is refused
LEAVERS_MAX: Final = 1_000  # bound per table: the oldest departure is forgotten first
ADDRESS_EXCEPTIONS_MAX: Final = 1_000  # bound on staff's named exceptions per rule
IPV6_PREFIX_BITS: Final = 64


class TableRuleRefused(PokerError):
    """A table rule refuses a seat or a buy-in (the player's request; nothing changed)."""

    code: ClassVar[str] = "table_rule_refused"


@final
class RatholeBuyInTooSmall(TableRuleRefused):
    """``minimum``: the least buy-in allowed; ``until_ms``: when the rule stops applying."""

    code = "rathole_buy_in_too_small"

    def __init__(self, minimum: int, until_ms: int) -> None:
        super().__init__(
            f"you left this table with {minimum} chips: buy in for at least {minimum}"
            f" until {until_ms} (ms since the epoch)"
        )
        self.minimum = minimum
        self.until_ms = until_ms


@final
class SameAddressAtTable(TableRuleRefused):
    """Another player at the table plays from the same address (``player_id``: who)."""

    code = "same_address_at_table"

    def __init__(self, player_id: int) -> None:
        super().__init__("another player at this table connects from your address")
        self.player_id = player_id


# ---- ratholing -------------------------------------------------------------------------------


@final
class RatholeRule(msgspec.Struct, frozen=True):
    enabled: bool = True
    window_ms: int = RATHOLE_WINDOW_MS_DEFAULT

    def __post_init__(self) -> None:
        if not 0 < self.window_ms <= RATHOLE_WINDOW_MS_MAX:
            raise ValueError(f"window_ms must be within 1 .. {RATHOLE_WINDOW_MS_MAX}")


RATHOLE_DEFAULT: Final = RatholeRule()


@final
class Departure(msgspec.Struct, frozen=True):
    """A player left the table with ``stack`` chips at ``left_at_ms``."""

    player_id: int
    stack: int
    left_at_ms: int


@final
class BuyInRange(msgspec.Struct, frozen=True):
    minimum: int
    maximum: int
    rathole_until_ms: int | None = None  # set when the rule raised the minimum


def rathole_minimum(
    departure: Departure | None, now_ms: int, rule: RatholeRule = RATHOLE_DEFAULT
) -> int:
    """The least a returning player must buy in for under the rule: the stack she left with,
    if she left within the window; 0 when the rule does not apply."""
    if departure is None or not rule.enabled:
        return 0
    if now_ms - departure.left_at_ms >= rule.window_ms:
        return 0
    return departure.stack


def buy_in_range(
    table_min: int,
    table_max: int,
    departure: Departure | None,
    now_ms: int,
    rule: RatholeRule = RATHOLE_DEFAULT,
) -> BuyInRange:
    """The buy-ins a (returning) player may make: the table's range, its minimum raised to
    the stack she left with inside the window, and its maximum too when that stack was over
    it (she may bring back what she took away, never less)."""
    owed = rathole_minimum(departure, now_ms, rule)
    if owed <= table_min or departure is None:
        return BuyInRange(table_min, table_max)
    return BuyInRange(
        minimum=owed,
        maximum=max(table_max, owed),
        rathole_until_ms=departure.left_at_ms + rule.window_ms,
    )


def verify_rathole_buy_in(
    amount: int,
    table_min: int,
    table_max: int,
    departure: Departure | None,
    now_ms: int,
    rule: RatholeRule = RATHOLE_DEFAULT,
) -> None:
    """Raise RatholeBuyInTooSmall when the rule refuses ``amount``. The table's own range is
    the table's check (``buy_in_out_of_range``); this one refuses only what the rule adds."""
    allowed = buy_in_range(table_min, table_max, departure, now_ms, rule)
    if allowed.rathole_until_ms is not None and amount < allowed.minimum:
        raise RatholeBuyInTooSmall(allowed.minimum, allowed.rathole_until_ms)


def can_buy_in(
    amount: int,
    table_min: int,
    table_max: int,
    departure: Departure | None,
    now_ms: int,
    rule: RatholeRule = RATHOLE_DEFAULT,
) -> bool:
    allowed = buy_in_range(table_min, table_max, departure, now_ms, rule)
    return allowed.minimum <= amount <= allowed.maximum


def remember_departure(
    departures: Mapping[int, Departure], departure: Departure, now_ms: int, rule: RatholeRule
) -> dict[int, Departure]:
    """The table's departures after one more: expired ones dropped, at most LEAVERS_MAX kept
    (overflow: the oldest is forgotten; a rat-holer then escapes, nobody is wrongly held).
    A departure with no chips is not kept (nothing to rat-hole)."""
    kept = {
        player: d
        for player, d in departures.items()
        if now_ms - d.left_at_ms < rule.window_ms and player != departure.player_id
    }
    if departure.stack > 0:
        kept[departure.player_id] = departure
    if len(kept) > LEAVERS_MAX:
        oldest = sorted(kept.values(), key=lambda d: (d.left_at_ms, d.player_id))
        for gone in oldest[: len(kept) - LEAVERS_MAX]:
            del kept[gone.player_id]
    return kept


# ---- one address per table ---------------------------------------------------------------------


@final
class AddressRule(msgspec.Struct, frozen=True):
    enabled: bool = True
    # Staff's named exceptions: players allowed to sit together from one address (a
    # household), and addresses or networks anyone may share (CIDR, e.g. "203.0.113.0/24").
    allowed_groups: tuple[frozenset[int], ...] = ()
    allowed_networks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.allowed_groups) + len(self.allowed_networks) > ADDRESS_EXCEPTIONS_MAX:
            raise ValueError(f"at most {ADDRESS_EXCEPTIONS_MAX} exceptions")
        for network in self.allowed_networks:
            ipaddress.ip_network(network, strict=False)  # ValueError when malformed


ADDRESS_DEFAULT: Final = AddressRule()


@final
class SeatedSession(msgspec.Struct, frozen=True):
    player_id: int
    address: str | None  # the session's client address (server/handshake.py); None: unknown


def address_key(address: str | None) -> str | None:
    """What two addresses are compared by: an IPv4 address, an IPv6 /64 network; None for
    an unknown or malformed address (which never conflicts)."""
    if not address:
        return None
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_PREFIX_BITS}", strict=False))
    return str(parsed)


def _allowed(address: str, rule: AddressRule) -> bool:
    """Whether the address itself (not its /64: ``::1`` is loopback, ``::`` is not) lies in
    one of staff's allowed networks. ``address`` is one ``address_key`` could read."""
    parsed = ipaddress.ip_address(address.strip())
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return any(parsed in ipaddress.ip_network(n, strict=False) for n in rule.allowed_networks)


def address_conflict(
    joining: SeatedSession, seated: Iterable[SeatedSession], rule: AddressRule = ADDRESS_DEFAULT
) -> SeatedSession | None:
    """The seated session that shares ``joining``'s address, or None when the rule allows
    the seat (off, unknown address, an allowed network, a named group, the same player)."""
    if not rule.enabled:
        return None
    key = address_key(joining.address)
    if key is None or joining.address is None or _allowed(joining.address, rule):
        return None
    for other in seated:
        if other.player_id == joining.player_id or address_key(other.address) != key:
            continue
        if any({joining.player_id, other.player_id} <= group for group in rule.allowed_groups):
            continue
        return other
    return None


def verify_address(
    joining: SeatedSession, seated: Iterable[SeatedSession], rule: AddressRule = ADDRESS_DEFAULT
) -> None:
    """Raise SameAddressAtTable when the rule refuses the seat."""
    other = address_conflict(joining, seated, rule)
    if other is not None:
        raise SameAddressAtTable(other.player_id)
