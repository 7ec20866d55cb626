"""``tablium hands``: simulate hands into PHH files, replay PHH files through our engine,
verify provably fair deals.

The PHH work itself is pure (``poker.phh``, ``poker.simulate``, ``poker.text_history``,
``poker.fairness``); this module only reads and writes the files and prints.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from poker.phh import HandHistory

# A PHH file is read whole. The largest public dataset files are tens of MB; past this bound
# the file is refused (policy: error for that file, other files still replay).
PHH_FILE_BYTES_MAX: Final = 256 * 1024 * 1024
# One simulate run writes at most this many hands (policy: argparse error).
SIMULATE_HANDS_MAX: Final = 1_000_000

_VARIANTS: Final = ("NT", "FT", "PO", "PT", "PO/8")


def _hand_count(text: str) -> int:
    count = int(text)
    if not 1 <= count <= SIMULATE_HANDS_MAX:
        raise argparse.ArgumentTypeError(f"between 1 and {SIMULATE_HANDS_MAX}")
    return count


def _player_count(text: str) -> int:
    count = int(text)
    if not 2 <= count <= 10:
        raise argparse.ArgumentTypeError("between 2 and 10")
    return count


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="hands_command", metavar="ACTION", required=True)

    simulate = sub.add_parser(
        "simulate",
        help="play random legal hands in our engine and write them as PHH",
        description="Play hands with random legal actions (seeded, reproducible) and write"
        " them as one .phhs file with finishing stacks. PokerKit reads the NT, FT and PO"
        " output; PT and PO/8 are Tablium extensions (docs/hand-histories.md).",
    )
    simulate.add_argument("--variant", choices=_VARIANTS, default="NT", help="PHH variant code")
    simulate.add_argument("--players", type=_player_count, default=6, help="players (2-10)")
    simulate.add_argument("--hands", type=_hand_count, default=100, help="number of hands")
    simulate.add_argument("--seed", type=int, default=0, help="seed; same seed, same hands")
    simulate.add_argument(
        "--edge-cases",
        action="store_true",
        help="odd blinds, antes, straddles and stacks shorter than the forced bets",
    )
    simulate.add_argument(
        "--out", type=Path, required=True, metavar="FILE.phhs", help="file to write ('-': stdout)"
    )

    replay = sub.add_parser(
        "replay",
        help="replay .phh/.phhs files through our engine",
        description="Replay each hand of each file and print one JSON line per hand:"
        ' {"hand": ..., "finishing_stacks": [...]} or {"hand": ..., "error": "..."} naming the'
        " first action our engine refuses. A hand that records finishing_stacks different"
        ' from ours also counts as failed (it gets a "recorded_finishing_stacks" key).'
        " Exit status 1 if any hand failed.",
    )
    replay.add_argument("files", nargs="+", type=Path, metavar="FILE", help=".phh or .phhs")

    text = sub.add_parser(
        "text",
        help="print .phh/.phhs hands as PokerStars-style text histories",
        description="Replay each hand through our engine and print it as a PokerStars-style"
        " text history, for people to read.",
    )
    text.add_argument("files", nargs="+", type=Path, metavar="FILE", help=".phh or .phhs")

    verify = sub.add_parser(
        "verify",
        help="verify provably fair hands: revealed seeds, commitment and the cards dealt",
        description="For each hand, read its _fair_* fields (docs/fairness.md), check the"
        " revealed server seed against the commitment, recompute the deck from the seeds and"
        " the hand id, and check every card the hand dealt against it: the recorded deal"
        " (_fair_dealt) and the hole cards and board in the actions. Prints one JSON line"
        ' per hand: {"hand": ..., "verified": true} or {"hand": ..., "code": "...",'
        ' "error": "..."}. Exit status 1 if any hand failed.',
    )
    verify.add_argument("files", nargs="+", type=Path, metavar="FILE", help=".phh or .phhs")


def run(args: argparse.Namespace) -> int:
    try:
        if args.hands_command == "simulate":
            return _simulate(args)
        if args.hands_command == "replay":
            return _replay(args.files)
        if args.hands_command == "verify":
            return _verify(args.files)
        return _text(args.files)
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as Unix tools do.
        sys.stderr.close()
        return 1


def _simulate(args: argparse.Namespace) -> int:
    from poker import Variant, phh
    from poker.simulate import simulate_hands

    hands = simulate_hands(
        Variant(args.variant),
        args.players,
        args.hands,
        random.Random(args.seed),
        edge_cases=args.edge_cases,
    )
    output = phh.dumps_all(hands)
    if str(args.out) == "-":
        sys.stdout.write(output)
    else:
        args.out.write_text(output, encoding="utf-8")
    return 0


def _read(path: Path) -> str:
    size = path.stat().st_size
    if size > PHH_FILE_BYTES_MAX:
        raise ValueError(f"{size} bytes; at most {PHH_FILE_BYTES_MAX} are read")
    return path.read_text(encoding="utf-8")


def _replay(files: list[Path]) -> int:
    from poker import phh
    from poker.simulate import replay

    failed = False
    for path in files:
        try:
            hands = phh.loads_all(_read(path))
        except (OSError, ValueError) as exc:
            print(json.dumps({"file": str(path), "error": str(exc)}))
            failed = True
            continue
        for position, hand in enumerate(hands, 1):
            label = hand.hand if hand.hand is not None else position
            line: dict[str, object] = {"hand": label, "file": str(path)}
            try:
                stacks = list(replay(hand).finishing_stacks)
            except phh.PhhError as exc:
                line["error"] = str(exc)
                failed = True
            else:
                line["finishing_stacks"] = stacks
                recorded = hand.finishing_stacks
                if recorded is not None and list(recorded) != stacks:
                    line["recorded_finishing_stacks"] = list(recorded)
                    failed = True
            print(json.dumps(line))
    return 1 if failed else 0


def _text(files: list[Path]) -> int:
    from poker import phh
    from poker.text_history import Viewer, text_from_history

    failed = False
    for path in files:
        try:
            hands = phh.loads_all(_read(path))
        except (OSError, ValueError) as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            failed = True
            continue
        for hand in hands:
            try:
                print(text_from_history(hand, viewer=Viewer.staff()))  # the operator's files
            except phh.PhhError as exc:
                print(f"{path}: hand {hand.hand}: {exc}", file=sys.stderr)
                failed = True
    return 1 if failed else 0


def _verify(files: list[Path]) -> int:
    from poker import phh
    from poker.fairness import FairnessError

    failed = False
    for path in files:
        try:
            hands = phh.loads_all(_read(path))
        except (OSError, ValueError) as exc:
            print(json.dumps({"file": str(path), "error": str(exc)}))
            failed = True
            continue
        for position, hand in enumerate(hands, 1):
            label = hand.hand if hand.hand is not None else position
            line: dict[str, object] = {"hand": label, "file": str(path)}
            try:
                _verify_hand(hand)
            except FairnessError as exc:
                line.update(code=exc.code, error=str(exc))
                failed = True
            except phh.PhhError as exc:
                line.update(code="history_invalid", error=str(exc))
                failed = True
            else:
                line["verified"] = True
            print(json.dumps(line))
    return 1 if failed else 0


def _verify_hand(hand: HandHistory) -> None:
    """Raises FairnessError (or PhhError for a malformed history) unless the hand verifies."""
    from poker import Card, Variant, fairness, phh

    proof = fairness.proof_from_history_fields(dict(hand.extra))
    try:
        per_player = Variant(hand.variant).hole_cards
    except ValueError:
        raise phh.PhhUnsupportedError(f"unknown variant {hand.variant!r}") from None
    holes: list[list[Card | str | None]] = [[None] * per_player for _ in range(hand.player_count)]
    boards: list[tuple[int, tuple[str, ...]]] = []
    for text in hand.actions:
        action = phh.parse_action(text)
        if isinstance(action, phh.DealHole):
            if not 0 <= action.player < hand.player_count or len(action.cards) > per_player:
                raise phh.PhhFormatError(f"not a deal to a player of this hand: {text!r}")
            # PHH pN is dealing position N-1 (first left of the button first), as in the engine.
            holes[action.player][: len(action.cards)] = [
                None if card == phh.UNKNOWN_CARD else card for card in action.cards
            ]
        elif isinstance(action, phh.DealBoard):
            boards.append((0, action.cards))  # PHH holds the first board only
    fairness.verify_proof(proof, hole_cards=holes, boards=boards)
