"""Units of work: storage operations written once, as generators, driven by either backend.

A unit of work yields :class:`Query` (or :class:`QueryMany`) values and receives each
statement's rows back as a list of tuples; its return value is the operation's result. The
backend wraps the whole generator in one transaction: PostgreSQL runs it inside one
trio-asyncio crossing (crossings are the cost), SQLite runs it in its worker thread. Anything
the generator raises rolls the transaction back and reaches the caller unchanged, so domain
rules can refuse an operation after they have seen locked rows.

This is the sans-IO idea (h11) applied to SQL: the operations hold the logic and the SQL; the
backends only move statements and rows.

SQL here is the common subset of PostgreSQL and SQLite >= 3.35: ``$1``-style placeholders (the
SQLite driver rewrites them to ``?1``), ``RETURNING``, ``ON CONFLICT``. Row locks are asked for
with ``lock="alias"`` instead of writing ``FOR UPDATE OF alias``: PostgreSQL appends it; SQLite
serializes writers anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, final

Row = tuple[Any, ...]
T = TypeVar("T")


@final
@dataclass(frozen=True, slots=True)
class Query:
    """One statement; the backend sends back every row it returns."""

    sql: str
    args: tuple[Any, ...] = ()
    # PostgreSQL: append FOR UPDATE OF <lock> (lock that table's selected rows until commit).
    lock: str = ""
    # Only there to take locks: SQLite (writers already serialized) skips it, returning no rows.
    lock_only: bool = False


@final
@dataclass(frozen=True, slots=True)
class QueryMany:
    """One statement executed once per argument tuple (a batch); no rows come back."""

    sql: str
    args_list: Sequence[tuple[Any, ...]]


Statement = Query | QueryMany
Work = Generator[Statement, list[Row], T]
# A factory, not a generator: a backend may run a unit again from the start after a deadlock.
WorkFactory = Callable[[], Work[T]]


def one(rows: list[Row]) -> Row:
    """The single row a statement must have returned (our own bug if it did not)."""
    if len(rows) != 1:
        raise AssertionError(f"expected exactly one row, got {len(rows)}")
    return rows[0]
