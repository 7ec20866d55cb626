"""One chain's cashier settings: the node, the contract, the rules, the operator key.

Built from a mapping (a ``[chain]`` table of the server's TOML file, or a test's dict) by
``ChainSettings.from_mapping``; a bad value raises ValueError naming it, as the server's own
settings do. docs/chain.md lists every key.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, final

import msgspec

from services.chain.units import ZERO_ADDRESS, Rate, parse_address

GWEI: Final = 10**9
CONTRACT_BATCH_MAX: Final = 100  # Cashier.vy MAX_BATCH


@final
class ChainSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    chain_id: int
    rpc_url: str  # http://... of the node (JSON-RPC over HTTP)
    cashier: str  # the Cashier contract's address
    token: str  # the ERC-20 it takes (its TOKEN), or "" for the native coin; checked at start
    start_block: int = 0  # the contract's deployment block: the watcher starts there
    # -- deposits
    confirmations: int = 12  # a deposit is credited at this many confirmations ...
    use_finalized: bool = False  # ... or when its block is finalized, where the node says
    rate: str = "1/10000"  # chips per token unit, exact (see services/chain/units.py)
    poll_interval_s: float = 4.0
    log_range_blocks_max: int = 2_000  # bound: eth_getLogs range per call
    poll_blocks_max: int = 50_000  # bound: blocks read per poll (catching up takes several)
    settle_rows_max: int = 500  # bound: deposits opened or credited per poll; the rest wait
    rpc_timeout_s: float = 10.0
    # -- withdrawals
    operator_key_file: str = ""  # hex private key of the operator; empty: no withdrawals
    batch_size_max: int = 50  # a batch goes out when this many are queued ...
    batch_interval_s: float = 60.0  # ... or when the oldest queued one waited this long
    batch_tick_s: float = 5.0  # how often the batcher looks
    approval_threshold_chips: int = 1_000_000  # at or above: waits for a staff approval
    max_fee_gwei: float = 200.0  # never offer more per gas; above it, wait and retry
    priority_floor_gwei: float = 0.01
    fee_history_blocks: int = 10
    fee_percentile: float = 50.0
    replace_after_s: float = 180.0  # a transaction not mined by then is replaced, fees up
    batch_expiry_s: float = 3_600.0  # a batch not mined by then is cancelled and released
    withdrawal_expiry_s: float = 86_400.0  # a request not batched by then is released

    def __post_init__(self) -> None:
        def need(ok: bool, key: str, why: str) -> None:
            if not ok:
                raise ValueError(f"chain setting {key}: {why}")

        need(self.chain_id > 0, "chain_id", "must be positive")
        need(self.rpc_url.startswith(("http://", "https://")), "rpc_url", "must be http(s)://")
        try:
            parse_address(self.cashier)
        except Exception:
            need(False, "cashier", "must be a contract address")
        if self.token:
            try:
                parse_address(self.token)
            except Exception:
                need(False, "token", "must be a token address, or empty for the native coin")
        need(self.start_block >= 0, "start_block", "must be >= 0")
        need(1 <= self.confirmations <= 10_000, "confirmations", "must be 1..10000")
        Rate.parse(self.rate)
        positive = (
            "poll_interval_s", "rpc_timeout_s", "batch_interval_s", "batch_tick_s",
            "replace_after_s", "batch_expiry_s", "withdrawal_expiry_s", "max_fee_gwei",
        )  # fmt: skip
        for key in positive:
            need(getattr(self, key) > 0, key, "must be positive")
        need(self.priority_floor_gwei >= 0, "priority_floor_gwei", "must be >= 0")
        need(self.log_range_blocks_max >= 1, "log_range_blocks_max", "must be >= 1")
        need(self.poll_blocks_max >= 1, "poll_blocks_max", "must be >= 1")
        need(self.settle_rows_max >= 1, "settle_rows_max", "must be >= 1")
        need(
            1 <= self.batch_size_max <= CONTRACT_BATCH_MAX,
            "batch_size_max",
            f"must be 1..{CONTRACT_BATCH_MAX} (the contract's bound)",
        )
        need(self.approval_threshold_chips >= 1, "approval_threshold_chips", "must be >= 1")
        need(1 <= self.fee_history_blocks <= 1024, "fee_history_blocks", "must be 1..1024")
        need(0 <= self.fee_percentile <= 100, "fee_percentile", "must be 0..100")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ChainSettings:
        try:
            return msgspec.convert(dict(values), cls, strict=False)
        except msgspec.ValidationError as exc:
            raise ValueError(f"chain settings: {exc}") from None

    @property
    def exchange_rate(self) -> Rate:
        return Rate.parse(self.rate)

    @property
    def max_fee_wei(self) -> int:
        return int(self.max_fee_gwei * GWEI)

    @property
    def priority_floor_wei(self) -> int:
        return int(self.priority_floor_gwei * GWEI)

    @property
    def cashier_address(self) -> str:
        return parse_address(self.cashier)

    @property
    def token_address(self) -> str:
        """The token's checksummed address; the zero address for the native coin."""
        return parse_address(self.token) if self.token else ZERO_ADDRESS


def read_operator_key(path: str) -> str:
    """The operator's private key from a file readable by its owner alone (hex, one line)."""
    file = Path(path)
    mode = file.stat().st_mode
    if mode & 0o077:
        raise ValueError(f"operator key file {path}: readable by others (chmod 600 it)")
    key = file.read_text("utf-8").strip()
    if not key.startswith("0x"):
        key = "0x" + key
    if len(key) != 66:
        raise ValueError(f"operator key file {path}: expected 32 bytes of hex")
    int(key, 16)
    return key
