"""Provably fair deals (poker/fairness.py; docs/fairness.md is the specification).

Known-answer vectors pin the exact bytes and decks; ``_reference_deck`` is a second,
deliberately plain implementation written from docs/fairness.md alone, so a change to the
scheme cannot pass by changing both the code and its expected values.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import random
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from poker import (
    ALL_CARDS,
    AgreeRunItTwice,
    Card,
    Hand,
    HandConfig,
    SeatSetup,
    Variant,
    cards_text,
    fairness,
    phh,
)
from poker.events import BoardDealt, Event, HandShown, HoleCardsDealt
from poker.fairness import (
    ClientSeedSubstituted,
    CommitmentMismatch,
    DealMismatch,
    DealProof,
    FairnessInputInvalid,
)
from poker.simulate import choose_action, history_from_events

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, derandomize=True)
SERVER_SEEDS = st.binary(min_size=32, max_size=32)
CLIENT_SEEDS = st.dictionaries(
    st.integers(min_value=0, max_value=9), st.binary(min_size=1, max_size=64), max_size=10
)
HAND_IDS = st.text(min_size=1, max_size=40).filter(lambda text: len(text.encode()) <= 512)

# ---- known-answer vectors (docs/fairness.md, "Worked example" uses KAT 1) ----------------

KAT1_SEED = bytes(range(32))  # 00 01 02 .. 1f
KAT1_HAND = "t1:1"
KAT1_COMMITMENT = "a08b4c5d58044dca0dd0fe64912d7dc28fadfa8f7a234f049253a27e225c8caa"
KAT1_MESSAGE = "7461626c69756d2d666169722d7631206465616c00000474313a3100"
KAT1_BLOCK0 = "aedcfa6ec9472f4e25b05ee8583193b5ed99eedd76a54455a5e71365fc9cf97e"
KAT1_BLOCK1 = "848af0d8d82eb514f07a68d71cd0a0c0b1a01313aa0b36c8c32951008f871e11"
KAT1_DECK = (
    "8h2d5d2sJcKc2h5cAsQh7d8s5hTs8d9sThAd3sTdJsJh6dQc8cKd"
    "7c6s9c5sKs3cQsAh4sQdAc9d9h4d3h7h4cKhJdTc2c7s3d4h6c6h"
)

KAT2_SEED = bytes.fromhex("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
KAT2_HAND = "table-7:42"
KAT2_CLIENT_SEEDS = {5: bytes.fromhex("00ff10"), 0: b"alice", 3: b"bob's lucky seed"}
KAT2_COMMITMENT = "b1c2d2af3a1d15b6e1173007376dfefa02809238114f7240cdf35dd23bc37310"
KAT2_MESSAGE = (
    "7461626c69756d2d666169722d7631206465616c00000a7461626c652d373a3432"
    "030005616c6963650310626f622773206c75636b792073656564050300ff10"
)
KAT2_DECK = (
    "7d2hTsQdKcQs7s5hAh8hAcKh2s2cJsAdQh5s3d3h4sJc3sKs9c6c"
    "5c7c3c8sJd9h9d2d5dKd6h4hTh8cQc8dJh6d7h4dTd9s4cAs6sTc"
)

# A deck that needs a third stream block (13+ rejected bytes: about one deck in two million;
# found by trying SHA-256("tablium kat third block %d") for i = 0, 1, ...: i = 142877).
KAT3_SEED = bytes.fromhex("1bd10b30d3d246b03973cec762bab9731a5ff66f7cab8e5a96a6de4f3a9d13b7")
KAT3_HAND = "kat:third-block"
KAT3_COMMITMENT = "1dbca89955ce83c101f887a912f44824152e2a3f7639884d031ddff0d5324fd9"
KAT3_DECK = (
    "3s2sQh3hAsKs8dJsTsJd3d5hQc3c6c5sJc2hTh9s5c4h4cAhQd6s"
    "Ac8sKh9hKc6h8hTc8c6d2cAdTd4sQsJh9d7c4d2d7d9cKd5d7s7h"
)


def _reference_deck(server_seed: bytes, hand_id: str, client_seeds: Mapping[int, bytes]) -> str:
    """docs/fairness.md, step by step, with nothing from poker.fairness."""
    hand = hand_id.encode("utf-8")
    message = b"tablium-fair-v1 deal\x00" + len(hand).to_bytes(2, "big") + hand
    message += bytes([len(client_seeds)])
    for seat in sorted(client_seeds):
        message += bytes([seat, len(client_seeds[seat])]) + client_seeds[seat]
    stream = b""
    blocks = 0
    used = 0
    cards = [rank + suit for rank in "23456789TJQKA" for suit in "cdhs"]
    for i in range(51, 0, -1):
        n = i + 1
        while True:
            if used == len(stream):
                stream += hmac.new(
                    server_seed, message + blocks.to_bytes(4, "big"), hashlib.sha256
                ).digest()
                blocks += 1
            byte = stream[used]
            used += 1
            if byte < 256 - 256 % n:
                break
        j = byte % n
        cards[i], cards[j] = cards[j], cards[i]
    return "".join(cards)


def _deck_text(order: list[int]) -> str:
    return cards_text(ALL_CARDS[index] for index in order)


# ---- the scheme's bytes ---------------------------------------------------------------------


def test_commitment_is_sha256_of_the_prefix_and_the_seed() -> None:
    assert fairness.commitment(KAT1_SEED).hex() == KAT1_COMMITMENT
    assert hashlib.sha256(b"tablium-fair-v1 commit\x00" + KAT1_SEED).hexdigest() == KAT1_COMMITMENT
    assert fairness.commitment(KAT2_SEED).hex() == KAT2_COMMITMENT
    assert fairness.commitment(KAT3_SEED).hex() == KAT3_COMMITMENT


def test_deal_message_encodes_the_hand_id_and_client_seeds_by_seat() -> None:
    assert fairness.deal_message(KAT1_HAND, {}).hex() == KAT1_MESSAGE
    assert fairness.deal_message(KAT2_HAND, KAT2_CLIENT_SEEDS).hex() == KAT2_MESSAGE


def test_stream_blocks_are_hmac_sha256_over_the_message_and_a_big_endian_counter() -> None:
    message = bytes.fromhex(KAT1_MESSAGE)
    assert fairness.stream_block(KAT1_SEED, message, 0).hex() == KAT1_BLOCK0
    assert fairness.stream_block(KAT1_SEED, message, 1).hex() == KAT1_BLOCK1
    stream = fairness.byte_stream(KAT1_SEED, message)
    assert bytes(next(stream) for _ in range(64)).hex() == KAT1_BLOCK0 + KAT1_BLOCK1


@pytest.mark.parametrize(
    ("seed", "hand_id", "client_seeds", "deck"),
    [
        (KAT1_SEED, KAT1_HAND, {}, KAT1_DECK),
        (KAT2_SEED, KAT2_HAND, KAT2_CLIENT_SEEDS, KAT2_DECK),
        (KAT3_SEED, KAT3_HAND, {}, KAT3_DECK),
    ],
    ids=["no-client-seeds", "three-client-seeds", "third-stream-block"],
)
def test_known_answer_vectors_give_the_exact_deck(
    seed: bytes, hand_id: str, client_seeds: dict[int, bytes], deck: str
) -> None:
    assert _deck_text(fairness.deck_order(seed, hand_id, client_seeds)) == deck
    stream = fairness.byte_stream(seed, fairness.deal_message(hand_id, client_seeds))
    assert _deck_text(fairness.shuffle_order(stream)) == deck
    assert _reference_deck(seed, hand_id, client_seeds) == deck
    assert cards_text(fairness.fair_deck(seed, hand_id, client_seeds).cards) == deck


def test_the_third_block_vector_really_reads_past_two_blocks() -> None:
    stream = fairness.byte_stream(KAT3_SEED, fairness.deal_message(KAT3_HAND, {}))
    read = 0

    def counted() -> Iterator[int]:
        nonlocal read
        for byte in stream:
            read += 1
            yield byte

    fairness.shuffle_order(counted())
    assert read > 64


def test_uniform_below_skips_bytes_at_or_above_the_largest_multiple() -> None:
    # n = 52: 256 - 256 % 52 = 208, so 255 and 208 are skipped and 207 gives 207 % 52 = 51.
    assert fairness.uniform_below(iter([255, 208, 207]), 52) == 51
    assert fairness.uniform_below(iter([3]), 2) == 1
    assert fairness.uniform_below(iter([255]), 256) == 255


def test_uniform_below_gives_each_value_equally_often_over_every_byte() -> None:
    # Over all 256 byte values each accepted value appears exactly limit / n times.
    for n in range(1, 257):
        counts = [0] * n
        for byte in range(256):
            if byte < 256 - 256 % n:  # else rejected: the next byte would be read
                counts[fairness.uniform_below(iter([byte]), n)] += 1
        assert len(set(counts)) == 1, n


def _docs_verifier() -> dict[str, object]:
    """The stdlib-only verifier printed in docs/fairness.md, executed as written."""
    text = (Path(__file__).parents[2] / "docs" / "fairness.md").read_text()
    (block,) = re.findall(r"```python\n(import hashlib.*?)```", text, re.DOTALL)
    namespace: dict[str, object] = {}
    exec(compile(block, "docs/fairness.md", "exec"), namespace)
    return namespace


@pytest.mark.parametrize(
    ("seed", "hand_id", "client_seeds", "deck"),
    [
        (KAT1_SEED, KAT1_HAND, {}, KAT1_DECK),
        (KAT2_SEED, KAT2_HAND, KAT2_CLIENT_SEEDS, KAT2_DECK),
        (KAT3_SEED, KAT3_HAND, {}, KAT3_DECK),
    ],
)
def test_the_verifier_printed_in_the_docs_gives_the_known_answers(
    seed: bytes, hand_id: str, client_seeds: dict[int, bytes], deck: str
) -> None:
    verifier = _docs_verifier()
    assert "".join(verifier["deck"](seed, hand_id, client_seeds)) == deck  # type: ignore[operator]
    assert verifier["commitment"](seed) == fairness.commitment(seed).hex()  # type: ignore[operator]


def test_the_docs_heads_up_example_is_what_the_engine_deals_from_vector_1() -> None:
    config = HandConfig(variant=Variant.NO_LIMIT_HOLDEM, small_blind=1, big_blind=2)
    seats = [
        SeatSetup(seat=0, player_id="a", stack=100),
        SeatSetup(seat=1, player_id="b", stack=100),
    ]
    hand = Hand(config, seats, 1, fairness.fair_deck(KAT1_SEED, KAT1_HAND, {}))
    events = list(hand.start())
    while not hand.is_over:  # both players check or call down to the river
        events += hand.apply(choose_action(hand.legal_actions(), _CALL_DOWN))
    holes = {e.seat: "".join(e.cards) for e in events if isinstance(e, HoleCardsDealt)}
    board = "".join("".join(e.cards) for e in events if isinstance(e, BoardDealt))
    # Seat 0 is the big blind (dealing position 0), seat 1 the button.
    assert holes == {0: "8h5d", 1: "2d2s"}
    assert board == "Kc2h5cQh8s"


class _AlwaysMiddle(random.Random):
    """choose_action's rolls in the middle: check or call, never fold or raise; show."""

    def random(self) -> float:
        return 0.5


