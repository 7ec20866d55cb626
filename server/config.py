"""Process configuration: environment variables over an optional TOML file over defaults.

Every setting has one environment variable (``TABLIUM_<NAME>``) and one TOML key (``<name>``,
lower case). The environment wins over the file so that one deployment file can serve many
processes. A bad value stops start-up with :class:`ConfigError`, whose message is one line that
names the setting.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, final
from urllib.parse import urlsplit

from persistence.replica import REPLICA_MAX_LAG_MS_DEFAULT, REPLICA_MAX_LAG_MS_MIN
from protocol.limits import CHIPS_MAX
from server.auth import TOKEN_TTL_S
from server.token_keys import TokenKeyError, TokenKeyRing, parse_token_key_ring
from services.personal_data import DataKeyError, DataKeyRing, parse_data_key_ring

if TYPE_CHECKING:  # the chain extra (web3, eth-utils) is needed only with a [chain] table
    from services.chain.settings import ChainSettings

ENV_PREFIX = "TABLIUM_"
JWT_SECRET_FILE = "jwt_secret"
JWT_KEYS_FILE = "jwt_keys.json"  # written by `tablium keys rotate --write`
JWT_SECRET_BYTES_MIN = 32


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it and fits on one line."""


@final
@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    ws_port: int = 8765
    admin_port: int = 8080
    data_dir: Path = Path("./var")
    # Empty means "the embedded default": an SQLite file inside data_dir.
    database_url: str = ""
    # Empty means "none". A PostgreSQL streaming replica of database_url for the reads that
    # may lag (hand histories, statistics, leaderboards, statements; docs/storage.md).
    database_replica_url: str = field(default="", repr=False)
    # The replica's reads go to the primary while it may be further behind than this.
    database_replica_max_lag_ms: int = REPLICA_MAX_LAG_MS_DEFAULT
    # Empty means "in-process": sessions, presence and the bus live in this process only.
    redis_url: str = ""
    # Every key the nodes share in Redis starts with it (docs/scaling.md): one Redis can
    # hold several rooms (or test runs) apart.
    redis_prefix: str = "tablium:"
    # With Redis: a table's owner lease lives this long unless renewed (every third of it);
    # a dead owner's tables are opened by another node at most 4/3 of it after the owner's
    # last renewal: 8 s by default, inside issue 22's 10 s (docs/scaling.md).
    table_lease_ttl_ms: int = 6_000
    # With Redis and another live node: SIGTERM first moves this node's tables to the other
    # nodes between hands, for at most this long (then the rest move mid-hand); 0: no drain,
    # stop at once as a lone node does (docs/scaling.md, "Draining a node").
    drain_timeout_s: int = 30
    # With Redis: where new tables open: "least_loaded" (the node with the fewest seated
    # players, then tables) or "local" (the node asked, as a node alone does; benchmarks
    # that place tables themselves). docs/scaling.md, "Placement".
    placement: str = "least_loaded"
    # Empty means "in-process": the outbox relay hands domain events to this process's
    # consumers itself (docs/events.md); amqp://... publishes them to RabbitMQ.
    amqp_url: str = field(default="", repr=False)
    # Relayed outbox rows are deleted this many days after relay (never before: docs/events.md).
    outbox_retention_days: int = 7
    lobby_sample_s: int = 60  # lobby analytics: seconds between samples
    lobby_analytics_retention_days: int = 90
    # Empty means "generate once and keep it in data_dir/jwt_secret".
    jwt_secret: str = field(default="", repr=False)
    guest_login: bool = False
    log_format: str = "console"  # "console" for people, "json" for machines
    log_level: str = "info"
    # Gateway bounds (server/gateway.py GatewayLimits holds the rest).
    ws_connections_per_ip_max: int = 64  # a load test from one host needs more
    ws_sessions_max: int = 20_000  # logins beyond it get server_busy
    session_grace_s: int = 60  # a dropped session's seats and missed events are kept this long
    rate_burst_requests: int = 60  # per-session token bucket: burst ...
    rate_refill_per_s: int = 30  # ... and sustained requests per second
    # Password hashes (register, login) that may wait for a hashing thread; past it logins get
    # server_busy with retry_after_ms at once (services/passwords.py).
    login_hashes_waiting_max: int = 32
    # gc.freeze() after start-up and higher collection thresholds (server/commands/serve.py).
    gc_tuning: bool = True
    # With gc_tuning: a young collection at least every this many ms, a middle one every tenth
    # (0: only when Python's allocation count says so; server/commands/serve.py).
    gc_young_every_ms: int = 10
    # Log every task step that holds the event loop at least this many ms, with the task's
    # name (0: off; a trio instrument on every step, about 1 us each; server/commands/serve.py).
    slow_step_log_ms: int = 0
    # The websocket handshake (server/handshake.py): browser pages from these origins may
    # connect (clients that send no Origin always may); the client address is read from
    # X-Forwarded-For only when the TCP peer is one of these proxies (addresses or networks).
    allowed_origins: tuple[str, ...] = ()
    # Pages of the host a handshake was addressed to (any port) may connect too: the browser
    # client this server serves itself (clients/serving.py, on the admin listener).
    same_host_origins: bool = True
    trusted_proxies: tuple[str, ...] = ()
    # Per-address token bucket, shared by every connection and session from one address.
    rate_ip_burst_requests: int = 240
    rate_ip_refill_per_s: int = 120
    # Password hashes one address may have waiting or running (its share of the queue).
    login_hashes_per_ip_max: int = 4
    # Failed logins (services/accounts.py): delays from the Nth failure on (doubling from
    # login_delay_first_ms), a lock of login_lock_s at the Mth, per account and per address.
    login_account_failures_before_delay: int = 5
    login_account_failures_to_lock: int = 20
    login_ip_failures_before_delay: int = 20
    login_ip_failures_to_lock: int = 100
    login_delay_first_ms: int = 1000
    login_lock_s: int = 900
    registrations_per_ip_per_hour: int = 20
    # A session (and every token refreshed from it) ends this long after its password login.
    session_lifetime_max_s: int = 7 * 24 * 3600
    # Empty: /metrics is open. Set: /metrics answers only "Authorization: Bearer <it>".
    metrics_token: str = field(default="", repr=False)
    # The public HTTP API (api/, docs/api.md) on its own listener.
    api_port: int = 8000
    # Browser pages of these origins may call the API (CORS); empty: none.
    api_cors_origins: tuple[str, ...] = ()
    api_access_token_ttl_s: int = 900  # an API access token lives this long; refresh for more
    # Per access token (its session) or API key without a rate of its own: burst ...
    api_rate_burst_requests: int = 120
    api_rate_refill_per_s: int = 20  # ... and sustained requests per second
    # Per client address, whoever is asking (anonymous requests count here only).
    api_rate_ip_burst_requests: int = 240
    api_rate_ip_refill_per_s: int = 60
    # register, login and refresh per client address: a bucket of this size refilled over a
    # minute (the accounts' own login throttles apply as well).
    api_auth_requests_per_min: int = 10
    api_body_bytes_max: int = 16_384  # larger request bodies are refused (413)
    # The blockchain cashier (docs/chain.md): a ``[chain]`` table of the TOML file, or
    # TABLIUM_CHAIN holding the same as a JSON object; for several chains, an array of them
    # (``[[chain]]`` tables, a JSON array: a tuple here, the first the players' default).
    # None: no cashier; deposits and withdrawals are refused with cashier_unavailable. Needs
    # the chain extra. ``chains`` reads either form.
    chain: ChainSettings | tuple[ChainSettings, ...] | None = None
    # Play money (services/play_money.py): what a new player gets, and the refill she may claim
    # once per period while her play balance is below the threshold (0 turns either off).
    play_starting_chips: int = 10_000
    play_refill_below: int = 1_000
    play_refill_chips: int = 10_000
    play_refill_period_s: int = 24 * 3600
    # Real-money transfers between players: off unless the operator enables them; at most this
    # much sent by one player per UTC day (0: no limit).
    player_transfers_enabled: bool = False
    player_transfer_daily_max: int = 0
    # Rakeback (services/rakeback.py, docs/rakeback.md): periods of a UTC day or an ISO week,
    # rake attributed by weighted contribution or equally among the players dealt in, settled
    # this long after a period ends, and the house's tier table as NAME:POINTS:BP,... (empty:
    # the default table of rakeback/tiers.py).
    rakeback_period: str = "week"
    rakeback_method: str = "weighted"
    rakeback_settle_delay_s: int = 3600
    rakeback_tiers: str = ""
    # Pay each period when it is due, without staff (services/rakeback_job.py); off: staff
    # preview and pay each period themselves.
    rakeback_auto_distribute: bool = False
    # House bots (server/house_bots.py): this many of the server's own players at its
    # play-money tables, for someone to play against (0: none; `make run` asks for some).
    house_bots: int = 0
    # --- Keys, personal data and transport (docs/operations.md: "Keys", "TLS") -------------
    # The token key ring (server/token_keys.py): rotation with key ids. When set, jwt_secret
    # is not used (a deployment may keep it as the fallback it had).
    jwt_keys: TokenKeyRing | None = None
    # Keys that seal personal data at rest (services/personal_data.py). None: no field that
    # needs them may be stored (none does yet).
    data_keys: DataKeyRing | None = None
    # Client addresses appear in logs only as a keyed hash (server/logs.py) under this key.
    # Empty: a random key per process (the hashes of one address match within one run).
    log_address_key: str = field(default="", repr=False)
    # A PEM certificate chain and its key: every listener speaks TLS (wss://, https://);
    # SIGHUP re-reads them (server/tls.py).
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    hsts_max_age_s: int = 365 * 24 * 3600  # Strict-Transport-Security on HTTPS; 0: not sent
    # The admin listener answers only clients in these networks (others: 403 before any
    # authentication); empty: any. The address is read as the gateway reads it (proxies).
    admin_allowed_networks: tuple[str, ...] = ()
    # Table rules against abuse (docs/integrity.md "Table rules"). Ratholing: a player back at
    # a cash table within this window buys in for at least the stack she left with (0: off).
    table_rathole_window_ms: int = 3_600_000
    # One address per table: two sessions from one client address cannot sit at one table...
    table_one_address: bool = True
    # ... except from these networks (an office behind one NAT; loopback: clients on this
    # machine, i.e. a local test or a proxy not listed in trusted_proxies) ...
    table_address_allowed_networks: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    # ... and players staff named together (a household): groups of player ids, "12+34,56+78".
    table_address_allowed_groups: tuple[tuple[int, ...], ...] = ()

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "tablium.sqlite3"

    @property
    def chains(self) -> tuple[ChainSettings, ...]:
        """Every configured chain's settings, the players' default first (none: ())."""
        if self.chain is None:
            return ()
        return self.chain if isinstance(self.chain, tuple) else (self.chain,)

    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"

    def token_keys(self) -> TokenKeyRing:
        """The key ring tokens are signed and verified with: jwt_keys (which wins over
        jwt_secret), or the one key of jwt_secret (after ensure_jwt_secret)."""
        if self.jwt_keys is not None:
            return self.jwt_keys
        if not self.jwt_secret:
            raise ConfigError("TABLIUM_JWT_SECRET: no token key (none set nor kept)")
        return TokenKeyRing.single(self.jwt_secret)


