"""A player's statement as CSV: the whole period, every entry, for the admin and public APIs.

``statement_csv`` pages through ``Wallet.statement`` (STATEMENT_PAGE_MAX entries a page) and
yields the CSV text in pieces, so a long period streams instead of sitting in memory. The
layout (RFC 4180, a header row, UTF-8):

- ``entry`` rows, one per transfer posted in the period, in id order: ``transfer_id``,
  ``posted_at`` and ``created_at`` (ISO 8601, UTC, milliseconds), ``kind``, ``amount`` (the
  player's side: positive in, negative out), ``counterparty``, ``memo``;
- ``total`` rows, one per kind: ``kind``, ``amount`` (the net over the period), ``count``;
- ``opening`` and ``closing`` rows: the balance before and after the period in ``amount``.

Memos are text a player typed: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is prefixed with ``'`` so a spreadsheet does not run it as a formula (OWASP's
advice on CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Final

from persistence.ledger import STATEMENT_PAGE_MAX, AccountRef
from services.wallet import HistoryEntry, Statement, Wallet

CSV_COLUMNS: Final = (
    "row", "transfer_id", "posted_at", "created_at", "kind", "amount", "count", "counterparty",
    "memo",
)  # fmt: skip
STATEMENT_PAGES_MAX: Final = 10_000  # bound: 5,000,000 entries; past it the export fails
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def counterparty_name(ref: AccountRef) -> str:
    """``wallet:42``, ``escrow:table:7``, ``external``: how statements and histories name
    the other side of an entry."""
    return f"{ref.kind}:{ref.owner}" if ref.owner else ref.kind


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _line(values: list[object]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(values)
    return out.getvalue()


def _entry_line(entry: HistoryEntry) -> str:
    return _line(
        [
            "entry", entry.transfer_id, iso_ms(entry.updated_at_ms), iso_ms(entry.created_at_ms),
            entry.kind, entry.amount, "", counterparty_name(entry.counterparty),
            _cell(entry.memo),
        ]
    )  # fmt: skip


async def statement_csv(
    wallet: Wallet, player_id: int, from_ms: int, to_ms: int, asset: str
) -> AsyncIterator[str]:
    """The statement of [from_ms, to_ms) as CSV text, page by page. Raises what
    ``Wallet.statement`` raises (before the first piece is yielded)."""
    first: Statement = await wallet.statement(player_id, from_ms, to_ms, asset)
    yield _line(list(CSV_COLUMNS))
    yield _line(["opening", "", iso_ms(from_ms), "", "", first.opening_balance, "", "", ""])
    page = first
    for _ in range(STATEMENT_PAGES_MAX):
        for entry in page.entries:
            yield _entry_line(entry)
        if page.next_after_id is None:
            break
        page = await wallet.statement(
            player_id, from_ms, to_ms, asset, after_id=page.next_after_id,
            limit=STATEMENT_PAGE_MAX,
        )  # fmt: skip
    else:
        raise RuntimeError(f"statement longer than {STATEMENT_PAGES_MAX} pages")
    for total in first.totals:
        net = total.credited - total.debited
        yield _line(["total", "", "", "", total.kind, net, total.count, "", ""])
    yield _line(["closing", "", iso_ms(to_ms), "", "", first.closing_balance, "", "", ""])
