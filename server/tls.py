"""TLS for every listener: one certificate and key (``TABLIUM_TLS_CERT_FILE``,
``TABLIUM_TLS_KEY_FILE``), one SSLContext that every listener hands its connections to.

- The websocket gateway passes ``ServerTls.context`` to trio-websocket (``wss://``); every
  HTTP listener (admin, public API) is built by ``http_listener``, which gives hypercorn the
  same context (``https://``) and adds Strict-Transport-Security to HTTPS answers.
- Reload (SIGHUP, server/app.py): the files are read again into the same context object.
  OpenSSL copies a context's certificate into each connection when the connection is made,
  so open connections keep theirs and every handshake after the reload gets the new one: no
  session is dropped. A reload that cannot load the new files (missing, unreadable, a key
  that does not match) changes nothing; one whose key is of another type (RSA to ECDSA) is
  refused too, because OpenSSL keeps one certificate per key type and would go on offering
  the old one to some clients: restart to change the key type.
- The files are also checked every TLS_FILES_CHECK_S and reloaded when their content
  changed, so a renewal that rewrites them (cert-manager, a mounted Kubernetes Secret,
  certbot) needs no signal.
- Protocols: TLS 1.2 and newer, Python's default (OpenSSL's secure) cipher list, and ALPN
  http/1.1 only (HTTP/2 is not offered: the suites test HTTP/1.1).
- ``tablium_tls_certificate_expiry_timestamp_seconds`` on /metrics: the loaded certificate's
  notAfter (0 without TLS), which the TabliumCertificateExpiresSoon alert watches.
"""

from __future__ import annotations

import hashlib
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Final, cast, final

import hypercorn.config
import hypercorn.trio
import structlog
import trio
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from hypercorn.typing import (
    ASGIFramework,
    ASGIReceiveCallable,
    ASGISendCallable,
    ASGISendEvent,
    Scope,
)
from prometheus_client import Gauge

from server.config import ConfigError, Settings

log = structlog.get_logger("tablium.tls")

ALPN_PROTOCOLS: Final = ["http/1.1"]
TLS_HANDSHAKE_TIMEOUT_S: Final = 10.0  # HTTP listeners; a handshake not done by then: closed
HSTS_HEADER: Final = b"strict-transport-security"
CERTIFICATE_BYTES_MAX: Final = 1 << 20  # a certificate chain file larger than this is refused
TLS_FILES_CHECK_S: Final = 60.0  # how often the files are compared with what was loaded

CERTIFICATE_EXPIRY = Gauge(
    "tablium_tls_certificate_expiry_timestamp_seconds",
    "notAfter of the TLS certificate the listeners serve (Unix time); 0 without TLS.",
)


class TlsError(Exception):
    """The certificate or key cannot be used; the message names the file and why."""


@final
@dataclass(frozen=True, slots=True)
class CertificateInfo:
    subject: str
    not_after_s: int
    sha256: str  # fingerprint of the leaf certificate, hex
    key_type: str  # "RSAPublicKey", "EllipticCurvePublicKey", ...


def _new_context() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_COMPRESSION
    context.set_alpn_protocols(ALPN_PROTOCOLS)
    return context


def _read_leaf(cert_file: Path) -> CertificateInfo:
    try:
        with cert_file.open("rb") as f:
            pem = f.read(CERTIFICATE_BYTES_MAX + 1)
    except OSError as exc:
        raise TlsError(f"{cert_file}: {exc.strerror or exc}") from None
    if len(pem) > CERTIFICATE_BYTES_MAX:
        raise TlsError(f"{cert_file}: larger than {CERTIFICATE_BYTES_MAX} bytes")
    try:
        leaf = x509.load_pem_x509_certificate(pem)  # the first of the chain
    except ValueError:
        raise TlsError(f"{cert_file}: not a PEM certificate") from None
    return CertificateInfo(
        subject=leaf.subject.rfc4514_string(),
        not_after_s=int(leaf.not_valid_after_utc.timestamp()),
        sha256=leaf.fingerprint(hashes.SHA256()).hex(),
        key_type=type(leaf.public_key()).__name__.lstrip("_"),
    )


@final
class ServerTls:
    """The listeners' TLS context and the files it was loaded from."""

    def __init__(self, cert_file: Path, key_file: Path) -> None:
        self.cert_file = cert_file
        self.key_file = key_file
        self.context = _new_context()
        self.files_digest = self.read_files_digest()
        self.certificate = self._load(self.context)
        CERTIFICATE_EXPIRY.set(self.certificate.not_after_s)

    def read_files_digest(self) -> str | None:
        """A digest of both files' contents (None while one cannot be read): a change of
        it means the files were rewritten."""
        digest = hashlib.sha256()
        try:
            for path in (self.cert_file, self.key_file):
                with path.open("rb") as f:
                    digest.update(f.read(CERTIFICATE_BYTES_MAX + 1))
        except OSError:
            return None
        return digest.hexdigest()

    def _load(self, context: ssl.SSLContext) -> CertificateInfo:
        info = _read_leaf(self.cert_file)
        try:
            context.load_cert_chain(self.cert_file, self.key_file)
        except (OSError, ssl.SSLError) as exc:
            raise TlsError(
                f"{self.cert_file} with {self.key_file}: {getattr(exc, 'strerror', None) or exc}"
            ) from None
        return info

    def reload(self) -> CertificateInfo:
        """Read the files again into the live context; raises TlsError and changes nothing
        when they cannot be used."""
        self.files_digest = self.read_files_digest()  # tried: the watch waits for a change
        info = self._load(_new_context())  # the whole check, away from the live context
        if info.key_type != self.certificate.key_type:
            raise TlsError(
                f"{self.cert_file}: its key is a {info.key_type}, the loaded one a"
                f" {self.certificate.key_type}; restart to change the key type"
            )
        self.certificate = self._load(self.context)
        CERTIFICATE_EXPIRY.set(self.certificate.not_after_s)
        return self.certificate


