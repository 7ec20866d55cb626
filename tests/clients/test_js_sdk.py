"""The JavaScript SDK (clients/js) under Node.js against a real ``tablium serve``: this test
starts the server and runs ``node --test`` on clients/js/test/, which must exit 0."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from tests.clients.node import require_node_modules, run_node
from tests.clients.staff import staff_token
from tests.server_process import running_server

pytestmark = pytest.mark.slow


def test_js_sdk_suite_passes_against_a_real_server(tmp_path: Path) -> None:
    require_node_modules("@msgpack/msgpack", "ws")
    with running_server(tmp_path / "data") as server:
        result = run_node(
            ["--test", "--test-reporter=spec", "test/sdk.test.mjs", "test/table-state.test.mjs"],
            env={
                "TABLIUM_WS_URL": server.ws_url,
                "TABLIUM_ADMIN_URL": server.admin_url,
                "TABLIUM_STAFF_TOKEN": staff_token(tmp_path / "data"),
                "TABLIUM_RUN_TAG": secrets.token_hex(3),
            },
            timeout_s=240,
        )
    print(result.stdout[-4000:])
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]
