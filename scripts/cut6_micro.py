"""Cut 6 of issue 25 (docs/loadtest.md, "Cut 6"): each of its changes measured by itself, the
way before against the way after, in one process. One-off; the way before is written out here.

    PYTHONPATH=. .venv/bin/python scripts/cut6_micro.py      # prints one JSON object

- ``store_call_us``: CPU per store unit (``SELECT 1``): ``trio.to_thread.run_sync`` with a
  CapacityLimiter of 1 (before) against ``StoreThread.call`` (after); the whole process and
  the event loop's thread alone; median of 5 rounds of 20,000.
- ``ask_round_trip_us``: CPU per ask to an echo actor: a cancel scope with the deadline per
  ask (before) against ``AskDeadlines`` (after); median of 5 rounds of 50,000.
- ``hand_snapshot_us``: wall time per hand snapshot, at every decision of 200 six-player
  hands: the engine's encoded state (before) against the tuple of its actions (after).
- ``hand_facts_us``: wall time per hand of ``hand_facts`` for 300 six-player hands: parsing
  the PHH text (before) against the history handed over (after).
"""

from __future__ import annotations

import json
import random
import sqlite3
import statistics
import time
from dataclasses import replace
from typing import Any

import trio

from actors.hand import HandState
from actors.mailbox import ActorRef, Ask
from persistence.sqlite import StoreThread
from players.stats import FinishedHand, SeatOutcome, hand_facts, remember_written
from poker import Deck, Hand, phh
from poker.config import Variant
from poker.simulate import choose_action, random_setup, seats_for, simulate_hand
from tests.actors import Echo, recorder, running

ROUNDS = 5


async def store_calls(calls: int = 20_000) -> dict[str, dict[str, float]]:
    conn = sqlite3.connect(":memory:", check_same_thread=False)

    def unit() -> list[Any]:
        return conn.execute("SELECT 1").fetchall()

    limiter = trio.CapacityLimiter(1)
    thread = StoreThread("cut6")
    runs: dict[str, list[tuple[float, float]]] = {"before": [], "after": []}
    for _ in range(ROUNDS):
        for kind, samples in runs.items():
            process, loop = time.process_time(), time.thread_time()
            for _ in range(calls):
                if kind == "before":
                    await trio.to_thread.run_sync(unit, limiter=limiter)
                else:
                    await thread.call(unit)
            samples.append(
                (
                    (time.process_time() - process) / calls * 1e6,
                    (time.thread_time() - loop) / calls * 1e6,
                )
            )
    thread.stop()
    return {
        kind: {
            "process": statistics.median(s[0] for s in samples),
            "event_loop_thread": statistics.median(s[1] for s in samples),
        }
        for kind, samples in runs.items()
    }


async def _ask_before(ref: ActorRef[Any], message: object, timeout_s: float = 5.0) -> Any:
    """ActorRef.ask's way before cut 6, for a mailbox with room."""
    envelope = Ask(message)
    with trio.move_on_after(timeout_s):
        ref._items.append(envelope)
        ref._wake_receiver()
        envelope.task = trio.lowlevel.current_task()
        return await trio.lowlevel.wait_task_rescheduled(envelope._abort)
    raise TimeoutError


async def asks(count: int = 50_000) -> dict[str, float]:
    runs: dict[str, list[float]] = {"before": [], "after": []}
    async with running(recorder("echo", [])) as runtime:
        ref = runtime.registry.get("echo")
        message = Echo(1)
        for _ in range(ROUNDS):
            for kind, samples in runs.items():
                started = time.process_time()
                for _ in range(count):
                    if kind == "before":
                        await _ask_before(ref, message)
                    else:
                        await ref.ask(message)
                samples.append((time.process_time() - started) / count * 1e6)
    return {kind: statistics.median(samples) for kind, samples in runs.items()}


def hand_snapshots(hands: int = 200, repeat: int = 200) -> dict[str, float]:
    rng = random.Random(7)
    before: list[float] = []
    after: list[float] = []
    banks = {0: 1}
    for _ in range(hands):
        setup = random_setup(Variant.NO_LIMIT_HOLDEM, 6, rng)
        hand = Hand(setup.config, seats_for(setup.stacks), 5, Deck.shuffled(rng))
        hand.start()
        actions = []
        while not hand.is_over:
            action = choose_action(hand.legal_actions(), rng)
            hand.apply(action)
            actions.append(action)
            started = time.perf_counter()
            for _ in range(repeat):
                hand.snapshot()
                HandState(actions=(), decision=1, time_banks_ms=tuple(banks.items()),
                          disconnected=(), timed_out=())  # fmt: skip
            before.append((time.perf_counter() - started) / repeat * 1e6)
            started = time.perf_counter()
            for _ in range(repeat):
                HandState(actions=tuple(actions), decision=1, time_banks_ms=tuple(banks.items()),
                          disconnected=(), timed_out=())  # fmt: skip
            after.append((time.perf_counter() - started) / repeat * 1e6)
    return {"before": statistics.median(before), "after": statistics.median(after)}


def facts(count: int = 300) -> dict[str, float]:
    rng = random.Random(3)
    written = []
    for i in range(count):
        history = simulate_hand(random_setup(Variant.NO_LIMIT_HOLDEM, 6, rng), rng)
        history = replace(history, players=tuple(str(p) for p in range(1, 7)))
        assert history.finishing_stacks is not None
        text = phh.dumps(history)
        outcomes = tuple(
            SeatOutcome(player_id=p, net=end - start, rake_paid=0)
            for p, start, end in zip(
                range(1, 7), history.starting_stacks, history.finishing_stacks, strict=True
            )
        )
        hand = FinishedHand(hand_id=f"h{i}", game="NT 1/2", asset="chips", ended_at_ms=0,
                            phh_text=text, outcomes=outcomes)  # fmt: skip
        written.append((text, history, hand))
    started = time.perf_counter()
    for _, _, hand in written:
        hand_facts(hand)
    parsed = (time.perf_counter() - started) / count * 1e6
    started = time.perf_counter()
    for text, history, hand in written:
        remember_written(text, history)
        hand_facts(hand)
    handed_over = (time.perf_counter() - started) / count * 1e6
    return {"before": parsed, "after": handed_over}


async def _both() -> dict[str, Any]:
    return {"store_call_us": await store_calls(), "ask_round_trip_us": await asks()}


def main() -> None:
    results = trio.run(_both)
    results["hand_snapshot_us"] = hand_snapshots()
    results["hand_facts_us"] = facts()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