def server_tls(settings: Settings) -> ServerTls | None:
    """The listeners' TLS when the settings name a certificate and key; raises ConfigError."""
    if settings.tls_cert_file is None or settings.tls_key_file is None:
        CERTIFICATE_EXPIRY.set(0)
        return None
    try:
        return ServerTls(settings.tls_cert_file, settings.tls_key_file)
    except TlsError as exc:
        raise ConfigError(f"TABLIUM_TLS_CERT_FILE: {exc}") from None


def reload_tls(tls: ServerTls | None) -> None:
    """What SIGHUP does: reload the certificate, and log what happened."""
    if tls is None:
        log.info("reload: no TLS certificate configured, nothing to reload")
        return
    try:
        info = tls.reload()
    except TlsError as exc:
        log.error("tls certificate not reloaded; the previous one stays", error=str(exc))
        return
    log.info(
        "tls certificate reloaded",
        subject=info.subject,
        sha256=info.sha256,
        not_after_s=info.not_after_s,
    )


async def watch_certificate_files(tls: ServerTls, *, interval_s: float = TLS_FILES_CHECK_S) -> None:
    """Reload the certificate whenever its files' contents change (checked every
    ``interval_s``); runs until cancelled. A reload that fails is retried only once the
    files change again."""
    while True:
        await trio.sleep(interval_s)
        digest = tls.read_files_digest()
        if digest is not None and digest != tls.files_digest:
            reload_tls(tls)


class _ListenerConfig(hypercorn.config.Config):
    """hypercorn's Config with the shared context: hypercorn would build its own from the
    files (and never reload it)."""

    def __init__(self, tls: ServerTls | None) -> None:
        super().__init__()
        self._tls = tls
        if tls is not None:  # what makes hypercorn wrap its sockets in TLS
            self.certfile = str(tls.cert_file)
            self.keyfile = str(tls.key_file)

    def create_ssl_context(self) -> ssl.SSLContext | None:
        return self._tls.context if self._tls is not None else None


def listener_config(
    host: str, port: int, *, tls: ServerTls | None, graceful_timeout_s: float
) -> hypercorn.config.Config:
    """A hypercorn listener on host:port, in TLS with ``tls``; logs through structlog."""
    config = _ListenerConfig(tls)
    config.bind = [f"{host}:{port}"]
    config.graceful_timeout = graceful_timeout_s
    config.ssl_handshake_timeout = TLS_HANDSHAKE_TIMEOUT_S
    config.accesslog = None
    config.include_server_header = False  # no product banner
    config.errorlog = logging.getLogger("hypercorn.error")  # through structlog, once
    return config


@final
class StrictTransportSecurity:
    """ASGI middleware: ``Strict-Transport-Security: max-age=N`` on every HTTPS answer (a
    browser that saw it talks to this host over HTTPS only, for N seconds). Not on plain
    HTTP answers: there it could be forged and means nothing (RFC 6797, 7.2)."""

    def __init__(self, app: ASGIFramework, max_age_s: int) -> None:
        self.app = app
        self.header = (HSTS_HEADER, f"max-age={max_age_s}".encode())

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await self.app(scope, receive, send)
            return

        async def send_with_header(event: ASGISendEvent) -> None:
            if event["type"] == "http.response.start":
                headers = [h for h in event.get("headers", ()) if h[0].lower() != HSTS_HEADER]
                event = cast(ASGISendEvent, {**event, "headers": [*headers, self.header]})
            await send(event)

        await self.app(scope, receive, send_with_header)


def http_listener(
    app: ASGIFramework,
    settings: Settings,
    port: int,
    tls: ServerTls | None,
    *,
    graceful_timeout_s: float,
) -> Callable[..., Awaitable[None]]:
    """The service that serves ``app`` on settings.host:port: HTTPS with ``tls`` (and HSTS,
    unless hsts_max_age_s is 0), HTTP without. Start it with ``nursery.start`` (or as a
    ChildSpec.service): it reports hypercorn's bound URLs (``["https://HOST:PORT"]``)."""
    if tls is not None and settings.hsts_max_age_s > 0:
        app = StrictTransportSecurity(app, settings.hsts_max_age_s)
    config = listener_config(settings.host, port, tls=tls, graceful_timeout_s=graceful_timeout_s)
    return partial(hypercorn.trio.serve, app, config)
