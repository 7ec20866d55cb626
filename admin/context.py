"""What the admin routes reach: settings, storage, the wallet, the live tree, the audit log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from quart import g

from actors.runtime import ActorNode, Registry
from admin.auth import Identity, TokenVerifier
from persistence import AuditEntry, Store
from server.config import Settings
from services.wallet import Wallet

if TYPE_CHECKING:  # the chain extra (web3, ...) may not be installed
    from services.chain.cashier import ChainCashier


@dataclass(frozen=True, slots=True)
class ReadinessProbe:
    name: str
    check: Callable[[], Awaitable[None]]  # raises when the dependency is not usable


@dataclass(frozen=True, slots=True)
class AdminContext:
    settings: Settings
    verify_token: TokenVerifier
    store: Store
    wallet: Wallet
    readiness: Sequence[ReadinessProbe] = field(default_factory=tuple)
    # The live supervision tree, read at request time (the runtime walks it; nothing cached).
    actor_tree: Callable[[], ActorNode] | None = None
    # Names of live actors (the lobby, table:<id>) for the table routes.
    registry: Registry | None = None
    # Called with a player id once a ban is committed: ends the player's live sessions
    # (server/gateway.py PlayerChannel.player_banned). The default reaches no sessions.
    player_banned: Callable[[int], object] = lambda _player_id: None
    # The blockchain cashier of each configured chain, by chain id (admin/chain.py).
    chains: Mapping[int, ChainCashier] = field(default_factory=dict)


def current_context() -> AdminContext:
    context: AdminContext = g.admin_context
    return context


async def record_audit(
    action: str, target: str, reason: str, *, before: Any, after: Any
) -> AuditEntry:
    """Write who changed what; every state-changing route calls this once it has changed it."""
    identity: Identity = g.identity
    return await current_context().store.append_audit(
        subject=identity.subject,
        role=identity.role,
        action=action,
        target=target,
        reason=reason,
        request_id=g.request_id,
        before=before,
        after=after,
    )
