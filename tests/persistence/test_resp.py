"""The node bus's Redis connection on trio (persistence/resp.py), against the real Redis:
commands and replies of any bytes, pipelines in order, error replies as values, and the
ways Redis fails to answer as ConnectionError / TimeoutError with the connection closed."""

from __future__ import annotations

import secrets

import hiredis
import hypothesis.strategies as st
import pytest
import trio
from hypothesis import HealthCheck, given, settings

from persistence.resp import RespConnection, RespError, encode_command

TIMEOUT_S = 5.0


@given(st.lists(st.binary(max_size=64) | st.text(max_size=16) | st.integers(), max_size=8))
def test_a_command_is_an_array_of_bulk_strings_any_reader_reads_back(
    args: list[bytes | str | int],
) -> None:
    reader = hiredis.Reader()
    reader.feed(encode_command(args))
    expected = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    assert reader.gets() == expected
    assert reader.gets() is False  # nothing left over


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(st.binary(max_size=70_000), min_size=1, max_size=4))
def test_any_bytes_go_in_and_come_back_in_a_pipeline_in_order(
    redis_url: str, redis_prefix: str, values: list[bytes]
) -> None:
    key = f"{redis_prefix}resp-{secrets.token_hex(4)}"

    async def run() -> list[object]:
        connection = await RespConnection.open(redis_url, TIMEOUT_S)
        try:
            commands: list[list[bytes | str | int]] = []
            for n, value in enumerate(values):
                commands += [["SET", f"{key}:{n}", value, "PX", 10_000], ["GET", f"{key}:{n}"]]
            return await connection.execute(commands, TIMEOUT_S)
        finally:
            await connection.aclose()

    replies = trio.run(run)
    assert replies[0::2] == [b"OK"] * len(values)
    assert replies[1::2] == values


async def test_an_error_reply_is_a_value_and_the_connection_goes_on(redis_url: str) -> None:
    connection = await RespConnection.open(redis_url, TIMEOUT_S)
    try:
        bad, good = await connection.execute([["NOSUCHCOMMAND", "x"], ["PING"]], TIMEOUT_S)
        assert isinstance(bad, RespError) and "unknown command" in str(bad).lower()
        assert good == b"PONG"
        assert await connection.execute([["ECHO", b"\x00\r\n"]], TIMEOUT_S) == [b"\x00\r\n"]
    finally:
        await connection.aclose()


async def test_the_urls_database_is_selected(redis_url: str, redis_prefix: str) -> None:
    base = redis_url.rsplit("/", 1)[0] if redis_url.count("/") > 2 else redis_url
    key = f"{redis_prefix}resp-db-{secrets.token_hex(4)}"
    one = await RespConnection.open(f"{base}/3", TIMEOUT_S)
    zero = await RespConnection.open(f"{base}/0", TIMEOUT_S)
    try:
        await one.execute([["SET", key, "in-3", "PX", 10_000]], TIMEOUT_S)
        assert await one.execute([["GET", key]], TIMEOUT_S) == [b"in-3"]
        assert await zero.execute([["GET", key]], TIMEOUT_S) == [None]
    finally:
        await one.aclose()
        await zero.aclose()


async def test_a_reply_not_in_time_is_a_timeout_and_closes_the_connection(
    redis_url: str, redis_prefix: str
) -> None:
    connection = await RespConnection.open(redis_url, TIMEOUT_S)
    key = f"{redis_prefix}resp-empty-{secrets.token_hex(4)}"
    with pytest.raises(TimeoutError):
        await connection.execute([["BLPOP", key, 5]], 0.2)  # Redis waits 5 s for an item
    assert connection.closed
    with pytest.raises(ConnectionError):
        await connection.execute([["PING"]], TIMEOUT_S)


async def test_a_connection_the_server_closes_is_a_connection_error(redis_url: str) -> None:
    connection = await RespConnection.open(redis_url, TIMEOUT_S)
    (client_id,) = await connection.execute([["CLIENT", "ID"]], TIMEOUT_S)
    assert isinstance(client_id, int)
    killer = await RespConnection.open(redis_url, TIMEOUT_S)
    try:
        (killed,) = await killer.execute([["CLIENT", "KILL", "ID", client_id]], TIMEOUT_S)
    finally:
        await killer.aclose()
    assert killed == 1
    with pytest.raises(ConnectionError):
        await connection.execute([["PING"]], TIMEOUT_S)
    assert connection.closed


async def test_nobody_listening_is_a_connection_error() -> None:
    with trio.fail_after(TIMEOUT_S):
        listener = (await trio.open_tcp_listeners(0, host="127.0.0.1"))[0]
        port = listener.socket.getsockname()[1]
        await listener.aclose()  # the port is free again: nothing listens there
        with pytest.raises(ConnectionError):
            await RespConnection.open(f"redis://127.0.0.1:{port}/0", TIMEOUT_S)


async def test_a_wrong_password_is_refused_as_a_connection_error(redis_url: str) -> None:
    host = redis_url.split("://", 1)[1].split("/", 1)[0].split("@")[-1]
    with pytest.raises(ConnectionError):
        await RespConnection.open(f"redis://nobody:wrong@{host}/0", TIMEOUT_S)
