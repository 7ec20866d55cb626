"""Provably fair deals: a committed server seed, players' client seeds, a documented shuffle.

Before a hand the server publishes ``commitment(server_seed)``; the deck is then a pure
function of the server seed, the client seeds (by seat) and the hand id; after the hand the
server reveals its seed and anyone can recompute the deck and check it against the
commitment and the cards that were dealt. docs/fairness.md is the specification (exact byte
encodings and a worked example); this module is its reference implementation.

Pure: hashlib and hmac only, no I/O, no clock, and no randomness but the seeds it is given
(the server seed comes from the caller's CSPRNG). Scheme version 1 (``SCHEME``):

- commitment = SHA-256(``COMMITMENT_PREFIX`` || server seed)
- message M = ``DEAL_PREFIX`` || u16be(len hand id) || hand id (UTF-8) || u8(client seeds)
  || for each seat ascending: u8(seat) || u8(len seed) || seed
- stream = HMAC-SHA256(server seed, M || u32be(0)) || HMAC-SHA256(server seed, M || u32be(1))
  || ...
- a uniform integer below n (n <= 256): the next stream byte b, skipped while
  b >= 256 - 256 % n; the integer is b % n
- the deck: cards 0..51 in index order (2c 2d 2h 2s 3c .. As), then for i = 51 down to 1:
  j = uniform integer below i + 1, swap positions i and j. Position 0 is the top card.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Final, final

from poker.cards import ALL_CARDS, DECK_SIZE, Card, Deck
from poker.config import SEATS_MAX  # seats are the engine's (and the wire's): 0..9
from poker.errors import PokerError
from poker.events import BoardDealt, Event, HoleCardsDealt
from poker.phases import BURN_CARDS  # before each street of the first board only

__all__ = [
    "BURN_CARDS",
    "CLIENT_SEED_BYTES_DEFAULT",
    "CLIENT_SEED_BYTES_MAX",
    "COMMITMENT_PREFIX",
    "DEAL_PREFIX",
    "HAND_ID_BYTES_MAX",
    "HISTORY_FIELDS",
    "SCHEME",
    "SEATS_MAX",
    "SERVER_SEED_BYTES",
    "ClientSeedSubstituted",
    "CommitmentMismatch",
    "DealMismatch",
    "DealProof",
    "FairnessError",
    "FairnessInputInvalid",
    "ProofIncomplete",
    "VerificationFailed",
    "byte_stream",
    "commitment",
    "deal_message",
    "dealt_in_order",
    "deck_order",
    "fair_deck",
    "history_fields",
    "is_fair",
    "proof_for_hand",
    "proof_from_history_fields",
    "shuffle_order",
    "stream_block",
    "uniform_below",
    "verify",
    "verify_observed",
    "verify_proof",
]

SCHEME: Final = "tablium-fair-v1"
COMMITMENT_PREFIX: Final = b"tablium-fair-v1 commit\x00"
DEAL_PREFIX: Final = b"tablium-fair-v1 deal\x00"
SERVER_SEED_BYTES: Final = 32  # exactly: 256 bits from the CSPRNG
# Client seeds are any 1..64 bytes (a player may type a phrase). Policy: a longer or empty
# seed is refused with FairnessInputInvalid (the table answers the request with its code).
CLIENT_SEED_BYTES_MAX: Final = 64
CLIENT_SEED_BYTES_DEFAULT: Final = 16  # what a default (server-drawn) client seed holds
# Hand ids are "{table_id}:{hand_number}"; a table id is at most 64 characters (<= 256
# bytes of UTF-8). Policy: a longer id is refused (FairnessInputInvalid).
HAND_ID_BYTES_MAX: Final = 512
_STREAM_BLOCKS_MAX: Final = 2**32  # u32 counter; a deck needs 1-3 blocks


class FairnessError(PokerError):
    """Base of this module's errors; ``code`` is stable (wire error codes, CLI output)."""

    code: ClassVar[str] = "fairness_error"


