"""The tournament pages of the browser client in headless Chromium (Debian's package,
driven by playwright-core): clients/js/test/browser/tournament.browser.mjs."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clients.node import CHROMIUM, INSTALL_HINT, require_node_modules, run_node
from tests.clients.staff import staff_token
from tests.server_process import ServerProcess, running_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    data_dir = tmp_path_factory.mktemp("browser-tournament") / "data"
    with running_server(data_dir) as process:
        yield process, data_dir


def test_a_player_registers_in_the_tournament_lobby_and_is_sent_to_her_table(
    server: tuple[ServerProcess, Path], tmp_path: Path
) -> None:
    require_node_modules("playwright-core", "ws")
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: {INSTALL_HINT}")
    process, data_dir = server
    artifacts = Path(os.environ.get("TABLIUM_TEST_ARTIFACTS", tmp_path)) / "browser"
    print(f"browser screenshots: {artifacts}")
    result = run_node(
        ["--test", "--test-reporter=spec", "test/browser/tournament.browser.mjs"],
        env={
            "TABLIUM_WS_URL": process.ws_url,
            "TABLIUM_ADMIN_URL": process.admin_url,
            "TABLIUM_API_URL": process.api_url,
            "TABLIUM_STAFF_TOKEN": staff_token(data_dir),
            "TABLIUM_RUN_TAG": secrets.token_hex(3),
            "TABLIUM_ARTIFACTS": str(artifacts),
            "TABLIUM_CHROMIUM": str(CHROMIUM),
        },
        timeout_s=300,
    )
    print(result.stdout[-4000:])
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]
    shots = (
        "tournament-lobby.png",
        "tournament.png",
        "dashboard-reschedule.png",
        "tournament-table.png",
    )
    for name in shots:
        assert (artifacts / name).stat().st_size > 10_000, name
