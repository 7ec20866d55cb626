"""Every metric an alert or a dashboard names is on /metrics of a real `tablium serve`.

A renamed metric would otherwise leave a panel empty or an alert silent forever, and nobody
would notice until the night it should have fired. The server runs with Redis configured,
three players play a few hands over websockets and one sends a request the server refuses,
and one connection closes, so the families that only get samples once something happens
have them.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import yaml
from prometheus_client.parser import text_string_to_metric_families

from protocol import game
from protocol.client import ServerError, open_client
from tests.server.test_crash_mid_play import BUY_IN, PLAY_TIMEOUT_S, SEED, TABLE, _fund, _play
from tests.server_process import ServerProcess, running_server

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "rules" / "tablium.rules.yml"
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
SCRAPED_BY_PROMETHEUS = {"up"}  # recorded by Prometheus for each target, not exported
# Labelled families whose series appear only once their event happens (a restart, a drop):
# a healthy test server declares them (HELP/TYPE) without samples.
# A seat wait is observed only when a wait-listed player is seated.
EVENT_ONLY = {
    "tablium_actor_restarts",
    "tablium_actor_dropped_messages",
    "tablium_seat_wait_seconds",
    # Per-tournament series exist while a tournament registers or runs
    # (actors/tournament_metrics.py; tests/tournaments checks them in play).
    "tablium_tournament_entrants",
    "tablium_tournament_players_left",
    "tablium_tournament_tables",
    "tablium_tournament_level",
}
# The chain cashier's metrics exist only on a server with a [chain]: a server against a real
# node serves them in tests/chain/test_server_wiring.py.
CHAIN_PREFIX = "tablium_chain_"
_METRIC = re.compile(r"\b(?:tablium|process|python)_[a-zA-Z0-9_]+|\btablium:[a-zA-Z0-9_:]+|\bup\b")
_SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


def _names_in(expr: str) -> set[str]:
    without_strings = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    return set(_METRIC.findall(without_strings))


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _dashboard_exprs() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(DASHBOARDS.glob("*.json")):
        board = json.loads(path.read_text())
        exprs = [t["expr"] for panel in board["panels"] for t in panel["targets"]]
        exprs += [v["definition"] for v in board["templating"]["list"] if "definition" in v]
        found[path.name] = exprs
    return found


def referenced() -> dict[str, set[str]]:
    """Metric name -> where it is named (alert/record names, dashboard files)."""
    where: dict[str, set[str]] = {}
    for rule in _rules():
        for name in _names_in(rule["expr"]):
            where.setdefault(name, set()).add(rule.get("alert") or rule["record"])
    for board, exprs in _dashboard_exprs().items():
        for expr in exprs:
            for name in _names_in(expr):
                where.setdefault(name, set()).add(board)
    return where


def family_of(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


async def _play_a_few_hands_and_scrape(server: ServerProcess) -> str:
    rng = random.Random(SEED)
    hand_ended = trio.Event()
    async with open_client(server.ws_url) as leaving:  # one closed connection, by close code
        await leaving.register("metrics_leaving", "correct horse battery staple")
    async with (
        open_client(server.ws_url) as a,
        open_client(server.ws_url) as b,
        open_client(server.ws_url) as c,
        trio.open_nursery() as nursery,
    ):
        for n, client in enumerate((a, b, c)):
            name = f"metrics_{n}"
            await client.register(name, "correct horse battery staple")
            await _fund(server.admin_url, name)
            seated = await client.request(game.JoinTable(id=0, table_id=TABLE, buy_in=BUY_IN))
            assert isinstance(seated, game.Seated)
            nursery.start_soon(
                _play, client, seated.seat, random.Random(rng.random()), "hand_end", hand_ended
            )
        with trio.fail_after(PLAY_TIMEOUT_S):
            await hand_ended.wait()
        with pytest.raises(ServerError):  # one error frame, so the error counter has a series
            await a.request(game.JoinTable(id=0, table_id="no-such-table", buy_in=BUY_IN))
        async with httpx.AsyncClient(base_url=server.admin_url) as admin:
            text = (await admin.get("/metrics")).text
        nursery.cancel_scope.cancel()
    return text


def test_every_metric_named_by_an_alert_or_a_dashboard_is_served_by_a_live_server(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    # A lobby sample each second, so the lobby gauges have their tables before the scrape.
    with running_server(
        tmp_path / "var",
        TABLIUM_REDIS_URL=redis_url,
        TABLIUM_REDIS_PREFIX=redis_prefix,
        TABLIUM_LOBBY_SAMPLE_S="1",
    ) as server:
        exposition = trio.run(_play_a_few_hands_and_scrape, server)
    families = {f.name: f for f in text_string_to_metric_families(exposition)}
    samples = {s.name for f in families.values() for s in f.samples}
    recorded = {rule["record"] for rule in _rules() if "record" in rule}

    where = referenced()
    assert "tablium_ledger_audit_consistent" in where  # the extraction finds names at all
    unknown: dict[str, set[str]] = {}
    silent: dict[str, set[str]] = {}
    for name, users in sorted(where.items()):
        if name in SCRAPED_BY_PROMETHEUS or name in recorded:
            continue
        if name.startswith(CHAIN_PREFIX):  # tests/chain/test_server_wiring.py
            continue
        family = family_of(name)
        if family not in families and name not in families:
            unknown[name] = users
        elif name not in samples and family not in EVENT_ONLY:
            silent[name] = users
    assert not unknown, f"named but not on /metrics: {unknown}"
    assert not silent, f"on /metrics but without samples after play: {silent}"
    # Recording rules that dashboards use must exist.
    missing_records = {n: u for n, u in where.items() if ":" in n and n not in recorded}
    assert not missing_records, missing_records
    dependencies = {
        s.labels["dependency"]: s.value for s in families["tablium_dependency_up"].samples
    }
    assert dependencies == {"database": 1.0, "redis": 1.0}
    assert families["tablium_ledger_audit_consistent"].samples[0].value == 1.0
