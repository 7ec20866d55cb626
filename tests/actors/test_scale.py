"""The gateway's load shape: thousands of temporary session actors started dynamically."""

from __future__ import annotations

from typing import Any

import msgspec
import trio
import trio.testing

from actors.runtime import Actor, ChildSpec, Restart, SupervisionPolicy
from tests.actors import running

SESSIONS = 2_000


class Push(msgspec.Struct, frozen=True, tag=True):
    seq: int


class Count(msgspec.Struct, frozen=True, tag=True):
    pass


class Session(Actor[Any]):
    kind = "session"
    mailbox_capacity = 64

    def __init__(self) -> None:
        self.pushed = 0

    async def handle(self, message: Any) -> object:
        if isinstance(message, Push):
            self.pushed += 1
        return self.pushed


async def test_thousands_of_sessions_take_a_broadcast_and_leave_no_trace() -> None:
    sessions_spec = ChildSpec.supervisor(
        "sessions", policy=SupervisionPolicy(children_max=SESSIONS)
    )
    async with running(sessions_spec) as runtime:
        sessions = runtime.registry.supervisor("sessions")
        refs = [
            await sessions.start_actor(
                ChildSpec.worker(f"session:{n}", Session, restart=Restart.TEMPORARY)
            )
            for n in range(SESSIONS)
        ]
        for seq in range(10):  # a table broadcasting ten updates: tell, never ask
            for ref in refs:
                ref.tell(Push(seq))
        await trio.testing.wait_all_tasks_blocked()
        assert all(ref.processed == 10 for ref in refs)
        assert await refs[-1].ask(Count()) == 10
        assert len(runtime.registry.names("session:")) == SESSIONS
        assert sum(
            node.messages_processed or 0 for node in runtime.tree().children[0].children
        ) == (10 * SESSIONS + 1)
    assert all(not ref.alive for ref in refs)
