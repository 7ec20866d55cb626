"""A real trio service (a trio-websocket listener) supervised beside actors, on real sockets:
one temporary session actor per connection, and a bounded shutdown of the whole tree."""

from __future__ import annotations

import itertools
from functools import partial
from typing import Any

import msgspec
import trio
import trio.testing
from trio_websocket import (
    ConnectionClosed,
    WebSocketConnection,
    WebSocketRequest,
    WebSocketServer,
    open_websocket_url,
    serve_websocket,
)

from actors.runtime import Actor, ChildSpec, Registry, Restart, Runtime
from tests.actors import assert_no_orphans

SHUTDOWN_BOUND_S = 5.0  # what operators rely on after SIGTERM


class Said(msgspec.Struct, frozen=True, tag=True):
    text: str


class Closed(msgspec.Struct, frozen=True, tag=True):
    pass


class Session(Actor[Said | Closed]):
    kind = "session"

    def __init__(self, ws: WebSocketConnection, ended: trio.Event) -> None:
        self.ws = ws
        self.ended = ended
        self.count = 0

    async def handle(self, message: Said | Closed) -> object:
        if isinstance(message, Closed):
            self.context.stop()  # a temporary child: its exit removes it
            return None
        self.count += 1
        return f"{message.text} #{self.count}"

    async def stopping(self, crash: BaseException | None) -> None:
        self.ended.set()


def gateway_body(registry: Registry, ended: trio.Event) -> Any:
    numbers = itertools.count(1)

    async def on_connection(request: WebSocketRequest) -> None:
        ws = await request.accept()
        sessions = registry.supervisor("sessions")
        spec = ChildSpec.worker(
            f"session:{next(numbers)}", partial(Session, ws, ended), restart=Restart.TEMPORARY
        )
        ref = await sessions.start_actor(spec)
        try:
            while True:
                text = await ws.get_message()
                assert isinstance(text, str)
                await ws.send_message(await ref.ask(Said(text), timeout_s=2.0))
        except ConnectionClosed:
            pass
        finally:
            ref.tell(Closed())  # tell never blocks: safe even while cancelled

    return partial(serve_websocket, on_connection, "127.0.0.1", 0, None)


def listening_port(runtime: Runtime) -> int:
    server = runtime.root.child("gateway").started_value
    assert isinstance(server, WebSocketServer)
    return server.port


async def test_sessions_behind_a_supervised_listener_shut_down_within_the_bound() -> None:
    registry = Registry()
    runtime = Runtime(
        [
            ChildSpec.supervisor("sessions"),
            ChildSpec.service("gateway", gateway_body(registry, trio.Event())),
        ],
        registry=registry,
        metrics_registry=None,
    )
    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:
            await nursery.start(runtime.run)
            port = listening_port(runtime)
            url = f"ws://127.0.0.1:{port}"
            async with open_websocket_url(url) as first, open_websocket_url(url) as second:
                await first.send_message("hello")
                assert await first.get_message() == "hello #1"
                await second.send_message("hi")
                await first.send_message("again")
                assert await second.get_message() == "hi #1"
                assert await first.get_message() == "again #2"
                assert registry.names("session:") == ["session:1", "session:2"]
                tree = runtime.tree()
                assert [node.name for node in tree.children] == ["sessions", "gateway"]
                assert [node.kind for node in tree.children[0].children] == ["session"] * 2
                # SIGTERM while both clients are still connected
                stopping_at = trio.current_time()
                scope.cancel()
    assert trio.current_time() - stopping_at < SHUTDOWN_BOUND_S
    assert_no_orphans(runtime)


async def test_a_closed_connection_removes_its_temporary_session() -> None:
    registry = Registry()
    ended = trio.Event()
    runtime = Runtime(
        [
            ChildSpec.supervisor("sessions"),
            ChildSpec.service("gateway", gateway_body(registry, ended)),
        ],
        registry=registry,
        metrics_registry=None,
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(runtime.run)
        port = listening_port(runtime)
        async with open_websocket_url(f"ws://127.0.0.1:{port}") as ws:
            await ws.send_message("x")
            assert await ws.get_message() == "x #1"
            ref = registry.get("session:1")
        with trio.fail_after(5):
            await ended.wait()
        await trio.testing.wait_all_tasks_blocked()
        assert not ref.alive
        assert registry.names("session:") == []
        runtime.stop()
    assert_no_orphans(runtime)
