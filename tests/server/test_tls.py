"""TLS on every listener (server/tls.py), with certificates the tests make: wss:// and
https://, HSTS on HTTPS answers only, and certificate reloads that keep open sessions."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import trio
import trio.testing
from hypercorn.typing import ASGIReceiveEvent, ASGISendEvent, Scope
from prometheus_client import REGISTRY
from trio_websocket import open_websocket_url

from server.app import Listening, run_server
from server.config import ConfigError, Settings
from server.tls import (
    TLS_FILES_CHECK_S,
    ServerTls,
    StrictTransportSecurity,
    TlsError,
    server_tls,
    watch_certificate_files,
)
from tests.server.tls_certificates import (
    CertificateAuthority,
    ServerPair,
    make_ca,
    make_server_pair,
)

SECRET = "s" * 40


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return make_ca(tmp_path / "ca")


def tls_settings(tmp_path: Path, pair: ServerPair | None, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "ws_port": 0,
        "admin_port": 0,
        "api_port": 0,
        "data_dir": tmp_path / "var",
        "jwt_secret": SECRET,
        "tls_cert_file": pair.cert_file if pair else None,
        "tls_key_file": pair.key_file if pair else None,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@asynccontextmanager
async def serving(settings: Settings, tls: ServerTls | None = None) -> AsyncIterator[Listening]:
    async with trio.open_nursery() as nursery:
        listening: Listening = await nursery.start(partial(run_server, settings, tls=tls))
        yield listening
        nursery.cancel_scope.cancel()


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


async def served_certificate(port: int, client: ssl.SSLContext) -> bytes:
    """The certificate a new TLS handshake with 127.0.0.1:port presents (verified)."""
    stream = await trio.open_ssl_over_tcp_stream("127.0.0.1", port, ssl_context=client)
    try:
        await stream.do_handshake()
        der = stream.getpeercert(binary_form=True)
        assert der is not None
        return der
    finally:
        await stream.aclose()


def handshake_certificate(server: ssl.SSLContext, client: ssl.SSLContext) -> bytes:
    """A whole TLS handshake in memory between ``server`` and ``client``; the certificate
    the client got (ssl.SSLError when the handshake fails)."""
    client_in, client_out, server_in, server_out = (ssl.MemoryBIO() for _ in range(4))
    server_side = server.wrap_bio(server_in, server_out, server_side=True)
    client_side = client.wrap_bio(client_in, client_out, server_hostname="localhost")
    pending = [client_side, server_side]
    for _ in range(10):  # TLS 1.3 needs two flights from the client, one from the server
        for side in list(pending):
            try:
                side.do_handshake()
                pending.remove(side)
            except ssl.SSLWantReadError:
                pass
        server_in.write(client_out.read())
        client_in.write(server_out.read())
        if not pending:
            break
    assert not pending, "the handshake did not finish"
    der = client_side.getpeercert(binary_form=True)
    assert der is not None
    return der


# --- the listeners ----------------------------------------------------------------------------


async def test_every_listener_speaks_tls_with_the_configured_certificate(
    tmp_path: Path, ca: CertificateAuthority
) -> None:
    pair = make_server_pair(ca, tmp_path / "certs", "a")
    client = ca.client_context()
    async with serving(tls_settings(tmp_path, pair)) as listening:
        assert listening.ws_url.startswith("wss://")
        assert listening.admin_url.startswith("https://")
        with trio.fail_after(10):
            async with open_websocket_url(listening.ws_url, ssl_context=client) as ws:
                await ws.ping()  # returns once the server's pong arrives
            for url in (listening.ws_url, listening.admin_url):
                assert await served_certificate(port_of(url), client) == pair.der
            async with httpx.AsyncClient(base_url=listening.admin_url, verify=client) as http:
                response = await http.get("/healthz")
        assert response.status_code == 200
        assert response.headers["strict-transport-security"] == "max-age=31536000"


async def test_plain_http_answers_carry_no_hsts(tmp_path: Path) -> None:
    async with serving(tls_settings(tmp_path, None)) as listening:
        assert listening.ws_url.startswith("ws://")
        assert listening.admin_url.startswith("http://")
        async with httpx.AsyncClient(base_url=listening.admin_url) as http:
            response = await http.get("/healthz")
        assert response.status_code == 200
        assert "strict-transport-security" not in response.headers


async def test_hsts_max_age_comes_from_the_setting_and_zero_sends_none(
    tmp_path: Path, ca: CertificateAuthority
) -> None:
    pair = make_server_pair(ca, tmp_path / "certs", "a")
    for max_age_s, expected in ((600, "max-age=600"), (0, None)):
        settings = tls_settings(tmp_path, pair, hsts_max_age_s=max_age_s)
        async with (
            serving(settings) as listening,
            httpx.AsyncClient(base_url=listening.admin_url, verify=ca.client_context()) as http,
        ):
            response = await http.get("/healthz")
        assert response.headers.get("strict-transport-security") == expected


async def test_a_reload_keeps_open_wss_sessions_and_new_handshakes_get_the_new_certificate(
    tmp_path: Path, ca: CertificateAuthority
) -> None:
    pair = make_server_pair(ca, tmp_path / "certs", "live")
    renewed = make_server_pair(ca, tmp_path / "certs", "renewed")
    settings = tls_settings(tmp_path, pair)
    tls = server_tls(settings)
    assert tls is not None
    client = ca.client_context()
    async with serving(settings, tls) as listening:
        with trio.fail_after(10):
            async with open_websocket_url(listening.ws_url, ssl_context=client) as ws:
                pair.replace(renewed)
                tls.reload()
                await ws.ping()  # the session opened before the reload still answers
                assert ws.closed is None
                for url in (listening.ws_url, listening.admin_url):
                    assert await served_certificate(port_of(url), client) == renewed.der
                await ws.ping()


# --- reloads, in memory -----------------------------------------------------------------------


def test_a_reload_that_cannot_load_the_files_keeps_the_previous_certificate(
    tmp_path: Path, ca: CertificateAuthority
) -> None:
    pair = make_server_pair(ca, tmp_path / "certs", "live")
    other = make_server_pair(ca, tmp_path / "certs", "other")
    tls = ServerTls(pair.cert_file, pair.key_file)
    pair.cert_file.write_bytes(other.cert_file.read_bytes())  # the other's key is not here
    with pytest.raises(TlsError, match=r"live\.crt"):
        tls.reload()
    pair.cert_file.write_bytes(b"not a certificate")
    with pytest.raises(TlsError, match="not a PEM certificate"):
        tls.reload()
    pair.key_file.unlink()
    with pytest.raises(TlsError):
        tls.reload()
    assert handshake_certificate(tls.context, ca.client_context()) == pair.der


def test_a_reload_that_changes_the_key_type_is_refused(
    tmp_path: Path, ca: CertificateAuthority
) -> None:
    pair = make_server_pair(ca, tmp_path / "certs", "ec", key_type="ec")
    rsa_pair = make_server_pair(ca, tmp_path / "certs", "rsa", key_type="rsa")
    tls = ServerTls(pair.cert_file, pair.key_file)
    pair.replace(rsa_pair)
    with pytest.raises(TlsError, match="restart to change the key type"):
        tls.reload()
    assert handshake_certificate(tls.context, ca.client_context()) == pair.der


def test_a_reload_serves_the_new_certificate_and_its_expiry(
    tmp_path: Path, ca: CertificateAuthority
) -> None:
    pair = make_server_pair(ca, tmp_path / "certs", "live", days=30)
    renewed = make_server_pair(ca, tmp_path / "certs", "renewed", days=90)
    tls = ServerTls(pair.cert_file, pair.key_file)
    expiry = "tablium_tls_certificate_expiry_timestamp_seconds"
    assert REGISTRY.get_sample_value(expiry) == tls.certificate.not_after_s
    before = tls.certificate
    pair.replace(renewed)
    after = tls.reload()
    assert handshake_certificate(tls.context, ca.client_context()) == renewed.der
    assert after.not_after_s - before.not_after_s >= 59 * 86400
    assert REGISTRY.get_sample_value(expiry) == after.not_after_s


def test_a_certificate_that_does_not_load_is_a_configuration_error(
    tmp_path: Path, ca: CertificateAuthority
) -> None:
    pair = make_server_pair(ca, tmp_path / "certs", "a")
    other = make_server_pair(ca, tmp_path / "certs", "b")
    settings = tls_settings(tmp_path, pair, tls_key_file=other.key_file)
    with pytest.raises(ConfigError, match="TABLIUM_TLS_CERT_FILE"):
        server_tls(settings)
    with pytest.raises(ConfigError, match="No such file"):
        server_tls(tls_settings(tmp_path, pair, tls_cert_file=tmp_path / "missing.crt"))


# --- HSTS, at the ASGI level ------------------------------------------------------------------


async def _answer(
    scope: Scope, max_age_s: int, headers: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    async def app(scope: Scope, receive: object, send: object) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b""})  # type: ignore[operator]

    sent: list[ASGISendEvent] = []

    async def receive() -> ASGIReceiveEvent:
        raise AssertionError("not read")

    async def send(event: ASGISendEvent) -> None:
        sent.append(event)

    await StrictTransportSecurity(app, max_age_s)(scope, receive, send)  # type: ignore[arg-type]
    start = sent[0]
    assert start["type"] == "http.response.start"
    return list(start["headers"])


def _scope(scheme: str) -> Scope:
    return {"type": "http", "scheme": scheme}  # type: ignore[return-value]


async def test_hsts_is_added_to_https_answers_once_and_never_to_http_ones() -> None:
    assert await _answer(_scope("https"), 60, [(b"x-a", b"1")]) == [
        (b"x-a", b"1"),
        (b"strict-transport-security", b"max-age=60"),
    ]
    # An app's own header is replaced, so there is one, ours.
    own = [(b"Strict-Transport-Security", b"max-age=1")]
    assert await _answer(_scope("https"), 60, own) == [
        (b"strict-transport-security", b"max-age=60")
    ]
    assert await _answer(_scope("http"), 60, [(b"x-a", b"1")]) == [(b"x-a", b"1")]


async def test_rewritten_certificate_files_are_reloaded_without_a_signal(
    tmp_path: Path, ca: CertificateAuthority, autojump_clock: trio.testing.MockClock
) -> None:
    pair = make_server_pair(ca, tmp_path / "certs", "live")
    renewed = make_server_pair(ca, tmp_path / "certs", "renewed")
    tls = ServerTls(pair.cert_file, pair.key_file)
    client = ca.client_context()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(watch_certificate_files, tls)
        # Half a check off the watcher's beat: waking at the same (virtual) instant as the
        # watcher would leave which runs first to the scheduler.
        await trio.sleep(TLS_FILES_CHECK_S * 3.5)
        assert handshake_certificate(tls.context, client) == pair.der  # nothing changed
        # A renewal that writes the certificate first and the key a moment later: the
        # check in between fails (the key does not match) and the next one loads both.
        pair.cert_file.write_bytes(renewed.cert_file.read_bytes())
        await trio.sleep(TLS_FILES_CHECK_S)
        assert handshake_certificate(tls.context, client) == pair.der
        pair.key_file.write_bytes(renewed.key_file.read_bytes())
        await trio.sleep(TLS_FILES_CHECK_S)
        assert handshake_certificate(tls.context, client) == renewed.der
        nursery.cancel_scope.cancel()
