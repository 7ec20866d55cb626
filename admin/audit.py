"""The audit log: every state change made through the admin API, newest first."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct
from quart import Blueprint
from quart_schema import document_querystring, validate_querystring

from admin.auth import requires
from admin.bodies import RowId
from admin.context import current_context
from admin.permissions import Permission
from persistence.audit import AUDIT_PAGE_MAX, AUDIT_TEXT_CHARS_MAX

audit_routes = Blueprint("audit", __name__)


class AuditQuery(Struct, frozen=True):
    target: Annotated[str, Meta(max_length=AUDIT_TEXT_CHARS_MAX)] | None = None  # "player:42"
    before_id: RowId | None = None
    limit: Annotated[int, Meta(ge=1, le=AUDIT_PAGE_MAX)] = 50


@audit_routes.get("/audit")
@requires(Permission.AUDIT_READ)
@validate_querystring(AuditQuery)
@document_querystring(AuditQuery)
async def audit_log(query_args: AuditQuery) -> Any:
    """Who changed what, when, why, and the record before and after."""
    return await current_context().store.list_audit(
        query_args.target, query_args.before_id, query_args.limit
    )