_CALL_DOWN = _AlwaysMiddle()


# ---- properties -----------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(seed=SERVER_SEEDS, hand_id=HAND_IDS, client_seeds=CLIENT_SEEDS)
def test_every_deck_is_a_permutation_equal_to_the_reference(
    seed: bytes, hand_id: str, client_seeds: dict[int, bytes]
) -> None:
    order = fairness.deck_order(seed, hand_id, client_seeds)
    assert sorted(order) == list(range(52))
    assert _deck_text(order) == _reference_deck(seed, hand_id, client_seeds)


@PROPERTY_SETTINGS
@given(
    seed=SERVER_SEEDS,
    hand_id=HAND_IDS,
    client_seeds=CLIENT_SEEDS,
    bit=st.integers(min_value=0, max_value=255),
    data=st.data(),
)
def test_changing_any_seed_or_the_hand_id_changes_the_deck(
    seed: bytes, hand_id: str, client_seeds: dict[int, bytes], bit: int, data: st.DataObject
) -> None:
    deck = fairness.deck_order(seed, hand_id, client_seeds)
    flipped = bytearray(seed)
    flipped[bit // 8] ^= 1 << (bit % 8)
    assert fairness.deck_order(bytes(flipped), hand_id, client_seeds) != deck
    assert fairness.deck_order(seed, hand_id + "x", client_seeds) != deck
    seat = data.draw(st.integers(min_value=0, max_value=9), label="seat")
    other = data.draw(st.binary(min_size=1, max_size=64), label="other seed")
    if client_seeds.get(seat) != other:
        changed = {**client_seeds, seat: other}
        assert fairness.deck_order(seed, hand_id, changed) != deck
    if client_seeds:
        dropped = dict(client_seeds)
        dropped.pop(next(iter(dropped)))
        assert fairness.deck_order(seed, hand_id, dropped) != deck


def test_client_seeds_count_by_seat_not_by_the_order_they_were_given() -> None:
    forward = {0: b"a", 3: b"b", 7: b"c"}
    backward = {7: b"c", 3: b"b", 0: b"a"}
    assert fairness.deck_order(KAT1_SEED, "h:1", forward) == fairness.deck_order(
        KAT1_SEED, "h:1", backward
    )
    # The same seeds at other seats are another deck: seats are part of the message.
    swapped = {0: b"b", 3: b"a", 7: b"c"}
    assert fairness.deck_order(KAT1_SEED, "h:1", swapped) != fairness.deck_order(
        KAT1_SEED, "h:1", forward
    )


def test_length_prefixes_keep_adjacent_fields_apart() -> None:
    # "ab" + "c" and "a" + "bc" would concatenate alike without the length bytes.
    one = fairness.deal_message("h:1", {0: b"ab", 1: b"c"})
    two = fairness.deal_message("h:1", {0: b"a", 1: b"bc"})
    assert one != two


# ---- verify ---------------------------------------------------------------------------------


def _kat2_dealt(count: int = 15) -> list[Card | str | None]:
    return [KAT2_DECK[i : i + 2] for i in range(0, 2 * count, 2)]


def _verify_kat2(**changes: object) -> None:
    arguments: dict[str, object] = {
        "commitment_hash": bytes.fromhex(KAT2_COMMITMENT),
        "server_seed": KAT2_SEED,
        "hand_id": KAT2_HAND,
        "client_seeds": KAT2_CLIENT_SEEDS,
        "dealt": _kat2_dealt(),
    }
    arguments.update(changes)
    fairness.verify(**arguments)  # type: ignore[arg-type]


def test_verify_accepts_the_honest_deal() -> None:
    _verify_kat2()
    _verify_kat2(dealt=[None, None, "Ts", None])  # only what one player saw
    assert fairness.is_fair(
        commitment_hash=bytes.fromhex(KAT2_COMMITMENT),
        server_seed=KAT2_SEED,
        hand_id=KAT2_HAND,
        client_seeds=KAT2_CLIENT_SEEDS,
        dealt=_kat2_dealt(52),
    )


def test_verify_refuses_a_seed_that_is_not_the_committed_one() -> None:
    with pytest.raises(CommitmentMismatch) as caught:
        _verify_kat2(server_seed=KAT1_SEED)
    assert caught.value.code == "commitment_mismatch"
    with pytest.raises(CommitmentMismatch):
        _verify_kat2(commitment_hash=bytes.fromhex(KAT1_COMMITMENT))


def test_verify_refuses_swapped_client_seeds() -> None:
    swapped = {0: KAT2_CLIENT_SEEDS[3], 3: KAT2_CLIENT_SEEDS[0], 5: KAT2_CLIENT_SEEDS[5]}
    with pytest.raises(DealMismatch) as caught:
        _verify_kat2(client_seeds=swapped)
    assert caught.value.code == "deal_mismatch"


def test_verify_refuses_a_missing_client_seed_and_another_hand_id() -> None:
    with pytest.raises(DealMismatch):
        _verify_kat2(client_seeds={0: b"alice", 3: b"bob's lucky seed"})
    with pytest.raises(DealMismatch):
        _verify_kat2(hand_id="table-7:43")


def test_verify_refuses_a_changed_card_and_names_its_position() -> None:
    dealt = _kat2_dealt()
    dealt[10] = "As"  # the deck has Ac there
    with pytest.raises(DealMismatch) as caught:
        _verify_kat2(dealt=dealt)
    assert caught.value.position == 10
    assert caught.value.expected.code == "Ac"
    assert caught.value.found.code == "As"
    assert not fairness.is_fair(
        commitment_hash=bytes.fromhex(KAT2_COMMITMENT),
        server_seed=KAT2_SEED,
        hand_id=KAT2_HAND,
        client_seeds=KAT2_CLIENT_SEEDS,
        dealt=dealt,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"server_seed": b"short"}, "exactly 32 bytes"),
        ({"client_seeds": {0: b""}}, "1..64 bytes"),
        ({"client_seeds": {0: b"x" * 65}}, "1..64 bytes"),
        ({"client_seeds": {10: b"x"}}, "seat is 0..9"),
        ({"client_seeds": {-1: b"x"}}, "seat is 0..9"),
        ({"hand_id": ""}, "1..512 bytes"),
        ({"hand_id": "x" * 513}, "1..512 bytes"),
        ({"dealt": ["Zz"]}, "not a card code"),
        ({"dealt": [None] * 53}, "53 cards"),
        ({"commitment_hash": KAT2_COMMITMENT}, "32 bytes"),  # hex text, not bytes
    ],
)
def test_malformed_input_is_refused_with_a_stable_code(
    change: dict[str, object], message: str
) -> None:
    if "server_seed" in change:  # the commitment check comes first and hashes the seed
        with pytest.raises(FairnessInputInvalid, match=message):
            fairness.commitment(change["server_seed"])  # type: ignore[arg-type]
        return
    with pytest.raises(FairnessInputInvalid, match=message) as caught:
        _verify_kat2(**change)
    assert caught.value.code == "fairness_input_invalid"