@final
class FairnessInputInvalid(FairnessError, ValueError):
    """A seed, seat, hand id or card list that the scheme does not allow (caller's fault)."""

    code = "fairness_input_invalid"


class VerificationFailed(FairnessError):
    """The revealed seeds do not explain the commitment or the cards dealt."""

    code: ClassVar[str] = "verification_failed"


@final
class CommitmentMismatch(VerificationFailed):
    code = "commitment_mismatch"


@final
class DealMismatch(VerificationFailed):
    """``position``: index in the deck (0 = top) where the dealt card is not the derived one."""

    code = "deal_mismatch"

    def __init__(self, position: int, expected: Card, found: Card) -> None:
        super().__init__(
            f"card {position} of the deck is {expected.code} by the seeds, {found.code} was dealt"
        )
        self.position = position
        self.expected = expected
        self.found = found


@final
class ProofIncomplete(VerificationFailed):
    """The history deals more cards than its proof records."""

    code = "proof_incomplete"


@final
class ClientSeedSubstituted(VerificationFailed):
    """The reveal names another client seed for our seat than the one we sent."""

    code = "client_seed_substituted"


# ---- the scheme, step by step ---------------------------------------------------------------


def _check_server_seed(server_seed: bytes) -> None:
    if not isinstance(server_seed, bytes) or len(server_seed) != SERVER_SEED_BYTES:
        raise FairnessInputInvalid(f"a server seed is exactly {SERVER_SEED_BYTES} bytes")


def commitment(server_seed: bytes) -> bytes:
    """SHA-256 of ``COMMITMENT_PREFIX`` || ``server_seed``: 32 bytes, published before the
    hand. The prefix keeps this hash apart from any other use of SHA-256 over the seed."""
    _check_server_seed(server_seed)
    return hashlib.sha256(COMMITMENT_PREFIX + server_seed).digest()


def _sorted_client_seeds(client_seeds: Mapping[int, bytes]) -> list[tuple[int, bytes]]:
    if len(client_seeds) > SEATS_MAX:
        raise FairnessInputInvalid(f"at most {SEATS_MAX} client seeds")
    for seat, seed in client_seeds.items():
        if isinstance(seat, bool) or not isinstance(seat, int) or not 0 <= seat < SEATS_MAX:
            raise FairnessInputInvalid(f"a client seed's seat is 0..{SEATS_MAX - 1}: {seat!r}")
        if not isinstance(seed, bytes) or not 1 <= len(seed) <= CLIENT_SEED_BYTES_MAX:
            raise FairnessInputInvalid(
                f"seat {seat}: a client seed is 1..{CLIENT_SEED_BYTES_MAX} bytes"
            )
    return sorted(client_seeds.items())


def deal_message(hand_id: str, client_seeds: Mapping[int, bytes]) -> bytes:
    """The message M that every stream block authenticates (before its counter):
    ``DEAL_PREFIX`` || u16be(len hand id) || hand id (UTF-8) || u8(count) || per seat
    ascending: u8(seat) || u8(len seed) || seed. Lengths make the encoding unambiguous."""
    if not isinstance(hand_id, str):
        raise FairnessInputInvalid("a hand id is text")
    hand_bytes = hand_id.encode("utf-8")
    if not 1 <= len(hand_bytes) <= HAND_ID_BYTES_MAX:
        raise FairnessInputInvalid(f"a hand id is 1..{HAND_ID_BYTES_MAX} bytes of UTF-8")
    pairs = _sorted_client_seeds(client_seeds)
    parts = [DEAL_PREFIX, len(hand_bytes).to_bytes(2, "big"), hand_bytes, bytes([len(pairs)])]
    for seat, seed in pairs:
        parts.append(bytes([seat, len(seed)]))
        parts.append(seed)
    return b"".join(parts)


def stream_block(server_seed: bytes, message: bytes, counter: int) -> bytes:
    """Block ``counter`` of the stream: HMAC-SHA256(key=server seed, M || u32be(counter))."""
    return hmac.digest(server_seed, message + counter.to_bytes(4, "big"), "sha256")


