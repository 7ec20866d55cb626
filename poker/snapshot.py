"""Hand snapshots: the whole state as msgpack, restored exactly.

A hand actor stores one after every decision; a restarted actor resumes from it. Cards are
stored by index, the deck with its full order and position, so the future is the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import msgspec

from poker.cards import ALL_CARDS, Deck
from poker.config import PLAYERS_MAX, PLAYERS_MIN, HandConfig, ReturningPost
from poker.errors import SnapshotInvalid
from poker.phases import Phase
from poker.showdown import PotResult

if TYPE_CHECKING:
    from poker.hand import Hand

SNAPSHOT_VERSION: Final = 1


class HandState(msgspec.Struct, array_like=True):
    """Every field of ``Hand`` that is not derived from the others."""

    version: int
    config: HandConfig
    seats: tuple[int, ...]
    player_ids: tuple[str, ...]
    posts: tuple[ReturningPost, ...]
    starting: tuple[int, ...]
    button: int
    sb_pos: int
    bb_pos: int
    deck: list[int]
    deck_position: int
    stacks: list[int]
    bets: list[int]
    committed: list[int]
    dead: int
    folded: list[bool]
    all_in: list[bool]
    acted_at: list[int]
    hole: list[list[int]]
    board: list[int]
    board2: list[int]
    phase: Phase
    street: int
    actor: int
    high: int
    raise_size: int
    full_to: int
    bet_count: int
    capped: bool
    aggressor: int
    rit_pending: list[int]
    runs: int
    showdown_queue: list[int]
    shown: list[bool]
    mucked: list[bool]
    pot_results: list[PotResult]
    rake: int


_ENCODER: Final = msgspec.msgpack.Encoder()
_DECODER: Final = msgspec.msgpack.Decoder(HandState)


def encode_hand(hand: Hand) -> bytes:
    state = HandState(
        version=SNAPSHOT_VERSION,
        config=hand._config,
        seats=hand._seats,
        player_ids=hand._player_ids,
        posts=hand._posts,
        starting=hand._starting,
        button=hand._button,
        sb_pos=hand._sb_pos,
        bb_pos=hand._bb_pos,
        deck=[card.index for card in hand._deck.cards],
        deck_position=hand._deck.position,
        stacks=hand._stacks,
        bets=hand._bets,
        committed=hand._committed,
        dead=hand._dead,
        folded=hand._folded,
        all_in=hand._all_in,
        acted_at=hand._acted_at,
        hole=[[card.index for card in cards] for cards in hand._hole],
        board=[card.index for card in hand._board],
        board2=[card.index for card in hand._board2],
        phase=hand._phase,
        street=hand._street,
        actor=hand._actor,
        high=hand._high,
        raise_size=hand._raise_size,
        full_to=hand._full_to,
        bet_count=hand._bet_count,
        capped=hand._capped,
        aggressor=hand._aggressor,
        rit_pending=hand._rit_pending,
        runs=hand._runs,
        showdown_queue=hand._showdown_queue,
        shown=hand._shown,
        mucked=hand._mucked,
        pot_results=hand._pot_results,
        rake=hand._rake,
    )
    return _ENCODER.encode(state)


def decode_into(hand: Hand, data: bytes) -> None:
    """Set every field of ``hand`` from snapshot bytes (``Hand.restore``'s placeholder)."""
    try:
        state = _DECODER.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise SnapshotInvalid(f"not a hand snapshot: {exc}") from None
    if state.version != SNAPSHOT_VERSION:
        raise SnapshotInvalid(f"snapshot version {state.version}, expected {SNAPSHOT_VERSION}")
    _check_state(state)
    hand._config = state.config
    hand._limit = state.config.variant.limit
    hand._seats = tuple(state.seats)
    hand._n = len(hand._seats)
    hand._pos_of = {seat: pos for pos, seat in enumerate(hand._seats)}
    hand._player_ids = tuple(state.player_ids)
    hand._posts = tuple(state.posts)
    hand._starting = tuple(state.starting)
    hand._button = state.button
    hand._sb_pos = state.sb_pos
    hand._bb_pos = state.bb_pos
    try:
        hand._deck = Deck([ALL_CARDS[i] for i in state.deck], state.deck_position)
    except (IndexError, ValueError) as exc:
        raise SnapshotInvalid(f"bad deck in snapshot: {exc}") from None
    hand._stacks = list(state.stacks)
    hand._bets = list(state.bets)
    hand._committed = list(state.committed)
    hand._dead = state.dead
    hand._folded = list(state.folded)
    hand._all_in = list(state.all_in)
    hand._acted_at = list(state.acted_at)
    hand._hole = [[ALL_CARDS[i] for i in cards] for cards in state.hole]
    hand._board = [ALL_CARDS[i] for i in state.board]
    hand._board2 = [ALL_CARDS[i] for i in state.board2]
    hand._phase = state.phase
    hand._street = state.street
    hand._actor = state.actor
    hand._high = state.high
    hand._raise_size = state.raise_size
    hand._full_to = state.full_to
    hand._bet_count = state.bet_count
    hand._capped = state.capped
    hand._aggressor = state.aggressor
    # Derived counters, kept in step with the lists they summarize.
    hand._live_count = hand._folded.count(False)
    hand._all_in_count = sum(
        1
        for folded, all_in in zip(hand._folded, hand._all_in, strict=True)
        if all_in and not folded
    )
    hand._rit_pending = list(state.rit_pending)
    hand._runs = state.runs
    hand._showdown_queue = list(state.showdown_queue)
    hand._shown = list(state.shown)
    hand._mucked = list(state.mucked)
    hand._pot_results = list(state.pot_results)
    hand._rake = state.rake


def _check_state(state: HandState) -> None:
    """A snapshot is our own data, but a restored hand must never create or destroy chips
    or index past its players: check the shape and the chip count before using it."""
    n = len(state.seats)
    if not PLAYERS_MIN <= n <= PLAYERS_MAX:
        raise SnapshotInvalid(f"snapshot of a hand with {n} players")
    per_position = (
        state.player_ids,
        state.posts,
        state.starting,
        state.stacks,
        state.bets,
        state.committed,
        state.folded,
        state.all_in,
        state.acted_at,
        state.hole,
        state.shown,
        state.mucked,
    )
    if any(len(values) != n for values in per_position):
        raise SnapshotInvalid("snapshot lists do not match its number of players")
    positions = (state.actor, state.sb_pos, state.bb_pos, state.aggressor)
    if not all(-1 <= pos < n for pos in positions) or state.bb_pos < 0:
        raise SnapshotInvalid("snapshot position out of range")
    if not 0 <= state.deck_position <= len(state.deck):
        raise SnapshotInvalid("snapshot deck position out of range")
    queued = (*state.rit_pending, *state.showdown_queue)
    if not all(0 <= pos < n for pos in queued):
        raise SnapshotInvalid("snapshot position out of range")
    if min(state.stacks) < 0 or min(state.committed) < 0 or state.dead < 0 or state.rake < 0:
        raise SnapshotInvalid("negative chips in snapshot")
    if state.phase is Phase.OVER:
        chips = sum(state.stacks) + state.rake
    else:
        chips = sum(state.stacks) + sum(state.committed) + state.dead
    if chips != sum(state.starting):
        raise SnapshotInvalid(
            f"snapshot holds {chips} chips, the hand started with {sum(state.starting)}"
        )
