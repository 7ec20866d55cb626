"""``tablium hands``: simulate hands into PHH files, replay PHH files through our engine.

The PHH work itself is pure (``poker.phh``, ``poker.simulate``, ``poker.text_history``); this
module only reads and writes the files and prints.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Final

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


def run(args: argparse.Namespace) -> int:
    try:
        if args.hands_command == "simulate":
            return _simulate(args)
        if args.hands_command == "replay":
            return _replay(args.files)
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