# ---- the engine deals from a fair deck, as dealt_in_order says ---------------------------------


def _play(seed: int) -> tuple[Hand, list[Event], bytes, str, dict[int, bytes]]:
    """One random hand of a random variant dealt from a fair deck; run it twice agreed often."""
    rng = random.Random(seed)
    variant = rng.choice(list(Variant))
    players = rng.randint(2, 10)
    config = HandConfig(
        variant=variant,
        small_blind=1,
        big_blind=2,
        small_bet=2,
        big_bet=4,
        allow_run_it_twice=rng.random() < 0.5,
    )
    seat_numbers = sorted(rng.sample(range(10), players))
    seats = [
        SeatSetup(seat=seat, player_id=f"p{seat}", stack=rng.choice([3, 40, 400]))
        for seat in seat_numbers
    ]
    server_seed = rng.randbytes(32)
    hand_id = f"t{seed}:{rng.randint(1, 10**6)}"
    client_seeds = {seat: rng.randbytes(rng.randint(1, 64)) for seat in seat_numbers}
    deck = fairness.fair_deck(server_seed, hand_id, client_seeds)
    hand = Hand(config, seats, rng.randrange(10), deck)
    events = list(hand.start())
    for _ in range(1_000):
        if hand.is_over:
            break
        legal = hand.legal_actions()
        if legal.run_it_twice:
            events += hand.apply(AgreeRunItTwice(seat=legal.seat, agree=rng.random() < 0.8))
        else:
            events += hand.apply(choose_action(legal, rng))
    assert hand.is_over
    return hand, events, server_seed, hand_id, client_seeds


