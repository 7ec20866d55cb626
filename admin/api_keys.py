"""API keys for the public API (partners, server-to-server): list, create, revoke.

A key is shown once, in the answer to its creation; only its hash is kept
(services/api_keys.py). Creation and revocation write their audit entry in the same
transaction as the change.
"""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct
from quart import Blueprint, g
from quart_schema import document_querystring, document_request, validate_querystring

from admin.auth import Identity, error, requires
from admin.bodies import ROW_ID_MAX, Reason, RowId, read_body
from admin.context import current_context
from admin.permissions import Permission
from persistence.api_keys import API_KEY_NAME_CHARS_MAX, API_KEYS_PAGE_MAX, ApiKeyRecord, AuditAs
from services.api_keys import REQUESTS_PER_MIN_MAX, ApiKeyRefused, ApiKeys

api_key_routes = Blueprint("api_keys", __name__)

KEY = f"<int(max={ROW_ID_MAX}):key_id>"
DEFAULT_REQUESTS_PER_MIN = 600


class ApiKeyCreate(Struct, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=API_KEY_NAME_CHARS_MAX)]
    scopes: Annotated[list[Annotated[str, Meta(max_length=64)]], Meta(min_length=1, max_length=32)]
    reason: Reason
    # The player the key acts as, for personal scopes (wallet, hands, me); None for keys that
    # only read public data (lobby, profiles, tournaments).
    player_id: RowId | None = None
    requests_per_min: Annotated[int, Meta(ge=1, le=REQUESTS_PER_MIN_MAX)] = DEFAULT_REQUESTS_PER_MIN


class ApiKeyCreated(Struct, frozen=True):
    key: str  # shown this once: give it to the partner; it cannot be read again
    api_key: ApiKeyRecord


class RevokeRequest(Struct, frozen=True, forbid_unknown_fields=True):
    reason: Reason


class KeysQuery(Struct, frozen=True):
    after_id: RowId | None = None
    limit: Annotated[int, Meta(ge=1, le=API_KEYS_PAGE_MAX)] = 50


class ApiKeyPage(Struct, frozen=True):
    api_keys: list[ApiKeyRecord]
    next_after_id: int | None


def _audit_as(reason: str) -> AuditAs:
    identity: Identity = g.identity
    return AuditAs(identity.subject, identity.role, reason, g.request_id)


def _keys() -> ApiKeys:
    return ApiKeys(current_context().store)


@api_key_routes.get("/api-keys")
@requires(Permission.API_KEYS_READ)
@validate_querystring(KeysQuery)
@document_querystring(KeysQuery)
async def list_api_keys(query_args: KeysQuery) -> Any:
    """Every key (never the key itself), in id order, paged by ``after_id``."""
    found = await _keys().page(query_args.after_id, query_args.limit)
    next_after = found[-1].id if len(found) == query_args.limit else None
    return ApiKeyPage(found, next_after)


@api_key_routes.post("/api-keys")
@requires(Permission.API_KEYS_WRITE)
@document_request(ApiKeyCreate)
async def create_api_key() -> Any:
    """Create a key with scopes (audited); the answer holds the key, shown this once."""
    body = await read_body(ApiKeyCreate)
    try:
        record, key = await _keys().create(
            body.name, body.scopes, body.player_id, body.requests_per_min, _audit_as(body.reason)
        )
    except ApiKeyRefused as exc:
        status = 404 if exc.code == "not_found" else 400
        return error(status, exc.code, str(exc))
    return ApiKeyCreated(key, record), 201


@api_key_routes.post(f"/api-keys/{KEY}/revoke")
@requires(Permission.API_KEYS_WRITE)
@document_request(RevokeRequest)
async def revoke_api_key(key_id: int) -> Any:
    """Revoke a key at once (audited); revoking a revoked key changes nothing."""
    body = await read_body(RevokeRequest)
    record = await _keys().revoke(key_id, _audit_as(body.reason))
    if record is None:
        return error(404, "not_found", f"no API key with id {key_id}")
    return record
