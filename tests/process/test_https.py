"""HTTPS served by the gateway itself: the handshake, HSTS, and slow request heads cut off."""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import gateway_env, live_gateway, run_cli

HSTS = "max-age=31536000; includeSubDomains"


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@contextlib.contextmanager
def _tls_connection(port: int, context: ssl.SSLContext) -> Iterator[ssl.SSLSocket]:
    with (
        socket.create_connection(("127.0.0.1", port)) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        yield tls


def _closed_after(sock: socket.socket, trickle: bytes, limit: float) -> float | None:
    """Send ``trickle`` a byte or so at a time; return when the server closed, or None."""
    started = time.monotonic()
    sock.settimeout(0.2)
    for byte in trickle:
        try:
            sock.sendall(bytes([byte]))
            if sock.recv(1024) == b"":
                return time.monotonic() - started
        except TimeoutError:
            pass  # still open
        except (ssl.SSLError, OSError):
            return time.monotonic() - started
        if time.monotonic() - started > limit:
            return None
    return None


def test_https_with_hsts_and_slow_heads_cut_off(tmp_path, certificate):
    cert, key = certificate
    env = gateway_env(tmp_path / "data", tls_cert=str(cert), tls_key=str(key), header_timeout="1")
    with live_gateway(env, tls_cert=cert) as live:
        context = ssl.create_default_context(cafile=cert)
        port = int(live.base_url.rsplit(":", 1)[1])
        # The handshake: the server presents the certificate made above.
        with _tls_connection(port, context) as tls:
            assert tls.version() in {"TLSv1.2", "TLSv1.3"}
            assert tls.getpeercert()["subject"] == ((("commonName", "127.0.0.1"),),)
        with httpx.Client(verify=context) as http:
            hello = http.get(f"{live.base_url}/api/hello")
            assert hello.status_code == 200
            assert hello.headers["strict-transport-security"] == HSTS
            missing = http.get(f"{live.base_url}/nope")
            assert missing.status_code == 404
            assert missing.headers["strict-transport-security"] == HSTS
        # Plain HTTP on the TLS port gets nowhere.
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/api/hello", timeout=3)
        # A head trickled in, a byte every 0.2 s, is cut off after the 1 s header timeout...
        head = b"GET /api/hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 40
        with _tls_connection(port, context) as tls:
            closed = _closed_after(tls, head, limit=5)
        assert closed is not None, "a trickled head held the connection"
        assert 0.8 < closed < 3
        # ... as is a connection that sends nothing, while a normal client is served.
        with _tls_connection(port, context) as tls:
            tls.settimeout(4)
            started = time.monotonic()
            assert tls.recv(1024) == b""
            assert time.monotonic() - started < 3
        with httpx.Client(verify=context) as http:
            assert http.get(f"{live.base_url}/api/hello").status_code == 200
            time.sleep(1.5)  # idle keep-alive past the header timeout: a fresh connection
            assert http.get(f"{live.base_url}/api/hello").status_code == 200


def test_hsts_per_x_forwarded_proto_from_trusted_proxies_only(settings, tmp_path, db):
    common = {"mongodb_uri": settings.mongodb_uri, "db_name": settings.db_name}
    https = {"X-Forwarded-Proto": "https"}
    with live_gateway(gateway_env(tmp_path / "a", **common)) as trusted:
        assert (
            httpx.get(f"{trusted.base_url}/api/hello", headers=https).headers[
                "strict-transport-security"
            ]
            == HSTS
        )
        plain = httpx.get(f"{trusted.base_url}/api/hello")
        assert "strict-transport-security" not in plain.headers
    untrusted_env = gateway_env(tmp_path / "b", trusted_proxies="192.0.2.1", **common)
    with live_gateway(untrusted_env) as untrusted:
        answer = httpx.get(f"{untrusted.base_url}/api/hello", headers=https)
        assert answer.status_code == 200
        assert "strict-transport-security" not in answer.headers


def test_unusable_tls_files_stop_start_up(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("not a certificate")
    key.write_text("not a key")
    result = run_cli(
        ["serve"], gateway_env(tmp_path / "data", tls_cert=str(cert), tls_key=str(key))
    )
    assert result.returncode == 2
    assert "GATEWAY_TLS_CERT/GATEWAY_TLS_KEY: not a usable pair" in result.stderr
