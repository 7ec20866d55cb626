"""The public API as a child of the server's supervision tree: its context from the running
server's parts, and its hypercorn listener."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Final

from actors.runtime import Registry
from api.context import ApiContext, build_context
from api.lobby import LobbyListings, lobby_actor_source
from persistence import Store
from protocol.errors import CloseCode
from server.config import Settings
from server.gateway import PlayerChannel
from services.accounts import Accounts
from services.wallet import Wallet

if TYPE_CHECKING:  # the chain extra is installed only where a cashier runs
    from services.chain.cashiers import Cashiers

API_GRACEFUL_S: Final = 1.0  # in-flight requests get this long after a stop request


def api_context(
    settings: Settings,
    store: Store,
    wallet: Wallet,
    registry: Registry,
    channel: PlayerChannel,
    cashier: Cashiers | None = None,
) -> ApiContext:
    """The API reaches the websocket's accounts service and sessions through the gateway
    (``channel.gateway``, set while the gateway runs), and the blockchain cashier the
    websocket's deposits and withdrawals reach (None: no ``[chain]`` configured)."""

    def accounts() -> Accounts | None:
        gateway = channel.gateway
        return gateway.accounts if gateway is not None else None

    def session_ended(session_id: str) -> None:
        gateway = channel.gateway
        if gateway is None:
            return
        session = gateway.sessions.get(session_id)
        if session is not None:  # its connection closes at once (4005), its seats go
            gateway.end_session_now(session, CloseCode.LOGGED_OUT, "the session was ended")
        else:
            gateway.logged_out.add(session_id, time.time())

    def logged_out(session_id: str) -> bool:
        gateway = channel.gateway
        return gateway is not None and session_id in gateway.logged_out

    def profile_changed(
        player_id: int,
        *,
        display_name: str | None = None,
        auto_muck: bool | None = None,
        auto_post_blinds: bool | None = None,
    ) -> None:
        gateway = channel.gateway
        if gateway is not None:
            gateway.hooks.profile_changed(
                player_id,
                display_name=display_name,
                auto_muck=auto_muck,
                auto_post_blinds=auto_post_blinds,
            )

    return build_context(
        settings,
        store,
        wallet,
        accounts,
        LobbyListings(lobby_actor_source(registry)),
        session_ended=session_ended,
        logged_out=logged_out,
        cashier=cashier,
        profile_changed=profile_changed,
    )
