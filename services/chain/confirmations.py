"""When a deposit counts, and what a reorganisation takes away: pure rules, no I/O.

A deposit in block ``b`` has ``head - b + 1`` confirmations. It is credited once that reaches
the chain's setting ``confirmations`` (its block is at or below the *confirmation line*), or
once its block is finalized, where the chain is set to use the node's ``finalized`` block
and the node offers one. Until then a reorganisation may take it away, and the watcher
withdraws its pending credit; after, nothing does (docs/chain.md, "Confirmations and
reorganisations").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from persistence.chain import Deposit


def confirmation_line(
    head: int, finalized: int | None, *, confirmations: int, use_finalized: bool
) -> int:
    """The highest block whose deposits are credited now (may be below the first block)."""
    if use_finalized and finalized is not None:
        return min(finalized, head)
    return head - confirmations + 1


def block_ranges(first: int, last: int, size_max: int) -> Iterator[tuple[int, int]]:
    """``[first, last]`` in inclusive ranges of at most ``size_max`` blocks (eth_getLogs'
    bound on most nodes)."""
    start = first
    while start <= last:
        end = min(last, start + size_max - 1)
        yield start, end
        start = end + 1


def vanished(
    stored: Sequence[Deposit], seen: Iterable[tuple[str, int]], from_block: int
) -> list[Deposit]:
    """Uncredited deposits at or above ``from_block`` that a rescan of the canonical chain
    from ``from_block`` did not find again (by transaction hash and log index)."""
    found = set(seen)
    return [
        d for d in stored if d.block_number >= from_block and (d.tx_hash, d.log_index) not in found
    ]