@PROPERTY_SETTINGS
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_proof_for_hand_matches_what_the_engine_dealt(seed: int) -> None:
    note(f"replay: _play({seed})")
    _, events, server_seed, hand_id, client_seeds = _play(seed)
    proof = fairness.proof_for_hand(
        hand_id=hand_id, server_seed=server_seed, client_seeds=client_seeds, events=events
    )
    fairness.verify_proof(proof)
    order = fairness.deck_order(server_seed, hand_id, client_seeds)
    assert [card.index for card in proof.dealt] == order[: len(proof.dealt)]
    # Each seat's hole cards sit where dealt_in_order puts them.
    holes = [event.cards for event in events if isinstance(event, HoleCardsDealt)]
    boards = [(event.run, event.cards) for event in events if isinstance(event, BoardDealt)]
    layout = fairness.dealt_in_order(holes, boards)
    assert len(layout) == len(proof.dealt)
    assert all(
        card is None or card is dealt for card, dealt in zip(layout, proof.dealt, strict=True)
    )


def test_run_it_twice_deals_the_second_board_without_burns() -> None:
    for seed in range(2_000):
        _, events, server_seed, hand_id, client_seeds = _play(seed)
        if any(isinstance(event, BoardDealt) and event.run == 1 for event in events):
            break
    else:
        pytest.fail("no run it twice in 2,000 seeded hands")
    proof = fairness.proof_for_hand(
        hand_id=hand_id, server_seed=server_seed, client_seeds=client_seeds, events=events
    )
    first = [e.cards for e in events if isinstance(e, BoardDealt) and e.run == 0]
    second = [e.cards for e in events if isinstance(e, BoardDealt) and e.run == 1]
    second_cards = [card for cards in second for card in cards]
    # The second board's cards are the last ones drawn, with no burn between them.
    assert [card.code for card in proof.dealt[-len(second_cards) :]] == second_cards
    assert first  # and the first board came before, with its burns


