"""Prometheus metrics of the storage layer (registered on the default registry)."""

from __future__ import annotations

from typing import Final

from prometheus_client import Histogram

DB_OPERATION_SECONDS: Final = Histogram(
    "tablium_db_operation_seconds",
    "One unit of work against the database (a transaction, or a read), by backend and mode.",
    ["backend", "mode"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


def db_timer(backend: str, read_only: bool) -> Histogram:
    return DB_OPERATION_SECONDS.labels(backend, "read" if read_only else "write")
