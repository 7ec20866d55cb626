"""Prometheus metrics of the actor runtime, computed at scrape time.

Nothing here is on the hot path: ``tell`` only bumps plain ints on its ref, and the collector
walks the live tree when ``/metrics`` is scraped, adding the totals of retired actors.

Names (labels):
- ``tablium_actors{kind,state}``: live actors, supervisors and services.
- ``tablium_actor_restarts_total{kind}``: restarts performed by supervisors.
- ``tablium_actor_mailbox_depth{kind}``: queued messages summed over live actors of a kind.
- ``tablium_actor_mailbox_depth_max{kind}``: the deepest live mailbox of a kind.
- ``tablium_actor_messages_total{kind}``: messages handled (live and retired actors).
- ``tablium_actor_dropped_messages_total{kind,reason}``: reason ``overflow`` (drop-oldest or
  a stop overflow) or ``dead_letter`` (told to a dead actor).
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, final

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector, CollectorRegistry

from actors.mailbox import ActorRef

if TYPE_CHECKING:
    from actors.runtime import Runtime


@final
class RuntimeStats:
    """Totals that outlive single actors (bound: one entry per actor kind)."""

    def __init__(self) -> None:
        self.restarts_by_kind: Counter[str] = Counter()
        self.retired_processed: Counter[str] = Counter()
        self.retired_dropped: Counter[str] = Counter()
        self.retired_dead_letters: Counter[str] = Counter()

    def retire(self, ref: ActorRef[Any]) -> None:
        self.retired_processed[ref.kind] += ref.processed
        self.retired_dropped[ref.kind] += ref.dropped
        self.retired_dead_letters[ref.kind] += ref.dead_letters


@final
class ActorMetricsCollector(Collector):
    """Collects every registered runtime; one instance per prometheus registry."""

    def __init__(self) -> None:
        self._runtimes: weakref.WeakSet[Runtime] = weakref.WeakSet()

    def add(self, runtime: Runtime) -> None:
        self._runtimes.add(runtime)

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        actors = GaugeMetricFamily(
            "tablium_actors", "Live actors by kind and state.", labels=["kind", "state"]
        )
        restarts = CounterMetricFamily(
            "tablium_actor_restarts", "Restarts by kind.", labels=["kind"]
        )
        depth = GaugeMetricFamily(
            "tablium_actor_mailbox_depth",
            "Queued messages, summed over the live actors of a kind.",
            labels=["kind"],
        )
        depth_max = GaugeMetricFamily(
            "tablium_actor_mailbox_depth_max", "Deepest live mailbox of a kind.", labels=["kind"]
        )
        processed = CounterMetricFamily(
            "tablium_actor_messages", "Messages handled by kind.", labels=["kind"]
        )
        dropped = CounterMetricFamily(
            "tablium_actor_dropped_messages",
            "Messages lost to overflow or told to dead actors.",
            labels=["kind", "reason"],
        )
        counts: Counter[tuple[str, str]] = Counter()
        depth_sum: Counter[str] = Counter()
        depth_top: dict[str, int] = {}
        processed_sum: Counter[str] = Counter()
        dropped_sum: Counter[tuple[str, str]] = Counter()
        restarts_sum: Counter[str] = Counter()
        for runtime in list(self._runtimes):
            stats = runtime.stats
            restarts_sum.update(stats.restarts_by_kind)
            processed_sum.update(stats.retired_processed)
            for kind, n in stats.retired_dropped.items():
                dropped_sum[(kind, "overflow")] += n
            for kind, n in stats.retired_dead_letters.items():
                dropped_sum[(kind, "dead_letter")] += n
            for ref in runtime.live_refs():
                depth_sum[ref.kind] += len(ref._items)
                depth_top[ref.kind] = max(depth_top.get(ref.kind, 0), len(ref._items))
                processed_sum[ref.kind] += ref.processed
                dropped_sum[(ref.kind, "overflow")] += ref.dropped
                dropped_sum[(ref.kind, "dead_letter")] += ref.dead_letters
            counts.update(runtime.count_by_kind_and_state())
        for (kind, state), n in sorted(counts.items()):
            actors.add_metric([kind, state], n)
        for kind, n in sorted(restarts_sum.items()):
            restarts.add_metric([kind], n)
        for kind, n in sorted(depth_sum.items()):
            depth.add_metric([kind], n)
        for kind, n in sorted(depth_top.items()):
            depth_max.add_metric([kind], n)
        for kind, n in sorted(processed_sum.items()):
            processed.add_metric([kind], n)
        for (kind, reason), n in sorted(dropped_sum.items()):
            dropped.add_metric([kind, reason], n)
        yield from (actors, restarts, depth, depth_max, processed, dropped)


_collectors: dict[int, tuple[CollectorRegistry, ActorMetricsCollector]] = {}


def collector_for(registry: CollectorRegistry = REGISTRY) -> ActorMetricsCollector:
    """The one collector registered on ``registry`` (registered on first use)."""
    entry = _collectors.get(id(registry))
    if entry is None or entry[0] is not registry:
        collector = ActorMetricsCollector()
        registry.register(collector)
        entry = (registry, collector)
        _collectors[id(registry)] = entry
    return entry[1]
