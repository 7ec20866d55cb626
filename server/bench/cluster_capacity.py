"""``tablium bench cluster --mode capacity``: how capacity grows from one to three nodes, with
the players split across them (docs/loadtest.md, "Capacity of a room of nodes").

For each node count in ``--nodes`` (default 1,2,3), in alternating rounds (``--rounds``):
that many ``tablium serve`` processes share one database (a scratch SQLite file, or with
``--database-url postgresql://...`` a scratch schema of it, dropped afterwards) and one Redis
(keys under a random prefix, deleted afterwards), with ``TABLIUM_PLACEMENT=local``. Each node
in turn opens ``--tables`` / N six-seat No-Limit Hold'em 1/2 tables through its admin API
(2 s between hands, as ``tablium bench table``), so the tables are spread evenly. Six players
a table (token logins, funded in the store before the start: no password hashing) play
through ``server/bench/table_clients.py`` (raw websocket clients, one process per node):

- ``--connect owner``: each player connects to the node that owns her table (a load
  balancer with table affinity: no request crosses nodes);
- ``--connect spread`` (default): player i connects to node i mod N, whatever her table's
  node, as a plain round-robin load balancer would: (N-1)/N of the actions are routed.

After ``--warmup-s``, a window of ``--seconds``: actions per second, the round trip of an
action (``act`` to its ``action_taken``), and every node's CPU (utime + stime, /proc) per
action. Projected capacity: N x 1000 / (CPU ms per action, all nodes together), the actions
per second N nodes would carry with one core each and the load spread as in the run;
reported with its ratio to one node's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Final

SEATS: Final = 6


def measure(args: argparse.Namespace) -> dict[str, Any]:
    counts = [int(n) for n in str(args.nodes).split(",") if n.strip()]
    if not counts or not all(1 <= n <= 5 for n in counts):
        raise SystemExit("--nodes: node counts in 1..5, e.g. 1,2,3")
    if not 1 <= args.tables <= 200 or not 1 <= args.rounds <= 10:
        raise SystemExit("need 1 <= --tables <= 200 and 1 <= --rounds <= 10")
    runs: dict[int, list[dict[str, Any]]] = {n: [] for n in counts}
    for round_no in range(args.rounds):
        order = counts if round_no % 2 == 0 else list(reversed(counts))
        for nodes in order:
            figures = _run(args, nodes)
            runs[nodes].append(figures)
            print(
                f"# round {round_no + 1}, {nodes} node(s): {json.dumps(figures)}", file=sys.stderr
            )
    report: dict[str, Any] = {
        "benchmark": "cluster-capacity",
        "tables": args.tables,
        "players": args.tables * SEATS,
        "connect": args.connect,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "database": "postgresql" if args.database_url else "sqlite",
        "cpu_count": os.cpu_count(),
        "nodes": {},
    }
    one = None
    for nodes in counts:
        medians = {
            key: statistics.median(run[key] for run in runs[nodes])
            for key in ("actions_per_s", "cpu_ms_per_action", "rtt_p50_ms", "rtt_p99_ms",
                        "routed_share", "load_average", "projected_actions_per_s")
        }  # fmt: skip
        if nodes == 1:
            one = medians["projected_actions_per_s"]
        medians["runs"] = len(runs[nodes])
        report["nodes"][str(nodes)] = medians
    for medians in report["nodes"].values():
        medians["projected_vs_one_node"] = (
            None if not one else round(medians["projected_actions_per_s"] / one, 2)
        )
    return report


def _run(args: argparse.Namespace, nodes: int) -> dict[str, Any]:
    from server.auth import TokenSigner
    from server.bench import table as table_bench

    names = table_bench._player_names(args.tables)
    secret = secrets.token_urlsafe(48)
    signer = TokenSigner(secret)
    prefix = f"tablium-bench:{secrets.token_hex(4)}:"
    with (
        tempfile.TemporaryDirectory(prefix="tablium-capacity-") as scratch,
        table_bench._database(args.database_url, scratch) as url,
    ):
        table_bench._prepare_store(url, names)
        env = table_bench._server_env(scratch, url, secret, len(names))
        env.update(
            TABLIUM_REDIS_URL=args.redis_url,
            TABLIUM_REDIS_PREFIX=prefix,
            TABLIUM_PLACEMENT="local",
            TABLIUM_DRAIN_TIMEOUT_S="0",
        )
        try:
            with contextlib.ExitStack() as stack:
                servers = [
                    stack.enter_context(_server(env, os.path.join(scratch, f"n{i}")))
                    for i in range(nodes)
                ]
                director = signer.issue("bench-director", "director")[0]
                owner: dict[str, int] = {}
                for t in range(args.tables):
                    node = t % nodes
                    table_bench._Admin(servers[node][0], director).open_table(f"bench-{t}")
                    owner[f"bench-{t}"] = node
                seats = table_bench._seats(names, lambda name: signer.issue(name, "player")[0])
                return _play(args, servers, seats, owner)
        finally:
            _clean_redis(args.redis_url, prefix)


@contextlib.contextmanager
def _server(env: dict[str, str], data_dir: str) -> Any:
    """One node: yields (admin url, ws port, pid)."""
    from server.bench import table as table_bench

    os.makedirs(data_dir, exist_ok=True)
    logs = os.environ.get("TABLIUM_BENCH_LOG_DIR", data_dir)  # kept there when set
    log_path = os.path.join(logs, f"serve-{os.path.basename(data_dir)}.log")
    with (
        open(log_path, "w", encoding="utf-8") as log,
        table_bench._process(
            [sys.executable, "-m", "server.cli", "serve"],
            env={**env, "TABLIUM_DATA_DIR": data_dir},
            stdout=subprocess.DEVNULL,
            stderr=log,
        ) as proc,
    ):
        admin_url, port = table_bench._wait_ready(proc, log_path)
        yield admin_url, port, proc.pid


def _play(
    args: argparse.Namespace,
    servers: list[tuple[str, int, int]],
    seats: list[dict[str, Any]],
    owner: dict[str, int],
) -> dict[str, Any]:
    from server.bench import table as table_bench

    nodes = len(servers)
    groups: list[list[dict[str, Any]]] = [[] for _ in range(nodes)]
    routed = 0
    for index, seat in enumerate(seats):
        home = owner[seat["table_id"]]
        node = home if args.connect == "owner" else index % nodes
        routed += node != home
        groups[node].append(seat)
    with contextlib.ExitStack() as stack:
        clients = []
        for node, group in enumerate(groups):
            if not group:
                continue
            client = stack.enter_context(
                table_bench._process(
                    [sys.executable, "-m", "server.bench.table_clients"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                )
            )
            config = {"mode": "table", "host": "127.0.0.1", "port": servers[node][1],
                      "buy_in": table_bench.BUY_IN, "think_ms": args.think_ms,
                      "seats": group}  # fmt: skip
            table_bench._tell(client, json.dumps(config))
            clients.append(client)
        table_bench._hear_all(clients, "logged_in")
        table_bench._tell_all(clients, "seat")
        table_bench._hear_all(clients, "seated")
        time.sleep(args.warmup_s)
        pids = [pid for _, _, pid in servers]
        cpu_before = sum(table_bench._cpu_s(pid).total_s for pid in pids)
        started = time.monotonic()
        table_bench._tell_all(clients, "mark")
        start = table_bench._sum_counters(table_bench._hear_all(clients, "mark"))
        time.sleep(args.seconds)
        table_bench._tell_all(clients, "mark")
        end = table_bench._sum_counters(table_bench._hear_all(clients, "mark"))
        cpu_s = sum(table_bench._cpu_s(pid).total_s for pid in pids) - cpu_before
        seconds = time.monotonic() - started
        load_average = os.getloadavg()[0]
        table_bench._tell_all(clients, "stop")
        finals = table_bench._hear_all(clients, "done")
    actions = (end["actions"] + end["timed_out"]) - (start["actions"] + start["timed_out"])
    per = max(actions, 1)
    rtts = sorted(sample for final in finals for sample in final["rtt_ms"])
    cpu_ms = cpu_s * 1000 / per
    return {
        "nodes": nodes,
        "actions": actions,
        "actions_per_s": round(actions / seconds, 1),
        "cpu_ms_per_action": round(cpu_ms, 3),
        "projected_actions_per_s": round(nodes * 1000 / cpu_ms, 1) if actions else 0.0,
        "rtt_p50_ms": round(table_bench._percentile(rtts, 50), 2) if rtts else None,
        "rtt_p99_ms": round(table_bench._percentile(rtts, 99), 2) if rtts else None,
        "routed_share": round(routed / max(len(seats), 1), 3),
        "load_average": round(load_average, 2),
        "errors": end["errors"],
    }


def _clean_redis(redis_url: str, prefix: str) -> None:
    import redis

    with redis.Redis.from_url(redis_url) as client:
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            client.delete(key)


def lines(report: dict[str, Any]) -> list[str]:
    out = [
        f"{report['tables']} tables, {report['players']} players ({report['connect']}),"
        f" {report['seconds']} s windows, {report['rounds']} round(s), {report['database']},"
        f" {report['cpu_count']} CPUs on this machine",
        "nodes  actions/s  CPU ms/action  rtt p50/p99 ms  routed  projected/s  vs 1 node",
    ]
    for nodes, m in report["nodes"].items():
        out.append(
            f"{nodes:>5}  {m['actions_per_s']:9.1f}  {m['cpu_ms_per_action']:13.3f}"
            f"  {m['rtt_p50_ms']:6.1f}/{m['rtt_p99_ms']:<7.1f}  {m['routed_share']:6.2f}"
            f"  {m['projected_actions_per_s']:11.1f}  {m['projected_vs_one_node']}"
        )
    return out
