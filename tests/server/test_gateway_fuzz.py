"""A live fuzz of the gateway: thousands of mutated frames, and nobody else notices."""

from __future__ import annotations

import random
from pathlib import Path

import msgspec
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket_url

from protocol.client import open_client
from protocol.codec import encode
from protocol.errors import ErrorCode
from protocol.messages import (
    Authenticate,
    Error,
    Event,
    GuestLogin,
    Hello,
    Login,
    Logout,
    Notice,
    Ping,
    Register,
)
from server.auth import TokenSigner
from server.gateway import GatewayLimits
from tests.protocol.gateway_harness import (
    PASSWORD,
    TEST_SECRET,
    decode,
    push_to_player,
    running_gateway,
)

FRAMES = 3000
PUSH_EVERY_FRAMES = 10

CORPUS: list[bytes] = [
    encode(Hello(id=1, versions=[1])),
    encode(Register(id=2, name="fuzzed", password=PASSWORD)),
    encode(Login(id=3, name="fuzzed", password=PASSWORD)),
    encode(GuestLogin(id=4)),
    encode(Authenticate(id=5, token=TokenSigner(TEST_SECRET).issue("x", "player")[0])),
    encode(Ping(id=6)),
    encode(Logout(id=7)),
    msgspec.msgpack.encode({"type": "ping", "id": 8, "extra": [[[[1]]]]}),
]


FIELD_VALUES: list[object] = [
    None, True, -1, 0, 1, 2**32, 2**64 - 1, 1.5, "", "x" * 200, b"\x00", [], [1] * 20, {}, [[[[]]]],
    "ping", "hello", "login", "alice", "x" * 5000,
]  # fmt: skip


def mutate_fields(rng: random.Random) -> bytes:
    fields = dict(msgspec.msgpack.decode(rng.choice(CORPUS)))
    for _ in range(rng.randrange(1, 3)):
        action = rng.randrange(3)
        key = rng.choice([*fields, "type", "id", "token", "name", "zzz"])
        if action == 0:
            fields.pop(key, None)
        else:
            fields[key] = rng.choice(FIELD_VALUES)
    return msgspec.msgpack.encode(fields)


def mutate(rng: random.Random) -> bytes | str:
    frame = bytearray(rng.choice(CORPUS))
    kind = rng.randrange(10)
    if kind >= 6:
        return mutate_fields(rng)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    if kind == 1:
        return frame[: rng.randrange(len(frame))].decode("latin-1")  # a text frame
    if kind == 2:
        del frame[rng.randrange(1, len(frame)) :]
    elif kind == 3:
        at = rng.randrange(len(frame))
        frame[at:at] = bytes([rng.choice([0x91, 0xDC, 0xDD, 0xDF, 0xC6, 0xDB])]) * rng.randrange(
            1, 40
        )
    elif kind == 4:
        frame += frame * rng.randrange(1, 4)
    for _ in range(rng.randrange(1, 6)):
        frame[rng.randrange(len(frame))] = rng.randrange(256)
    return bytes(frame) if frame else b"\x00"


MARKER_ID_BASE = 3_000_000_000  # ids the corpus never uses


async def fuzz(
    url: str, rng: random.Random, on_frame: trio.MemorySendChannel[int]
) -> dict[str, int]:
    """Send FRAMES mutated frames, each followed by a ping whose reply (pong, or wrong_phase
    before hello) marks the end of that frame's answers; count the answers by kind."""
    counts: dict[str, int] = {}
    sent = 0
    while sent < FRAMES:
        ws: WebSocketConnection
        async with open_websocket_url(url) as ws:
            try:
                while sent < FRAMES:
                    marker = MARKER_ID_BASE + sent
                    await ws.send_message(mutate(rng))
                    await ws.send_message(encode(Ping(id=marker)))
                    sent += 1
                    on_frame.send_nowait(sent)
                    while True:
                        reply = decode(await ws.get_message())  # every answer is readable
                        if not isinstance(reply, Event) and reply.id == marker:
                            break
                        name = (
                            f"error:{reply.code}"
                            if isinstance(reply, Error)
                            else type(reply).__name__
                        )
                        counts[name] = counts.get(name, 0) + 1
            except ConnectionClosed:
                counts["closed"] = counts.get("closed", 0) + 1
    return counts


async def test_thousands_of_mutated_frames_leave_everyone_else_unharmed(tmp_path: Path) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    # The fuzzers and the observer share loopback; the address's own bucket (which would make
    # them share a rate, by design) is lifted: this is about one connection's garbage.
    limits = GatewayLimits(
        rate_burst_requests=2 * FRAMES,
        rate_refill_per_s=2 * FRAMES,
        rate_ip_burst_requests=100 * FRAMES,
        rate_ip_refill_per_s=100 * FRAMES,
    )
    async with (
        running_gateway(tmp_path, limits=limits) as gateway,
        open_client(gateway.url) as observer,
    ):
        await observer.register("observer", PASSWORD)
        pushed = 0
        progress_send, progress = trio.open_memory_channel[int](FRAMES)
        counts: dict[str, int] = {}

        async def run_fuzzer() -> None:
            counts.update(await fuzz(gateway.url, rng, progress_send))
            progress_send.close()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(run_fuzzer)
            async for sent in progress:
                if sent % PUSH_EVERY_FRAMES == 0:
                    pushed += push_to_player(gateway, "observer", Notice(code="n", text=str(sent)))
        print(f"seed {seed}: {counts}")
        seen = [await observer.next_event() for _ in range(pushed)]
        assert [e.seq for e in seen if isinstance(e, Event)] == list(range(1, pushed + 1)), seed
        assert observer.reconnects == 0, seed
        assert gateway.session_crashes == 0, f"seed {seed}: {counts}"
        # The refusals were the stable codes, and most frames were refused, not acted on.
        codes = {name.removeprefix("error:") for name in counts if name.startswith("error:")}
        assert codes <= {code.value for code in ErrorCode}, counts
        assert sum(n for name, n in counts.items() if name.startswith("error:")) > FRAMES // 2
        assert len(codes) >= 6, counts  # the fuzz reached past the first checks

        async with open_client(gateway.url) as newcomer:
            await newcomer.register("newcomer", PASSWORD)
            assert await newcomer.ping() >= 0
        assert await observer.ping() >= 0
