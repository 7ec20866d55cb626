from __future__ import annotations

from pathlib import Path

import pytest

from server.config import (
    ConfigError,
    Settings,
    ensure_data_dir,
    ensure_jwt_secret,
    load_settings,
)


def test_defaults_match_the_readme() -> None:
    settings = load_settings(environ={})
    assert settings == Settings()
    assert (settings.host, settings.ws_port, settings.admin_port) == ("127.0.0.1", 8765, 8080)
    assert settings.effective_database_url() == "sqlite:///var/tablium.sqlite3"
    assert settings.redis_url == ""
    assert settings.guest_login is False


def test_environment_overrides_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "tablium.toml"
    config.write_text('ws_port = 9000\nadmin_port = 9001\nhost = "0.0.0.0"\n')
    settings = load_settings(environ={"TABLIUM_WS_PORT": "9100"}, config_file=config)
    assert (settings.host, settings.ws_port, settings.admin_port) == ("0.0.0.0", 9100, 9001)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TABLIUM_WS_PORT", "abc", "TABLIUM_WS_PORT: expected a port number"),
        ("TABLIUM_ADMIN_PORT", "70000", "TABLIUM_ADMIN_PORT: expected a port number"),
        ("TABLIUM_DATABASE_URL", "mysql://x", "TABLIUM_DATABASE_URL: expected sqlite"),
        ("TABLIUM_REDIS_URL", "http://x", "TABLIUM_REDIS_URL: expected redis://"),
        ("TABLIUM_GUEST_LOGIN", "maybe", "TABLIUM_GUEST_LOGIN: expected true or false"),
        ("TABLIUM_JWT_SECRET", "short", "TABLIUM_JWT_SECRET: must be at least 32 bytes"),
        ("TABLIUM_WS_CONNECTIONS_PER_IP_MAX", "0", "TABLIUM_WS_CONNECTIONS_PER_IP_MAX: expected"),
        ("TABLIUM_SESSION_GRACE_S", "soon", "TABLIUM_SESSION_GRACE_S: expected a whole number"),
        ("TABLIUM_GC_YOUNG_EVERY_MS", "1001", "TABLIUM_GC_YOUNG_EVERY_MS: expected 0 (off)"),
        ("TABLIUM_GC_YOUNG_EVERY_MS", "-1", "TABLIUM_GC_YOUNG_EVERY_MS: expected 0 (off)"),
        ("TABLIUM_SLOW_STEP_LOG_MS", "soon", "TABLIUM_SLOW_STEP_LOG_MS: expected 0 (off)"),
    ],
)
def test_a_bad_setting_is_named_in_one_line(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={name: value})
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_unknown_key_in_config_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "tablium.toml"
    config.write_text("ws_prot = 1\n")
    with pytest.raises(ConfigError, match="unknown setting 'ws_prot'"):
        load_settings(environ={}, config_file=config)


def test_jwt_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = load_settings(environ={"TABLIUM_DATA_DIR": str(tmp_path)})
    first = ensure_jwt_secret(settings).jwt_secret
    second = ensure_jwt_secret(settings).jwt_secret
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "jwt_secret").stat().st_mode & 0o777 == 0o600


def test_list_settings_come_from_comma_separated_variables_or_toml_lists(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "TABLIUM_ALLOWED_ORIGINS": "https://play.example.com, https://beta.example.com",
            "TABLIUM_TRUSTED_PROXIES": "10.0.0.0/8,127.0.0.1",
        }
    )
    assert settings.allowed_origins == ("https://play.example.com", "https://beta.example.com")
    assert settings.trusted_proxies == ("10.0.0.0/8", "127.0.0.1")
    config = tmp_path / "tablium.toml"
    config.write_text('trusted_proxies = ["::1"]\n')
    assert load_settings(environ={}, config_file=config).trusted_proxies == ("::1",)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"TABLIUM_ALLOWED_ORIGINS": "evil.example"}, "TABLIUM_ALLOWED_ORIGINS: expected origins"),
        ({"TABLIUM_TRUSTED_PROXIES": "a proxy"}, "TABLIUM_TRUSTED_PROXIES: expected addresses"),
        ({"TABLIUM_LOGIN_LOCK_S": "0"}, "TABLIUM_LOGIN_LOCK_S: expected a whole number"),
        (
            {"TABLIUM_LOGIN_ACCOUNT_FAILURES_BEFORE_DELAY": "30"},
            "TABLIUM_LOGIN_ACCOUNT_FAILURES_BEFORE_DELAY: must not exceed",
        ),
    ],
)
def test_bad_security_settings_are_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ=environ)
    assert str(raised.value).startswith(message)