def byte_stream(server_seed: bytes, message: bytes) -> Iterator[int]:
    """The stream's bytes, block 0 first (counter mode over HMAC-SHA256)."""
    _check_server_seed(server_seed)
    for counter in range(_STREAM_BLOCKS_MAX):
        yield from stream_block(server_seed, message, counter)
    raise AssertionError("stream exhausted")  # 2**37 bytes: never, for a 52-card deck


def uniform_below(stream: Iterator[int], n: int) -> int:
    """A uniform integer in 0..n-1 (1 <= n <= 256) from the stream, by rejection: bytes at
    or above the largest multiple of n that fits in a byte are skipped, so no value is
    likelier than another (a plain ``b % n`` would favour the low ones)."""
    if not 1 <= n <= 256:
        raise FairnessInputInvalid(f"uniform_below takes 1..256, got {n}")
    limit = 256 - 256 % n
    for byte in stream:
        if byte < limit:
            return byte % n
    raise AssertionError("stream exhausted")


def shuffle_order(stream: Iterator[int], size: int = DECK_SIZE) -> list[int]:
    """Fisher-Yates (Durstenfeld) over 0..size-1: for i from size-1 down to 1, swap i with
    a uniform j in 0..i. The reference form of the shuffle; ``deck_order`` is the same
    computation, inlined (the tests hold the two equal)."""
    order = list(range(size))
    for top in range(size - 1, 0, -1):
        pick = uniform_below(stream, top + 1)
        order[top], order[pick] = order[pick], order[top]
    return order


# Each Fisher-Yates step as (n, byte limit), n = 52 down to 2: precomputed for deck_order.
_STEPS: Final = tuple((n, 256 - 256 % n) for n in range(DECK_SIZE, 1, -1))
# Every deck reads at least 51 bytes, so the first two blocks are always needed; a third
# only after 13 or more rejections (about one deck in two million).
_BLOCK_0: Final = (0).to_bytes(4, "big")
_BLOCK_1: Final = (1).to_bytes(4, "big")


def deck_order(server_seed: bytes, hand_id: str, client_seeds: Mapping[int, bytes]) -> list[int]:
    """The deck's card indices, top first (0 = 2c .. 51 = As): the production path, used by
    ``fair_deck`` at the tables and by ``tablium audit rng``.

    ``shuffle_order(byte_stream(...))`` inlined over the first two blocks; a deck that needs
    a third block takes that reference path from the start (same stream, same result).
    """
    _check_server_seed(server_seed)
    message = deal_message(hand_id, client_seeds)
    stream = hmac.digest(server_seed, message + _BLOCK_0, "sha256") + hmac.digest(
        server_seed, message + _BLOCK_1, "sha256"
    )
    order = list(range(DECK_SIZE))
    used = 0
    try:
        for n, limit in _STEPS:
            byte = stream[used]
            used += 1
            while byte >= limit:
                byte = stream[used]
                used += 1
            top = n - 1
            pick = byte % n
            order[top], order[pick] = order[pick], order[top]
    except IndexError:
        return shuffle_order(byte_stream(server_seed, message))
    return order


def fair_deck(server_seed: bytes, hand_id: str, client_seeds: Mapping[int, bytes]) -> Deck:
    """The hand's ``Deck`` in the order the seeds give (``Hand`` draws from the top)."""
    return Deck([ALL_CARDS[index] for index in deck_order(server_seed, hand_id, client_seeds)])


# ---- where the engine's cards sit in the deck -------------------------------------------------


def _card(card: Card | str) -> Card:
    try:
        return card if isinstance(card, Card) else Card.parse(card)
    except ValueError as exc:
        raise FairnessInputInvalid(str(exc)) from None


