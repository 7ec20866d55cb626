"""The process settings reach the parts they configure (an in-process `run_server`)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import trio
from trio_websocket import ConnectionRejected, open_websocket_url

from server.app import run_server
from server.config import Settings
from tests.persistence.stores import store_url


async def test_connections_per_ip_setting_bounds_the_gateway(tmp_path: Path) -> None:
    settings = Settings(
        ws_port=0,
        admin_port=0,
        api_port=0,
        data_dir=tmp_path,
        jwt_secret="s" * 40,
        ws_connections_per_ip_max=1,
    )
    async with trio.open_nursery() as nursery:
        listening = await nursery.start(run_server, settings)
        with trio.fail_after(10):
            async with open_websocket_url(listening.ws_url):
                with pytest.raises(ConnectionRejected) as refused:
                    async with open_websocket_url(listening.ws_url):
                        pass
                assert refused.value.status_code == 429
        nursery.cancel_scope.cancel()


async def test_the_tree_has_every_part_of_the_process(tmp_path: Path) -> None:
    settings = Settings(ws_port=0, admin_port=0, api_port=0, data_dir=tmp_path, jwt_secret="s" * 40)
    async with trio.open_nursery() as nursery:
        listening = await nursery.start(run_server, settings)
        names = [child.name for child in listening.runtime.tree().children]
        assert names[:3] == ["persistence", "lobby", "tables"]
        assert names[-6:] == [
            "tournaments",
            "tournament-directory",
            "sessions",
            "gateway",
            "api",
            "admin",
        ]
        tables = listening.runtime.registry.names("table:")
        assert len(tables) >= 5, "the seed tables are open before the gateway listens"
        nursery.cancel_scope.cancel()


async def test_on_postgresql_and_redis_readyz_checks_both(
    tmp_path: Path, postgres_url: str, redis_url: str, redis_prefix: str
) -> None:
    database_url = await store_url("postgres", tmp_path, postgres_url)
    settings = Settings(
        ws_port=0,
        admin_port=0,
        api_port=0,
        data_dir=tmp_path,
        jwt_secret="s" * 40,
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
    )
    async with trio.open_nursery() as nursery:
        listening = await nursery.start(run_server, settings)
        async with httpx.AsyncClient(base_url=listening.admin_url) as client:
            response = await client.get("/readyz")
        assert response.status_code == 200
        assert response.json() == {
            "status": "ready",
            "checks": {"database": "ok", "redis": "ok", "drain": "ok"},
        }
        nursery.cancel_scope.cancel()


async def test_the_embedded_database_and_its_directory_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)  # as an older version left it
    settings = Settings(ws_port=0, admin_port=0, api_port=0, data_dir=data_dir, jwt_secret="s" * 40)
    async with trio.open_nursery() as nursery:
        await nursery.start(run_server, settings)
        assert data_dir.stat().st_mode & 0o777 == 0o700
        files = sorted(data_dir.glob("tablium.sqlite3*"))
        assert [f.name for f in files][:1] == ["tablium.sqlite3"]
        assert {f.stat().st_mode & 0o777 for f in files} == {0o600}, files
        nursery.cancel_scope.cancel()


async def test_an_older_databases_open_files_are_closed_at_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    database = data_dir / "tablium.sqlite3"
    database.touch(mode=0o644)
    database.chmod(0o644)
    settings = Settings(ws_port=0, admin_port=0, api_port=0, data_dir=data_dir, jwt_secret="s" * 40)
    async with trio.open_nursery() as nursery:
        await nursery.start(run_server, settings)
        assert database.stat().st_mode & 0o777 == 0o600
        nursery.cancel_scope.cancel()
