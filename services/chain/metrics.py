"""The chain's network metrics (Prometheus, on the admin API's /metrics), labelled by chain id.

docs/chain.md lists them with the alerts worth setting on each.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter, Gauge, Histogram

HEAD_BLOCK: Final = Gauge("tablium_chain_head_block", "The node's latest block.", ["chain"])
LAG_BLOCKS: Final = Gauge(
    "tablium_chain_lag_blocks", "Blocks between the node's head and what we have read.", ["chain"]
)
AWAITING_CONFIRMATION: Final = Gauge(
    "tablium_chain_deposits_awaiting_confirmation",
    "Deposits seen on chain, pending in the ledger, not yet at the confirmation line.",
    ["chain"],
)
DEPOSITS: Final = Counter(
    "tablium_chain_deposits", "Deposits by what became of them.", ["chain", "outcome"]
)
REORGS: Final = Counter(
    "tablium_chain_reorgs", "Reorganisations seen (the last read block's hash changed).", ["chain"]
)
DEEP_REORGS: Final = Counter(
    "tablium_chain_deep_reorgs",
    "Reorganisations below the confirmation line: credited deposits may be gone (page someone).",
    ["chain"],
)
BASE_FEE: Final = Gauge("tablium_chain_base_fee_wei", "The next block's base fee.", ["chain"])
PRIORITY_FEE: Final = Gauge(
    "tablium_chain_priority_fee_wei", "The priority fee we would offer now.", ["chain"]
)
RPC_ERRORS: Final = Counter(
    "tablium_chain_rpc_errors", "Node calls that failed, by method.", ["chain", "method"]
)
RPC_SECONDS: Final = Histogram(
    "tablium_chain_rpc_seconds",
    "Node call latency, by method.",
    ["chain", "method"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HOT_BALANCE: Final = Gauge(
    "tablium_chain_hot_wallet_balance",
    "What the cashier holds (asset=token, in token units) and the operator's gas money"
    " (asset=gas, in wei).",
    ["chain", "asset"],
)
WITHDRAWALS_QUEUED: Final = Gauge(
    "tablium_chain_withdrawals_queued",
    "Withdrawals waiting for a batch (state=queued) or a staff approval (state=awaiting_approval).",
    ["chain", "state"],
)
WITHDRAWALS_IN_FLIGHT: Final = Gauge(
    "tablium_chain_withdrawals_in_flight",
    "Withdrawals in a batch sent and not yet settled.",
    ["chain"],
)
BATCHES: Final = Counter(
    "tablium_chain_batches", "Withdrawal batches by what became of them.", ["chain", "outcome"]
)
BATCH_WAITS: Final = Counter(
    "tablium_chain_batch_waits",
    "Times a due batch was held back, by reason (fees, paused, cap, balance, ...).",
    ["chain", "reason"],
)
REPLACEMENTS: Final = Counter(
    "tablium_chain_replacements", "Stuck transactions replaced with higher fees.", ["chain", "kind"]
)
