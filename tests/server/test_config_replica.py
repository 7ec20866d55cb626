"""TABLIUM_DATABASE_REPLICA_URL: a PostgreSQL replica of a PostgreSQL database, or refused.

SQLite has no replicas; a replica URL beside it is refused rather than ignored, so a
misconfigured deployment stops at start-up instead of believing its reads are offloaded.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.config import ConfigError, load_settings

PRIMARY = "postgresql://tablium:secret@db-primary/tablium"
REPLICA = "postgresql://tablium:secret@db-replica/tablium"


def test_a_replica_beside_a_postgresql_database_is_taken() -> None:
    settings = load_settings(
        environ={"TABLIUM_DATABASE_URL": PRIMARY, "TABLIUM_DATABASE_REPLICA_URL": REPLICA}
    )
    assert settings.database_replica_url == REPLICA
    assert "secret@db-replica" not in repr(settings)  # a password stays out of logs


def test_no_replica_is_the_default() -> None:
    assert load_settings(environ={}).database_replica_url == ""


@pytest.mark.parametrize("database_url", ["", "sqlite:///var/x.sqlite3"])
def test_a_replica_beside_sqlite_is_refused(database_url: str) -> None:
    environ = {"TABLIUM_DATABASE_REPLICA_URL": REPLICA}
    if database_url:
        environ["TABLIUM_DATABASE_URL"] = database_url
    with pytest.raises(ConfigError) as raised:
        load_settings(environ=environ)
    assert str(raised.value).startswith("TABLIUM_DATABASE_REPLICA_URL: a read replica needs")
    assert "SQLite has no replicas" in str(raised.value)


def test_a_replica_that_is_not_postgresql_is_refused() -> None:
    with pytest.raises(ConfigError, match="TABLIUM_DATABASE_REPLICA_URL: expected postgresql"):
        load_settings(
            environ={"TABLIUM_DATABASE_URL": PRIMARY, "TABLIUM_DATABASE_REPLICA_URL": "redis://x"}
        )


@given(st.text(max_size=60))
def test_any_replica_value_is_taken_or_refused_in_one_line(raw: str) -> None:
    try:
        settings = load_settings(
            environ={"TABLIUM_DATABASE_URL": PRIMARY, "TABLIUM_DATABASE_REPLICA_URL": raw}
        )
    except ConfigError as exc:
        assert str(exc).startswith("TABLIUM_DATABASE_REPLICA_URL: ")
        assert "\n" not in str(exc)
    else:
        taken = settings.database_replica_url
        assert taken == raw.strip()
        assert taken == "" or taken.split(":", 1)[0].lower() in {"postgresql", "postgres"}
