"""A real `tablium serve` with TLS: SIGHUP reloads the certificate while a logged-in wss
session carries on, the admin listener's allow-list sees the real peer, and client
addresses reach the log only as keyed hashes."""

from __future__ import annotations

import hashlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import trio
from trio_websocket import open_websocket_url

from protocol.codec import encode
from protocol.messages import Balance, Error, LoggedIn, Login, Register, WalletBalance
from tests.protocol.gateway_harness import exchange, say_hello
from tests.server.test_tls import port_of, served_certificate
from tests.server.tls_certificates import (
    CertificateAuthority,
    ServerPair,
    make_ca,
    make_server_pair,
)
from tests.server_process import TEST_JWT_SECRET

# The api= field arrives with the public API's listener (console lines sort their fields).
READY = re.compile(r"listening\s+admin=(\S+)\s+(?:api=\S+\s+)?ws=(\S+)")
LINE_WAIT_S = 20.0
PASSWORD = "correct horse battery staple"
LOG_ADDRESS_KEY = "log-address-key-for-tests"


class LiveServer:
    def __init__(self, proc: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
        self.proc = proc
        self.lines = lines
        self.seen: list[str] = []
        self.admin_url = ""
        self.ws_url = ""

    def wait_for(self, pattern: str) -> re.Match[str]:
        """The first line from now on (stderr) that matches ``pattern``."""
        compiled = re.compile(pattern)
        while True:
            try:
                line = self.lines.get(timeout=LINE_WAIT_S)
            except queue.Empty:
                pytest.fail(f"no line matching {pattern!r}:\n" + "".join(self.seen[-30:]))
            self.seen.append(line)
            match = compiled.search(line)
            if match is not None:
                return match


@contextmanager
def tls_server(data_dir: Path, pair: ServerPair, **env: str) -> Iterator[LiveServer]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve"],
        env={
            **os.environ,
            "TABLIUM_WS_PORT": "0",
            "TABLIUM_ADMIN_PORT": "0",
            "TABLIUM_API_PORT": "0",  # the public API's listener, once it exists
            "TABLIUM_DATA_DIR": str(data_dir),
            "TABLIUM_JWT_SECRET": TEST_JWT_SECRET,
            "TABLIUM_LOG_FORMAT": "console",
            "TABLIUM_TLS_CERT_FILE": str(pair.cert_file),
            "TABLIUM_TLS_KEY_FILE": str(pair.key_file),
            "TABLIUM_LOG_ADDRESS_KEY": LOG_ADDRESS_KEY,
            **env,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    stderr = proc.stderr

    def read() -> None:  # every line, so the server never blocks on a full pipe
        for line in stderr:
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    server = LiveServer(proc, lines)
    try:
        ready = server.wait_for(READY.pattern)
        server.admin_url, server.ws_url = ready.group(1), ready.group(2)
        yield server
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        reader.join(timeout=5)


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return make_ca(tmp_path / "ca")


def test_sighup_reloads_the_certificate_and_an_open_wss_session_carries_on(
    tmp_path: Path, ca: CertificateAuthority
) -> None:
    pair = make_server_pair(ca, tmp_path / "certs", "live")
    renewed = make_server_pair(ca, tmp_path / "certs", "renewed")
    renewed_sha256 = hashlib.sha256(renewed.der).hexdigest()
    client = ca.client_context()
    with tls_server(tmp_path / "var", pair) as server:
        assert server.ws_url.startswith("wss://") and server.admin_url.startswith("https://")

        async def scenario() -> None:
            with trio.fail_after(60):
                async with open_websocket_url(server.ws_url, ssl_context=client) as ws:
                    await say_hello(ws)
                    register = Register(id=2, name="alice", password=PASSWORD)
                    assert isinstance(await exchange(ws, encode(register)), LoggedIn)
                    for url in (server.ws_url, server.admin_url):
                        assert await served_certificate(port_of(url), client) == pair.der
                    pair.replace(renewed)
                    server.proc.send_signal(signal.SIGHUP)
                    await trio.to_thread.run_sync(
                        server.wait_for, "tls certificate reloaded.*sha256=" + renewed_sha256
                    )
                    for url in (server.ws_url, server.admin_url):
                        assert await served_certificate(port_of(url), client) == renewed.der
                    # The session that logged in before the reload still talks, as itself.
                    await ws.ping()
                    balance = await exchange(ws, encode(WalletBalance(id=3)))
                    assert isinstance(balance, Balance), balance
                    assert ws.closed is None
                # A new connection (the new certificate) with a wrong password: logged.
                async with open_websocket_url(server.ws_url, ssl_context=client) as other:
                    await say_hello(other)
                    wrong = Login(id=2, name="alice", password="not the password at all")
                    assert isinstance(await exchange(other, encode(wrong)), Error)

        trio.run(scenario)
        assert server.proc.poll() is None, "SIGHUP must not stop the server"
        # The failed login above was logged with a keyed hash of the address, not the address.
        failed = server.wait_for(r"login failed")
        assert "127.0.0.1" not in failed.string
        assert re.search(r"address_hash=[0-9a-f]{16}", failed.string), failed.string
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=10) == 0


def test_a_reload_of_a_broken_certificate_keeps_serving_the_old_one(
    tmp_path: Path, ca: CertificateAuthority
) -> None:
    pair = make_server_pair(ca, tmp_path / "certs", "live")
    client = ca.client_context()
    with tls_server(tmp_path / "var", pair) as server:
        pair.cert_file.write_bytes(b"-----BEGIN CERTIFICATE-----\nbroken\n")
        server.proc.send_signal(signal.SIGHUP)
        server.wait_for("tls certificate not reloaded; the previous one stays")
        assert trio.run(served_certificate, port_of(server.ws_url), client) == pair.der
        assert server.proc.poll() is None


def test_the_admin_allow_list_sees_the_real_peer_address(
    tmp_path: Path, ca: CertificateAuthority
) -> None:
    pair = make_server_pair(ca, tmp_path / "certs", "live")
    context = ca.client_context()
    with tls_server(
        tmp_path / "var", pair, TABLIUM_ADMIN_ALLOWED_NETWORKS="192.0.2.0/24"
    ) as server:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{server.admin_url}/healthz", timeout=10, context=context)
        assert refused.value.code == 403
        assert b"address_forbidden" in refused.value.read()
        assert refused.value.headers["Strict-Transport-Security"] == "max-age=31536000"
    with tls_server(
        tmp_path / "var", pair, TABLIUM_ADMIN_ALLOWED_NETWORKS="192.0.2.0/24,127.0.0.0/8"
    ) as server:
        host = urlsplit(server.admin_url).hostname
        assert host == "127.0.0.1"
        with urllib.request.urlopen(
            f"{server.admin_url}/healthz", timeout=10, context=context
        ) as response:
            assert response.status == 200
