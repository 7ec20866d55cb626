"""Prometheus metrics of play (registered on the default registry).

Action-to-broadcast latency is measured inside the table: from the moment a table takes a
player's action off its mailbox to the moment it has handed the resulting broadcast to the
players' sessions. The gateway's own time (decode, queue, send) is in its frame metrics; the
swarm measures the whole round trip from the client's side.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter, Histogram

HANDS: Final = Counter("tablium_hands", "Hands played to the end, by variant.", ["variant"])
ACTION_TO_BROADCAST_SECONDS: Final = Histogram(
    "tablium_action_to_broadcast_seconds",
    "From a table taking a player's action to broadcasting what it changed.",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