def _parse_port(name: str, raw: Any) -> int:
    try:
        port = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: expected a port number 0-65535, got {raw!r}") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"{name}: expected a port number 0-65535, got {port}")
    return port


def _parse_bool(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name}: expected true or false, got {raw!r}")


def _parse_count(name: str, raw: Any) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: expected a whole number of at least 1, got {raw!r}") from None
    if value < 1:
        raise ConfigError(f"{name}: expected a whole number of at least 1, got {value}")
    return value


LEASE_TTL_MS_MIN = 300  # renewed every third of it: shorter would renew faster than Redis answers


def _parse_lease_ttl(name: str, raw: Any) -> int:
    value = _parse_count(name, raw)
    if value < LEASE_TTL_MS_MIN:
        raise ConfigError(f"{name}: expected at least {LEASE_TTL_MS_MIN} ms, got {value}")
    return value


def _parse_database_url(name: str, raw: Any) -> str:
    url = str(raw).strip()
    if not url:
        return ""
    scheme = urlsplit(url).scheme
    if scheme not in {"sqlite", "postgresql", "postgres"}:
        raise ConfigError(f"{name}: expected sqlite:///PATH or postgresql://..., got {url!r}")
    return url


def _parse_replica_url(name: str, raw: Any) -> str:
    url = str(raw).strip()
    if url and urlsplit(url).scheme not in {"postgresql", "postgres"}:
        raise ConfigError(f"{name}: expected postgresql://... (a streaming replica), got {url!r}")
    return url


