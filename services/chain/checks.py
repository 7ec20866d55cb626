"""Start-up check: the node and the contract are the ones the settings name."""

from __future__ import annotations

from services.chain.rpc import ChainClient
from services.chain.settings import ChainSettings


class ChainMisconfigured(Exception):
    """The node or the contract is not what the settings say (wrong chain, token, operator)."""


async def verify_chain(
    client: ChainClient, settings: ChainSettings, operator: str | None = None
) -> None:
    """Raise ChainMisconfigured unless the node is ``settings.chain_id`` and its cashier takes
    ``settings.token`` (and, with ``operator``, lets that key pay batches)."""
    chain_id = await client.chain_id()
    if chain_id != settings.chain_id:
        raise ChainMisconfigured(f"the node is chain {chain_id}, settings say {settings.chain_id}")
    state = await client.cashier_state()
    if state.token != settings.token_address:
        raise ChainMisconfigured(
            f"the cashier takes {state.token}, settings say {settings.token_address}"
        )
    if operator is not None and state.operator != operator:
        raise ChainMisconfigured(
            f"the cashier's operator is {state.operator}, our key is {operator}"
        )
