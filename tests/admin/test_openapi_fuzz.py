"""Property-based runs against the admin API's own OpenAPI spec, on a real `tablium serve`
over SQLite and over PostgreSQL (which refuses NUL in text, where half-done changes came from).

1. schemathesis' cases as generated: no route answers with a server error (5xx), and a POST
   refused with a 4xx changes nothing (no state, no audit entry; a table change refused by the
   table itself leaves only its logged intent and refusal).
2. The same cases with a NUL or a lone surrogate put into one string (path parameter, query
   parameter or body field; JSON-escaped or as raw bytes): every one is 400 ``invalid_text``
   and changes nothing.

Seeded: a failure names the TABLIUM_TEST_SEED that replays it."""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest
import schemathesis
import trio
from hypothesis import HealthCheck, assume, given, seed, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from admin.bodies import BODY_BYTES_MAX
from persistence import open_store
from server.auth import TokenSigner
from tests.server_process import TEST_JWT_SECRET, running_server

# Per backend (two servers): the suite's time is shared by everyone. The admin API has grown
# to over a hundred operations (clubs, rakeback, integrity, profiles): each run draws a fresh
# seed (printed for replay), so runs add up to more than any one of them tries.
EXAMPLES_PER_OPERATION = 20
POISONED_EXAMPLES_PER_OPERATION = 10
SEED = int(os.environ.get("TABLIUM_TEST_SEED", random.randrange(2**32)))
PLAYER_IDS = (1, 2, 3)  # seeded before the server starts
KNOWN_TABLES = ("nt-1-2-a", "nt-5-10", "po-1-2")  # among the server's seed tables
KNOWN_TOURNAMENTS: list[int] = []  # created by the fixture once the server runs
BAD_CHARACTERS = ("\x00", "\ud800", "\udbff", "\udc00", "\udfff")
REUSES_PER_REFUSAL = 10  # the stall it guards against showed in ~1 of 6 tries

ADMIN_TOKEN, _ = TokenSigner(TEST_JWT_SECRET).issue("fuzzer", "admin", ttl_s=3600)
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def _create_schema(url: str, schema: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()


async def _seed_players(url: str) -> None:
    async with open_store(url) as store:
        for player_id in PLAYER_IDS:
            account = await store.create_account(f"fuzz{player_id}", "hash", "player")
            assert account.id == player_id


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def admin_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, postgres_url: str
) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp(f"openapi-fuzz-{request.param}")
    if request.param == "postgres":
        schema = f"fuzz_{secrets.token_hex(6)}"
        asyncio.run(_create_schema(postgres_url, schema))
        database_url = f"{postgres_url}?search_path={schema}"
    else:
        database_url = f"sqlite:///{data_dir / 'tablium.sqlite3'}"
    trio.run(_seed_players, database_url)
    with running_server(data_dir, TABLIUM_DATABASE_URL=database_url) as server:
        KNOWN_TOURNAMENTS[:] = [_create_tournament(server.admin_url)]
        yield server.admin_url


def _create_tournament(admin_url: str) -> int:
    """One tournament for the cases to reach (a director may cancel it, start it, ...)."""
    body = {"name": "Fuzzed", "preset": "hyper", "buy_in": 10, "reason": "fuzz"}
    with httpx.Client(base_url=admin_url, headers=AUTH, timeout=30) as client:
        created = client.post("/tournaments", json=body)
    assert created.status_code == 200, created.text
    return int(created.json()["tournament_id"])


@pytest.fixture(scope="module")
def admin_schema(admin_url: str) -> Any:
    return schemathesis.openapi.from_url(f"{admin_url}/openapi.json")


@pytest.fixture(scope="module")
def http(admin_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=admin_url, headers=AUTH, timeout=30) as client:
        yield client


def _operations(admin_schema: Any) -> list[Any]:
    operations = [result.ok() for result in admin_schema.get_all_operations()]
    assert len(operations) >= 10, "the spec lost its routes"
    return operations


