"""``tablium bench actors``: actor tell/ask throughput next to a raw trio memory channel.

Every figure is measured in the same process and trio run, best of ``--rounds``:

- ``raw_stream``: ``await send()`` into a memory channel, ``async for`` out of it.
- ``send``: ``await ref.send()`` into an actor (the same idiom as raw_stream).
- ``tell``: ``ref.tell()`` in bursts of ``--burst`` then one checkpoint (how a table
  broadcasts to its sessions).
- ``raw_ping_pong``: request on one channel, answer on another: a round trip.
- ``ask``: ``await ref.ask()`` round trips.
- ``tell_ns`` / ``send_nowait_ns``: the cost of one call on the sender's side, ``tell`` into
  an actor's mailbox against ``send_nowait`` into a memory channel, 1000 calls per batch.
- ``spawn``: temporary actors started and stopped per second through a supervisor, and the
  memory a live idle actor holds (the gateway starts one per connection).

Goals (issue 4): tell throughput >= raw_stream / 1.5, ask >= raw_ping_pong / 2.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

TELL_GOAL_RATIO = 1.5
ASK_GOAL_RATIO = 2.0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages", type=int, default=200_000, help="messages per tell round")
    parser.add_argument("--asks", type=int, default=50_000, help="round trips per ask round")
    parser.add_argument("--spawns", type=int, default=5_000, help="actors per spawn round")
    parser.add_argument("--burst", type=int, default=32, help="tells between checkpoints")
    parser.add_argument("--rounds", type=int, default=3, help="repeat; the best round counts")


def run(args: argparse.Namespace) -> int:
    import trio

    figures = trio.run(_measure_all, args)
    tell_ratio = figures["raw_stream_per_s"] / figures["tell_per_s"]
    ask_ratio = figures["raw_ping_pong_per_s"] / figures["ask_per_s"]
    figures["tell_slowdown_vs_raw"] = round(tell_ratio, 3)
    figures["send_slowdown_vs_raw"] = round(figures["raw_stream_per_s"] / figures["send_per_s"], 3)
    figures["ask_slowdown_vs_raw"] = round(ask_ratio, 3)
    figures["tell_call_vs_send_nowait"] = round(figures["tell_ns"] / figures["send_nowait_ns"], 3)
    figures["tell_goal_met"] = tell_ratio <= TELL_GOAL_RATIO
    figures["ask_goal_met"] = ask_ratio <= ASK_GOAL_RATIO
    if args.json:
        print(json.dumps(figures, sort_keys=True))
    else:
        for key, value in figures.items():
            shown = value if isinstance(value, bool) else f"{value:,}"
            print(f"{key:>28}: {shown}")
    return 0


async def _measure_all(args: argparse.Namespace) -> dict[str, Any]:
    best: dict[str, float] = {}
    for _ in range(args.rounds):
        round_figures = {
            "raw_stream_per_s": await _raw_stream(args.messages),
            "send_per_s": await _actor_send(args.messages),
            "tell_per_s": await _actor_tell(args.messages, args.burst),
            "raw_ping_pong_per_s": await _raw_ping_pong(args.asks),
            "ask_per_s": await _actor_ask(args.asks),
            "spawn_stop_per_s": await _spawn_stop(args.spawns),
        }
        for key, value in round_figures.items():
            best[key] = max(best.get(key, 0.0), value)
        for key, value in {
            "tell_ns": await _tell_call_ns(args.messages),
            "send_nowait_ns": await _send_nowait_call_ns(args.messages),
        }.items():
            best[key] = min(best.get(key, float("inf")), value)
    figures: dict[str, Any] = {key: round(value) for key, value in best.items()}
    figures["idle_actor_bytes"] = await _idle_actor_bytes(min(args.spawns, 2_000))
    return figures


def _message_types() -> tuple[type[Any], type[Any]]:
    import msgspec

    class Tick(msgspec.Struct, frozen=True, tag=True):
        seq: int

    class Done(msgspec.Struct, frozen=True, tag=True):
        pass

    return Tick, Done


async def _raw_stream(count: int) -> float:
    import trio

    Tick, _ = _message_types()
    send, receive = trio.open_memory_channel[Any](1024)
    received = 0

    async def consume() -> None:
        nonlocal received
        async for _ in receive:
            received += 1

    started = time.perf_counter()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(consume)
        async with send:
            for seq in range(count):
                await send.send(Tick(seq))
    elapsed = time.perf_counter() - started
    assert received == count
    return count / elapsed


def _counting_actor(overflow: Any) -> Any:
    from actors.runtime import Actor

    class Counting(Actor[Any]):
        kind = "bench"
        mailbox_overflow = overflow

        def __init__(self) -> None:
            self.received = 0

        async def handle(self, message: Any) -> object:
            self.received += 1
            return self.received

    return Counting


async def _with_actor(overflow: Any, body: Any) -> float:
    import trio

    from actors.runtime import ChildSpec, Runtime

    actor_class = _counting_actor(overflow)
    runtime = Runtime([ChildSpec.worker("bench", actor_class)], metrics_registry=None)
    async with trio.open_nursery() as nursery:
        await nursery.start(runtime.run)
        rate: float = await body(runtime.registry.get("bench"))
        runtime.stop()
    return rate


async def _actor_send(count: int) -> float:
    from actors.runtime import Overflow

    Tick, Done = _message_types()

    async def body(ref: Any) -> float:
        started = time.perf_counter()
        for seq in range(count):
            await ref.send(Tick(seq))
        received = await ref.ask(Done())  # mailbox is FIFO: every tick was handled before
        elapsed = time.perf_counter() - started
        assert received == count + 1
        return count / elapsed

    return await _with_actor(Overflow.BLOCK, body)


async def _actor_tell(count: int, burst: int) -> float:
    import trio

    from actors.runtime import Overflow

    Tick, Done = _message_types()

    async def body(ref: Any) -> float:
        started = time.perf_counter()
        tell = ref.tell
        for seq in range(count):
            tell(Tick(seq))
            if seq % burst == burst - 1:
                await trio.lowlevel.checkpoint()
        received = await ref.ask(Done())
        elapsed = time.perf_counter() - started
        assert received == count + 1
        return count / elapsed

    return await _with_actor(Overflow.STOP, body)


SENDER_BATCH = 1000  # calls timed back to back, then the receiver drains them


async def _tell_call_ns(count: int) -> float:
    from actors.runtime import Overflow

    Tick, Done = _message_types()
    messages = [Tick(seq) for seq in range(SENDER_BATCH)]

    async def body(ref: Any) -> float:
        spent = 0.0
        tell = ref.tell
        for _ in range(max(1, count // SENDER_BATCH)):
            started = time.perf_counter()
            for message in messages:
                tell(message)
            spent += time.perf_counter() - started
            await ref.ask(Done())  # drained
        return spent * 1e9 / (max(1, count // SENDER_BATCH) * SENDER_BATCH)

    return await _with_actor(Overflow.STOP, body)


async def _send_nowait_call_ns(count: int) -> float:
    import trio

    Tick, _ = _message_types()
    messages = [Tick(seq) for seq in range(SENDER_BATCH)]
    send, receive = trio.open_memory_channel[Any](SENDER_BATCH)
    received = 0
    drained = trio.Event()

    async def consume() -> None:
        nonlocal received, drained
        async for _ in receive:
            received += 1
            if received == SENDER_BATCH:
                received = 0
                drained.set()

    spent = 0.0
    batches = max(1, count // SENDER_BATCH)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(consume)
        async with send:
            for _ in range(batches):
                drained = trio.Event()
                started = time.perf_counter()
                for message in messages:
                    send.send_nowait(message)
                spent += time.perf_counter() - started
                await drained.wait()
    return spent * 1e9 / (batches * SENDER_BATCH)


async def _raw_ping_pong(count: int) -> float:
    import trio

    Tick, _ = _message_types()
    request_send, request_receive = trio.open_memory_channel[Any](1)
    reply_send, reply_receive = trio.open_memory_channel[Any](1)

    async def answer() -> None:
        async with reply_send:
            async for message in request_receive:
                await reply_send.send(message.seq)

    started = time.perf_counter()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(answer)
        async with request_send:
            for seq in range(count):
                await request_send.send(Tick(seq))
                assert await reply_receive.receive() == seq
    return count / (time.perf_counter() - started)


async def _actor_ask(count: int) -> float:
    from actors.runtime import Overflow

    Tick, _ = _message_types()

    async def body(ref: Any) -> float:
        started = time.perf_counter()
        ask = ref.ask
        for seq in range(count):
            assert await ask(Tick(seq)) == seq + 1
        return count / (time.perf_counter() - started)

    return await _with_actor(Overflow.STOP, body)


async def _spawn_stop(count: int) -> float:
    import trio

    from actors.runtime import ChildSpec, Overflow, Restart, Runtime

    actor_class = _counting_actor(Overflow.STOP)
    runtime = Runtime(metrics_registry=None)
    async with trio.open_nursery() as nursery:
        await nursery.start(runtime.run)
        started = time.perf_counter()
        for n in range(count):
            await runtime.root.start_actor(
                ChildSpec.worker(f"session:{n}", actor_class, restart=Restart.TEMPORARY)
            )
        for n in range(count):
            await runtime.root.stop_child(f"session:{n}")
        elapsed = time.perf_counter() - started
        runtime.stop()
    return count / elapsed


async def _idle_actor_bytes(count: int) -> int:
    import tracemalloc

    import trio

    from actors.runtime import ChildSpec, Overflow, Restart, Runtime

    actor_class = _counting_actor(Overflow.STOP)
    runtime = Runtime(metrics_registry=None)
    async with trio.open_nursery() as nursery:
        await nursery.start(runtime.run)
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for n in range(count):
            await runtime.root.start_actor(
                ChildSpec.worker(f"session:{n}", actor_class, restart=Restart.TEMPORARY)
            )
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        runtime.stop()
    return (after - before) // count