def _parse_replica_max_lag(name: str, raw: Any) -> int:
    value = _parse_count(name, raw)
    if value < REPLICA_MAX_LAG_MS_MIN:
        raise ConfigError(f"{name}: expected at least {REPLICA_MAX_LAG_MS_MIN} ms, got {value}")
    return value


def _parse_redis_url(name: str, raw: Any) -> str:
    url = str(raw).strip()
    if url and urlsplit(url).scheme not in {"redis", "rediss", "unix"}:
        raise ConfigError(f"{name}: expected redis://HOST:PORT/DB, got {url!r}")
    return url


REDIS_PREFIX_CHARS_MAX = 64


def _parse_redis_prefix(name: str, raw: Any) -> str:
    prefix = str(raw)
    if not prefix or len(prefix) > REDIS_PREFIX_CHARS_MAX or not prefix.isprintable():
        raise ConfigError(f"{name}: expected 1 to {REDIS_PREFIX_CHARS_MAX} printable characters")
    if any(c.isspace() for c in prefix):
        raise ConfigError(f"{name}: no spaces in a key prefix, got {prefix!r}")
    return prefix


def _parse_amqp_url(name: str, raw: Any) -> str:
    url = str(raw).strip()
    if url and urlsplit(url).scheme not in {"amqp", "amqps"}:
        raise ConfigError(f"{name}: expected amqp://USER:PASSWORD@HOST:PORT/VHOST, got {url!r}")
    return url