@st.composite
def _cases(draw: st.DrawFn, operation: Any) -> Any:
    """A schemathesis case whose ids often name a player or table that exists, so changes
    reach the database instead of stopping at "not found"."""
    case = draw(operation.as_strategy())
    known_ids = (
        ("player_id", PLAYER_IDS),
        ("table_id", KNOWN_TABLES),
        ("tournament_id", KNOWN_TOURNAMENTS),
    )
    for name, known in known_ids:
        if case.path_parameters and name in case.path_parameters and draw(st.booleans()):
            case.path_parameters[name] = draw(st.sampled_from(known))
    return case


def _state(http: httpx.Client, path_parameters: dict[str, Any] | None, path: str) -> Any:
    """What a request to this route could change: the audit log's newest entries, and the
    player's account and wallet, or the table's status, or the list of tables, or the
    tournament's lobby line, or the list of tournaments."""
    entries = http.get("/audit", params={"limit": 10}).json()
    state: dict[str, Any] = {"audit": [(e["id"], e["action"], e["after"]) for e in entries]}
    parameters = path_parameters or {}
    if "player_id" in parameters:
        player = quote(str(parameters["player_id"]), safe="")
        state["player"] = http.get(f"/players/{player}").json()
        state["wallet"] = http.get(f"/players/{player}/wallet").json()
    if "table_id" in parameters:
        state["table"] = http.get(f"/tables/{quote(str(parameters['table_id']), safe='')}").json()
    if path == "/tables":
        state["tables"] = sorted(t["table_id"] for t in http.get("/tables").json()["tables"])
    if "tournament_id" in parameters:
        tournament = quote(str(parameters["tournament_id"]), safe="")
        answer = http.get(f"/tournaments/{tournament}").json()
        state["tournament"] = answer["details"]["summary"] if "details" in answer else answer
    if path == "/tournaments":
        listed = http.get("/tournaments").json()["tournaments"]
        state["tournaments"] = sorted(t["tournament_id"] for t in listed)
    return state


def _write_ahead_only(before: Any, after: Any) -> bool:
    """A table that refused a logged change: the entries added are its intent and refusal."""
    old = {entry[0] for entry in before["audit"]}
    added = [entry for entry in after["audit"] if entry[0] not in old]
    outcomes = sorted(entry[2]["outcome"] for entry in added)
    unchanged = {k: v for k, v in after.items() if k != "audit"}
    return outcomes == ["refused", "requested"] and unchanged == {
        k: v for k, v in before.items() if k != "audit"
    }


def _replayable(operation: Any, run: Any) -> None:
    try:
        run()
    except Exception as exc:
        raise AssertionError(
            f"{operation.method.upper()} {operation.path}: replay with TABLIUM_TEST_SEED={SEED}"
        ) from exc


def _fuzz_as_generated(operation: Any, http: httpx.Client) -> None:
    changes = operation.method.upper() == "POST"

    @seed(SEED)
    @given(case=_cases(operation))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def call(case: Any) -> None:
        before = _state(http, case.path_parameters, operation.path) if changes else None
        response = case.call_and_validate(headers=AUTH, checks=[not_a_server_error])
        if changes and 400 <= response.status_code < 500:
            after = _state(http, case.path_parameters, operation.path)
            assert after == before or _write_ahead_only(before, after), (
                f"a refused {response.status_code} changed something"
            )

    _replayable(operation, call)


def test_no_admin_route_answers_with_a_server_error(admin_schema: Any, http: httpx.Client) -> None:
    # Each operation's strategy is driven by hypothesis directly (schemathesis' own pytest
    # plugin does not run under pytest 9 yet).
    for operation in _operations(admin_schema):
        _fuzz_as_generated(operation, http)


def _encoded(text: str) -> str:
    # Surrogates as the bytes a careless encoder would send (surrogatepass), then escaped.
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@st.composite
def _poisoned(draw: st.DrawFn, text: str) -> str:
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(st.sampled_from(BAD_CHARACTERS)) + text[at:]


