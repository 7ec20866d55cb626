"""The keys that sign and verify access tokens: a key ring with key ids, for rotation.

A ring has one current key, which signs every new token (its id goes in the token's header
as ``kid``), and any number of previous keys, each verifying until its end time and never
signing. Rotating makes a new key current and keeps the old one as a previous key until
every token it signed has expired (server/auth.py ``ROTATION_OVERLAP_S``), so nobody is
logged out by a rotation. A token names its key: one whose ``kid`` is not on the ring, or names a
previous key past its end, is refused without trying other keys.

The key of the single-secret setting (``TABLIUM_JWT_SECRET``, or the secret generated in the
data directory) has the id ``default``, and a token without a ``kid`` (issued before key ids
existed) names it: after an upgrade such tokens verify as before, and after a rotation they
verify while ``default`` is a previous key.

The ring is written as JSON (``TABLIUM_JWT_KEYS``, the data directory's ``jwt_keys.json``,
a Kubernetes Secret) or as TOML tables (``--config``)::

    {"current": {"kid": "2026-12", "secret": "..."},
     "previous": [{"kid": "default", "secret": "...", "verify_until": "2026-12-09T12:00:00Z"}]}

Pure: no I/O and no clock (callers pass the time).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, final

DEFAULT_KID: Final = "default"
KID_PATTERN: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")
TOKEN_KEY_BYTES_MIN: Final = 32  # as TABLIUM_JWT_SECRET
PREVIOUS_KEYS_MAX: Final = 8  # a longer ring is a mistake (keys never retired); refused


class TokenKeyError(ValueError):
    """A key ring that cannot be used; the message says which entry and why."""


@final
@dataclass(frozen=True, slots=True)
class TokenKey:
    kid: str
    secret: str = field(repr=False)
    # None: the current key (no end). A previous key verifies until this time (Unix seconds).
    verify_until_s: int | None = None


@final
@dataclass(frozen=True, slots=True)
class TokenKeyRing:
    current: TokenKey
    previous: tuple[TokenKey, ...] = ()

    def __post_init__(self) -> None:
        if self.current.verify_until_s is not None:
            raise TokenKeyError("the current key signs new tokens: it has no verify_until")
        if len(self.previous) > PREVIOUS_KEYS_MAX:
            raise TokenKeyError(f"at most {PREVIOUS_KEYS_MAX} previous keys")
        kids = [self.current.kid, *(key.kid for key in self.previous)]
        if len(set(kids)) != len(kids):
            raise TokenKeyError("key ids must be distinct")
        for key in (self.current, *self.previous):
            if not KID_PATTERN.fullmatch(key.kid):
                raise TokenKeyError(f"key id {key.kid!r}: 1-64 of A-Z a-z 0-9 . _ -")
            if not key.secret:
                raise TokenKeyError(f"key {key.kid!r}: the secret is empty")
        for key in self.previous:
            if key.verify_until_s is None:
                raise TokenKeyError(f"previous key {key.kid!r}: verify_until is required")

    @classmethod
    def single(cls, secret: str) -> TokenKeyRing:
        """The ring of the single-secret setting: one key, ``default``."""
        if not secret:
            raise TokenKeyError("a token secret is required")
        return cls(TokenKey(DEFAULT_KID, secret))

    def verifying_key(self, kid: str | None, now_s: float) -> TokenKey | None:
        """The key a token naming ``kid`` (None: no kid, i.e. ``default``) is verified with,
        or None when no key of that id verifies any more."""
        wanted = DEFAULT_KID if kid is None else kid
        if wanted == self.current.kid:
            return self.current
        for key in self.previous:
            if key.kid == wanted:
                assert key.verify_until_s is not None  # __post_init__
                return key if now_s <= key.verify_until_s else None
        return None

    def rotated(self, new_key: TokenKey, *, now_s: int, overlap_s: int) -> TokenKeyRing:
        """``new_key`` current; the current key a previous key until ``now_s + overlap_s``;
        previous keys already past their end dropped."""
        if overlap_s < 0:
            raise TokenKeyError("the overlap cannot be negative")
        retiring = TokenKey(self.current.kid, self.current.secret, now_s + overlap_s)
        kept = [
            key
            for key in self.previous
            if key.verify_until_s is not None and key.verify_until_s >= now_s
        ]
        return TokenKeyRing(new_key, (retiring, *kept))

    def to_json(self) -> str:
        """One line: for an environment variable, a .env file or a Secret."""
        return json.dumps(
            {
                "current": {"kid": self.current.kid, "secret": self.current.secret},
                "previous": [
                    {"kid": key.kid, "secret": key.secret, "verify_until": _iso(key.verify_until_s)}
                    for key in self.previous
                ],
            }
        )

    def describe(self) -> list[str]:
        """One line per key, without secrets (for operators)."""
        lines = [f"{self.current.kid}: current (signs and verifies)"]
        lines += [f"{key.kid}: verifies until {_iso(key.verify_until_s)}" for key in self.previous]
        return lines


def new_token_key(kid: str | None = None, *, now_s: int) -> TokenKey:
    """A fresh random key; its id defaults to the UTC time (``20261202T031700Z``)."""
    if kid is None:
        kid = dt.datetime.fromtimestamp(now_s, dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return TokenKey(kid, secrets.token_urlsafe(48))


def parse_token_key_ring(raw: Any) -> TokenKeyRing:
    """A ring from its JSON text (environment, files) or its parsed form (a TOML table).
    Raises TokenKeyError."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise TokenKeyError(f"not valid JSON: {exc.msg} at character {exc.pos}") from None
    if not isinstance(raw, Mapping) or "current" not in raw:
        raise TokenKeyError('expected {"current": {"kid": ..., "secret": ...}, "previous": [...]}')
    unknown = sorted(set(raw) - {"current", "previous"})
    if unknown:
        raise TokenKeyError(f"unknown field {unknown[0]!r}")
    previous = raw.get("previous", [])
    if not isinstance(previous, list):
        raise TokenKeyError("previous: expected a list of keys")
    current = _parse_key(raw["current"], "current", with_end=False)
    return TokenKeyRing(
        current,
        tuple(
            _parse_key(entry, f"previous[{i}]", with_end=True) for i, entry in enumerate(previous)
        ),
    )


def _parse_key(raw: Any, where: str, *, with_end: bool) -> TokenKey:
    if not isinstance(raw, Mapping):
        raise TokenKeyError(f"{where}: expected an object with kid and secret")
    allowed = {"kid", "secret", "verify_until"} if with_end else {"kid", "secret"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise TokenKeyError(f"{where}: unknown field {unknown[0]!r}")
    kid, secret = raw.get("kid"), raw.get("secret")
    if not isinstance(kid, str) or not isinstance(secret, str):
        raise TokenKeyError(f"{where}: kid and secret must be strings")
    if len(secret.encode()) < TOKEN_KEY_BYTES_MIN:
        raise TokenKeyError(f"{where}: the secret must be at least {TOKEN_KEY_BYTES_MIN} bytes")
    until = _parse_time(raw.get("verify_until"), where) if with_end else None
    return TokenKey(kid, secret, until)


def _parse_time(raw: Any, where: str) -> int:
    if isinstance(raw, str):
        try:
            raw = dt.datetime.fromisoformat(raw)
        except ValueError:
            raw = None
    if not isinstance(raw, dt.datetime) or raw.tzinfo is None:
        raise TokenKeyError(
            f"{where}: verify_until must be a time with its zone, like 2026-12-09T12:00:00Z"
        )
    return int(raw.timestamp())


def _iso(seconds: int | None) -> str:
    assert seconds is not None
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
