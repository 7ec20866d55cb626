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
