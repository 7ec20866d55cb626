"""How long the integrity reports take on a dense generated room (not a test; run it):

    .venv/bin/python -m tests.poker.integrity.measure [--store]

A room of 300 honest players at 40 six-max tables for 400 windows (128,000 hands; every
player active in 70% of 100 hours), the planted pairs of generated.py, times shifted off the
windows' boundaries as stored hands are. Without ``--store``: the pure core's CPU time; with
it: the runner reading the hands from a fresh SQLite file (services/integrity.py).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time

import msgspec
import trio

import tests.poker.integrity.generated as generated
from poker.integrity import SeatedHand, find_collusion, find_dumping
from tests.services.integrity_store import BASE_MS


def dense_room() -> list[SeatedHand]:
    """The room's hands at the generator's times (store_room adds BASE_MS when it stores)."""
    generated.TABLES = 40
    generated.HONEST = tuple(range(1000, 1300))
    return generated.generate_room(7, windows=400).hands


def measure_core(room: list[SeatedHand]) -> None:
    hands = [msgspec.structs.replace(h, ended_at_ms=h.ended_at_ms + BASE_MS) for h in room]
    started = time.process_time()
    dumping = find_dumping(hands)
    middle = time.process_time()
    collusion = find_collusion(hands)
    done = time.process_time()
    print(
        f"{len(hands)} hands: dumping {middle - started:.2f} s CPU, {len(dumping.flags)} flagged"
        f" of {dumping.pairs_with_flows} pairs; collusion {done - middle:.2f} s CPU,"
        f" {len(collusion.signals)} signalled of {collusion.pairs_tested} pairs"
    )


async def measure_store(hands: list[SeatedHand]) -> None:
    from persistence import open_store
    from services import integrity
    from tests.services.integrity_store import store_room

    period = integrity.Period(BASE_MS, BASE_MS + 5 * integrity.DAY_MS)
    with tempfile.TemporaryDirectory() as directory:
        async with open_store(f"sqlite:///{directory}/measure.sqlite3") as store:
            await store_room(store, hands)
            for kind in ("dumping", "collusion"):
                started, cpu = time.perf_counter(), time.process_time()
                if kind == "dumping":
                    raised = len((await integrity.dumping_report(store, period)).flags)
                else:
                    raised = len((await integrity.collusion_report(store, period)).signals)
                print(
                    f"{kind} from SQLite: {time.perf_counter() - started:.2f} s wall,"
                    f" {time.process_time() - cpu:.2f} s CPU, {raised} raised"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--store", action="store_true")
    args = parser.parse_args()
    hands = dense_room()
    if args.store:
        trio.run(measure_store, hands)
    else:
        measure_core(hands)
    print(f"max resident {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")


if __name__ == "__main__":
    main()
