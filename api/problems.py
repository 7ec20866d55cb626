"""Every refusal of the public API as an RFC 9457 problem (``application/problem+json``).

A problem has a stable ``code`` (also in its ``type``, ``urn:tablium:problem:<code>``), the
HTTP status, a title that belongs to the code, a ``detail`` sentence for people (it may
change), the request id, and for invalid input the ``errors`` found. Codes are never renamed
or reused; docs/api.md lists them, from PROBLEMS below.
"""

from __future__ import annotations

from typing import Final, final

import msgspec

PROBLEM_CONTENT_TYPE: Final = "application/problem+json"
TYPE_PREFIX: Final = "urn:tablium:problem:"


@final
class FieldError(msgspec.Struct, frozen=True):
    location: str  # "body", "query", "path" or "header"
    message: str


@final
class Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    """An RFC 9457 problem detail, with our extension members."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str
    errors: list[FieldError] = []
    retry_after_s: int | None = None


# code -> (status, title). The status is the one the code always comes with.
PROBLEMS: Final[dict[str, tuple[int, str]]] = {
    # the request itself
    "invalid_request": (400, "The request is not valid"),
    "invalid_cursor": (400, "The cursor is not one this API gave"),
    "invalid_text": (400, "Text with NUL, a lone surrogate or bytes that are not UTF-8"),
    "duplicate_key": (400, "A JSON object names a key twice"),
    "idempotency_key_required": (400, "This request needs an Idempotency-Key header"),
    "not_authenticated": (401, "Credentials are needed"),
    "token_invalid": (401, "The access token is not valid"),
    "token_expired": (401, "The access token has expired"),
    "token_revoked": (401, "The access token's session has ended"),
    "api_key_invalid": (401, "The API key is unknown or revoked"),
    "bad_credentials": (401, "Unknown name or wrong password"),
    "refresh_token_invalid": (401, "The refresh token is unknown, expired or revoked"),
    "refresh_token_reused": (401, "The refresh token was used before; its session has ended"),
    "insufficient_scope": (403, "The credential lacks the scope this route needs"),
    "account_banned": (403, "The account is banned"),
    "account_required": (403, "This route needs a registered player"),
    "not_found": (404, "Not found"),
    "method_not_allowed": (405, "This route does not take that method"),
    "not_acceptable": (406, "No representation matches the Accept header"),
    "name_taken": (409, "The name is taken"),
    "idempotency_in_progress": (409, "A request with this Idempotency-Key is still running"),
    "body_too_large": (413, "The request body is too large"),
    "unsupported_media_type": (415, "Send the body as application/json"),
    "idempotency_conflict": (422, "The Idempotency-Key was used for a different request"),
    "invalid_name": (422, "The name breaks the naming rules"),
    "weak_password": (422, "The password is too weak"),
    "rate_limited": (429, "Too many requests"),
    "login_throttled": (429, "Too many failed logins; wait before trying again"),
    "registration_limited": (429, "Too many registrations from this address"),
    "server_busy": (503, "The server is busy; retry later"),
    "unavailable": (503, "A service this route needs is not running"),
    "internal_error": (500, "The server failed"),
    # the wallet's refusals (services/ledger.py), their codes unchanged
    "insufficient_funds": (409, "The available balance is below the amount"),
    "limit_exceeded": (409, "A responsible-gaming limit would be exceeded"),
    "transfer_not_allowed": (409, "This transfer is not allowed"),
    "invalid_amount": (422, "The amount is not one the ledger takes"),
    "unknown_player": (404, "No player of that name can receive transfers"),
    "unknown_transfer": (404, "No such transfer"),
    "transfer_not_pending": (409, "The transfer was already posted or voided"),
    "wallet_error": (409, "The wallet refused the request"),
    # the player service's refusals (players/, services/profiles.py), their codes unchanged
    "display_name_invalid": (422, "The display name breaks the naming rules"),
    "display_name_offensive": (422, "The display name is not allowed"),
    "display_name_taken": (409, "Another player shows this display name"),
    "display_name_change_too_soon": (429, "The display name changes once every 30 days"),
    "avatar_invalid": (422, "Not a bundled avatar nor an https image URL"),
    "country_invalid": (422, "Not an ISO 3166-1 alpha-2 country code"),
    "bio_too_long": (422, "The bio is too long"),
    "bio_invalid": (422, "The bio holds control characters or too many lines"),
    "unknown_preference": (422, "No preference has this key"),
    "invalid_preference": (422, "The preference does not take this value"),
    "unknown_leaderboard": (404, "No such leaderboard"),
    "unknown_period": (422, "A period is daily, weekly or monthly"),
}


class ApiProblem(Exception):
    """Raised anywhere in a request: the app answers with this problem."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        retry_after_s: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        if code not in PROBLEMS:
            raise ValueError(f"undocumented problem code {code!r}")
        self.code = code
        self.status = PROBLEMS[code][0]
        self.detail = detail
        self.errors = errors or []
        self.retry_after_s = retry_after_s
        self.headers = headers or {}

    def body(self, request_id: str) -> Problem:
        return Problem(
            type=TYPE_PREFIX + self.code,
            title=PROBLEMS[self.code][1],
            status=self.status,
            detail=self.detail[:500],
            code=self.code,
            request_id=request_id,
            errors=self.errors,
            retry_after_s=self.retry_after_s,
        )


def invalid(location: str, message: str) -> ApiProblem:
    return ApiProblem(
        "invalid_request", f"{location}: {message}", errors=[FieldError(location, message)]
    )