def dealt_in_order(
    hole_cards: Sequence[Sequence[Card | str | None]],
    boards: Iterable[tuple[int, Sequence[Card | str]]] = (),
) -> list[Card | None]:
    """The engine's deal as deck positions: entry k is the k-th card drawn, None where the
    caller did not see it (a burn card, an opponent's hole card).

    ``hole_cards``: one entry per player in dealing order (first seat left of the button
    first; ``hand_started.seats`` on the wire), each that player's cards in the order dealt
    (None for a card not seen; every player holds the same number). The engine deals one
    card at a time around the table, so card k of player p is deck card k * players + p.
    ``boards``: (run, cards) for each board deal in the order dealt (``board_dealt``): run 0
    burns one card first, run 1 (the second board of a run it twice) burns none.
    """
    players = len(hole_cards)
    if not 2 <= players <= SEATS_MAX:
        raise FairnessInputInvalid(f"a deal has 2..{SEATS_MAX} players, got {players}")
    per = len(hole_cards[0])
    if per == 0 or any(len(cards) != per for cards in hole_cards):
        raise FairnessInputInvalid("every player is dealt the same number of hole cards")
    dealt: list[Card | None] = [None] * (players * per)
    for position, cards in enumerate(hole_cards):
        for k, card in enumerate(cards):
            if card is not None:
                dealt[k * players + position] = _card(card)
    for run, cards in boards:
        if run not in (0, 1):
            raise FairnessInputInvalid(f"a board's run is 0 or 1, got {run}")
        if run == 0:
            dealt.extend([None] * BURN_CARDS)
        dealt.extend(_card(card) for card in cards)
    if len(dealt) > DECK_SIZE:
        raise FairnessInputInvalid(f"{len(dealt)} cards dealt from a {DECK_SIZE}-card deck")
    return dealt


# ---- verification -----------------------------------------------------------------------------


def verify(
    *,
    commitment_hash: bytes,
    server_seed: bytes,
    hand_id: str,
    client_seeds: Mapping[int, bytes],
    dealt: Sequence[Card | str | None],
) -> None:
    """Raise unless the revealed ``server_seed`` matches ``commitment_hash`` and every card
    of ``dealt`` (deck order, top first; None: not seen) is the one the seeds give there.

    ``CommitmentMismatch``: the seed is not the committed one. ``DealMismatch``: a card
    differs (a wrong or swapped client seed, a wrong hand id, a changed card all land here).
    ``FairnessInputInvalid``: malformed input.
    """
    if not isinstance(commitment_hash, bytes) or len(commitment_hash) != 32:
        raise FairnessInputInvalid("a commitment is 32 bytes (64 hex digits on the wire)")
    if commitment(server_seed) != commitment_hash:
        raise CommitmentMismatch("the revealed server seed does not hash to the commitment")
    if len(dealt) > DECK_SIZE:
        raise FairnessInputInvalid(f"{len(dealt)} cards dealt from a {DECK_SIZE}-card deck")
    order = deck_order(server_seed, hand_id, client_seeds)
    for position, card in enumerate(dealt):
        if card is None:
            continue
        found = _card(card)
        if found.index != order[position]:
            raise DealMismatch(position, ALL_CARDS[order[position]], found)


def is_fair(
    *,
    commitment_hash: bytes,
    server_seed: bytes,
    hand_id: str,
    client_seeds: Mapping[int, bytes],
    dealt: Sequence[Card | str | None],
) -> bool:
    """``verify`` as a yes/no (malformed input is a no too)."""
    try:
        verify(
            commitment_hash=commitment_hash,
            server_seed=server_seed,
            hand_id=hand_id,
            client_seeds=client_seeds,
            dealt=dealt,
        )
    except FairnessError:
        return False
    return True


