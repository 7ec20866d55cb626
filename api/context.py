"""What the public API's routes reach: the same services the websocket uses, and the API's own
pieces (sessions, keys, limits, the lobby adapter)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, final

from actors.club_tables import ClubTables
from api.lobby import LobbyListings
from api.ratelimit import RateLimits
from persistence import Store
from server.auth import TokenSigner
from server.config import Settings
from server.handshake import IPNetwork, normalize_origin, parse_networks
from services.accounts import Accounts
from services.api_keys import ApiKeys
from services.leaderboards import Leaderboards
from services.personal_data import PersonalDataCipher
from services.wallet import Wallet

if TYPE_CHECKING:  # the chain extra is installed only where a cashier runs
    from services.chain.cashier import ChainCashier
    from services.chain.cashiers import Cashiers


def _no_live_sessions(_session_id: str) -> None:
    return None


def _nothing_logged_out(_session_id: str) -> bool:
    return False


class ProfileChanged(Protocol):
    """A player's display name or table preferences changed: her tables follow at once."""

    def __call__(
        self,
        player_id: int,
        *,
        display_name: str | None = None,
        auto_muck: bool | None = None,
        auto_post_blinds: bool | None = None,
    ) -> None: ...


def _no_tables(
    player_id: int,
    *,
    display_name: str | None = None,
    auto_muck: bool | None = None,
    auto_post_blinds: bool | None = None,
) -> None:
    return None


@final
@dataclass(frozen=True, slots=True)
class ApiContext:
    settings: Settings
    store: Store
    wallet: Wallet
    # The accounts service the websocket uses (one set of login throttles and one password
    # hashing queue for both doors); None while the gateway is not running.
    accounts: Callable[[], Accounts | None]
    listings: LobbyListings
    signer: TokenSigner
    api_keys: ApiKeys
    rate_limits: RateLimits
    trusted_proxies: tuple[IPNetwork, ...]
    cors_origins: frozenset[str]
    # A session was revoked here: end its live websocket sessions at once (the gateway).
    session_ended: Callable[[str], None] = field(default=_no_live_sessions)
    # The gateway's in-process record of logged-out sessions (a fast refusal before the
    # database's, which is the one that holds across restarts and nodes).
    logged_out: Callable[[str], bool] = field(default=_nothing_logged_out)
    # Her new display name or preferences reach the tables she sits at (the gateway's hooks).
    profile_changed: ProfileChanged = field(default=_no_tables)
    # Seals the personal data kept with a session (its client address and user agent):
    # TABLIUM_DATA_KEYS. None: that data is not kept at all (api/sessions.py).
    personal_data: PersonalDataCipher | None = None
    # The blockchain cashiers (deposit addresses, withdrawals), one per configured chain;
    # None: no [chain] configured, and those routes answer cashier_unavailable.
    cashier: Cashiers | None = None
    # Redis-backed when Redis is configured (server/app.py); None: the database's answers.
    leaderboards: Leaderboards | None = None
    # Opens club tables (server/app.py); None: no tables here, and that route is unavailable.
    club_tables: ClubTables | None = None


def build_context(
    settings: Settings,
    store: Store,
    wallet: Wallet,
    accounts: Callable[[], Accounts | None],
    listings: LobbyListings,
    *,
    session_ended: Callable[[str], None] = _no_live_sessions,
    logged_out: Callable[[str], bool] = _nothing_logged_out,
    cashier: Cashiers | ChainCashier | None = None,
    profile_changed: ProfileChanged = _no_tables,
) -> ApiContext:
    """The API's context from the process settings. ``cashier``: one chain's, or the router
    of several (services/chain/cashiers.py)."""
    cashiers = None
    if cashier is not None:
        from services.chain.cashiers import as_cashiers

        cashiers = as_cashiers(cashier)
    return ApiContext(
        settings=settings,
        store=store,
        wallet=wallet,
        accounts=accounts,
        listings=listings,
        signer=TokenSigner(
            settings.token_keys(), session_lifetime_max_s=settings.session_lifetime_max_s
        ),
        api_keys=ApiKeys(store),
        rate_limits=RateLimits(
            address_burst=settings.api_rate_ip_burst_requests,
            address_refill_per_s=settings.api_rate_ip_refill_per_s,
            credential_burst=settings.api_rate_burst_requests,
            credential_refill_per_s=settings.api_rate_refill_per_s,
            auth_per_min=settings.api_auth_requests_per_min,
        ),
        trusted_proxies=parse_networks(settings.trusted_proxies),
        cors_origins=frozenset(normalize_origin(o) for o in settings.api_cors_origins),
        session_ended=session_ended,
        logged_out=logged_out,
        personal_data=(
            None if settings.data_keys is None else PersonalDataCipher(settings.data_keys)
        ),
        cashier=cashiers,
        profile_changed=profile_changed,
    )