@st.composite
def _poisoned_requests(draw: st.DrawFn, operation: Any) -> tuple[dict[str, str], str, bytes | None]:
    """A case with one string (path, query or body) holding a NUL or a lone surrogate:
    (the path parameters before poisoning, the URL to send, the body's bytes)."""
    case = draw(_cases(operation))
    path_parameters = {k: str(v) for k, v in (case.path_parameters or {}).items()}
    query = {k: str(v) for k, v in (case.query or {}).items()}
    body = dict(case.body) if isinstance(case.body, dict) else None
    slots = [("path", name) for name in path_parameters]
    slots += [("query", p.name) for p in operation.iter_parameters() if p.location == "query"]
    slots += [("body", k) for k, v in (body or {}).items() if isinstance(v, str)]
    assume(bool(slots))  # a case with no string to poison (no body generated)
    where, name = draw(st.sampled_from(slots))
    if where == "body":  # the path must lead to a route for its body to be read at all
        known_ids = (
            ("player_id", PLAYER_IDS),
            ("table_id", KNOWN_TABLES),
            ("tournament_id", KNOWN_TOURNAMENTS),
        )
        for key, known in known_ids:
            if key in path_parameters:
                path_parameters[key] = str(draw(st.sampled_from(known)))
    clean_path_parameters = dict(path_parameters)
    holder: dict[str, Any] = {"path": path_parameters, "query": query, "body": body}[where]
    holder[name] = draw(_poisoned(str(holder.get(name, ""))))
    url = operation.path.format(**{k: _encoded(v) for k, v in path_parameters.items()})
    if query:
        url += "?" + "&".join(f"{_encoded(k)}={_encoded(v)}" for k, v in query.items())
    content = None
    if body is not None:
        as_raw_bytes = draw(st.booleans())  # else JSON's \u escapes
        content = json.dumps(body, ensure_ascii=not as_raw_bytes).encode("utf-8", "surrogatepass")
    return clean_path_parameters, url, content


def _has_string_slots(operation: Any) -> bool:
    return any(p.location in ("path", "query") for p in operation.iter_parameters()) or bool(
        operation.body
    )


def _fuzz_poisoned(operation: Any, http: httpx.Client) -> None:
    changes = operation.method.upper() == "POST"

    @seed(SEED)
    @given(request=_poisoned_requests(operation))
    @settings(
        max_examples=POISONED_EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def call(request: tuple[dict[str, str], str, bytes | None]) -> None:
        path_parameters, url, content = request
        before = _state(http, path_parameters, operation.path) if changes else None
        headers = {"Content-Type": "application/json"} if content is not None else {}
        response = http.request(operation.method.upper(), url, content=content, headers=headers)
        # A body past the bound is refused before it is read as JSON (a long poisoned string
        # can take it there): a different refusal, and it must change nothing either.
        too_large = content is not None and len(content) > BODY_BYTES_MAX
        status, code = (413, "body_too_large") if too_large else (400, "invalid_text")
        assert response.status_code == status, (url, content, response.text)
        assert response.json()["error"] == code, (url, content, response.text)
        if changes:
            assert _state(http, path_parameters, operation.path) == before

    _replayable(operation, call)


def test_nul_and_lone_surrogates_in_any_string_are_refused_and_change_nothing(
    admin_schema: Any, http: httpx.Client
) -> None:
    operations = [op for op in _operations(admin_schema) if _has_string_slots(op)]
    assert {op.method.upper() for op in operations} == {"GET", "POST"}
    for operation in operations:
        _fuzz_poisoned(operation, http)


def test_a_refused_request_leaves_its_keep_alive_connection_usable(admin_url: str) -> None:
    # An answer sent before the body was read used to stall the connection's next request.
    refused = [
        ("/no-such-route", b'{"reason": "x"}', "application/json"),
        ("/players/%00/ban", b'{"reason": "x"}', "application/json"),
        ("/players/1/ban", b'{"reason": "x"}', "text/plain"),
        ("/healthz", b'{"reason": "x"}', "application/json"),  # 405
        ("/players/1/ban", b'{"reason": "' + b"x" * 40_000 + b'"}', "application/json"),
    ]
    for path, body, content_type in refused:
        for _ in range(REUSES_PER_REFUSAL):
            with httpx.Client(base_url=admin_url, headers=AUTH, timeout=2) as client:
                answer = client.post(path, content=body, headers={"Content-Type": content_type})
                assert 400 <= answer.status_code < 500
                assert client.get("/healthz").status_code == 200, (path, answer.status_code)
