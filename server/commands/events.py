"""``tablium events replay --from ID [--to ID]``: publish stored domain events again.

For a consumer rebuilt from scratch (its state and its processed-event records cleared): the
outbox's events with ``ID <= id <= TO`` are published again, in id order, to where the relay
publishes them (docs/events.md): RabbitMQ's ``tablium.events`` exchange with
``TABLIUM_AMQP_URL`` (``--queue`` sends them to one consumer's queue only, and no partner
sees them again), or else Tablium's in-process consumers, applied here, directly. Consumers
that applied an event before skip it (their processed records). Events pruned after their
retention (TABLIUM_OUTBOX_RETENTION_DAYS) cannot be replayed; the command says where the
stored ones start.

Exit status: 0 done, 1 the broker (or a consumer) failed part-way (what was published stays
published; run it again), 2 a configuration error or a bad range.
"""

from __future__ import annotations

import argparse
import sys

from server.commands.settings_args import (
    CONFIG_ERROR_EXIT,
    add_config_argument,
    settings_from_args,
)

FAILED_EXIT = 1


def _event_id(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("event ids start at 1")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="events_command", metavar="SUBCOMMAND", required=True)
    replay = sub.add_parser(
        "replay",
        help="publish stored events again, for a rebuilt consumer",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_argument(replay)
    replay.add_argument(
        "--from", dest="from_id", type=_event_id, required=True, metavar="ID", help="first id"
    )
    replay.add_argument(
        "--to", dest="to_id", type=_event_id, metavar="ID", help="last id (default: the newest)"
    )
    replay.add_argument(
        "--queue",
        metavar="NAME",
        help="with TABLIUM_AMQP_URL: only this queue (e.g. tablium.stats), not the exchange",
    )


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args, with_jwt_secret=False)
    if settings is None:
        return CONFIG_ERROR_EXIT
    if args.to_id is not None and args.to_id < args.from_id:
        print("tablium events replay: --to is before --from", file=sys.stderr)
        return CONFIG_ERROR_EXIT
    if args.queue and not settings.amqp_url:
        print("tablium events replay: --queue needs TABLIUM_AMQP_URL", file=sys.stderr)
        return CONFIG_ERROR_EXIT
    import trio

    return trio.run(
        _replay, settings.effective_database_url(), settings.amqp_url, args.from_id,
        args.to_id, args.queue,
    )  # fmt: skip


async def _replay(
    database_url: str, amqp_url: str, from_id: int, to_id: int | None, queue: str | None
) -> int:
    from contextlib import AsyncExitStack
    from functools import partial

    from persistence import open_store, outbox
    from persistence.amqp import AmqpBus, open_amqp_loop
    from persistence.event_bus import BrokerUnavailable, EventBus, InProcessBus
    from persistence.relay import replay
    from services.events import tablium_consumers

    async with AsyncExitStack() as resources:
        store = await resources.enter_async_context(open_store(database_url))
        bus: EventBus
        if amqp_url:
            loop = await resources.enter_async_context(open_amqp_loop())
            amqp = AmqpBus(amqp_url, loop, queue=queue)
            resources.push_async_callback(amqp.aclose)
            bus, where = amqp, f"queue {queue}" if queue else f"exchange {amqp.exchange}"
        else:
            bus, where = InProcessBus(store, tablium_consumers()), "the in-process consumers"
        first = await store.run(partial(outbox.between, 1, None, 1), read_only=True)
        if first and first[0].id > from_id:
            print(f"events before id {first[0].id} were pruned (retention); replaying from it")
        try:
            count, last = await replay(store, bus, from_id, to_id)
        except BrokerUnavailable as exc:
            print(f"tablium events replay: {exc}", file=sys.stderr)
            return FAILED_EXIT
    if last is None:
        print("no stored event in that range")
    else:
        print(f"replayed {count} events to {where}, ids {from_id}..{last}")
    return 0
