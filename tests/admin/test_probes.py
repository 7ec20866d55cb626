from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from admin.app import AdminAuthError, AdminContext, Identity, ReadinessProbe, create_admin_app
from server.config import Settings


def _refuse_all_tokens(token: str) -> Identity:
    raise AdminAuthError("token_invalid", "no tokens in this test")


async def _ok() -> None:
    return None


async def _down() -> None:
    raise ConnectionRefusedError("nothing listens")


def _app(*probes: ReadinessProbe):  # type: ignore[no-untyped-def]
    return create_admin_app(AdminContext(Settings(), _refuse_all_tokens, probes))


async def test_healthz_answers_while_the_process_lives() -> None:
    response = await _app().test_client().get("/healthz")
    assert response.status_code == 200
    assert (await response.get_json())["status"] == "ok"


async def test_readyz_is_ready_when_every_probe_passes() -> None:
    client = _app(ReadinessProbe("database", _ok), ReadinessProbe("redis", _ok)).test_client()
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert await response.get_json() == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "ok"},
    }


async def test_readyz_names_the_dependency_that_is_down() -> None:
    client = _app(ReadinessProbe("database", _ok), ReadinessProbe("redis", _down)).test_client()
    response = await client.get("/readyz")
    assert response.status_code == 503
    body = await response.get_json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("down: ConnectionRefusedError")


async def test_metrics_parse_as_prometheus_text_and_count_requests() -> None:
    client = _app().test_client()
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


async def test_openapi_spec_lists_the_routes() -> None:
    response = await _app().test_client().get("/openapi.json")
    assert response.status_code == 200
    spec = await response.get_json()
    assert {"/healthz", "/readyz"} <= set(spec["paths"])
    assert "/metrics" not in spec["paths"]