def verify_observed(
    *,
    commitment_hash: bytes,
    server_seed: bytes,
    hand_id: str,
    client_seeds: Mapping[int, bytes],
    dealing_order: Sequence[int],
    hole_cards_each: int,
    hole_cards: Mapping[int, Sequence[Card | str]],
    boards: Iterable[tuple[int, Sequence[Card | str]]],
    own_seat: int | None = None,
    own_client_seed: bytes | None = None,
) -> None:
    """A client's check of one hand from what it saw on the wire.

    ``dealing_order``: the seats of ``hand_started`` (dealing order). ``hole_cards``: seat ->
    cards seen (its own ``hole_cards``, every ``showdown``); ``boards``: each
    ``board_dealt`` as (run, cards), in order. With ``own_seat`` and ``own_client_seed``
    it also checks that the seed this client sent is the one used for its seat.
    """
    if (
        own_seat is not None
        and own_client_seed is not None
        and client_seeds.get(own_seat) != own_client_seed
    ):
        raise ClientSeedSubstituted(f"seat {own_seat}: the revealed client seed is not ours")
    if not 1 <= hole_cards_each <= 4:
        raise FairnessInputInvalid(f"1..4 hole cards each, got {hole_cards_each}")
    if len(set(dealing_order)) != len(dealing_order):
        raise FairnessInputInvalid(f"a seat twice in the dealing order: {list(dealing_order)}")
    unknown = set(hole_cards) - set(dealing_order)
    if unknown:
        raise FairnessInputInvalid(f"hole cards for seats not dealt in: {sorted(unknown)}")
    holes: list[list[Card | str | None]] = []
    for seat in dealing_order:
        seen = list(hole_cards.get(seat, ()))
        if len(seen) not in (0, hole_cards_each):
            raise FairnessInputInvalid(f"seat {seat}: {len(seen)} hole cards seen")
        holes.append(list(seen) if seen else [None] * hole_cards_each)
    verify(
        commitment_hash=commitment_hash,
        server_seed=server_seed,
        hand_id=hand_id,
        client_seeds=client_seeds,
        dealt=dealt_in_order(holes, boards),
    )


# ---- the proof a stored hand carries ---------------------------------------------------------


@final
@dataclass(frozen=True, slots=True)
class DealProof:
    """What a hand history keeps so that anyone can verify the deal later.

    ``dealt``: every card drawn from the deck, in draw order, burn cards included (the
    derived deck's prefix). ``client_seeds``: (seat, seed) by seat ascending.
    """

    hand_id: str
    commitment: bytes
    server_seed: bytes
    client_seeds: tuple[tuple[int, bytes], ...]
    dealt: tuple[Card, ...]


def proof_for_hand(
    *,
    hand_id: str,
    server_seed: bytes,
    client_seeds: Mapping[int, bytes],
    events: Iterable[Event],
) -> DealProof:
    """The proof of a hand the engine played from ``fair_deck(server_seed, hand_id,
    client_seeds)``, from its events. Raises ``VerificationFailed`` if an event's card is not
    the derived one (the hand was not dealt from that deck: a bug of ours, not the player's)."""
    holes: list[tuple[str, ...]] = []
    boards: list[tuple[int, tuple[str, ...]]] = []
    for event in events:
        if isinstance(event, HoleCardsDealt):
            holes.append(event.cards)
        elif isinstance(event, BoardDealt):
            boards.append((event.run, event.cards))
    layout = dealt_in_order(holes, boards)
    order = deck_order(server_seed, hand_id, client_seeds)
    proof = DealProof(
        hand_id=hand_id,
        commitment=commitment(server_seed),
        server_seed=server_seed,
        client_seeds=tuple(_sorted_client_seeds(client_seeds)),
        dealt=tuple(ALL_CARDS[index] for index in order[: len(layout)]),
    )
    verify(
        commitment_hash=proof.commitment,
        server_seed=server_seed,
        hand_id=hand_id,
        client_seeds=client_seeds,
        dealt=layout,
    )
    return proof


