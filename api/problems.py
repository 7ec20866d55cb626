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
    # The wallet's refusals (services/ledger.py, services/limits.py, services/play_money.py,
    # services/wallet.py), their codes unchanged: the websocket's error frames carry the same
    # codes (protocol/errors.py). tests/api/test_wallet_routes.py checks every WalletError
    # code of the services is here, so none falls back to the catch-all wallet_error.
    "insufficient_funds": (409, "The available balance is below the amount"),
    "limit_exceeded": (409, "A responsible-gaming limit would be exceeded"),
    "transfer_not_allowed": (409, "This transfer is not allowed"),
    "invalid_amount": (422, "The amount is not one the ledger takes"),
    "unknown_player": (404, "No player of that name can receive transfers"),
    "unknown_transfer": (404, "No such transfer"),
    "transfer_not_pending": (409, "The transfer was already posted or voided"),
    "wrong_asset": (422, "Play money and real money never meet"),
    "transfer_to_self": (422, "A transfer cannot name its own sender"),
    "transfers_disabled": (403, "Transfers between players are not enabled on this server"),
    "transfer_limit_exceeded": (409, "Over what one player may send to others in a day"),
    "self_excluded": (403, "Self-excluded: no real-money deposits, play or transfers in"),
    "cooling_off": (403, "Cooling off: no real-money deposits, play or transfers in"),
    "limit_raise_pending": (409, "Another raise of this limit waits its 24 hours"),
    "exclusion_cannot_be_shortened": (409, "An exclusion can only be extended"),
    "invalid_exclusion": (422, "The exclusion's length is outside its bounds"),
    "session_time_limit_reached": (403, "The session has played its time limit"),
    "refill_too_early": (409, "The next play-money refill is not due yet"),
    "refill_not_needed": (409, "The play-money balance is not below the refill threshold"),
    "play_money_disabled": (403, "This server gives no play-money refills"),
    # One code, one status: a statement's [from_ms, to_ms) and a rakeback period alike.
    "invalid_period": (
        422,
        "A period is empty, reversed or over a year, or not day:YYYY-MM-DD or"
        " week:YYYY-MM-DD (a Monday)",
    ),
    # the chain cashier's (services/chain/), the same way
    "cashier_unavailable": (404, "This server has no blockchain cashier"),
    "unknown_chain": (404, "This server has no blockchain cashier on that chain"),
    "invalid_address": (422, "Not a chain address (0x, 40 hex digits, a valid checksum)"),
    "withdrawal_refused": (409, "The ledger refused this withdrawal when first asked"),
    "unknown_withdrawal": (404, "No such withdrawal"),
    "withdrawal_not_awaiting_approval": (409, "The withdrawal is not awaiting approval"),
    "wallet_error": (409, "The wallet refused the request"),
    # clubs (services/club_rules.py, docs/clubs.md), their codes unchanged
    "club_not_found": (404, "No such club"),
    "not_club_member": (403, "I am not a member of this club"),
    "club_permission_denied": (403, "My club role does not allow this"),
    "club_member_not_found": (404, "No such member in this club"),
    "already_club_member": (409, "Already a member of this club"),
    "banned_from_club": (403, "Banned from this club"),
    "club_invitation_required": (403, "This club takes members by invitation only"),
    "club_no_invitation": (404, "No invitation to this club"),
    "club_no_join_request": (404, "No join request from this player"),
    "club_owner_cannot_leave": (409, "The owner transfers ownership before leaving"),
    "club_name_taken": (409, "Another club has this name"),
    "club_limit_reached": (409, "A club limit is reached"),
    "invalid_club_input": (422, "The club's rules refuse this input"),
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
# Codes whose problem carries Retry-After (and retry_after_s) when waiting helps.
RETRY_AFTER_CODES: Final = frozenset(
    {"rate_limited", "login_throttled", "registration_limited", "server_busy", "unavailable",
     "idempotency_in_progress", "refill_too_early", "limit_raise_pending"}
)  # fmt: skip


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
