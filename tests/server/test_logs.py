"""TABLIUM_LOG_FORMAT=json writes one Elastic Common Schema document per line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime

import pytest
import structlog

from server.logs import ECS_VERSION, configure_logging

# The ECS fields a line may carry at the top level, plus our own namespace.
ECS_TOP_LEVEL = {"@timestamp", "message", "log", "ecs", "service", "process", "error"}


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """configure_logging() replaces the root logger's handlers: put them back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def _read(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines()]


def test_json_lines_use_ecs_names_and_keep_our_fields_in_their_own_namespace(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("json", "info")
    structlog.get_logger("tablium.server").info("listening", ws="ws://x:1", error="text")
    (line,) = _read(capsys)
    assert set(line) <= ECS_TOP_LEVEL | {"tablium"}
    assert line["message"] == "listening"
    assert line["log"] == {"level": "info", "logger": "tablium.server"}
    assert line["ecs"] == {"version": ECS_VERSION}
    assert line["service"] == {"name": "tablium"}
    # A call site's own "error" string must not collide with ECS's error object.
    assert line["tablium"] == {"ws": "ws://x:1", "error": "text"}
    stamp = datetime.fromisoformat(str(line["@timestamp"]).replace("Z", "+00:00"))
    assert stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_an_exception_becomes_ecs_error_fields_from_structlog_and_stdlib_loggers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("json", "info")
    try:
        raise KeyError("seat 7")
    except KeyError:
        structlog.get_logger("tablium.table").exception("table crashed", table_id="t1")
        logging.getLogger("hypercorn.error").exception("stdlib too")
    lines = _read(capsys)
    assert [line["message"] for line in lines] == ["table crashed", "stdlib too"]
    for line in lines:
        error = line["error"]
        assert isinstance(error, dict)
        assert error["type"] == "KeyError"
        assert error["message"] == "'seat 7'"
        assert "raise KeyError" in error["stack_trace"]
        assert line["log"]["level"] == "error"  # type: ignore[index]
        assert set(line) <= ECS_TOP_LEVEL | {"tablium"}
    assert lines[0]["tablium"] == {"table_id": "t1"}
    assert lines[1]["log"]["logger"] == "hypercorn.error"  # type: ignore[index]


def test_console_format_keeps_the_ready_line_the_tests_and_people_read(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("console", "info")
    structlog.get_logger("tablium.server").info("listening", admin="http://a", ws="ws://b")
    err = capsys.readouterr().err
    assert "listening" in err and "admin=http://a" in err and "ws=ws://b" in err


def test_client_addresses_reach_lines_only_as_keyed_hashes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import hashlib
    import hmac

    key = "log-address-key-" + "k" * 8
    configure_logging("json", "info", address_key=key)
    log = structlog.get_logger("tablium.accounts")
    log.warning("login failed", name="alice", address="203.0.113.7", reason="bad_credentials")
    log.warning("login failed", name=None, address="203.0.113.7", reason="throttled")
    log.warning("registration refused", address="198.51.100.1", reason="limited")
    structlog.contextvars.bind_contextvars(client_address="203.0.113.7")
    try:
        log.info("bound too")
    finally:
        structlog.contextvars.clear_contextvars()
    lines = _read(capsys)
    text = json.dumps(lines)
    assert "203.0.113.7" not in text and "198.51.100.1" not in text
    expected = hmac.new(key.encode(), b"203.0.113.7", hashlib.sha256).hexdigest()[:16]
    hashes = [line["tablium"] for line in lines]  # type: ignore[index]
    assert hashes[0] == {"name": "alice", "address_hash": expected, "reason": "bad_credentials"}
    assert hashes[1]["address_hash"] == expected  # type: ignore[index]
    assert hashes[2]["address_hash"] != expected  # type: ignore[index]
    assert hashes[3] == {"client_address_hash": expected}


def test_without_a_key_the_hashes_hold_within_one_process_setup_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("console", "info")
    log = structlog.get_logger("tablium.accounts")
    log.warning("login failed", address="203.0.113.7")
    log.warning("login failed", address="203.0.113.7")
    configure_logging("console", "info")  # a restart: a new random key
    structlog.get_logger("tablium.accounts").warning("login failed", address="203.0.113.7")
    first, second, third = (
        line.split("address_hash=")[1].split()[0] for line in capsys.readouterr().err.splitlines()
    )
    assert first == second != third