def test_proof_for_hand_refuses_events_from_another_deck() -> None:
    _, events, server_seed, hand_id, client_seeds = _play(7)
    with pytest.raises(DealMismatch):
        fairness.proof_for_hand(
            hand_id=hand_id + "x", server_seed=server_seed, client_seeds=client_seeds, events=events
        )


def _observed(
    events: list[Event], dealing_order: tuple[int, ...], me: int
) -> tuple[dict[int, tuple[str, ...]], list[tuple[int, tuple[str, ...]]]]:
    """What the player in seat ``me`` saw: their own cards, shown hands, the boards."""
    seen: dict[int, tuple[str, ...]] = {}
    boards: list[tuple[int, tuple[str, ...]]] = []
    for event in events:
        match event:
            case HoleCardsDealt(seat=seat, cards=cards) if seat == me:
                seen[seat] = cards
            case HandShown(seat=seat, cards=cards):
                seen[seat] = cards
            case BoardDealt(run=run, cards=cards):
                boards.append((run, cards))
    assert set(seen) <= set(dealing_order)
    return seen, boards


@pytest.mark.parametrize("seed", range(40))
def test_a_client_verifies_a_hand_from_what_it_saw(seed: int) -> None:
    hand, events, server_seed, hand_id, client_seeds = _play(seed)
    order = hand.seats
    me = order[seed % len(order)]
    seen, boards = _observed(events, order, me)
    arguments: dict[str, object] = {
        "commitment_hash": fairness.commitment(server_seed),
        "server_seed": server_seed,
        "hand_id": hand_id,
        "client_seeds": client_seeds,
        "dealing_order": order,
        "hole_cards_each": hand.config.variant.hole_cards,
        "hole_cards": seen,
        "boards": boards,
        "own_seat": me,
        "own_client_seed": client_seeds[me],
    }
    fairness.verify_observed(**arguments)  # type: ignore[arg-type]
    with pytest.raises(ClientSeedSubstituted):
        substituted = {**arguments, "own_client_seed": b"not what we sent"}
        fairness.verify_observed(**substituted)  # type: ignore[arg-type]
    # Another card in our hand than the one the seeds put there: refused.
    visible = {card for cards in seen.values() for card in cards}
    visible.update(card for _, cards in boards for card in cards)
    spare = next(card.code for card in ALL_CARDS if card.code not in visible)
    changed = {**seen, me: (spare, *seen[me][1:])}
    with pytest.raises(DealMismatch):
        fairness.verify_observed(**{**arguments, "hole_cards": changed})  # type: ignore[arg-type]


