"""The OpenAPI 3.1 document of the public API, built from the routes' own declarations.

Schemas come from the msgspec types the routes decode and encode
(``msgspec.json.schema_components``: JSON Schema 2020-12, which OpenAPI 3.1 uses as it is).
Every operation gets: its parameters, its body with an example, its success response with an
example, each problem it may answer (grouped by status, every code named), the headers every
response carries (request id, rate limits), ``ETag``/304 where it is cacheable, and the scope
it needs. The document is built once, when the app is made.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import msgspec

from api.problems import PROBLEM_CONTENT_TYPE, PROBLEMS, RETRY_AFTER_CODES, TYPE_PREFIX, Problem
from api.routing import IDEMPOTENCY_KEY_PATTERN, JSON, Operation
from services.api_keys import Scope

OPENAPI_VERSION: Final = "3.1.0"
REF: Final = "#/components/schemas/{name}"


def _header(description: str, schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": schema}


COMMON_HEADERS: Final = {
    "X-Request-Id": _header("This request's id (in the server's logs and audit log).",
                            {"type": "string"}),
    "RateLimit-Limit": _header("The burst of the tightest rate-limit bucket this request took"
                               " from.", {"type": "integer"}),
    "RateLimit-Remaining": _header("Requests left in that bucket.", {"type": "integer"}),
    "RateLimit-Reset": _header("Seconds until that bucket is full again.", {"type": "integer"}),
}  # fmt: skip
RETRY_AFTER: Final = _header("Seconds to wait before retrying.", {"type": "integer"})
CACHE_HEADERS: Final = {
    "ETag": _header("The representation's entity tag, for If-None-Match.", {"type": "string"}),
    "Cache-Control": _header("How long caches may keep it.", {"type": "string"}),
}


def _problem_codes(operation: Operation) -> list[str]:
    codes = ["invalid_request", "invalid_text", "rate_limited"]
    if operation.auth != "none":
        codes += ["not_authenticated", "token_invalid", "token_expired", "token_revoked"]
        codes += ["api_key_invalid", "account_banned", "insufficient_scope", "unavailable"]
    if operation.personal:
        codes.append("account_required")
    if operation.path_params:
        codes.append("not_found")
    if operation.body is not None:
        codes += ["unsupported_media_type", "body_too_large", "duplicate_key"]
    if operation.idempotent:
        codes += ["idempotency_key_required", "idempotency_conflict", "idempotency_in_progress"]
    if operation.query is not None and "cursor" in operation.query.__struct_fields__:
        codes.append("invalid_cursor")
    codes += operation.errors
    return list(dict.fromkeys(codes))


def _problem_example(code: str) -> dict[str, Any]:
    status, title = PROBLEMS[code]
    example: dict[str, Any] = msgspec.to_builtins(
        Problem(
            type=TYPE_PREFIX + code,
            title=title,
            status=status,
            detail=title,
            code=code,
            request_id="5f2b8c0e9a1d4e37",
        )
    )
    return example


def _problem_responses(operation: Operation) -> dict[str, Any]:
    by_status: dict[int, list[str]] = {}
    for code in _problem_codes(operation):
        by_status.setdefault(PROBLEMS[code][0], []).append(code)
    responses: dict[str, Any] = {}
    for status, codes in sorted(by_status.items()):
        headers = dict(COMMON_HEADERS)
        if status in (429, 503) or RETRY_AFTER_CODES.intersection(codes):
            headers["Retry-After"] = {**RETRY_AFTER, "required": status == 429}
        responses[str(status)] = {
            "description": "Refused: " + ", ".join(f"`{code}`" for code in codes),
            "headers": headers,
            "content": {
                PROBLEM_CONTENT_TYPE: {
                    "schema": {"$ref": REF.format(name="Problem")},
                    "examples": {code: {"value": _problem_example(code)} for code in codes},
                }
            },
        }
    return responses


def _parameters(operation: Operation, components: dict[str, Any]) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    for name, value_type in operation.path_params.items():
        parameters.append(
            {"name": name, "in": "path", "required": True, "schema": _inline(value_type)}
        )
    if operation.query is not None:
        schema = components[operation.query.__name__]
        required = set(schema.get("required", ()))
        for name, property_schema in schema["properties"].items():
            parameters.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in required,
                    "schema": property_schema,
                }
            )
    if operation.idempotent:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": True,
                "description": "Names this operation: a retry with the same key and body gets"
                " the first response; the same key with another body is refused (422).",
                "schema": {"type": "string", "pattern": f"^{IDEMPOTENCY_KEY_PATTERN.pattern}$"},
            }
        )
    if operation.cache_control is not None:
        parameters.append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "description": "An ETag this client holds: 304 when it is still current.",
                "schema": {"type": "string"},
            }
        )
    return parameters


def _inline(value_type: Any) -> dict[str, Any]:
    schema: dict[str, Any] = msgspec.json.schema(value_type)
    return schema


def _success(operation: Operation) -> dict[str, Any]:
    headers = dict(COMMON_HEADERS)
    if operation.cache_control is not None:
        headers.update(CACHE_HEADERS)
    if operation.status == 201:
        headers["Location"] = _header("Where the created resource is.", {"type": "string"})
    if operation.idempotent:
        headers["Idempotent-Replayed"] = _header(
            "`true` when this is the first response, replayed.", {"type": "string"}, False
        )
    response: dict[str, Any] = {"description": operation.summary, "headers": headers}
    if operation.response is not None:
        content: dict[str, Any] = {
            JSON: {"schema": _ref_or_inline(operation.response), "example": operation.example}
        }
        for content_type, example in operation.alternatives.items():
            content[content_type] = {"schema": {"type": "string"}, "example": example}
        response["content"] = content
    if operation.links:
        response["links"] = dict(operation.links)
    return response


def _ref_or_inline(value_type: Any) -> dict[str, Any]:
    name = getattr(value_type, "__name__", None)
    if isinstance(value_type, type) and issubclass(value_type, msgspec.Struct):
        return {"$ref": REF.format(name=name)}
    (schema,), _ = msgspec.json.schema_components([value_type], ref_template=REF)
    return schema


def _security(operation: Operation) -> list[dict[str, list[str]]]:
    scopes = [operation.scope] if operation.scope else []
    if operation.auth == "required":
        return [{"bearer": scopes}]
    if operation.auth == "optional":
        return [{}, {"bearer": scopes}]
    return []


def _types(operations: Iterable[Operation]) -> list[Any]:
    found: list[Any] = [Problem]
    for operation in operations:
        for value_type in (operation.response, operation.query, operation.body):
            if value_type is not None and value_type not in found:
                found.append(value_type)
    return found


def build_openapi(operations: list[Operation]) -> bytes:
    _, components = msgspec.json.schema_components(_types(operations), ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        item: dict[str, Any] = {
            "operationId": operation.operation_id,
            "summary": operation.summary,
            "tags": [operation.tag],
            "security": _security(operation),
            "parameters": _parameters(operation, components),
            "responses": {str(operation.status): _success(operation)},
        }
        if operation.description:
            item["description"] = operation.description
        if operation.body is not None:
            item["requestBody"] = {
                "required": True,
                "content": {
                    JSON: {
                        "schema": {"$ref": REF.format(name=operation.body.__name__)},
                        "example": operation.body_example,
                    }
                },
            }
        if operation.cache_control is not None:
            item["responses"]["304"] = {
                "description": "Not modified: the If-None-Match ETag is current.",
                "headers": {**COMMON_HEADERS, **CACHE_HEADERS},
            }
        item["responses"].update(_problem_responses(operation))
        paths.setdefault(operation.path, {})[operation.method.lower()] = item
    document = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Tablium API",
            "version": "1",
            "description": "The public HTTP API of a Tablium poker server: accounts and"
            " sessions, the wallet, the lobby, hand histories and player profiles. The"
            " realtime game stays on the websocket, which accepts this API's access tokens."
            " Every refusal is an RFC 9457 problem with a stable `code`.",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT access token, or an API key (tbk_...)",
                    "description": "Scopes: " + ", ".join(f"`{s}`" for s in Scope),
                }
            },
        },
    }
    return msgspec.json.encode(document)
