"""The refusal every door gives when this server runs no blockchain cashier.

Importable without the chain extra (it needs nothing of web3): the websocket and the public
API refuse deposits and withdrawals with it when the ``[chain]`` settings are absent.
"""

from __future__ import annotations

from typing import final

from services.ledger import WalletError


@final
class CashierUnavailable(WalletError):
    """No cashier is configured (``[chain]``, docs/chain.md): there is nowhere to deposit
    to or withdraw from. Not transient: asking again gets the same answer."""

    code = "cashier_unavailable"

    def __init__(self) -> None:
        super().__init__(
            "this server has no blockchain cashier: deposits and withdrawals are not offered"
        )


@final
class UnknownChain(WalletError):
    """A request named a chain this server has no cashier on; the message lists those it
    has."""

    code = "unknown_chain"