# ---- the stored proof -------------------------------------------------------------------------


def _proof(seed: int = 3) -> tuple[DealProof, list[Event], Hand]:
    hand, events, server_seed, hand_id, client_seeds = _play(seed)
    proof = fairness.proof_for_hand(
        hand_id=hand_id, server_seed=server_seed, client_seeds=client_seeds, events=events
    )
    return proof, events, hand


def test_history_fields_round_trip_through_a_phh_file() -> None:
    proof, events, hand = _proof()
    stacks = [400] * len(hand.seats)
    history = history_from_events(hand.config, stacks, events, stacks)
    history = replace(history, extra=history.extra + fairness.history_fields(proof))
    again = phh.loads(phh.dumps(history))
    assert fairness.proof_from_history_fields(dict(again.extra)) == proof


@PROPERTY_SETTINGS
@given(
    fields=st.dictionaries(
        st.sampled_from(fairness.HISTORY_FIELDS),
        st.one_of(
            st.text(max_size=120),
            st.integers(),
            st.dictionaries(st.text(max_size=3), st.text(max_size=20), max_size=3),
            st.just(fairness.SCHEME),
        ),
    )
)
def test_reading_proof_fields_refuses_garbage_with_one_error_type(
    fields: dict[str, object],
) -> None:
    try:
        proof = fairness.proof_from_history_fields(fields)
    except FairnessInputInvalid as exc:
        assert exc.code == "fairness_input_invalid"
    else:
        assert proof.hand_id == fields["_fair_hand_id"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("_fair_client_seeds", {"\u00b2": "00"}, "not a seat number"),  # a digit, not 0-9
        ("_fair_client_seeds", {"12": "00"}, "seat is 0..9"),
        ("_fair_client_seeds", {"1": "zz"}, "not hex"),
        ("_fair_client_seeds", "0=00", "a table of seat"),
        ("_fair_dealt", "As" * 53, "up to 52 card codes"),
        ("_fair_dealt", "AsAs", "at most once"),
        ("_fair_dealt", "A", "up to 52 card codes"),
        ("_fair_hand_id", 7, "must be text"),
        ("_fair_scheme", None, "no _fair_scheme field"),
    ],
)
def test_reading_proof_fields_names_the_malformed_one(
    field: str, value: object, message: str
) -> None:
    proof, _, _ = _proof()
    fields = dict(fairness.history_fields(proof))
    if value is None:
        del fields[field]
    else:
        fields[field] = value
    with pytest.raises(FairnessInputInvalid, match=message):
        fairness.proof_from_history_fields(fields)


def test_verify_proof_refuses_a_history_whose_cards_differ_from_its_proof() -> None:
    proof, events, _ = _proof()
    holes = [list(e.cards) for e in events if isinstance(e, HoleCardsDealt)]
    boards = [(e.run, e.cards) for e in events if isinstance(e, BoardDealt)]
    fairness.verify_proof(proof, hole_cards=holes, boards=boards)
    holes[0][0], holes[1][0] = holes[1][0], holes[0][0]  # two players' first cards swapped
    with pytest.raises(DealMismatch):
        fairness.verify_proof(proof, hole_cards=holes, boards=boards)


# ---- purity ---------------------------------------------------------------------------------


def test_fairness_module_imports_no_io_clock_or_entropy() -> None:
    source = Path(fairness.__file__).read_text()
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    allowed = {"__future__", "hashlib", "hmac", "collections", "dataclasses", "typing", "poker"}
    assert imported <= allowed
