"""The browser client, served by ``tablium serve`` under /client/ (players' pages on the
public API's port, the director's dashboard on the admin port) and played in headless
Chromium (Debian's package, driven by playwright-core): clients/js/test/browser/."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.clients.node import CHROMIUM, INSTALL_HINT, require_node_modules, run_node
from tests.clients.staff import staff_token
from tests.server_process import ServerProcess, running_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    data_dir = tmp_path_factory.mktemp("browser") / "data"
    with running_server(data_dir) as process:
        yield process, data_dir


def test_server_serves_the_client_files_with_their_types(
    server: tuple[ServerProcess, Path],
) -> None:
    process, _ = server
    with httpx.Client(base_url=process.admin_url, timeout=10) as http:
        assert http.get("/client/director.html").status_code == 200
    # The players' pages from the public API's port: all but the director's dashboard.
    with httpx.Client(base_url=process.api_url, timeout=10) as http:
        for director_file in ("director.html", "director.mjs"):
            refused = http.get(f"/client/{director_file}")
            assert refused.status_code == 404, director_file
            assert refused.headers["content-type"] == "application/problem+json"
        index = http.get("/client/")
        assert index.status_code == 200
        assert index.headers["content-type"].startswith("text/html")
        assert index.headers["x-content-type-options"] == "nosniff"
        assert '"@msgpack/msgpack": "./vendor/msgpack/index.mjs"' in index.text
        for path in ("app.mjs", "sdk/tablium.mjs", "vendor/msgpack/index.mjs", "session.mjs"):
            response = http.get(f"/client/{path}")
            assert response.status_code == 200, path
            assert response.headers["content-type"].startswith("text/javascript"), path
        assert http.get("/client/config.json").json() == {"ws_port": None}  # port 0: unknown
        for refused in ("../admin/app.py", "%2e%2e/serving.py", "sdk/../../serving.py", "x.py"):
            assert http.get(f"/client/{refused}").status_code == 404, refused


def test_two_browser_players_and_four_bots_play_ten_hands(
    server: tuple[ServerProcess, Path], tmp_path: Path
) -> None:
    """Also: a reload mid-hand keeps the hand and the cards, the director's pause reaches the
    players, and a player who leaves sees the right balance on the wallet page."""
    require_node_modules("playwright-core", "ws")
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: {INSTALL_HINT}")
    process, data_dir = server
    artifacts = Path(os.environ.get("TABLIUM_TEST_ARTIFACTS", tmp_path)) / "browser"
    print(f"browser screenshots: {artifacts}")
    result = run_node(
        ["--test", "--test-reporter=spec", "test/browser/play.browser.mjs"],
        env={
            "TABLIUM_WS_URL": process.ws_url,
            "TABLIUM_ADMIN_URL": process.admin_url,
            "TABLIUM_API_URL": process.api_url,
            "TABLIUM_STAFF_TOKEN": staff_token(data_dir),
            "TABLIUM_DIRECTOR_TOKEN": staff_token(data_dir, role="director", player="director"),
            "TABLIUM_RUN_TAG": secrets.token_hex(3),
            "TABLIUM_ARTIFACTS": str(artifacts),
            "TABLIUM_CHROMIUM": str(CHROMIUM),
        },
        timeout_s=300,
    )
    print(result.stdout[-4000:])
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]
    for name in ("lobby.png", "table-mid-hand.png", "dashboard.png", "wallet.png"):
        assert (artifacts / name).stat().st_size > 10_000, name