def test_the_data_dir_is_made_private_and_an_open_one_is_closed(tmp_path: Path) -> None:
    made = tmp_path / "new" / "data"
    ensure_jwt_secret(Settings(data_dir=made))
    assert made.stat().st_mode & 0o777 == 0o700
    assert (made / "jwt_secret").stat().st_mode & 0o777 == 0o600
    old = tmp_path / "old"
    old.mkdir(mode=0o755)
    old.chmod(0o755)
    ensure_data_dir(old)
    assert old.stat().st_mode & 0o777 == 0o700


# --- keys, personal data and transport --------------------------------------------------------

RING_JSON = (
    '{"current": {"kid": "k2", "secret": "' + "n" * 40 + '"},'
    ' "previous": [{"kid": "k1", "secret": "' + "o" * 40 + '",'
    ' "verify_until": "2027-01-01T00:00:00Z"}]}'
)
DATA_KEYS_JSON = '{"current": {"kid": "d1", "key": "' + "A" * 43 + '"}}'


def test_key_rings_and_transport_settings_read_from_the_environment(tmp_path: Path) -> None:
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    settings = load_settings(
        environ={
            "TABLIUM_JWT_KEYS": RING_JSON,
            "TABLIUM_DATA_KEYS": DATA_KEYS_JSON,
            "TABLIUM_LOG_ADDRESS_KEY": "k" * 16,
            "TABLIUM_TLS_CERT_FILE": str(cert),
            "TABLIUM_TLS_KEY_FILE": str(key),
            "TABLIUM_HSTS_MAX_AGE_S": "0",
            "TABLIUM_ADMIN_ALLOWED_NETWORKS": "10.0.0.0/8, 192.168.1.7",
        }
    )
    assert settings.token_keys().current.kid == "k2"
    assert [k.kid for k in settings.token_keys().previous] == ["k1"]
    assert settings.data_keys is not None and settings.data_keys.current.kid == "d1"
    assert (settings.tls_cert_file, settings.tls_key_file) == (cert, key)
    assert settings.hsts_max_age_s == 0
    assert settings.admin_allowed_networks == ("10.0.0.0/8", "192.168.1.7")
    # No secret shows in the settings' repr (they are printed in tracebacks and tests).
    assert "n" * 40 not in repr(settings) and "k" * 16 not in repr(settings)
    assert "A" * 43 not in repr(settings)


def test_key_rings_read_from_toml_tables(tmp_path: Path) -> None:
    config = tmp_path / "tablium.toml"
    config.write_text(
        f"""
        [jwt_keys.current]
        kid = "k2"
        secret = "{"n" * 40}"
        [[jwt_keys.previous]]
        kid = "k1"
        secret = "{"o" * 40}"
        verify_until = 2027-01-01T00:00:00Z
        [data_keys.current]
        kid = "d1"
        key = "{"A" * 43}"
        """
    )
    settings = load_settings(environ={}, config_file=config)
    assert settings.jwt_keys == load_settings({"TABLIUM_JWT_KEYS": RING_JSON}).jwt_keys
    assert settings.data_keys == load_settings({"TABLIUM_DATA_KEYS": DATA_KEYS_JSON}).data_keys


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"TABLIUM_JWT_KEYS": "{"}, "TABLIUM_JWT_KEYS: not valid JSON"),
        ({"TABLIUM_DATA_KEYS": '{"current": {"kid": "d", "key": "AAAA"}}'}, "TABLIUM_DATA_KEYS:"),
        ({"TABLIUM_LOG_ADDRESS_KEY": "short"}, "TABLIUM_LOG_ADDRESS_KEY: must be at least 16"),
        ({"TABLIUM_TLS_CERT_FILE": "/etc/tls.crt"}, "TABLIUM_TLS_CERT_FILE and TABLIUM_TLS_KEY"),
        ({"TABLIUM_TLS_KEY_FILE": "/etc/tls.key"}, "TABLIUM_TLS_CERT_FILE and TABLIUM_TLS_KEY"),
        ({"TABLIUM_HSTS_MAX_AGE_S": "-1"}, "TABLIUM_HSTS_MAX_AGE_S: expected 0 or more"),
        ({"TABLIUM_ADMIN_ALLOWED_NETWORKS": "office"}, "TABLIUM_ADMIN_ALLOWED_NETWORKS: expected"),
    ],
)
def test_bad_key_and_transport_settings_are_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ=environ)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)
    assert "n" * 40 not in str(raised.value)  # a refusal never repeats a secret


