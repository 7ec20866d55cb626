from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from admin.context import ReadinessProbe
from persistence import Store


async def _down() -> None:
    raise ConnectionRefusedError("nothing listens")


async def test_healthz_answers_while_the_process_lives(make_client: Callable[..., Any]) -> None:
    response = await make_client().get("/healthz")
    assert response.status_code == 200
    assert (await response.get_json())["status"] == "ok"


async def test_readyz_is_ready_when_the_database_answers(
    make_client: Callable[..., Any], store: Store
) -> None:
    response = await make_client(ReadinessProbe("database", store.ping)).get("/readyz")
    assert response.status_code == 200
    assert await response.get_json() == {"status": "ready", "checks": {"database": "ok"}}


async def test_readyz_names_the_dependency_that_is_down(
    make_client: Callable[..., Any], store: Store
) -> None:
    client = make_client(ReadinessProbe("database", store.ping), ReadinessProbe("redis", _down))
    response = await client.get("/readyz")
    assert response.status_code == 503
    body = await response.get_json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("down: ConnectionRefusedError")


async def test_metrics_parse_as_prometheus_text_and_count_requests(
    make_client: Callable[..., Any],
) -> None:
    client = make_client()
    await client.get("/healthz")
    response = await client.get("/metrics")
    assert response.status_code == 200
    families = {
        family.name: family
        for family in text_string_to_metric_families((await response.get_data()).decode())
    }
    latency = families["tablium_http_request_duration_seconds"]
    counts = [
        sample
        for sample in latency.samples
        if sample.name.endswith("_count") and sample.labels.get("route") == "/healthz"
    ]
    assert counts and counts[0].value >= 1


async def test_openapi_spec_lists_the_routes(make_client: Callable[..., Any]) -> None:
    response = await make_client().get("/openapi.json")
    assert response.status_code == 200
    paths = set((await response.get_json())["paths"])
    assert {"/healthz", "/readyz", "/info", "/actors", "/players", "/audit"} <= paths
    assert "/metrics" not in paths


async def test_unknown_route_is_a_json_not_found(make_client: Callable[..., Any]) -> None:
    response = await make_client().get("/no/such/route")
    assert response.status_code == 404
    assert (await response.get_json())["error"] == "not_found"
