"""Tablium's own event consumers, and the one place a service registers one.

A consumer is a :class:`persistence.event_bus.Consumer`: a unique name, the event types it
subscribes to (persistence/events.py, docs/events.md), and ``apply``, which returns its change
as a unit of work. The bus applies each event once per consumer: its processed record and its
change are one transaction. Example (rakeback accrual, its issue)::

    def accrue(event: Event) -> Work[None]:
        hand: HandFinished = event.payload
        for p in hand.players:
            if p.rake_paid:
                yield Query("INSERT INTO rakeback_accrued ...", (p.player_id, p.rake_paid, ...))

    RAKEBACK = Consumer("rakeback", frozenset({"table.hand_finished"}), accrue)

and add it to :func:`tablium_consumers`. With TABLIUM_AMQP_URL the consumer reads its durable
queue ``tablium.<name>``; without, the outbox relay hands it the events in process. Either way
it sees an aggregate's events in their order, and may see one again after a crash or a replay
(skipped by its processed record).
"""

from __future__ import annotations

from persistence.event_bus import Consumer


def tablium_consumers() -> tuple[Consumer, ...]:
    """Every consumer inside Tablium (player statistics, rakeback, notifications: their
    issues add them here)."""
    return ()
