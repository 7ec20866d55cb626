"""``tablium bench cluster --mode routing``: a poker action's round trip with the player and
the table on different nodes, against the same node, in one run (docs/scaling.md,
"Routing between nodes").

Two ``tablium serve`` processes share one database (a SQLite file in a scratch directory,
or with ``--database-url postgresql://...`` a scratch schema of it, dropped afterwards) and
one Redis (keys under a random prefix, deleted afterwards). The first holds the seed
tables' leases. ``--players`` players (half on each node, by token login: no password
hashing) sit at ``nt-1-2-a`` and play: whoever is asked to act checks or calls (shows at
showdown). Each action is timed from sending ``act`` to its reply (``rtt``) and to the
``action_taken`` push of that seat (``push``), until each side has ``--actions`` of them.
The near side's requests stay in the table's process; the far side's cross the node bus
and its pushes come back over it. Both sides play the same hands at the same time, so the
machine's load falls on both alike. Reported: medians and p90 of each side, and the
ratio far / near of the medians.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Final

TABLE: Final = "nt-1-2-a"
ACT_TIMEOUT_S: Final = 30.0
RUN_TIMEOUT_S: Final = 600.0


@dataclass
class Side:
    """The timings of one side's players (ms)."""

    rtt_ms: list[float] = field(default_factory=list)
    push_ms: list[float] = field(default_factory=list)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import trio

    from server.bench import table as table_bench

    if not 2 <= args.players <= 6 or args.players % 2 or not 1 <= args.actions <= 100_000:
        raise SystemExit("need an even --players in 2..6 and 1 <= --actions <= 100000")
    prefix = f"tablium-bench:{secrets.token_hex(4)}:"
    secret = secrets.token_urlsafe(48)
    names = [f"route{n}" for n in range(args.players)]
    with (
        tempfile.TemporaryDirectory() as scratch,
        table_bench._database(args.database_url, scratch) as url,
    ):
        table_bench._prepare_store(url, names)
        env = table_bench._server_env(scratch, url, secret, args.players)
        env.update(TABLIUM_REDIS_URL=args.redis_url, TABLIUM_REDIS_PREFIX=prefix)
        try:
            with (
                _node(env, f"{scratch}/a") as near_port,
                _node(env, f"{scratch}/b") as far_port,
            ):
                sides = trio.run(_play, [near_port, far_port], names, secret, args.actions)
        finally:
            _clean_redis(args.redis_url, prefix)
    near, far = sides
    report: dict[str, Any] = {
        "benchmark": "cluster-routing",
        "players": args.players,
        "actions_per_side": args.actions,
        "database": "postgresql" if args.database_url else "sqlite",
    }
    for name, side in (("same_node", near), ("other_node", far)):
        report[name] = {
            "rtt_ms_p50": statistics.median(side.rtt_ms),
            "rtt_ms_p90": _p90(side.rtt_ms),
            "push_ms_p50": statistics.median(side.push_ms),
            "push_ms_p90": _p90(side.push_ms),
            "actions": len(side.rtt_ms),
        }
    report["rtt_ratio"] = report["other_node"]["rtt_ms_p50"] / report["same_node"]["rtt_ms_p50"]
    report["push_ratio"] = report["other_node"]["push_ms_p50"] / report["same_node"]["push_ms_p50"]
    return report


def lines(report: dict[str, Any]) -> list[str]:
    out = [
        f"{report['players']} players at {TABLE} ({report['database']}), half on the table's"
        f" node, half on another; {report['actions_per_side']} actions a side"
    ]
    for name in ("same_node", "other_node"):
        f = report[name]
        out.append(
            f"{name:>10}: act -> reply p50 {f['rtt_ms_p50']:6.2f} ms, p90 {f['rtt_ms_p90']:6.2f};"
            f" act -> action_taken p50 {f['push_ms_p50']:6.2f} ms, p90 {f['push_ms_p90']:6.2f}"
        )
    out.append(
        f"other node / same node (medians): reply {report['rtt_ratio']:.2f}x,"
        f" action_taken {report['push_ratio']:.2f}x (goal: at most 2x)"
    )
    return out


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]


class _node:
    """One ``tablium serve`` process, its log in ``data_dir``/server.log; yields its ws port."""

    def __init__(self, env: dict[str, str], data_dir: str) -> None:
        self.env = {**env, "TABLIUM_DATA_DIR": data_dir}
        self.data_dir = data_dir
        self.stack: Any = None

    def __enter__(self) -> int:
        import contextlib

        from server.bench import table as table_bench

        os.makedirs(self.data_dir, exist_ok=True)
        log_path = f"{self.data_dir}/server.log"
        self.stack = contextlib.ExitStack()
        log = self.stack.enter_context(open(log_path, "w", encoding="utf-8"))
        proc = self.stack.enter_context(
            table_bench._process(
                [sys.executable, "-m", "server.cli", "serve"],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        )
        _, port = table_bench._wait_ready(proc, log_path)
        return port

    def __exit__(self, *exc: object) -> None:
        self.stack.close()


async def _play(ports: list[int], names: list[str], secret: str, actions: int) -> list[Side]:
    import trio

    from protocol import game
    from protocol.client import open_client
    from server.auth import TokenSigner

    signer = TokenSigner(secret)
    sides = [Side(), Side()]
    done = trio.Event()

    async def player(name: str, side: Side, port: int) -> None:
        token, _ = signer.issue(name, "player")
        async with open_client(f"ws://127.0.0.1:{port}", reconnect=False) as client:
            await client.authenticate(token)
            seated = await client.request(game.JoinTable(id=0, table_id=TABLE, buy_in=200))
            assert isinstance(seated, game.Seated)
            sent_at: float | None = None
            while not done.is_set():
                item = await client.next_event(timeout_s=ACT_TIMEOUT_S)
                body = getattr(item, "body", None)
                if isinstance(body, game.ActionTaken) and body.seat == seated.seat:
                    if sent_at is not None and not body.timed_out:
                        side.push_ms.append((time.perf_counter() - sent_at) * 1000)
                    sent_at = None
                    if all(len(s.push_ms) >= actions for s in sides):
                        done.set()
                if not isinstance(body, game.ActionRequired) or body.seat != seated.seat:
                    continue
                legal = body.legal
                action: game.ActKind = (
                    "show"
                    if legal.show
                    else "check_or_call"
                    if legal.check or legal.call is not None
                    else "fold"
                )
                sent_at = time.perf_counter()
                act = game.Act(id=0, table_id=TABLE, hand_number=body.hand_number, action=action)
                await client.request(act)
                side.rtt_ms.append((time.perf_counter() - sent_at) * 1000)
                if action == "show":
                    sent_at = None  # a show is not an action_taken

    with trio.fail_after(RUN_TIMEOUT_S):
        async with trio.open_nursery() as nursery:
            for n, name in enumerate(names):
                side = n % 2  # alternate seats: near, far, near, ...
                nursery.start_soon(player, name, sides[side], ports[side])
            await done.wait()
            nursery.cancel_scope.cancel()
    return sides


def _clean_redis(redis_url: str, prefix: str) -> None:
    import redis

    with redis.Redis.from_url(redis_url) as client:
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            client.delete(key)
