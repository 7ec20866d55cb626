"""API keys: what a key may do (scopes), how one is made, checked and revoked.

Two doors use this: the admin API creates, lists and revokes keys; the public API checks the
keys partners send. A key is ``tbk_`` + 43 random URL-safe characters (256 bits). Only its
SHA-256 is stored (a key has all the entropy a password lacks, so a fast hash is enough), and
its first characters (``prefix``) name it in lists and logs. The key itself is shown once, at
creation.

Scopes are the whole policy of a key: each public route names the scope it needs. A key that
acts as a player (``player_id``) may use that player's personal routes within its scopes; a
key without one reaches only routes that name nobody (the lobby, public profiles).
``sessions:manage`` is never granted to a key: sessions belong to people who log in.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from enum import StrEnum
from functools import partial
from typing import Final, final

from persistence.api_keys import (
    API_KEYS_PAGE_MAX,
    ApiKeyRecord,
    AuditAs,
    create_key,
    get_key,
    key_by_hash,
    list_keys,
    mark_used,
    revoke_key,
)
from persistence.store import Store

KEY_PREFIX: Final = "tbk_"
KEY_SECRET_BYTES: Final = 32
KEY_CHARS_MAX: Final = 64  # longer bearer values are not keys (refused before hashing)
PREFIX_CHARS: Final = 12  # "tbk_" and 8 characters of the secret
REQUESTS_PER_MIN_MAX: Final = 60_000
LAST_USED_WRITE_INTERVAL_MS: Final = 60_000  # last_used_at is written at most this often


class Scope(StrEnum):
    LOBBY_READ = "lobby:read"
    TOURNAMENTS_READ = "tournaments:read"
    PLAYERS_READ = "players:read"  # public profiles
    ME_READ = "me:read"  # the account the credential acts as
    ME_WRITE = "me:write"  # change the player's profile and preferences
    WALLET_READ = "wallet:read"
    WALLET_WRITE = "wallet:write"  # transfers, deposit and withdrawal requests
    HANDS_READ = "hands:read"  # the player's own hand histories
    SESSIONS_MANAGE = "sessions:manage"  # logout, list and revoke sessions: tokens only
    CLUBS_READ = "clubs:read"  # my clubs, their members, benefits and statistics
    CLUBS_WRITE = "clubs:write"  # create, join, invite, manage (as my club role allows)
    RAKEBACK_READ = "rakeback:read"  # my rakeback and commission statement, the tiers


# A player's access token may do everything a player may do on the public API.
PLAYER_TOKEN_SCOPES: Final = frozenset(Scope)
# Scopes an admin may put on a key.
KEY_SCOPES: Final = frozenset(Scope) - {Scope.SESSIONS_MANAGE}
# Scopes whose routes act for a player: a key with one of them must name its player.
PERSONAL_SCOPES: Final = frozenset(
    {
        Scope.ME_READ,
        Scope.ME_WRITE,
        Scope.WALLET_READ,
        Scope.WALLET_WRITE,
        Scope.HANDS_READ,
        Scope.CLUBS_READ,
        Scope.CLUBS_WRITE,
        Scope.RAKEBACK_READ,
    }
)


class ApiKeyRefused(Exception):
    """A key cannot be created as asked; ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(bearer: str) -> bool:
    return bearer.startswith(KEY_PREFIX)


def verify_scopes(scopes: Iterable[str], player_id: int | None) -> tuple[str, ...]:
    """The scopes as stored (sorted, without repeats); raises ApiKeyRefused."""
    wanted = sorted(set(scopes))
    if not wanted:
        raise ApiKeyRefused("invalid_scopes", "a key needs at least one scope")
    unknown = [s for s in wanted if s not in KEY_SCOPES]
    if unknown:
        raise ApiKeyRefused(
            "invalid_scopes",
            f"unknown or forbidden scope {unknown[0]!r}; keys may have: "
            + ", ".join(sorted(KEY_SCOPES)),
        )
    if player_id is None and PERSONAL_SCOPES.intersection(wanted):
        raise ApiKeyRefused(
            "player_required", "personal scopes (me, wallet, hands) need the key's player_id"
        )
    return tuple(wanted)


@final
class ApiKeys:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._last_used_written: dict[int, int] = {}  # bound: one entry per key checked

    async def create(
        self,
        name: str,
        scopes: Iterable[str],
        player_id: int | None,
        requests_per_min: int,
        audit_as: AuditAs,
    ) -> tuple[ApiKeyRecord, str]:
        """A new key and its secret (shown once). Raises ApiKeyRefused."""
        stored_scopes = verify_scopes(scopes, player_id)
        if not 1 <= requests_per_min <= REQUESTS_PER_MIN_MAX:
            raise ApiKeyRefused("invalid_request", f"requests_per_min is 1-{REQUESTS_PER_MIN_MAX}")
        if player_id is not None:
            account = await self._store.get_account(player_id)
            if account is None:
                raise ApiKeyRefused("not_found", f"no player with id {player_id}")
        key = KEY_PREFIX + secrets.token_urlsafe(KEY_SECRET_BYTES)
        record = await self._store.run(
            partial(
                create_key, key_hash(key), key[:PREFIX_CHARS], name, stored_scopes, player_id,
                requests_per_min, self._store.clock_ms(), audit_as,
            )
        )  # fmt: skip
        return record, key

    async def revoke(self, key_id: int, audit_as: AuditAs) -> ApiKeyRecord | None:
        return await self._store.run(partial(revoke_key, key_id, self._store.clock_ms(), audit_as))

    async def get(self, key_id: int) -> ApiKeyRecord | None:
        return await self._store.run(partial(get_key, key_id), read_only=True)

    async def page(self, after_id: int | None, limit: int) -> list[ApiKeyRecord]:
        limit = max(1, min(limit, API_KEYS_PAGE_MAX))
        return await self._store.run(partial(list_keys, after_id, limit), read_only=True)

    async def check(self, key: str) -> ApiKeyRecord | None:
        """The live key ``key`` is (None: unknown or revoked). Notes its use, at most once a
        minute per key."""
        if not looks_like_key(key) or len(key) > KEY_CHARS_MAX:
            return None
        record = await self._store.run(partial(key_by_hash, key_hash(key)), read_only=True)
        if record is None or record.revoked_at_ms is not None:
            return None
        now_ms = self._store.clock_ms()
        if now_ms - self._last_used_written.get(record.id, 0) >= LAST_USED_WRITE_INTERVAL_MS:
            self._last_used_written[record.id] = now_ms
            await self._store.run(partial(mark_used, record.id, now_ms))
        return record
