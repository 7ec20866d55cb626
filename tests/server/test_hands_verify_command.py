"""``tablium hands verify``: hands dealt by the engine from fair decks verify; tampered ones
fail with the code that names what was changed."""

from __future__ import annotations

import json
import random
import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poker import ALL_CARDS, AgreeRunItTwice, Hand, Variant, fairness, phh
from poker.simulate import choose_action, history_from_events, random_setup, seats_for
from server.cli import main
from server.commands.hands import _verify_hand


def fair_history(seed: int, variant: Variant = Variant.NO_LIMIT_HOLDEM) -> phh.HandHistory:
    """One seeded hand played by the engine from ``fair_deck``, with its proof fields."""
    rng = random.Random(seed)
    players = rng.randint(2, 9)
    setup = random_setup(variant, players, rng)
    server_seed = rng.randbytes(32)
    hand_id = f"table-{seed}:{rng.randint(1, 10_000)}"
    # Seat i is PHH player p{i+1} and the button is the last seat (poker.simulate.seats_for).
    client_seeds = {seat: rng.randbytes(16) for seat in range(players)}
    deck = fairness.fair_deck(server_seed, hand_id, client_seeds)
    hand = Hand(setup.config, seats_for(setup.stacks), players - 1, deck)
    events = list(hand.start())
    while not hand.is_over:
        legal = hand.legal_actions()
        if legal.run_it_twice:
            events += hand.apply(AgreeRunItTwice(seat=legal.seat, agree=False))
        else:
            events += hand.apply(choose_action(legal, rng))
    finishing = [hand.result.stack_of(seat) for seat in range(players)]
    history = history_from_events(setup.config, setup.stacks, events, finishing)
    proof = fairness.proof_for_hand(
        hand_id=hand_id, server_seed=server_seed, client_seeds=client_seeds, events=events
    )
    return replace(history, hand=seed, extra=history.extra + fairness.history_fields(proof))


def _verify(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, object]]]:
    status = main(["hands", "verify", str(path)])
    return status, [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def _with_field(history: phh.HandHistory, name: str, value: object) -> phh.HandHistory:
    return replace(history, extra=tuple((k, value if k == name else v) for k, v in history.extra))


def test_hands_dealt_from_fair_decks_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hands = [fair_history(seed, variant) for seed, variant in enumerate(Variant)]
    path = tmp_path / "fair.phhs"
    path.write_text(phh.dumps_all(hands))
    status, lines = _verify(path, capsys)
    assert status == 0
    assert [line.get("verified") for line in lines] == [True] * len(hands)
    # The same file still replays: the proof fields are PHH user fields, ignored by replay.
    assert main(["hands", "replay", str(path)]) == 0


def test_a_changed_board_card_fails_with_deal_mismatch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = next(h for s in range(50) if _has_flop(h := fair_history(s)))
    actions = list(history.actions)
    index = next(i for i, text in enumerate(actions) if text.startswith("d db "))
    flop = phh.split_cards(actions[index][5:])
    used = set(re.findall(r"[2-9TJQKA][cdhs]", " ".join(actions)))
    spare = next(c.code for c in ALL_CARDS if c.code not in used)
    actions[index] = "d db " + spare + "".join(flop[1:])
    path = tmp_path / "tampered.phh"
    path.write_text(phh.dumps(replace(history, actions=tuple(actions))))
    status, lines = _verify(path, capsys)
    assert status == 1
    assert lines[0]["code"] == "deal_mismatch"


def _has_flop(history: phh.HandHistory) -> bool:
    return any(text.startswith("d db ") for text in history.actions)


def test_swapped_hole_cards_fail_with_deal_mismatch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = fair_history(3)
    actions = list(history.actions)
    first, second = actions[0], actions[1]  # d dh p1 .. and d dh p2 ..
    actions[0] = first[:9] + second[9:]
    actions[1] = second[:9] + first[9:]
    path = tmp_path / "swapped.phh"
    path.write_text(phh.dumps(replace(history, actions=tuple(actions))))
    status, lines = _verify(path, capsys)
    assert (status, lines[0]["code"]) == (1, "deal_mismatch")


@pytest.mark.parametrize(
    ("field", "change", "code"),
    [
        ("_fair_server_seed", lambda v: "00" * 32, "commitment_mismatch"),
        ("_fair_commitment", lambda v: "ff" + v[2:], "commitment_mismatch"),
        ("_fair_hand_id", lambda v: v + "0", "deal_mismatch"),
        ("_fair_client_seeds", lambda v: {**v, "0": "beef"}, "deal_mismatch"),
        (
            "_fair_client_seeds",
            lambda v: {
                "0": v["1"],
                "1": v["0"],
                **{k: s for k, s in v.items() if k not in ("0", "1")},
            },
            "deal_mismatch",
        ),
        ("_fair_dealt", lambda v: v[2:4] + v[0:2] + v[4:], "deal_mismatch"),
        ("_fair_dealt", lambda v: v[:-2], "proof_incomplete"),
        ("_fair_scheme", lambda v: "tablium-fair-v0", "fairness_input_invalid"),
        ("_fair_server_seed", lambda v: "not hex", "fairness_input_invalid"),
    ],
    ids=[
        "other-server-seed",
        "other-commitment",
        "other-hand-id",
        "changed-client-seed",
        "swapped-client-seeds",
        "reordered-deal",
        "deal-cut-short",
        "unknown-scheme",
        "seed-not-hex",
    ],
)
def test_tampered_proof_fields_fail_with_their_code(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    field: str,
    change: object,
    code: str,
) -> None:
    history = fair_history(5)
    value = dict(history.extra)[field]
    assert callable(change)
    path = tmp_path / "tampered.phh"
    path.write_text(phh.dumps(_with_field(history, field, change(value))))
    status, lines = _verify(path, capsys)
    assert status == 1
    assert lines[0]["code"] == code, lines[0]


def test_a_history_without_proof_fields_is_not_verifiable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            ["hands", "simulate", "--hands", "2", "--seed", "1", "--out", str(tmp_path / "p.phhs")]
        )
        == 0
    )
    status, lines = _verify(tmp_path / "p.phhs", capsys)
    assert status == 1
    assert [line["code"] for line in lines] == ["fairness_input_invalid"] * 2
    assert "no _fair_scheme field" in str(lines[0]["error"])


def test_a_missing_file_is_reported_and_others_still_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.phh"
    good.write_text(phh.dumps(fair_history(8)))
    status = main(["hands", "verify", str(tmp_path / "missing.phh"), str(good)])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 1
    assert "error" in lines[0]
    assert lines[1]["verified"] is True


@settings(max_examples=60, deadline=None, derandomize=True)
@given(data=st.data())
def test_any_change_to_a_proof_field_is_refused_never_crashes(data: st.DataObject) -> None:
    history = fair_history(data.draw(st.integers(0, 20), label="hand"))
    field = data.draw(st.sampled_from(fairness.HISTORY_FIELDS), label="field")
    value = data.draw(
        st.one_of(
            st.text(max_size=80),
            st.integers(),
            st.dictionaries(st.text(max_size=2), st.text(max_size=8), max_size=3),
        ),
        label="value",
    )
    if value == dict(history.extra)[field]:
        return

    with pytest.raises((fairness.FairnessError, phh.PhhError)):
        _verify_hand(phh.loads(phh.dumps(_with_field(history, field, value))))
