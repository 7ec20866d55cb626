"""Registration and login rules over the account store.

Client mistakes (taken name, bad password, malformed name) raise AccountRefused subclasses
whose ``code`` is the protocol error code; the gateway turns them into error frames.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, Protocol, final

from persistence.accounts import Account, AccountExists
from protocol.errors import ErrorCode
from protocol.messages import PLAYER_NAME_CHARS_MAX, Role
from services.passwords import PasswordHasher

NAME_CHARS_MIN: Final = 3
NAME_PATTERN: Final = re.compile(
    rf"[A-Za-z0-9][A-Za-z0-9_.-]{{{NAME_CHARS_MIN - 1},{PLAYER_NAME_CHARS_MAX - 1}}}"
)
PASSWORD_CHARS_MIN: Final = 8
GUEST_NAME_PREFIX: Final = "guest-"  # reserved: registered names may not start with it


class AccountStore(Protocol):
    """What this service needs from persistence (the store implements it)."""

    async def create_account(self, name: str, password_hash: str, role: str) -> Account: ...

    async def get_account_by_name(self, name: str) -> Account | None: ...


class AccountRefused(Exception):
    """The client's request cannot be granted; ``code`` is its stable protocol error code."""

    code: ErrorCode = ErrorCode.BAD_CREDENTIALS

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


def verify_name(name: str) -> None:
    if name.lower().startswith(GUEST_NAME_PREFIX):
        raise InvalidName(f"names starting with {GUEST_NAME_PREFIX!r} are reserved for guests")
    if NAME_PATTERN.fullmatch(name) is None:
        raise InvalidName(
            f"a name is {NAME_CHARS_MIN}-{PLAYER_NAME_CHARS_MAX} letters, digits, '_', '.' or"
            " '-', starting with a letter or digit"
        )


def verify_password(password: str) -> None:
    if len(password) < PASSWORD_CHARS_MIN:
        raise WeakPassword(f"a password has at least {PASSWORD_CHARS_MIN} characters")


@final
class Accounts:
    """Register and log in players. Stateless beyond the store and the hasher."""

    def __init__(self, store: AccountStore, hasher: PasswordHasher) -> None:
        self._store = store
        self._hasher = hasher

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
    ) -> Account:
        """Raises AccountRefused for the client's mistakes, and the hasher's HashingBusy
        (queue full: nothing done) or HashingAbandoned (``still_wanted()`` turned false)."""
        verify_name(name)
        verify_password(password)
        password_hash = await self._hasher.hash(password, still_wanted)
        try:
            return await self._store.create_account(name, password_hash, role)
        except AccountExists:
            raise NameTaken(f"the name {name!r} is taken") from None

    async def login(
        self, name: str, password: str, still_wanted: Callable[[], bool] | None = None
    ) -> Account:
        """Raises as register() does."""
        account = await self._store.get_account_by_name(name)
        # Unknown name and wrong password take the same time and give the same answer.
        matches = await self._hasher.verify(
            account.password_hash if account else None, password, still_wanted
        )
        if account is None or not matches:
            raise BadCredentials("unknown name or wrong password")
        if account.banned:
            raise AccountBanned("this account is banned")
        return account

    async def check_not_banned(self, name: str) -> Account | None:
        """For token logins: a token outlives a ban, so the ban is checked at each login.
        Returns the account (None for a token whose player has no account, e.g. a dev one)."""
        account = await self._store.get_account_by_name(name)
        if account is not None and account.banned:
            raise AccountBanned("this account is banned")
        return account

    async def find(self, name: str) -> Account | None:
        return await self._store.get_account_by_name(name)
