"""schemathesis against the public API's own spec, on a real ``tablium serve``: every
operation, then the stateful links; no 500, and every response (status, content type,
headers, body) matches the spec. The server runs a blockchain cashier on Anvil (loopback),
so the deposit and withdrawal routes answer as they do in production.

Seeded: a failure names the TABLIUM_TEST_SEED that replays it.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from web3 import Web3
from web3.providers import HTTPProvider

from server.auth import TokenSigner
from services.chain.devnode import anvil
from tests.chain.evm import deploy
from tests.server_process import TEST_JWT_SECRET, ServerProcess, running_server

EXAMPLES_PER_OPERATION = 40
STATEFUL_STEPS = 25
STATEFUL_EXAMPLES = 15
SEED = int(os.environ.get("TABLIUM_TEST_SEED", random.randrange(2**32)))
PASSWORD = "correct horse battery"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Everything from one address: the fuzzer must not spend its run on 429s (those are tested
# on their own, in test_gateway_guarantees.py).
LIFTED = {
    "TABLIUM_API_RATE_IP_BURST_REQUESTS": "1000000",
    "TABLIUM_API_RATE_IP_REFILL_PER_S": "1000000",
    "TABLIUM_API_RATE_BURST_REQUESTS": "1000000",
    "TABLIUM_API_RATE_REFILL_PER_S": "1000000",
    "TABLIUM_API_AUTH_REQUESTS_PER_MIN": "1000000",
    "TABLIUM_REGISTRATIONS_PER_IP_PER_HOUR": "1000000",
    "TABLIUM_LOGIN_IP_FAILURES_BEFORE_DELAY": "1000000",
    "TABLIUM_LOGIN_IP_FAILURES_TO_LOCK": "1000000",
    "TABLIUM_LOGIN_ACCOUNT_FAILURES_BEFORE_DELAY": "1000000",
    "TABLIUM_LOGIN_ACCOUNT_FAILURES_TO_LOCK": "1000000",
}
LAST = ("logout", "revokeSession")  # they end the fuzzer's own session: run them at the end


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real ``tablium serve`` with a blockchain cashier on a real node (Anvil, the contract
    deployed, the watcher and the batcher running), so the cashier routes are fuzzed too."""
    data_dir: Path = tmp_path_factory.mktemp("api-live")
    with anvil() as node:
        chain = deploy(Web3(HTTPProvider(node, request_kwargs={"timeout": 10})))
        chain.fund_cashier(10**12)
        key_file = data_dir / "operator.key"
        key_file.write_text(chain.operator_key + "\n")
        os.chmod(key_file, 0o600)
        settings = {
            "chain_id": chain.chain_id, "rpc_url": node, "cashier": chain.cashier.address,
            "token": chain.token.address, "rate": "1/100", "confirmations": 2,
            "poll_interval_s": 0.5, "batch_tick_s": 0.5, "batch_interval_s": 1,
            "operator_key_file": str(key_file), "approval_threshold_chips": 100_000,
        }  # fmt: skip
        with running_server(data_dir, **LIFTED, TABLIUM_CHAIN=json.dumps(settings)) as process:
            yield process


def player(server: ServerProcess, name: str, funds: int) -> dict[str, Any]:
    """A registered player with ``funds`` chips (an admin adjustment), and her tokens."""
    tokens = httpx.post(
        f"{server.api_url}/v1/auth/register", json={"name": name, "password": PASSWORD}
    ).json()
    if not funds:
        return tokens
    staff, _ = TokenSigner(TEST_JWT_SECRET).issue("fuzz-staff", "admin", ttl_s=3600)
    funded = httpx.post(
        f"{server.admin_url}/players/{tokens['player']['id']}/wallet/adjustments",
        headers={"Authorization": f"Bearer {staff}"},
        json={"amount": funds, "reason": "fuzz funds", "key": f"fund-{name}"},
    )
    assert funded.status_code == 200, funded.text
    return tokens


@pytest.fixture(scope="module")
def schema(server: ServerProcess) -> Any:
    return schemathesis.openapi.from_url(f"{server.api_url}/v1/openapi.json")


def test_every_operation_answers_as_its_spec_says(server: ServerProcess, schema: Any) -> None:
    tokens = player(server, "fuzzer", 10**9)
    player(server, "bobby", 0)  # someone to send chips to
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    # The cashier routes are live here, not cashier_unavailable; one withdrawal gives the
    # list and item routes something to read while the batcher pays it on chain.
    where = httpx.get(f"{server.api_url}/v1/wallet/deposit-address", headers=headers)
    assert where.status_code == 200, where.text
    made = httpx.post(
        f"{server.api_url}/v1/wallet/withdrawals",
        json={"amount": 500, "address": "0x" + "ab" * 20},
        headers={**headers, "Idempotency-Key": "live-1"},
    )
    assert made.status_code == 201, made.text
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 16, "the spec lost its routes"
    operations.sort(key=lambda op: op.definition.raw.get("operationId") in LAST)
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
            case.call_and_validate(base_url=server.api_url, headers=headers, checks=CHECKS)

        try:
            call()
        except Exception as exc:
            raise AssertionError(
                f"{operation.method.upper()} {operation.path}: replay with TABLIUM_TEST_SEED={SEED}"
            ) from exc
    # The fuzzer's session ended with the last operations (logout): a new login reads.
    again = httpx.post(
        f"{server.api_url}/v1/auth/login", json={"name": "fuzzer", "password": PASSWORD}
    ).json()
    listed = httpx.get(
        f"{server.api_url}/v1/wallet/withdrawals",
        headers={"Authorization": f"Bearer {again['access_token']}"},
    )
    assert listed.status_code == 200 and listed.json()["data"], listed.text


def test_the_stateful_links_answer_as_the_spec_says(server: ServerProcess, schema: Any) -> None:
    tokens = player(server, "stateful", 10**9)
    player(server, "carol", 0)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    base = schema.as_state_machine()

    class Workflow(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": server.api_url, "headers": headers}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,
        )
    )
