"""tree(), Prometheus metrics, and actors that own children (a table and its hand)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import msgspec
import trio
from prometheus_client import CollectorRegistry

from actors.child import ActorNode
from actors.metrics import collector_for
from actors.runtime import (
    Actor,
    ChildSpec,
    Restart,
    Runtime,
    Strategy,
    SupervisionPolicy,
)
from tests.actors import Add, Crash, Echo, Journal, Recorder, Total, events, recorder, running


async def test_tree_shows_every_node_with_its_mailbox_and_counters(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal: Journal = []
    tables = ChildSpec.supervisor("tables", policy=SupervisionPolicy(strategy=Strategy.ONE_FOR_ONE))
    async with running(recorder("lobby", journal), tables) as runtime:
        sup = runtime.registry.supervisor("tables")
        table = await sup.start_actor(recorder("table:1", journal))
        table.tell(Echo(1))
        table.tell(Crash())
        await trio.sleep(3.0)
        await table.ask(Echo(2))
        tree = runtime.tree()
        encoded = msgspec.json.decode(msgspec.json.encode(tree))
    assert encoded == {
        "name": "root",
        "kind": "supervisor",
        "state": "running",
        "restart": "permanent",
        "restarts": 0,
        "uptime_s": 3.0,
        "strategy": "one_for_one",
        "children": [
            {
                "name": "lobby",
                "kind": "recorder",
                "state": "running",
                "restart": "permanent",
                "restarts": 0,
                "uptime_s": 3.0,
                "mailbox_depth": 0,
                "mailbox_high_water": 0,
                "mailbox_capacity": 1024,
                "mailbox_overflow": "stop",
                "messages_processed": 0,
            },
            {
                "name": "tables",
                "kind": "supervisor",
                "state": "running",
                "restart": "permanent",
                "restarts": 0,
                "uptime_s": 3.0,
                "strategy": "one_for_one",
                "children": [
                    {
                        "name": "table:1",
                        "kind": "recorder",
                        "state": "running",
                        "restart": "permanent",
                        "restarts": 1,
                        "uptime_s": 3.0,  # restarted at once: MockClock did not move
                        "mailbox_depth": 0,
                        "mailbox_high_water": 2,
                        "mailbox_capacity": 1024,
                        "mailbox_overflow": "stop",
                        "messages_processed": 2,  # Echo(1), Echo(2): the crash is not counted
                    }
                ],
            },
        ],
    }


async def test_metrics_count_actors_restarts_and_mailbox_depth() -> None:
    registry = CollectorRegistry()
    runtime = Runtime([recorder("a", []), recorder("b", [])], metrics_registry=registry)
    async with trio.open_nursery() as nursery:
        await nursery.start(runtime.run)
        a = runtime.registry.get("a")
        a.tell(Crash())
        await a.ask(Echo(1))
        b = runtime.registry.get("b")
        for n in range(5):
            b.tell(Echo(n))  # queued, not yet handled
        sample = registry.get_sample_value
        assert sample("tablium_actors", {"kind": "recorder", "state": "running"}) == 2
        assert sample("tablium_actors", {"kind": "supervisor", "state": "running"}) == 1
        assert sample("tablium_actor_restarts_total", {"kind": "recorder"}) == 1
        assert sample("tablium_actor_mailbox_depth", {"kind": "recorder"}) == 5
        assert sample("tablium_actor_mailbox_depth_max", {"kind": "recorder"}) == 5
        assert sample("tablium_actor_messages_total", {"kind": "recorder"}) == 1
        runtime.stop()
    # retired actors keep counting in the totals
    assert registry.get_sample_value("tablium_actor_messages_total", {"kind": "recorder"}) == 6
    assert collector_for(registry) is collector_for(registry)


class StartHand(msgspec.Struct, frozen=True, tag=True):
    hand_id: int


class Table(Actor[Any]):
    """Owns its hand as a transient child, as the table actor will."""

    kind = "table"
    child_supervision = SupervisionPolicy(strategy=Strategy.ONE_FOR_ONE, intensity=2)

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    async def started(self) -> None:
        self.journal.append(("started", "table"))

    async def handle(self, message: Any) -> object:
        if isinstance(message, StartHand):
            name = f"hand:1:{message.hand_id}"
            journal = self.journal
            spec = ChildSpec.worker(
                name, lambda: Recorder(name, journal), restart=Restart.TRANSIENT
            )
            return await self.context.children.start_actor(spec)
        if isinstance(message, Crash):
            raise RuntimeError("table bug")
        return None

    async def stopping(self, crash: BaseException | None) -> None:
        self.journal.append(("stopping", "table"))


async def test_a_hand_resumes_from_its_snapshot_inside_its_table() -> None:
    journal: Journal = []
    async with running(ChildSpec.worker("table:1", lambda: Table(journal))) as runtime:
        table = runtime.registry.get("table:1")
        hand = await table.ask(StartHand(7))
        assert runtime.registry.get("hand:1:7") is hand
        hand.tell(Add(40))
        hand.tell(Add(2, crash_midway=True))
        assert await hand.ask(Total()) == 40
        node = runtime.tree().children[0]
        assert node.strategy == "one_for_one"
        assert [(c.name, c.restarts) for c in node.children] == [("hand:1:7", 1)]
    # the hand (child) stops before its table
    assert [e for e in journal if e[0] == "stopping"] == [
        ("stopping", "hand:1:7", "crash"),
        ("stopping", "hand:1:7", "stop"),
        ("stopping", "table"),
    ]


async def test_a_crashing_table_takes_its_hand_down_and_comes_back_without_it() -> None:
    journal: Journal = []
    async with running(ChildSpec.worker("table:1", lambda: Table(journal))) as runtime:
        table = runtime.registry.get("table:1")
        hand = await table.ask(StartHand(1))
        table.tell(Crash())
        await table.ask(Echo(0))  # the restarted table answers
        assert not hand.alive
        assert runtime.registry.lookup("hand:1:1") is None
        assert events(journal, "started") == ["table", "hand:1:1", "table"]


def _walk(node: ActorNode) -> Iterator[ActorNode]:
    yield node
    for child in node.children:
        yield from _walk(child)


async def test_the_metrics_count_of_actors_is_the_trees_without_building_it() -> None:
    """runtime.count_by_kind_and_state (what /metrics counts) against tree(): supervisors,
    a plain service, workers, a table owning its hand, and a crashed one restarting."""
    journal: Journal = []
    tables = ChildSpec.supervisor("tables", policy=SupervisionPolicy(strategy=Strategy.ONE_FOR_ONE))
    async with running(recorder("lobby", journal), tables) as runtime:
        sup = runtime.registry.supervisor("tables")
        for n in (1, 2):
            table = await sup.start_actor(ChildSpec.worker(f"table:{n}", lambda: Table(journal)))
            await table.ask(StartHand(n))
        await sup.start_actor(recorder("table:3", journal))
        counted = runtime.count_by_kind_and_state()
        from_tree = Counter((node.kind, node.state) for node in _walk(runtime.tree()))
    assert counted == from_tree
    assert counted[("table", "running")] == 2 and counted[("recorder", "running")] >= 3
