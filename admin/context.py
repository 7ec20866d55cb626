"""What the admin routes reach: settings, storage, the wallet, the live tree, the audit log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from quart import g

from actors.runtime import ActorNode, Registry
from admin.auth import Identity, TokenVerifier
from persistence import AuditEntry, Store
from persistence.audit import AuditStamp
from server.config import Settings
from services.wallet import Wallet

if TYPE_CHECKING:  # the chain extra (web3, ...) may not be installed
    from server.cluster import ClusterView
    from services.chain.cashier import ChainCashier


@dataclass(frozen=True, slots=True)
class ReadinessProbe:
    name: str
    check: Callable[[], Awaitable[None]]  # raises when the dependency is not usable


async def no_live_sessions(player_id: int) -> None:
    """The default ``on_banned``: an admin app without a gateway has no sessions to end."""


def no_tables(player_id: int, display_name: str) -> None:
    """The default ``on_renamed``: an admin app without a gateway has no tables to tell."""


async def no_ban_listeners(player_id: int, banned: bool) -> None:
    """The default ``on_ban_changed``: nothing else keeps a copy of who is banned."""


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
    # Called with the player's id once a ban and its audit entry have committed: the server
    # ends the player's live sessions here. A ban already stops new logins without it.
    on_banned: Callable[[int], Awaitable[None]] = no_live_sessions
    # Called with the player's id and new display name after a staff rename committed: the
    # tables she sits at show it at once.
    on_renamed: Callable[[int, str], None] = no_tables
    # Called with (player id, banned) once a ban or an unban has committed: the server's
    # Redis leaderboards leave the player out, or show her again (services/leaderboards.py).
    on_ban_changed: Callable[[int, bool], Awaitable[None]] = no_ban_listeners
    # The blockchain cashier of each configured chain, by chain id (admin/chain.py).
    chains: Mapping[int, ChainCashier] = field(default_factory=dict)
    # The room's nodes, read from Redis (server/cluster.py); None: a node alone.
    cluster: Callable[[], Awaitable[ClusterView]] | None = None
    # Asks a tournament wherever it runs, (tournament id, message, timeout in s)
    # (server/cluster_tournaments.py RoomTournaments.ask); None: this node's registry.
    ask_tournament: Callable[[int, Any, float], Awaitable[Any]] | None = None


def current_context() -> AdminContext:
    context: AdminContext = g.admin_context
    return context


def audit_stamp(action: str, target: str, reason: str) -> AuditStamp:
    """Who (the token's subject and role) asks for what, and why, in this request."""
    identity: Identity = g.identity
    return AuditStamp(
        subject=identity.subject,
        role=identity.role,
        action=action,
        target=target,
        reason=reason,
        request_id=g.request_id,
    )


async def record_audit(stamp: AuditStamp, *, before: Any, after: Any) -> AuditEntry:
    """An entry on its own, for a change that is not SQL (a table actor's): such routes log
    their intent before asking and the outcome after (admin/tables.py)."""
    return await current_context().store.append_audit(stamp, before=before, after=after)