HOUSE_BOTS_MAX: Final = 60  # house bots: ten full play-money tables at most


def _parse_house_bots(name: str, raw: Any) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{name}: expected a whole number 0-{HOUSE_BOTS_MAX}, got {raw!r}"
        ) from None
    if not 0 <= value <= HOUSE_BOTS_MAX:
        raise ConfigError(f"{name}: expected a whole number 0-{HOUSE_BOTS_MAX}, got {value}")
    return value


def _parse_choice(*choices: str) -> Callable[[str, Any], str]:
    def parse(name: str, raw: Any) -> str:
        value = str(raw).strip().lower()
        if value not in choices:
            raise ConfigError(f"{name}: expected one of {', '.join(choices)}, got {raw!r}")
        return value

    return parse


CHIPS_SETTING_MAX: Final = CHIPS_MAX  # the ledger's largest amount


def _parse_chips(name: str, raw: Any) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: expected a whole number of chips, got {raw!r}") from None
    if not 0 <= value <= CHIPS_SETTING_MAX:
        raise ConfigError(f"{name}: expected 0..{CHIPS_SETTING_MAX} chips, got {value}")
    return value


def _parse_host(name: str, raw: Any) -> str:
    host = str(raw).strip()
    if not host:
        raise ConfigError(f"{name}: expected a host name or address, got an empty value")
    return host


def _parse_list(raw: Any) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else str(raw).split(",")
    return tuple(str(item).strip() for item in items if str(item).strip())


def _parse_origins(name: str, raw: Any) -> tuple[str, ...]:
    origins = _parse_list(raw)
    for origin in origins:
        if origin != "null" and urlsplit(origin).scheme not in {"http", "https"}:
            raise ConfigError(f"{name}: expected origins like https://example.com, got {origin!r}")
    return origins


def _parse_networks(name: str, raw: Any) -> tuple[str, ...]:
    entries = _parse_list(raw)
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ConfigError(
                f"{name}: expected addresses or networks like 10.0.0.0/8, got {entry!r}"
            ) from None
    return entries


RATHOLE_WINDOW_MS_SETTING_MAX: Final = 24 * 3600 * 1000  # poker.integrity.table_rules


DRAIN_TIMEOUT_S_MAX = 600  # a drain is bounded by the platform's grace period (docs/scaling.md)


def _parse_drain_timeout(name: str, raw: Any) -> int:
    value = _parse_seconds(name, raw)
    if value > DRAIN_TIMEOUT_S_MAX:
        raise ConfigError(f"{name}: expected 0 (no drain) to {DRAIN_TIMEOUT_S_MAX} s, got {value}")
    return value


GC_YOUNG_EVERY_MS_MAX: Final = 1_000
SLOW_STEP_LOG_MS_MAX: Final = 60_000


