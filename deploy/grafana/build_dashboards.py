"""Writes Tablium's Grafana dashboards (deploy/grafana/dashboards/*.json) from this one file.

Dashboards as code: each panel is a title, a unit and its PromQL here; the JSON Grafana loads
is generated (``python deploy/grafana/build_dashboards.py``) and committed, and
tests/deploy/test_dashboards.py fails when the two disagree. Every metric named here must be
on /metrics of a live server, or be a recording rule of deploy/prometheus/rules/ (checked
by tests/deploy/test_metric_names.py).

Edit a dashboard in Grafana's UI to try things out, then bring the change back here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT_DIR = Path(__file__).parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
PANEL_WIDTH = 12
PANEL_HEIGHT = 8

# (title, unit, [(legend, expr), ...]); "stat" panels show one number.
Panel = tuple[str, str, list[tuple[str, str]]]


def _panel(index: int, panel: Panel, kind: str = "timeseries") -> dict[str, Any]:
    title, unit, queries = panel
    return {
        "id": index + 1,
        "type": kind,
        "title": title,
        "datasource": DATASOURCE,
        "gridPos": {
            "x": (index % 2) * PANEL_WIDTH,
            "y": (index // 2) * PANEL_HEIGHT,
            "w": PANEL_WIDTH,
            "h": PANEL_HEIGHT,
        },
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [
            {"refId": chr(ord("A") + n), "datasource": DATASOURCE, "expr": expr,
             "legendFormat": legend}
            for n, (legend, expr) in enumerate(queries)
        ],
    }  # fmt: skip


TEMPLATE_VARIABLES = [
    {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus",
     "current": {}, "hide": 0},
    {"name": "job", "type": "query", "datasource": DATASOURCE, "label": "Job",
     "query": {"query": "label_values(tablium_gateway_connections, job)", "refId": "job"},
     "definition": "label_values(tablium_gateway_connections, job)", "refresh": 2,
     "current": {}, "hide": 0},
]  # fmt: skip


def dashboard(uid: str, title: str, panels: list[Panel], stats: int = 0) -> dict[str, Any]:
    """The first ``stats`` panels are single numbers, the rest time series."""
    return {
        "uid": uid,
        "title": title,
        "tags": ["tablium"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-3h", "to": "now"},
        "templating": {"list": TEMPLATE_VARIABLES},
        "panels": [
            _panel(n, panel, "stat" if n < stats else "timeseries")
            for n, panel in enumerate(panels)
        ],
    }


J = '{job="$job"}'

DASHBOARDS: dict[str, dict[str, Any]] = {
    "players-sessions": dashboard(
        "tablium-players",
        "Tablium / Players and sessions",
        [
            ("Open websocket connections", "short",
             [("connections", f"sum(tablium_gateway_connections{J})")]),
            ("Sessions by state", "short",
             [("{{state}}", f"sum by (state) (tablium_gateway_sessions{J})")]),
            ("Frames received per second", "reqps",
             [("frames/s", 'sum(tablium:gateway_frames:rate5m{job="$job"})')]),
            ("Connections closed per second, by close code", "ops",
             [("{{code}}", f"sum by (code) (rate(tablium_gateway_closes_total{J}[5m]))")]),
            ("Password hashes waiting", "short",
             [("waiting", f"sum(tablium_password_hashes_waiting{J})")]),
            ("Logins refused (server_busy) and abandoned per second", "ops",
             [("refused", f"sum(rate(tablium_password_hashes_refused_total{J}[5m]))"),
              ("abandoned", f"sum(rate(tablium_password_hashes_abandoned_total{J}[5m]))")]),
        ],
    ),
    "tables-hands": dashboard(
        "tablium-tables",
        "Tablium / Tables and hands",
        [
            ("Tables running", "short",
             [("tables", 'sum(tablium_actors{job="$job", kind="table"})')]),
            ("Hands per second", "ops",
             [("{{variant}}", 'sum by (variant) (tablium:hands:rate5m{job="$job"})')]),
            ("Hands running", "short",
             [("hands", 'sum(tablium_actors{job="$job", kind="hand"})')]),
            ("Table and hand restarts (10 min)", "short",
             [("{{kind}}",
               'sum by (kind) (tablium:actor_restarts:increase10m{job="$job",'
               ' kind=~"table|hand"})')]),
            ("Deepest mailbox by actor kind", "short",
             [("{{kind}}", f"max by (kind) (tablium_actor_mailbox_depth_max{J})")]),
            ("Messages dropped per second", "ops",
             [("{{kind}} {{reason}}",
               f"sum by (kind, reason) (rate(tablium_actor_dropped_messages_total{J}[5m]))")]),
        ],
    ),
    "actions-latency": dashboard(
        "tablium-actions",
        "Tablium / Actions and latency",
        [
            ("Actions per second", "ops",
             [("actions/s", 'sum(tablium:actions:rate5m{job="$job"})')]),
            ("Action to broadcast (p50, p99)", "s",
             [("p50", 'max(tablium:action_to_broadcast_seconds:p50_5m{job="$job"})'),
              ("p99", 'max(tablium:action_to_broadcast_seconds:p99_5m{job="$job"})')]),
            ("Error frames per second, by code", "ops",
             [("{{code}}", 'sum by (code) (tablium:gateway_errors:rate5m{job="$job"})')]),
            ("Server errors per frame", "percentunit",
             [("server errors", 'max(tablium:gateway_server_errors:ratio_rate5m{job="$job"})')]),
            ("Admin API requests per second, by status", "reqps",
             [("{{status}}", 'sum by (status) (tablium:http_requests:rate5m{job="$job"})')]),
            ("Admin API p99 latency", "s",
             [("p99",
               "histogram_quantile(0.99, sum by (le)"
               f" (rate(tablium_http_request_duration_seconds_bucket{J}[5m])))")]),
        ],
    ),
    "gc": dashboard(
        "tablium-gc",
        "Tablium / Garbage collection and process",
        [
            ("GC pause p99 by generation", "s",
             [("gen {{generation}}",
               'max by (generation) (tablium:gc_pause_seconds:p99_5m{job="$job"})')]),
            ("Share of time paused for GC", "percentunit",
             [("paused", 'max(tablium:gc_pause_seconds:share_rate5m{job="$job"})')]),
            ("Collections per second by generation", "ops",
             [("gen {{generation}}",
               f"sum by (generation) (rate(tablium_gc_pause_seconds_count{J}[5m]))")]),
            ("Resident memory", "bytes",
             [("{{instance}}", f"process_resident_memory_bytes{J}")]),
            ("CPU (cores)", "short",
             [("{{instance}}", f"rate(process_cpu_seconds_total{J}[5m])")]),
            ("Open file descriptors", "short",
             [("{{instance}}", f"process_open_fds{J}")]),
        ],
    ),
    "database": dashboard(
        "tablium-database",
        "Tablium / Database",
        [
            ("Database up", "bool_yes_no",
             [("{{instance}}", 'tablium_dependency_up{job="$job", dependency="database"}')]),
            ("Redis up", "bool_yes_no",
             [("{{instance}}", 'tablium_dependency_up{job="$job", dependency="redis"}')]),
            ("Units of work per second", "ops",
             [("{{backend}} {{mode}}",
               f"sum by (backend, mode) (rate(tablium_db_operation_seconds_count{J}[5m]))")]),
            ("Unit of work p99", "s",
             [("{{backend}} {{mode}}",
               'max by (backend, mode) (tablium:db_operation_seconds:p99_5m{job="$job"})')]),
        ],
        stats=2,
    ),
    "ledger": dashboard(
        "tablium-ledger",
        "Tablium / Ledger",
        [
            ("Last ledger audit consistent", "bool_yes_no",
             [("{{instance}}", f"tablium_ledger_audit_consistent{J}")]),
            ("Last audit took", "s",
             [("{{instance}}", f"tablium_ledger_audit_duration_seconds{J}")]),
            ("Transfers per second by kind", "ops",
             [("{{kind}}", 'sum by (kind) (tablium:ledger_transfers:rate5m{job="$job"})')]),
            ("Audits by result (1 h)", "short",
             [("{{result}}",
               f"sum by (result) (increase(tablium_ledger_audits_total{J}[1h]))")]),
        ],
        stats=2,
    ),
    "lobby": dashboard(
        "tablium-lobby",
        "Tablium / Lobby analytics",
        [
            ("Occupancy by game (seats taken)", "percentunit",
             [("{{asset}} {{variant}} {{stakes}}",
               f"sum by (asset, variant, stakes) (tablium_lobby_seated{J})"
               f" / sum by (asset, variant, stakes) (tablium_lobby_seats{J} > 0)")]),
            ("Tables by game", "short",
             [("{{asset}} {{variant}} {{stakes}}",
               f"sum by (asset, variant, stakes) (tablium_lobby_tables{J})")]),
            ("Players on wait lists by game", "short",
             [("{{asset}} {{variant}} {{stakes}}",
               f"sum by (asset, variant, stakes) (tablium_lobby_waiting{J})")]),
            ("Wait for a seat (p50, p90, last hour)", "s",
             [("p50 {{asset}} {{variant}} {{stakes}}",
               "histogram_quantile(0.5, sum by (asset, variant, stakes, le)"
               f" (rate(tablium_seat_wait_seconds_bucket{J}[1h])))"),
              ("p90 {{asset}} {{variant}} {{stakes}}",
               "histogram_quantile(0.9, sum by (asset, variant, stakes, le)"
               f" (rate(tablium_seat_wait_seconds_bucket{J}[1h])))")]),
            ("Table churn per hour", "short",
             [("opened", f"sum(increase(tablium_lobby_tables_opened_total{J}[1h]))"),
              ("closed", f"sum(increase(tablium_lobby_tables_closed_total{J}[1h]))")]),
            ("Hands per hour by game", "short",
             [("{{asset}} {{variant}} {{stakes}}",
               f"sum by (asset, variant, stakes) (tablium_lobby_hands_per_hour{J})")]),
        ],
    ),
    "tournaments": dashboard(
        "tablium-tournaments",
        "Tablium / Tournaments",
        [
            ("Tournaments by state", "short",
             [("{{state}}", f"sum by (state) (tablium_tournaments{J})")]),
            ("Players moved per minute (balancing, broken tables)", "short",
             [("moves", f"sum(rate(tablium_tournament_moves_total{J}[5m])) * 60")]),
            ("Entries by tournament", "short",
             [("#{{tournament}}", f"tablium_tournament_entrants{J}")]),
            ("Players left by tournament", "short",
             [("#{{tournament}}", f"tablium_tournament_players_left{J}")]),
            ("Tables by tournament", "short",
             [("#{{tournament}}", f"tablium_tournament_tables{J}")]),
            ("Blind level by tournament", "short",
             [("#{{tournament}}", f"tablium_tournament_level{J}")]),
        ],
    ),
    "events": dashboard(
        "tablium-events",
        "Tablium / Domain events",
        [
            ("Events waiting in the outbox", "short",
             [("{{instance}}", f"tablium_outbox_backlog_events{J}")]),
            ("Oldest event not yet relayed", "s",
             [("{{instance}}", f"tablium_outbox_lag_seconds{J}")]),
            ("Events relayed per second", "ops",
             [("relayed", f"sum(rate(tablium_outbox_published_events_total{J}[5m]))")]),
            ("Failed relay batches per second", "ops",
             [("failed", f"sum(rate(tablium_outbox_publish_failures_total{J}[5m]))")]),
        ],
        stats=2,
    ),
    "chain": dashboard(
        "tablium-chain",
        "Tablium / Chain cashier",
        [
            ("Watcher lag (blocks)", "short",
             [("chain {{chain}}", f"tablium_chain_lag_blocks{J}")]),
            ("Deposits awaiting confirmation", "short",
             [("chain {{chain}}", f"tablium_chain_deposits_awaiting_confirmation{J}")]),
            ("Node head block", "short",
             [("chain {{chain}}", f"tablium_chain_head_block{J}")]),
            ("Deposits per hour, by outcome", "short",
             [("chain {{chain}} {{outcome}}",
               f"sum by (chain, outcome) (increase(tablium_chain_deposits_total{J}[1h]))")]),
            ("Withdrawals waiting", "short",
             [("chain {{chain}} {{state}}",
               f"sum by (chain, state) (tablium_chain_withdrawals_queued{J})"),
              ("chain {{chain}} in flight",
               f"sum by (chain) (tablium_chain_withdrawals_in_flight{J})")]),
            ("Batches per hour, by outcome", "short",
             [("chain {{chain}} {{outcome}}",
               f"sum by (chain, outcome) (increase(tablium_chain_batches_total{J}[1h]))")]),
            ("Batches held back per hour, by reason", "short",
             [("chain {{chain}} {{reason}}",
               f"sum by (chain, reason) (increase(tablium_chain_batch_waits_total{J}[1h]))")]),
            ("Cashier tokens (token units)", "short",
             [("chain {{chain}}", 'tablium_chain_hot_wallet_balance{job="$job", asset="token"}')]),
            ("Operator gas money (wei)", "short",
             [("chain {{chain}}", 'tablium_chain_hot_wallet_balance{job="$job", asset="gas"}')]),
            ("Fees (wei per gas)", "short",
             [("chain {{chain}} base", f"tablium_chain_base_fee_wei{J}"),
              ("chain {{chain}} priority", f"tablium_chain_priority_fee_wei{J}")]),
            ("Node calls p99, by method", "s",
             [("chain {{chain}} {{method}}",
               "histogram_quantile(0.99, sum by (chain, method, le)"
               f" (rate(tablium_chain_rpc_seconds_bucket{J}[5m])))")]),
            ("Node call errors per second, by method", "ops",
             [("chain {{chain}} {{method}}",
               f"sum by (chain, method) (rate(tablium_chain_rpc_errors_total{J}[5m]))")]),
        ],
        stats=2,
    ),
}  # fmt: skip


def rendered() -> dict[str, str]:
    """File name -> JSON text, as committed."""
    return {
        f"{name}.json": json.dumps(board, indent=2, sort_keys=True) + "\n"
        for name, board in DASHBOARDS.items()
    }


def main() -> int:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in rendered().items():
        (OUT_DIR / name).write_text(text)
        print(f"wrote {OUT_DIR / name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
