"""Hand histories: one row per finished hand (PHH text plus summary columns).

Queryable by table and by player (through ``hand_players``), newest first, paged by ``seq``
(the insertion order, which is also the order hands ended in on one table). A stored hand is
served to people through ``hand_text`` / ``hand_phh``, which take the viewer: staff see every
card, a player only their own and the hands shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import final

import msgspec

from persistence.work import Query, QueryMany, Row, Work
from poker import phh
from poker.text_history import Viewer, history_for, text_from_history
from protocol.hands import HANDS_PAGE_MAX as HANDS_PAGE_MAX  # larger pages are clamped
from protocol.limits import SEATS_MAX

PHH_CHARS_MAX = 1_000_000  # bound: a longer history is a bug; refused (ValueError)
HAND_PLAYERS_MAX = SEATS_MAX  # a table seats at most this many


@final
class HandPlayer(msgspec.Struct, frozen=True):
    player_id: int
    seat: int
    net: int  # chips won (positive) or lost (negative) in this hand, rake already taken
    # Her share of the hand's rake (poker/rake_shares.py); the shares of a hand sum to its
    # rake. Rakeback and player statistics count it (hand_players.rake_paid).
    rake_paid: int = 0


@final
class HandRecord(msgspec.Struct, frozen=True):
    hand_id: str
    table_id: str
    game: str  # e.g. "NLHE 1/2"
    started_at_ms: int
    ended_at_ms: int
    pot_total: int
    rake: int
    players: tuple[HandPlayer, ...]
    phh: str
    seq: int = 0  # assigned by the store
    asset: str = "chips"  # the table's: "chips" (real money) or "play"


@final
class HandSummary(msgspec.Struct, frozen=True):
    """A hand without its PHH text, for lists."""

    seq: int
    hand_id: str
    table_id: str
    game: str
    started_at_ms: int
    ended_at_ms: int
    pot_total: int
    rake: int
    players: tuple[HandPlayer, ...]
    asset: str = "chips"


@final
class RakePaid(msgspec.Struct, frozen=True):
    """What one player paid in rake over a period (rakeback, statistics)."""

    player_id: int
    asset: str
    hands: int  # hands she was dealt into that ended in the period
    raked_hands: int  # of them, hands she paid rake in
    rake_paid: int


def hand_phh(hand: HandRecord, viewer: Viewer) -> str:
    """The hand's PHH as ``viewer`` may read it: staff get it as stored; a player gets ``??``
    for every card of another player that was not shown at the table."""
    if viewer.is_staff:
        return hand.phh
    return phh.dumps(history_for(phh.loads(hand.phh), viewer=viewer))


def hand_text(
    hand: HandRecord, viewer: Viewer, display_names: Mapping[int, str] | None = None
) -> str:
    """The hand as a PokerStars-style text history for ``viewer`` (poker/text_history.py):
    the table's name, size and seat numbers; staff see every card, a player their own and
    the hands shown; players named by ``display_names`` (player id -> name) where given.
    Raises phh.PhhError for a hand our engine cannot replay."""
    names = {str(k): v for k, v in (display_names or {}).items()}
    return text_from_history(phh.loads(hand.phh), viewer=viewer, display_names=names)


_players_encoder = msgspec.json.Encoder()
_players_decoder = msgspec.json.Decoder(tuple[HandPlayer, ...])
_SUMMARY = (
    "seq, hand_id, table_id, game, started_at_ms, ended_at_ms, pot_total, rake, players, asset"
)


def _summary(row: Row) -> HandSummary:
    return HandSummary(
        seq=int(row[0]), hand_id=row[1], table_id=row[2], game=row[3],
        started_at_ms=int(row[4]), ended_at_ms=int(row[5]), pot_total=int(row[6]),
        rake=int(row[7]), players=_players_decoder.decode(row[8]), asset=row[9],
    )  # fmt: skip


def _page_size(limit: int) -> int:
    return max(1, min(limit, HANDS_PAGE_MAX))


def save_hand(hand: HandRecord) -> Work[bool]:
    """Store a finished hand; False if a hand with this id is already stored (a retry)."""
    if len(hand.phh) > PHH_CHARS_MAX:
        raise ValueError(f"hand {hand.hand_id!r}: PHH longer than {PHH_CHARS_MAX} characters")
    if len(hand.players) > HAND_PLAYERS_MAX:
        raise ValueError(f"hand {hand.hand_id!r}: more than {HAND_PLAYERS_MAX} players")
    paid = [p.rake_paid for p in hand.players]
    # The shares sum to the rake, or were not computed (all 0: a table that does not compute
    # them yet). Anything else is a bug in the caller.
    if min(paid, default=0) < 0 or (any(paid) and sum(paid) != hand.rake):
        raise ValueError(f"hand {hand.hand_id!r}: rake shares {paid} do not sum to {hand.rake}")
    rows = yield Query(
        "INSERT INTO hand_histories (hand_id, table_id, game, started_at_ms, ended_at_ms,"
        " pot_total, rake, players, phh, asset)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " ON CONFLICT (hand_id) DO NOTHING RETURNING seq",
        (
            hand.hand_id, hand.table_id, hand.game, hand.started_at_ms, hand.ended_at_ms,
            hand.pot_total, hand.rake, _players_encoder.encode(hand.players).decode(), hand.phh,
            hand.asset,
        ),
    )  # fmt: skip
    if not rows:
        return False
    seq = int(rows[0][0])
    if hand.players:
        yield QueryMany(
            "INSERT INTO hand_players (player_id, hand_seq, rake_paid) VALUES ($1, $2, $3)",
            [(p.player_id, seq, p.rake_paid) for p in hand.players],
        )
    return True


def get_hand(hand_id: str) -> Work[HandRecord | None]:
    rows = yield Query(f"SELECT {_SUMMARY}, phh FROM hand_histories WHERE hand_id = $1", (hand_id,))
    if not rows:
        return None
    s = _summary(rows[0])
    return HandRecord(
        hand_id=s.hand_id, table_id=s.table_id, game=s.game, started_at_ms=s.started_at_ms,
        ended_at_ms=s.ended_at_ms, pot_total=s.pot_total, rake=s.rake, players=s.players,
        phh=rows[0][10], seq=s.seq, asset=s.asset,
    )  # fmt: skip


def hands_by_table(table_id: str, before_seq: int | None, limit: int) -> Work[list[HandSummary]]:
    rows = yield Query(
        f"SELECT {_SUMMARY} FROM hand_histories WHERE table_id = $1 AND seq < $2"
        f" ORDER BY seq DESC LIMIT {_page_size(limit)}",
        (table_id, before_seq if before_seq is not None else 2**62),
    )
    return [_summary(row) for row in rows]


def hands_by_player(player_id: int, before_seq: int | None, limit: int) -> Work[list[HandSummary]]:
    cols = ", ".join(f"h.{c.strip()}" for c in _SUMMARY.split(","))
    rows = yield Query(
        f"SELECT {cols} FROM hand_players p JOIN hand_histories h ON h.seq = p.hand_seq"
        f" WHERE p.player_id = $1 AND p.hand_seq < $2"
        f" ORDER BY p.hand_seq DESC LIMIT {_page_size(limit)}",
        (player_id, before_seq if before_seq is not None else 2**62),
    )
    return [_summary(row) for row in rows]


def rake_paid(player_id: int, from_ms: int, to_ms: int, asset: str) -> Work[RakePaid]:
    """What the player paid in rake in hands of ``asset`` that ended in [from_ms, to_ms)."""
    rows = yield Query(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN p.rake_paid > 0 THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM(p.rake_paid), 0) FROM hand_players p"
        " JOIN hand_histories h ON h.seq = p.hand_seq"
        " WHERE p.player_id = $1 AND h.asset = $2 AND h.ended_at_ms >= $3 AND h.ended_at_ms < $4",
        (player_id, asset, from_ms, to_ms),
    )
    hands, raked, paid = rows[0]
    return RakePaid(player_id, asset, int(hands), int(raked), int(paid))