def _parse_ms_or_off(most_ms: int) -> Callable[[str, Any], int]:
    """0 (off) to ``most_ms`` milliseconds."""

    def parse(name: str, raw: Any) -> int:
        try:
            value = int(raw)
        except (TypeError, ValueError):
            value = -1
        if not 0 <= value <= most_ms:
            raise ConfigError(f"{name}: expected 0 (off) to {most_ms} ms, got {raw!r}")
        return value

    return parse


def _parse_player_groups(name: str, raw: Any) -> tuple[tuple[int, ...], ...]:
    groups: list[tuple[int, ...]] = []
    for entry in _parse_list(raw):
        try:
            ids = tuple(int(part) for part in entry.split("+"))
        except ValueError:
            ids = ()
        if len(ids) < 2 or any(i < 1 for i in ids):
            raise ConfigError(f"{name}: expected groups of player ids like 12+34, got {entry!r}")
        groups.append(ids)
    return tuple(groups)


def _parse_secret(name: str, raw: Any) -> str:
    secret = str(raw)
    if secret and len(secret.encode()) < JWT_SECRET_BYTES_MIN:
        raise ConfigError(f"{name}: must be at least {JWT_SECRET_BYTES_MIN} bytes long")
    return secret


METRICS_TOKEN_CHARS_MIN = 16


def _parse_metrics_token(name: str, raw: Any) -> str:
    token = str(raw).strip()
    if token and (len(token) < METRICS_TOKEN_CHARS_MIN or not all("!" <= c <= "~" for c in token)):
        raise ConfigError(
            f"{name}: expected at least {METRICS_TOKEN_CHARS_MIN} printable ASCII characters"
            " without spaces"
        )
    return token


def _parse_token_keys(name: str, raw: Any) -> TokenKeyRing | None:
    if isinstance(raw, str) and not raw.strip():
        return None
    try:
        return parse_token_key_ring(raw)
    except TokenKeyError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def _parse_data_keys(name: str, raw: Any) -> DataKeyRing | None:
    if isinstance(raw, str) and not raw.strip():
        return None
    try:
        return parse_data_key_ring(raw)
    except DataKeyError as exc:
        raise ConfigError(f"{name}: {exc}") from None


LOG_ADDRESS_KEY_CHARS_MIN = 16


def _parse_log_address_key(name: str, raw: Any) -> str:
    key = str(raw)
    if key and len(key) < LOG_ADDRESS_KEY_CHARS_MIN:
        raise ConfigError(f"{name}: must be at least {LOG_ADDRESS_KEY_CHARS_MIN} characters")
    return key


def _parse_file(name: str, raw: Any) -> Path | None:
    text = str(raw).strip()
    return Path(text) if text else None


CHAINS_MAX: Final = 16  # bound: cashiers on one server (each runs two actors)


def _parse_chain(name: str, raw: Any) -> ChainSettings | tuple[ChainSettings, ...] | None:
    """A ``[chain]`` table (TOML) or a JSON object (the environment); for several chains an
    array of them (``[[chain]]``, a JSON array); empty: no cashier."""
    if isinstance(raw, str):
        if not raw.strip():
            return None
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise ConfigError(f"{name}: expected a JSON object of chain settings: {exc}") from None
    if isinstance(raw, list):
        if not 1 <= len(raw) <= CHAINS_MAX:
            raise ConfigError(f"{name}: expected 1 to {CHAINS_MAX} chains, got {len(raw)}")
        chains = tuple(_parse_one_chain(f"{name}[{i}]", entry) for i, entry in enumerate(raw))
        ids = [c.chain_id for c in chains]
        for i, chain_id in enumerate(ids):
            if chain_id in ids[:i]:
                raise ConfigError(f"{name}[{i}]: chain_id {chain_id} is configured twice")
        return chains
    return _parse_one_chain(name, raw)


def _parse_one_chain(name: str, raw: Any) -> ChainSettings:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{name}: expected a table of chain settings (docs/chain.md)")
    try:
        from services.chain.settings import ChainSettings
    except ImportError as exc:
        raise ConfigError(
            f"{name}: the cashier needs the chain extra (pip install 'tablium[chain]'): {exc}"
        ) from None
    try:
        return ChainSettings.from_mapping(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def _parse_seconds(name: str, raw: Any) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: expected a whole number of seconds, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name}: expected 0 or more seconds, got {value}")
    return value