def verify_proof(
    proof: DealProof,
    *,
    hole_cards: Sequence[Sequence[Card | str | None]] | None = None,
    boards: Iterable[tuple[int, Sequence[Card | str]]] = (),
) -> None:
    """Check a stored proof: the seed against the commitment, ``dealt`` against the derived
    deck, and (when given, e.g. from a PHH history's ``d dh``/``d db`` actions) the hole
    cards by dealing position and the boards against ``dealt`` by the engine's layout."""
    seeds = dict(proof.client_seeds)
    if len(seeds) != len(proof.client_seeds):
        raise FairnessInputInvalid("two client seeds for one seat")
    verify(
        commitment_hash=proof.commitment,
        server_seed=proof.server_seed,
        hand_id=proof.hand_id,
        client_seeds=seeds,
        dealt=proof.dealt,
    )
    if hole_cards is None:
        return
    layout = dealt_in_order(hole_cards, boards)
    if len(layout) > len(proof.dealt):
        raise ProofIncomplete(
            f"the history deals {len(layout)} cards, its proof records {len(proof.dealt)}"
        )
    for position, card in enumerate(layout):
        if card is not None and card.index != proof.dealt[position].index:
            raise DealMismatch(position, proof.dealt[position], card)


# ---- history fields (PHH user fields, leading underscore) ------------------------------------

HISTORY_FIELDS: Final = (
    "_fair_scheme",
    "_fair_hand_id",
    "_fair_commitment",
    "_fair_server_seed",
    "_fair_client_seeds",
    "_fair_dealt",
)


def history_fields(proof: DealProof) -> tuple[tuple[str, object], ...]:
    """The proof as PHH user fields (hex for bytes, card codes for cards), in
    ``HISTORY_FIELDS`` order. ``_fair_client_seeds`` is a table: seat (text) -> hex seed."""
    return (
        ("_fair_scheme", SCHEME),
        ("_fair_hand_id", proof.hand_id),
        ("_fair_commitment", proof.commitment.hex()),
        ("_fair_server_seed", proof.server_seed.hex()),
        ("_fair_client_seeds", {str(seat): seed.hex() for seat, seed in proof.client_seeds}),
        ("_fair_dealt", "".join(card.code for card in proof.dealt)),
    )


def _hex(fields: Mapping[str, object], name: str) -> bytes:
    value = fields.get(name)
    if not isinstance(value, str):
        raise FairnessInputInvalid(f"{name} must be hex text")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise FairnessInputInvalid(f"{name} is not hex: {value[:80]!r}") from None


def proof_from_history_fields(fields: Mapping[str, object]) -> DealProof:
    """Read a proof back from PHH user fields; ``FairnessInputInvalid`` names the first
    missing or malformed one (a history without ``_fair_scheme`` cannot be verified)."""
    scheme = fields.get("_fair_scheme")
    if scheme != SCHEME:
        raise FairnessInputInvalid(
            f"_fair_scheme must be {SCHEME!r}, got {scheme!r}"
            if scheme is not None
            else "not a verifiable history: no _fair_scheme field"
        )
    hand_id = fields.get("_fair_hand_id")
    if not isinstance(hand_id, str):
        raise FairnessInputInvalid("_fair_hand_id must be text")
    raw_seeds = fields.get("_fair_client_seeds", {})
    if not isinstance(raw_seeds, Mapping):
        raise FairnessInputInvalid("_fair_client_seeds must be a table of seat = hex seed")
    seeds: dict[int, bytes] = {}
    for key, value in raw_seeds.items():
        if not isinstance(key, str) or not (key.isascii() and key.isdigit()):
            raise FairnessInputInvalid(f"_fair_client_seeds: not a seat number: {key!r}")
        seeds[int(key)] = _hex({"seed": value}, "seed")
    dealt_text = fields.get("_fair_dealt")
    if not isinstance(dealt_text, str) or len(dealt_text) % 2 or len(dealt_text) > 2 * DECK_SIZE:
        raise FairnessInputInvalid("_fair_dealt must be up to 52 card codes (e.g. 'AsKd2c')")
    dealt = tuple(_card(dealt_text[i : i + 2]) for i in range(0, len(dealt_text), 2))
    if len(set(dealt)) != len(dealt):
        raise FairnessInputInvalid("_fair_dealt must hold each card at most once")
    return DealProof(
        hand_id=hand_id,
        commitment=_hex(fields, "_fair_commitment"),
        server_seed=_hex(fields, "_fair_server_seed"),
        client_seeds=tuple(_sorted_client_seeds(seeds)),
        dealt=dealt,
    )
