"""/actors shows the live supervision tree of a running runtime."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import trio

from actors.runtime import ChildSpec, Runtime
from tests.admin.conftest import bearer


async def _idle_service(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    task_status.started()
    await trio.sleep_forever()


async def test_actor_tree_and_one_actor_by_name(make_client: Callable[..., Any]) -> None:
    runtime = Runtime(
        [ChildSpec.supervisor("tables"), ChildSpec.service("idle", partial(_idle_service))],
        metrics_registry=None,
    )
    headers = bearer("director")
    client = make_client(actor_tree=runtime.tree)
    async with trio.open_nursery() as nursery:
        await nursery.start(runtime.run)

        tree = await (await client.get("/actors", headers=headers)).get_json()
        assert tree["name"] == "root"
        assert [child["name"] for child in tree["children"]] == ["tables", "idle"]
        assert all(child["state"] == "running" for child in tree["children"])

        tables = await client.get("/actors/tables", headers=headers)
        assert (await tables.get_json())["kind"] == "supervisor"

        missing = await client.get("/actors/table:404", headers=headers)
        assert missing.status_code == 404
        assert (await missing.get_json())["error"] == "not_found"
        nursery.cancel_scope.cancel()
