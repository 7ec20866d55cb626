"""The JavaScript SDK's fairness check (clients/js/src/fairness.mjs) against the Python
reference (poker/fairness.py): this test generates vectors with Python (seeded: random server
and client seeds, hand ids of every length class, decks that need a third stream block, and
hands seen by a player, honest and tampered) and runs clients/js/test/fairness.test.mjs on
them, which must recompute every deck and reach every verdict Python reached."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from poker import fairness
from tests.clients.node import run_node

SEED = 26


def _hand_id(rng: random.Random, index: int) -> str:
    kind = index % 4
    if kind == 0:
        return f"t{rng.randrange(1000)}:{rng.randrange(10**6)}"
    if kind == 1:
        return "Tisch-ÄÖÜ-テーブル:" + str(index)  # UTF-8, several bytes a character
    if kind == 2:
        return "x" * fairness.HAND_ID_BYTES_MAX  # the longest hand id
    return chr(rng.randrange(0x21, 0x7F))  # one byte


def _client_seeds(rng: random.Random) -> dict[int, bytes]:
    seats = rng.sample(range(fairness.SEATS_MAX), rng.randrange(0, fairness.SEATS_MAX + 1))
    return {
        seat: rng.randbytes(
            rng.choice((1, 16, rng.randrange(1, 65), fairness.CLIENT_SEED_BYTES_MAX))
        )
        for seat in seats
    }


def _deck_vector(server_seed: bytes, hand_id: str, seeds: dict[int, bytes]) -> dict[str, Any]:
    return {
        "server_seed": server_seed.hex(),
        "hand_id": hand_id,
        "client_seeds": {str(seat): seed.hex() for seat, seed in seeds.items()},
        "commitment": fairness.commitment(server_seed).hex(),
        "message": fairness.deal_message(hand_id, seeds).hex(),
        "deck": "".join(
            card.code for card in fairness.fair_deck(server_seed, hand_id, seeds).cards
        ),
    }


def _observed(
    rng: random.Random, name: str, tamper: Callable[[dict[str, Any]], None] | None
) -> dict[str, Any]:
    server_seed = rng.randbytes(32)
    players = rng.randrange(2, 10)
    each = rng.choice((2, 4))
    order = rng.sample(range(fairness.SEATS_MAX), players)
    seeds = {seat: rng.randbytes(16) for seat in order}
    hand_id = f"t9:{rng.randrange(10**6)}"
    deck = [card.code for card in fairness.fair_deck(server_seed, hand_id, seeds).cards]
    own = rng.randrange(players)
    shown = {own, *rng.sample(range(players), rng.randrange(0, players))}
    hole = {order[p]: [deck[k * players + p] for k in range(each)] for p in sorted(shown)}
    at = players * each
    boards = [(0, deck[at + 1 : at + 4]), (0, [deck[at + 5]]), (0, [deck[at + 7]])]
    vector: dict[str, Any] = {
        "name": name,
        "commitment": fairness.commitment(server_seed).hex(),
        "server_seed": server_seed.hex(),
        "hand_id": hand_id,
        "client_seeds": {str(seat): seed.hex() for seat, seed in seeds.items()},
        "dealing_order": order,
        "hole_cards_each": each,
        "hole_cards": {str(seat): cards for seat, cards in hole.items()},
        "boards": boards,
        "own_seat": order[own],
        "own_client_seed": seeds[order[own]].hex(),
    }
    if tamper is not None:
        tamper(vector)
    try:
        fairness.verify_observed(
            commitment_hash=bytes.fromhex(vector["commitment"]),
            server_seed=bytes.fromhex(vector["server_seed"]),
            hand_id=vector["hand_id"],
            client_seeds={int(s): bytes.fromhex(h) for s, h in vector["client_seeds"].items()},
            dealing_order=vector["dealing_order"],
            hole_cards_each=vector["hole_cards_each"],
            hole_cards={int(s): c for s, c in vector["hole_cards"].items()},
            boards=[(run, cards) for run, cards in vector["boards"]],
            own_seat=vector["own_seat"],
            own_client_seed=bytes.fromhex(vector["own_client_seed"]),
        )
        vector["expected"] = None
    except fairness.FairnessError as exc:
        vector["expected"] = exc.code
    return vector


def _swap_river(v: dict[str, Any]) -> None:
    first_hole = next(iter(v["hole_cards"].values()))[0]
    v["boards"][2] = (0, [first_hole])  # a card already dealt: cannot be the river


def _other_seed(v: dict[str, Any]) -> None:
    v["server_seed"] = bytes(32).hex()


def _substitute_own_seed(v: dict[str, Any]) -> None:
    v["client_seeds"][str(v["own_seat"])] = "00" * 16


def _other_hand(v: dict[str, Any]) -> None:
    v["hand_id"] += "0"


def _move_a_seed(v: dict[str, Any]) -> None:
    seats = [s for s in v["client_seeds"] if int(s) != v["own_seat"]]
    seed = v["client_seeds"].pop(seats[0])
    free = next(str(s) for s in range(10) if str(s) not in v["client_seeds"])
    v["client_seeds"][free] = seed


TAMPERS: dict[str, Callable[[dict[str, Any]], None] | None] = {
    "honest": None,
    "changed river": _swap_river,
    "another server seed": _other_seed,
    "our seed substituted": _substitute_own_seed,
    "another hand id": _other_hand,
    "a seed moved to another seat": _move_a_seed,
}


def vectors(seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    decks = [
        _deck_vector(rng.randbytes(32), _hand_id(rng, i), _client_seeds(rng)) for i in range(200)
    ]
    # Known to need a third stream block (tests/poker/test_fairness.py KAT3).
    third = bytes.fromhex("1bd10b30d3d246b03973cec762bab9731a5ff66f7cab8e5a96a6de4f3a9d13b7")
    decks.append(_deck_vector(third, "kat:third-block", {}))
    observed = [_observed(rng, name, tamper) for _ in range(6) for name, tamper in TAMPERS.items()]
    return {"decks": decks, "observed": observed}


def test_generated_vectors_cover_every_verdict() -> None:
    verdicts = {v["expected"] for v in vectors(SEED)["observed"]}
    assert verdicts == {None, "deal_mismatch", "commitment_mismatch", "client_seed_substituted"}


def test_js_sdk_recomputes_every_python_deck_and_verdict(tmp_path: Path) -> None:
    path = tmp_path / "vectors.json"
    path.write_text(json.dumps(vectors(SEED)), encoding="utf-8")
    result = run_node(
        ["--test", "--test-reporter=spec", "test/fairness.test.mjs"],
        env={"TABLIUM_FAIR_VECTORS": str(path)},
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]
    assert "skipped 0" in result.stdout and "pass 4" in result.stdout, result.stdout[-2000:]