def _parse_rakeback_tiers(name: str, raw: Any) -> str:
    from rakeback.tiers import InvalidTiers, parse_tiers

    text = str(raw).strip()
    try:
        parse_tiers(text)
    except InvalidTiers as exc:
        raise ConfigError(f"{name}: {exc}") from None
    return text


_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "host": _parse_host,
    "ws_port": _parse_port,
    "admin_port": _parse_port,
    "data_dir": lambda _name, raw: Path(str(raw)),
    "database_url": _parse_database_url,
    "database_replica_url": _parse_replica_url,
    "database_replica_max_lag_ms": _parse_replica_max_lag,
    "redis_url": _parse_redis_url,
    "redis_prefix": _parse_redis_prefix,
    "table_lease_ttl_ms": _parse_lease_ttl,
    "drain_timeout_s": _parse_drain_timeout,
    "placement": _parse_choice("least_loaded", "local"),
    "amqp_url": _parse_amqp_url,
    "outbox_retention_days": _parse_count,
    "lobby_sample_s": _parse_count,
    "lobby_analytics_retention_days": _parse_count,
    "jwt_secret": _parse_secret,
    "guest_login": _parse_bool,
    "log_format": _parse_choice("console", "json"),
    "log_level": _parse_choice("debug", "info", "warning", "error"),
    "ws_connections_per_ip_max": _parse_count,
    "ws_sessions_max": _parse_count,
    "session_grace_s": _parse_count,
    "rate_burst_requests": _parse_count,
    "rate_refill_per_s": _parse_count,
    "login_hashes_waiting_max": _parse_count,
    "gc_tuning": _parse_bool,
    "gc_young_every_ms": _parse_ms_or_off(GC_YOUNG_EVERY_MS_MAX),
    "slow_step_log_ms": _parse_ms_or_off(SLOW_STEP_LOG_MS_MAX),
    "same_host_origins": _parse_bool,
    "allowed_origins": _parse_origins,
    "trusted_proxies": _parse_networks,
    "rate_ip_burst_requests": _parse_count,
    "rate_ip_refill_per_s": _parse_count,
    "login_hashes_per_ip_max": _parse_count,
    "login_account_failures_before_delay": _parse_count,
    "login_account_failures_to_lock": _parse_count,
    "login_ip_failures_before_delay": _parse_count,
    "login_ip_failures_to_lock": _parse_count,
    "login_delay_first_ms": _parse_count,
    "login_lock_s": _parse_count,
    "registrations_per_ip_per_hour": _parse_count,
    "session_lifetime_max_s": _parse_count,
    "metrics_token": _parse_metrics_token,
    "play_starting_chips": _parse_chips,
    "play_refill_below": _parse_chips,
    "play_refill_chips": _parse_chips,
    "play_refill_period_s": _parse_count,
    "player_transfers_enabled": _parse_bool,
    "player_transfer_daily_max": _parse_chips,
    "rakeback_period": _parse_choice("day", "week"),
    "rakeback_method": _parse_choice("weighted", "dealt"),
    "rakeback_settle_delay_s": _parse_seconds,
    "rakeback_tiers": _parse_rakeback_tiers,
    "rakeback_auto_distribute": _parse_bool,
    "house_bots": _parse_house_bots,
    "jwt_keys": _parse_token_keys,
    "data_keys": _parse_data_keys,
    "log_address_key": _parse_log_address_key,
    "tls_cert_file": _parse_file,
    "tls_key_file": _parse_file,
    "hsts_max_age_s": _parse_seconds,
    "admin_allowed_networks": _parse_networks,
    "table_rathole_window_ms": _parse_ms_or_off(RATHOLE_WINDOW_MS_SETTING_MAX),
    "table_one_address": _parse_bool,
    "table_address_allowed_networks": _parse_networks,
    "table_address_allowed_groups": _parse_player_groups,
    "api_port": _parse_port,
    "api_cors_origins": _parse_origins,
    "api_access_token_ttl_s": _parse_count,
    "api_rate_burst_requests": _parse_count,
    "api_rate_refill_per_s": _parse_count,
    "api_rate_ip_burst_requests": _parse_count,
    "api_rate_ip_refill_per_s": _parse_count,
    "api_auth_requests_per_min": _parse_count,
    "api_body_bytes_max": _parse_count,
    "chain": _parse_chain,
}
assert set(_PARSERS) == {f.name for f in fields(Settings)}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"--config: file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--config: {path} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - set(_PARSERS))
    if unknown:
        raise ConfigError(f"--config: unknown setting {unknown[0]!r} in {path}")
    return data


