"""A property-based run of schemathesis against the admin API's own OpenAPI spec, on a real
`tablium serve`: whatever it sends, no route answers with a server error (5xx).

Seeded: a failure names the TABLIUM_TEST_SEED that replays it."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from schemathesis.checks import not_a_server_error

from server.auth import TokenSigner
from tests.server_process import TEST_JWT_SECRET, running_server

EXAMPLES_PER_OPERATION = 100
SEED = int(os.environ.get("TABLIUM_TEST_SEED", random.randrange(2**32)))


@pytest.fixture(scope="module")
def admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp("openapi-fuzz")
    with running_server(data_dir) as server:
        yield server.admin_url


@pytest.fixture(scope="module")
def admin_schema(admin_url: str) -> Any:
    return schemathesis.openapi.from_url(f"{admin_url}/openapi.json")


ADMIN_TOKEN, _ = TokenSigner(TEST_JWT_SECRET).issue("fuzzer", "admin", ttl_s=3600)


def test_no_admin_route_answers_with_a_server_error(admin_schema: Any) -> None:
    # Each operation's strategy is driven by hypothesis directly (schemathesis' own pytest
    # plugin does not run under pytest 9 yet).
    operations = [result.ok() for result in admin_schema.get_all_operations()]
    assert len(operations) >= 10, "the spec lost its routes"
    for operation in operations:

        @seed(SEED)
        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def call(case: Any) -> None:
            case.call_and_validate(
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, checks=[not_a_server_error]
            )

        try:
            call()
        except Exception as exc:
            raise AssertionError(
                f"{operation.method.upper()} {operation.path}: replay with TABLIUM_TEST_SEED={SEED}"
            ) from exc
