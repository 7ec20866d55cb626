"""Play money, pure: what a new player gets and when she may claim a refill.

Play money (asset ``play``) comes out of the house's play-money account (kind ``house``, may go
negative) by ``play_grant`` transfers and never becomes real money: no deposit, withdrawal or
player transfer moves it, and play-money tables and tournaments hold only it.

- A new player gets ``starting_balance`` once, at registration (key ``play:start:<player>``:
  a retry or a second call pays nothing more).
- A player whose available play balance is below ``refill_below`` may claim ``refill_amount``
  once per ``refill_period_ms`` (counted from her last refill). Too early:
  ``refill_too_early`` with the time left (``retry_after_ms``); not below the threshold:
  ``refill_not_needed``. Each refill's key is ``play:refill:<player>:<n>`` (her n-th), so two
  claims at once make one refill.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, final

from persistence.ledger import ClaimState, LedgerAccount
from protocol.limits import CHIPS_MAX
from services.ledger import WalletError

HOUR_MS: Final = 3_600_000


@final
@dataclass(frozen=True, slots=True)
class PlayMoneyPolicy:
    """The operator's settings (server/config.py ``play_*``); 0 turns a grant off."""

    starting_balance: int = 10_000
    refill_below: int = 1_000
    refill_amount: int = 10_000
    refill_period_ms: int = 24 * HOUR_MS

    def __post_init__(self) -> None:
        for name in ("starting_balance", "refill_below", "refill_amount"):
            if not 0 <= getattr(self, name) <= CHIPS_MAX:
                raise ValueError(f"{name} must be in 0..{CHIPS_MAX}")
        if self.refill_period_ms < 0:
            raise ValueError("refill_period_ms must be >= 0")


@final
class RefillTooEarly(WalletError):
    code = "refill_too_early"

    def __init__(self, retry_after_ms: int) -> None:
        super().__init__(f"the next play-money refill can be claimed in {retry_after_ms} ms")
        self.retry_after_ms = retry_after_ms


@final
class RefillNotNeeded(WalletError):
    code = "refill_not_needed"


@final
class PlayMoneyDisabled(WalletError):
    """The operator gives no play-money refills (``refill_amount`` 0)."""

    code = "play_money_disabled"


def start_key(player_id: int) -> str:
    return f"play:start:{player_id}"


def refill_key(player_id: int, number: int) -> str:
    return f"play:refill:{player_id}:{number}"


def decide_refill(
    policy: PlayMoneyPolicy, claims: ClaimState, wallet: LedgerAccount | None, now_ms: int
) -> int:
    """The amount of a refill claimed now, or raise why not (nothing is written)."""
    if policy.refill_amount == 0:
        raise PlayMoneyDisabled("this server gives no play-money refills")
    available = wallet.available if wallet is not None else 0
    if available >= policy.refill_below:
        raise RefillNotNeeded(
            f"refills are for balances below {policy.refill_below}; you have {available}"
        )
    last = claims.last_claim_at_ms
    if last is not None and now_ms < last + policy.refill_period_ms:
        raise RefillTooEarly(last + policy.refill_period_ms - now_ms)
    return policy.refill_amount