def load_settings(
    environ: Mapping[str, str] | None = None, config_file: Path | None = None
) -> Settings:
    """Build settings from defaults, then the TOML file, then the environment."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    if config_file is not None:
        for key, raw in _read_toml(config_file).items():
            values[key] = _PARSERS[key](key, raw)
    for key, parse in _PARSERS.items():
        env_name = ENV_PREFIX + key.upper()
        if env_name in env:
            values[key] = parse(env_name, env[env_name])
    settings = Settings(**values)
    for before, lock in (
        ("login_account_failures_before_delay", "login_account_failures_to_lock"),
        ("login_ip_failures_before_delay", "login_ip_failures_to_lock"),
    ):
        if getattr(settings, before) > getattr(settings, lock):
            raise ConfigError(
                f"{ENV_PREFIX}{before.upper()}: must not exceed {ENV_PREFIX}{lock.upper()}"
            )
    if settings.database_replica_url and urlsplit(settings.effective_database_url()).scheme not in {
        "postgresql",
        "postgres",
    }:
        raise ConfigError(
            f"{ENV_PREFIX}DATABASE_REPLICA_URL: a read replica needs {ENV_PREFIX}DATABASE_URL"
            " to be postgresql://... (SQLite has no replicas)"
        )
    if (settings.tls_cert_file is None) != (settings.tls_key_file is None):
        raise ConfigError(
            f"{ENV_PREFIX}TLS_CERT_FILE and {ENV_PREFIX}TLS_KEY_FILE: set both or neither"
        )
    if settings.api_access_token_ttl_s > TOKEN_TTL_S:
        raise ConfigError(
            f"{ENV_PREFIX}API_ACCESS_TOKEN_TTL_S: at most {TOKEN_TTL_S} (a token's longest life)"
        )
    return settings


def ensure_jwt_secret(settings: Settings) -> Settings:
    """Return settings with a token key: the jwt_keys or jwt_secret setting, else the key
    ring kept in the data dir (``jwt_keys.json``, from ``tablium keys rotate --write``), else
    a secret generated once and kept in the data dir (``jwt_secret``).

    The files are mode 0600 so only this user can read them; a secret generated once keeps
    tokens valid across restarts.
    """
    if settings.jwt_secret or settings.jwt_keys is not None:
        return settings
    ring_path = settings.data_dir / JWT_KEYS_FILE
    try:
        ring_text = ring_path.read_text()
    except FileNotFoundError:
        ring_text = None
    except OSError as exc:
        raise ConfigError(f"TABLIUM_DATA_DIR: cannot read {ring_path}: {exc}") from None
    if ring_text is not None:
        try:
            ring = parse_token_key_ring(ring_text)
        except TokenKeyError as exc:
            raise ConfigError(f"TABLIUM_DATA_DIR: {ring_path}: {exc}") from None
        return Settings(**{**_as_dict(settings), "jwt_keys": ring})
    path = settings.data_dir / JWT_SECRET_FILE
    try:
        ensure_data_dir(settings.data_dir)
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
        secret = path.read_text().strip()
    except OSError as exc:
        raise ConfigError(
            f"TABLIUM_DATA_DIR: cannot keep the JWT secret in {path}: {exc}"
        ) from None
    if len(secret.encode()) < JWT_SECRET_BYTES_MIN:
        raise ConfigError(f"TABLIUM_JWT_SECRET: the secret kept in {path} is too short")
    return Settings(**{**_as_dict(settings), "jwt_secret": secret})


DATA_DIR_MODE = 0o700  # password hashes, the ledger and the token secret live here


def ensure_data_dir(data_dir: Path) -> None:
    """Create the data directory readable by this user only (0700), and take group and
    other permissions away from one made by an older version (0755). Raises OSError."""
    data_dir.mkdir(mode=DATA_DIR_MODE, parents=True, exist_ok=True)
    if data_dir.stat().st_mode & 0o077:
        data_dir.chmod(DATA_DIR_MODE)


def _as_dict(settings: Settings) -> dict[str, Any]:
    return {f.name: getattr(settings, f.name) for f in fields(settings)}
