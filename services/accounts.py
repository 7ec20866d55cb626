"""Registration and login rules over the account store.

Client mistakes (taken name, bad password, malformed name) raise AccountRefused subclasses
whose ``code`` is the protocol error code; the gateway turns them into error frames.

Guessing is throttled (services/throttle.py) per account name and per client address: after
a few failures the next attempt must wait, longer after each further failure, and many
failures lock the name or the address for a while (``login_throttled`` with
``retry_after_ms``, answered without hashing). Every failed login is logged (name, address,
reason; never the password, and the name only when it is an account's: a name that is none
may be a password typed into the wrong field) and counted (``login_failures`` by reason, for
/metrics). Addresses reach log lines only as keyed hashes (server/logs.py).
Registrations are limited per address (``registration_limited``).

With a SharedThrottles (Redis, docs/scaling.md) the failure counts and the registration
limit are kept there, so every node of a room sees the same ones; when it does not answer,
registrations and password logins are refused with ``server_busy`` (ServerBusy) until it
does: a node alone must not let guessing go unthrottled.
"""

from __future__ import annotations

import collections
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final, Protocol, final

import structlog
import trio

from persistence.accounts import Account, AccountExists, fold_name
from persistence.redis_link import RedisDown
from protocol.errors import ErrorCode
from protocol.messages import PLAYER_NAME_CHARS_MAX, Role
from services.passwords import PasswordHasher, is_common_password
from services.throttle import BackoffPolicy, FailureBackoff, KeyedRateLimit, SharedThrottles

log = structlog.get_logger("tablium.accounts")

NAME_CHARS_MIN: Final = 3
NAME_PATTERN: Final = re.compile(
    rf"[A-Za-z0-9][A-Za-z0-9_.-]{{{NAME_CHARS_MIN - 1},{PLAYER_NAME_CHARS_MAX - 1}}}"
)
PASSWORD_CHARS_MIN: Final = 8
PASSWORD_DISTINCT_CHARS_MIN: Final = 4  # "        ", "aaaaaaaa", "12121212" are not secrets
GUEST_NAME_PREFIX: Final = "guest-"  # reserved: registered names may not start with it
# Names a player could use to pass for staff or for the house. A name is refused when its
# canonical form (folded, without separators and trailing digits, look-alike characters made
# one: 0 and o, 1 i l, ...) is the canonical form of one of RESERVED_NAMES, or starts with that
# of one of RESERVED_NAME_PREFIXES.
RESERVED_NAMES: Final = frozenset(
    {
        "root", "staff", "system", "sysadmin", "mod", "mods", "help", "helpdesk", "security",
        "cashier", "dealer", "director", "floor", "floorman", "owner", "operator", "service",
        "server", "official", "team", "host", "webmaster", "postmaster", "abuse", "billing",
        "info", "contact", "null", "none", "anonymous", "everyone", "house", "bank", "tablium",
    }
)  # fmt: skip
# "housebot": the server's own players (server/house_bots.py).
RESERVED_NAME_PREFIXES: Final = (
    "admin", "support", "moderator", "tablium", "sysop", "staff", "housebot",
)  # fmt: skip
_LOOK_ALIKES: Final = str.maketrans("01il34578", "ollleastb")
_NAME_SEPARATORS: Final = re.compile(r"[._-]")
# Default login throttles (server/config.py has the settings that override them).
ACCOUNT_FAILURES_BEFORE_DELAY: Final = 5
ACCOUNT_FAILURES_TO_LOCK: Final = 20
ADDRESS_FAILURES_BEFORE_DELAY: Final = 20
ADDRESS_FAILURES_TO_LOCK: Final = 100
LOGIN_DELAY_FIRST_MS: Final = 1000
LOGIN_LOCK_S: Final = 900
REGISTRATIONS_PER_ADDRESS_PER_HOUR: Final = 20


class AccountStore(Protocol):
    """What this service needs from persistence (the store implements it)."""

    async def create_account(self, name: str, password_hash: str, role: str) -> Account: ...

    async def get_account_by_name(self, name: str) -> Account | None: ...

    async def revoke_session(self, session_id: str, player: str, expires_at_ms: int) -> None: ...

    async def token_login(self, name: str, session_id: str) -> tuple[Account | None, bool]: ...


