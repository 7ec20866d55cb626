"""A session's client address and user agent are personal data: sealed at rest with the data
keys, opened only for their player's own session list, and not kept at all without keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.sessions import reseal_sessions
from persistence.work import Query, Work
from services.personal_data import DataKey, DataKeyRing
from tests.api.conftest import DATA_KEYS, ApiHarness

AGENT = "tablium-test/1.0 (Linux)"


def _stored(session_id: str) -> Callable[[], Work[tuple[str, str]]]:
    def work() -> Work[tuple[str, str]]:
        rows = yield Query(
            "SELECT address, user_agent FROM api_sessions WHERE session_id = $1", (session_id,)
        )
        return str(rows[0][0]), str(rows[0][1])

    return work


def _copy_client_fields(source: str, target: str) -> Callable[[], Work[None]]:
    def work() -> Work[None]:
        rows = yield Query(
            "SELECT address, user_agent FROM api_sessions WHERE session_id = $1", (source,)
        )
        yield Query(
            "UPDATE api_sessions SET address = $1, user_agent = $2 WHERE session_id = $3",
            (rows[0][0], rows[0][1], target),
        )

    return work


async def _login(api: ApiHarness, agent: str = AGENT) -> dict[str, Any]:
    response = await api.client.post(
        "/v1/auth/login",
        json={"name": "alice", "password": "correct horse battery"},
        headers={"User-Agent": agent},
    )
    assert response.status_code == 200
    body: dict[str, Any] = await response.get_json()
    return body


async def _sessions(api: ApiHarness, tokens: dict[str, Any]) -> dict[str, dict[str, Any]]:
    page = await (await api.client.get("/v1/me/sessions", headers=api.bearer(tokens))).get_json()
    return {s["session_id"]: s for s in page["data"]}


async def test_the_address_and_user_agent_are_sealed_at_rest(api: ApiHarness) -> None:
    await api.register("alice")
    tokens = await _login(api)
    address, agent = await api.store.run(_stored(tokens["session_id"]))
    assert address.startswith("pd1.test-1.") and agent.startswith("pd1.test-1.")
    assert AGENT not in agent
    mine = (await _sessions(api, tokens))[tokens["session_id"]]
    assert (mine["user_agent"], mine["current"]) == (AGENT, True)
    assert mine["address"]  # the test client's address, opened for its own player


async def test_a_sealed_value_copied_to_another_session_does_not_open(api: ApiHarness) -> None:
    await api.register("alice")
    first = await _login(api, "first-agent")
    second = await _login(api, "second-agent")
    await api.store.run(_copy_client_fields(first["session_id"], second["session_id"]))
    listed = await _sessions(api, second)
    assert listed[first["session_id"]]["user_agent"] == "first-agent"
    assert (
        listed[second["session_id"]]["user_agent"],
        listed[second["session_id"]]["address"],
    ) == (
        "",
        "",
    )


async def test_a_long_user_agent_is_cut_before_it_is_sealed(api: ApiHarness) -> None:
    await api.register("alice")
    tokens = await _login(api, "x" * 5000)
    assert (await _sessions(api, tokens))[tokens["session_id"]]["user_agent"] == "x" * 256


async def test_without_data_keys_nothing_is_kept(make_api: Callable[..., ApiHarness]) -> None:
    api = make_api(data_keys=None)
    await api.register("alice")
    tokens = await _login(api)
    assert await api.store.run(_stored(tokens["session_id"])) == ("", "")
    mine = (await _sessions(api, tokens))[tokens["session_id"]]
    assert (mine["address"], mine["user_agent"]) == ("", "")


async def test_a_rotated_ring_still_opens_what_the_previous_key_sealed(
    make_api: Callable[..., ApiHarness],
) -> None:
    before = make_api()
    await before.register("alice")
    tokens = await _login(before)
    after = make_api(data_keys=DATA_KEYS.rotated(DataKey("test-2", bytes(32))))
    mine = (await _sessions(after, tokens))[tokens["session_id"]]
    assert mine["user_agent"] == AGENT
    newer = await _login(after)
    assert (await after.store.run(_stored(newer["session_id"])))[1].startswith("pd1.test-2.")


ROTATED = DATA_KEYS.rotated(DataKey("test-2", bytes(32)))
ONLY_NEW = DataKeyRing(ROTATED.current)  # the previous key removed from the ring


async def test_resealing_moves_every_session_to_the_current_key(
    make_api: Callable[..., ApiHarness],
) -> None:
    before = make_api()
    await before.register("alice")
    sessions = [await _login(before, f"agent-{n}") for n in range(5)]
    after = make_api(data_keys=ROTATED)
    cipher = after.context.personal_data
    assert cipher is not None
    # Pages of two: every page is read again from where the last one ended.
    report = await reseal_sessions(after.store, cipher, page_rows=2)
    assert (report.resealed, report.unopenable, report.current_kid) == (6, 0, "test-2")
    for tokens in sessions:
        stored = await after.store.run(_stored(tokens["session_id"]))
        assert all(value.startswith("pd1.test-2.") for value in stored)
    # The previous key can go: every session still shows its fields.
    gone = make_api(data_keys=ONLY_NEW)
    listed = await _sessions(gone, sessions[0])
    assert sorted(s["user_agent"] for s in listed.values()) == [
        "Quart",
        *[f"agent-{n}" for n in range(5)],
    ]  # "Quart": the session of the registration (the test client's own user agent)
    again = await reseal_sessions(gone.store, cipher)
    assert (again.resealed, again.unopenable) == (0, 0)  # nothing left to do


async def test_a_value_whose_key_is_not_on_the_ring_is_counted_and_left(
    make_api: Callable[..., ApiHarness],
) -> None:
    before = make_api()
    await before.register("alice")
    tokens = await _login(before)
    stored = await before.store.run(_stored(tokens["session_id"]))
    wrong = make_api(data_keys=DataKeyRing(DataKey("other", bytes(32))))
    assert wrong.context.personal_data is not None
    report = await reseal_sessions(wrong.store, wrong.context.personal_data)
    assert (report.resealed, report.unopenable) == (0, 2)  # the registration's session too
    assert await wrong.store.run(_stored(tokens["session_id"])) == stored  # unchanged


async def test_a_refresh_reseals_its_own_session_under_the_current_key(
    make_api: Callable[..., ApiHarness],
) -> None:
    before = make_api()
    await before.register("alice")
    tokens = await _login(before)
    other = await _login(before, "other-agent")
    after = make_api(data_keys=ROTATED)
    response = await after.client.post(
        "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert response.status_code == 200
    address, agent = await after.store.run(_stored(tokens["session_id"]))
    assert address.startswith("pd1.test-2.") and agent.startswith("pd1.test-2.")
    assert (await after.store.run(_stored(other["session_id"])))[1].startswith("pd1.test-1.")
    gone = make_api(data_keys=ONLY_NEW)
    assert (await _sessions(gone, tokens))[tokens["session_id"]]["user_agent"] == AGENT