def test_a_key_ring_kept_in_the_data_dir_wins_over_the_generated_secret(tmp_path: Path) -> None:
    generated = ensure_jwt_secret(Settings(data_dir=tmp_path))
    assert generated.token_keys().current.kid == "default"
    (tmp_path / "jwt_keys.json").write_text(RING_JSON)
    kept = ensure_jwt_secret(Settings(data_dir=tmp_path))
    assert kept.jwt_secret == "" and kept.token_keys().current.kid == "k2"
    # A configured secret wins over both files.
    configured = ensure_jwt_secret(Settings(data_dir=tmp_path, jwt_secret="c" * 40))
    assert configured.token_keys().current.secret == "c" * 40
    (tmp_path / "jwt_keys.json").write_text("{}")
    with pytest.raises(ConfigError, match=r"jwt_keys\.json"):
        ensure_jwt_secret(Settings(data_dir=tmp_path))


def test_a_key_ring_wins_over_a_secret_set_beside_it() -> None:
    """A deployment that rotates keeps its old required secret reference (Kubernetes): the
    ring decides, the secret is not used."""
    settings = load_settings({"TABLIUM_JWT_KEYS": RING_JSON, "TABLIUM_JWT_SECRET": "s" * 40})
    ring = settings.token_keys()
    assert ring.current.kid == "k2"
    assert "s" * 40 not in [key.secret for key in (ring.current, *ring.previous)]


def test_token_keys_need_a_secret_or_a_ring() -> None:
    with pytest.raises(ConfigError, match="no token key"):
        Settings().token_keys()


def test_table_rules_come_from_the_settings() -> None:
    from server.app import table_rules_of

    default = table_rules_of(load_settings(environ={}))
    assert default.rathole.enabled and default.rathole.window_ms == 3_600_000
    assert default.address.enabled and "127.0.0.0/8" in default.address.allowed_networks
    settings = load_settings(
        environ={
            "TABLIUM_TABLE_RATHOLE_WINDOW_MS": "0",
            "TABLIUM_TABLE_ONE_ADDRESS": "false",
            "TABLIUM_TABLE_ADDRESS_ALLOWED_NETWORKS": "203.0.113.0/24",
            "TABLIUM_TABLE_ADDRESS_ALLOWED_GROUPS": "12+34, 56+78+90",
        }
    )
    rules = table_rules_of(settings)
    assert not rules.rathole.enabled and not rules.address.enabled
    assert rules.address.allowed_networks == ("203.0.113.0/24",)
    assert rules.address.allowed_groups == (frozenset({12, 34}), frozenset({56, 78, 90}))


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"TABLIUM_TABLE_RATHOLE_WINDOW_MS": "86400001"}, "TABLIUM_TABLE_RATHOLE_WINDOW_MS:"),
        ({"TABLIUM_TABLE_RATHOLE_WINDOW_MS": "-1"}, "TABLIUM_TABLE_RATHOLE_WINDOW_MS:"),
        ({"TABLIUM_TABLE_ADDRESS_ALLOWED_GROUPS": "12"}, "TABLIUM_TABLE_ADDRESS_ALLOWED_GROUPS:"),
        ({"TABLIUM_TABLE_ADDRESS_ALLOWED_GROUPS": "a+b"}, "TABLIUM_TABLE_ADDRESS_ALLOWED_GROUPS:"),
        (
            {"TABLIUM_TABLE_ADDRESS_ALLOWED_NETWORKS": "x"},
            "TABLIUM_TABLE_ADDRESS_ALLOWED_NETWORKS:",
        ),
    ],
)
def test_bad_table_rule_settings_are_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ=environ)
    assert str(raised.value).startswith(message)