class AccountRefused(Exception):
    """The client's request cannot be granted; ``code`` is its stable protocol error code,
    ``retry_after_ms`` (for throttles) when the same request may succeed later."""

    code: ErrorCode = ErrorCode.BAD_CREDENTIALS

    def __init__(self, message: str, retry_after_ms: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_ms = retry_after_ms


@final
class NameTaken(AccountRefused):
    code = ErrorCode.NAME_TAKEN


@final
class InvalidName(AccountRefused):
    code = ErrorCode.INVALID_NAME


@final
class WeakPassword(AccountRefused):
    code = ErrorCode.WEAK_PASSWORD


@final
class BadCredentials(AccountRefused):
    code = ErrorCode.BAD_CREDENTIALS


@final
class AccountBanned(AccountRefused):
    code = ErrorCode.ACCOUNT_BANNED


@final
class SessionRevoked(AccountRefused):
    """The token's session was ended (logout, ban): its tokens no longer log in."""

    code = ErrorCode.TOKEN_INVALID


@final
class LoginThrottled(AccountRefused):
    code = ErrorCode.LOGIN_THROTTLED


@final
class ServerBusy(AccountRefused):
    """The state shared by the nodes (Redis) does not answer: no new login until it does."""

    code = ErrorCode.SERVER_BUSY


SHARED_STATE_RETRY_AFTER_MS: Final = 1000  # what a login refused for Redis being down waits


class RegistrationLimited(AccountRefused):
    code = ErrorCode.REGISTRATION_LIMITED


def _canonical(name: str) -> str:
    return _NAME_SEPARATORS.sub("", name.casefold()).translate(_LOOK_ALIKES)


_RESERVED_CANONICAL: Final = frozenset(_canonical(name) for name in RESERVED_NAMES)
_RESERVED_PREFIXES_CANONICAL: Final = tuple(_canonical(p) for p in RESERVED_NAME_PREFIXES)


def is_reserved_name(name: str) -> bool:
    """True for names that could pass for staff or the house (see RESERVED_NAMES)."""
    bare = _NAME_SEPARATORS.sub("", name.casefold())
    forms = {_canonical(bare), _canonical(bare.rstrip("0123456789"))}
    return any(
        form in _RESERVED_CANONICAL or form.startswith(_RESERVED_PREFIXES_CANONICAL)
        for form in forms
    )


def verify_name(name: str) -> None:
    if name.lower().startswith(GUEST_NAME_PREFIX):
        raise InvalidName(f"names starting with {GUEST_NAME_PREFIX!r} are reserved for guests")
    if NAME_PATTERN.fullmatch(name) is None:
        raise InvalidName(
            f"a name is {NAME_CHARS_MIN}-{PLAYER_NAME_CHARS_MAX} letters, digits, '_', '.' or"
            " '-', starting with a letter or digit"
        )
    if is_reserved_name(name):
        raise InvalidName(f"the name {name!r} is reserved")


def verify_password(password: str, name: str = "") -> None:
    if len(password) < PASSWORD_CHARS_MIN:
        raise WeakPassword(f"a password has at least {PASSWORD_CHARS_MIN} characters")
    if len(set(password)) < PASSWORD_DISTINCT_CHARS_MIN:
        raise WeakPassword(
            f"a password has at least {PASSWORD_DISTINCT_CHARS_MIN} different characters"
        )
    if is_common_password(password):
        raise WeakPassword("this password is one of the most common ones; choose another")
    if len(name) >= NAME_CHARS_MIN and name.casefold() in password.casefold():
        raise WeakPassword("a password may not contain the player's name")


@final
@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """How guessing is slowed down (the settings fill it in; these are the defaults)."""

    per_account: BackoffPolicy = field(
        default_factory=lambda: BackoffPolicy(
            ACCOUNT_FAILURES_BEFORE_DELAY,
            ACCOUNT_FAILURES_TO_LOCK,
            LOGIN_DELAY_FIRST_MS,
            LOGIN_LOCK_S,
        )
    )
    per_address: BackoffPolicy = field(
        default_factory=lambda: BackoffPolicy(
            ADDRESS_FAILURES_BEFORE_DELAY,
            ADDRESS_FAILURES_TO_LOCK,
            LOGIN_DELAY_FIRST_MS,
            LOGIN_LOCK_S,
        )
    )
    registrations_per_address_per_hour: int = REGISTRATIONS_PER_ADDRESS_PER_HOUR


def _loggable(name: str) -> str:
    """A name as it may appear in a log line: valid names as they are, others escaped (a
    name on the wire may hold newlines or terminal escapes)."""
    return name if NAME_PATTERN.fullmatch(name) else ascii(name)


def _failure_keys(account_key: str, address: str | None) -> list[str]:
    """The shared failure records of a login: the account's, then the address's."""
    keys = [f"account:{account_key}"]
    if address is not None:
        keys.append(f"address:{address}")
    return keys


def shared_state_busy() -> ServerBusy:
    return ServerBusy(
        "the server cannot reach its shared state; retry later", SHARED_STATE_RETRY_AFTER_MS
    )


def _retry_after_ms(wait_s: float) -> int:
    return max(1, math.ceil(wait_s * 1000))


@final
class Accounts:
    """Register and log in players. Beyond the store and the hasher, it keeps the login
    throttles (in this process: a restart forgets them)."""

    def __init__(
        self,
        store: AccountStore,
        hasher: PasswordHasher,
        policy: LoginPolicy | None = None,
        clock: Callable[[], float] = trio.current_time,
        on_registered: Callable[[Account], Awaitable[object]] | None = None,
        shared: SharedThrottles | None = None,
    ) -> None:
        policy = policy or LoginPolicy()
        self._policy = policy
        # The throttles of every node (Redis), instead of this process's maps below.
        self.shared = shared
        self._store = store
        # Welcomes a new account once it is stored (the wallet's play-money starting balance);
        # its failure is logged, never the registration's (the player may claim a refill).
        self._on_registered = on_registered
        self._hasher = hasher
        self._clock = clock
        self._failures_by_account = FailureBackoff(policy.per_account)
        self._failures_by_address = FailureBackoff(policy.per_address)
        per_hour = policy.registrations_per_address_per_hour
        self._registrations = KeyedRateLimit(per_hour, per_hour / 3600)
        # Metrics: failed logins by reason (bad_credentials, throttled, banned) and
        # registrations refused by the per-address limit. Bounded keys.
        self.login_failures: collections.Counter[str] = collections.Counter()
        self.registrations_limited = 0

    @property
    def hasher(self) -> PasswordHasher:
        """The password hasher (its queue figures are metrics)."""
        return self._hasher

    async def register(
        self,
        name: str,
        password: str,
        role: Role = "player",
        still_wanted: Callable[[], bool] | None = None,
        address: str | None = None,
    ) -> Account:
        """Raises AccountRefused for the client's mistakes (RegistrationLimited when
        ``address`` has registered too often), and the hasher's HashingBusy (queue full:
        nothing done) or HashingAbandoned (``still_wanted()`` turned false)."""
        verify_name(name)
        verify_password(password, name)
        if address is not None:
            wait_s = await self._registration_wait_s(address)
            if wait_s > 0:
                self.registrations_limited += 1
                log.warning("registration refused", address=address, reason="limited")
                raise RegistrationLimited(
                    "too many registrations from this address; retry later",
                    _retry_after_ms(wait_s),
                )
        password_hash = await self._hasher.hash(password, still_wanted, owner=address)
        try:
            account = await self._store.create_account(name, password_hash, role)
        except AccountExists:
            raise NameTaken(f"the name {name!r} is taken") from None
        if self._on_registered is not None:
            try:
                await self._on_registered(account)
            except Exception:  # the account exists: the welcome is a bonus, logged if lost
                log.exception("welcoming a new account failed", player=account.id)
        return account

    async def login(
        self,
        name: str,
        password: str,
        still_wanted: Callable[[], bool] | None = None,
        address: str | None = None,
    ) -> Account:
        """Raises as register() does, and LoginThrottled (without hashing) while the name
        or ``address`` must wait after failed attempts."""
        key = fold_name(name)
        wait_s = await self._login_wait_s(key, address)
        if wait_s > 0:  # the name is not looked up: not logged (see the module's docstring)
            self._log_failure(None, address, "throttled")
            raise LoginThrottled("too many failed logins; retry later", _retry_after_ms(wait_s))
        account = await self._store.get_account_by_name(name)
        # Unknown name and wrong password take the same time and give the same answer.
        matches = await self._hasher.verify(
            account.password_hash if account else None, password, still_wanted, owner=address
        )
        if account is None or not matches:
            await self._count_failure(key, address)
            self._log_failure(name if account else None, address, "bad_credentials")
            raise BadCredentials("unknown name or wrong password")
        if account.banned:
            self._log_failure(name, address, "banned")
            raise AccountBanned("this account is banned")
        # The name's failures are forgiven; the address's are not (an attacker with one
        # account of his own must not wipe his address's record by logging into it).
        await self._forgive(key)
        return account

    # --- the throttles: this process's, or every node's (shared) -----------------------------

    async def _registration_wait_s(self, address: str) -> float:
        per_hour = self._policy.registrations_per_address_per_hour
        if self.shared is None:
            return self._registrations.take(address, self._clock())
        try:
            granted, wait_s = await self.shared.take(
                "registrations", address, per_hour, per_hour / 3600, 1
            )
        except RedisDown:
            raise shared_state_busy() from None
        return 0.0 if granted else wait_s

    async def _login_wait_s(self, key: str, address: str | None) -> float:
        if self.shared is None:
            now_s = self._clock()
            wait_s = self._failures_by_account.wait_s(key, now_s)
            if address is not None:
                wait_s = max(wait_s, self._failures_by_address.wait_s(address, now_s))
            return wait_s
        try:
            records = await self.shared.failures("login", _failure_keys(key, address))
        except RedisDown:
            raise shared_state_busy() from None
        # The account's record, then the address's (when there is an address).
        policies = (self._policy.per_account, self._policy.per_address)[: len(records)]
        waits = (
            p.wait_after(r.count, r.since_last_s) for p, r in zip(policies, records, strict=True)
        )
        return max(waits, default=0.0)

    async def _count_failure(self, key: str, address: str | None) -> None:
        if self.shared is None:
            now_s = self._clock()
            self._failures_by_account.failed(key, now_s)
            if address is not None:
                self._failures_by_address.failed(address, now_s)
            return
        lock_s = max(self._policy.per_account.lock_s, self._policy.per_address.lock_s)
        try:
            await self.shared.failed("login", _failure_keys(key, address), lock_s)
        except RedisDown:
            # The guess was answered; failing to count it must not turn it into a success.
            log.warning("login failure not counted: shared state unreachable")

    async def _forgive(self, key: str) -> None:
        if self.shared is None:
            self._failures_by_account.succeeded(key)
            return
        try:
            await self.shared.succeeded("login", f"account:{key}")
        except RedisDown:
            log.warning("login success not recorded: shared state unreachable")

    def _log_failure(self, name: str | None, address: str | None, reason: str) -> None:
        self.login_failures[reason] += 1
        shown = _loggable(name) if name is not None else None
        log.warning("login failed", name=shown, address=address, reason=reason)

    async def check_not_banned(self, name: str) -> Account | None:
        """The ban check of check_token_login alone (for callers without a session)."""
        account = await self._store.get_account_by_name(name)
        if account is not None and account.banned:
            raise AccountBanned("this account is banned")
        return account

    async def check_token_login(self, name: str, session_id: str) -> Account | None:
        """For token logins: a token outlives a logout and a ban, so both are checked at
        each token login (one read). Returns the account (None for a token whose player has
        no account, e.g. a dev one); raises SessionRevoked or AccountBanned."""
        account, revoked = await self._store.token_login(name, session_id)
        if revoked:
            raise SessionRevoked("this session was ended; log in again")
        if account is not None and account.banned:
            raise AccountBanned("this account is banned")
        return account

    async def revoke_session(self, session_id: str, player: str, expires_at_s: int) -> None:
        """Refuse the session's tokens until ``expires_at_s`` (when they would expire)."""
        await self._store.revoke_session(session_id, player, expires_at_s * 1000)

    async def find(self, name: str) -> Account | None:
        return await self._store.get_account_by_name(name)
