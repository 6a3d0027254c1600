"""HTTPS with daemon.tls (a self-signed certificate), the session cookie's Secure flag,
and the refusal of plain HTTP off loopback."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from drkit.api import create_app
from drkit.api.server import ApiServer, insecure_listen
from drkit.errors import ConfigError
from drkit.services.workspace import Workspace
from drkit.settings.daemon import DaemonSettings, TlsSettings
from drkit.users import Role, store
from drkit.users.passwords import hash_password
from drkit.web import install as dashboard
from tests.fixtures.net import free_port
from tests.integration.api.conftest import add_callers, make_home


def self_signed(where: Path) -> TlsSettings:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (where / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (where / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return TlsSettings(cert=where / "cert.pem", key=where / "key.pem")


def _trusting(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


@pytest.fixture(scope="module")
def https(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict[str, str]]]:
    root = tmp_path_factory.mktemp("tls") / "home"
    make_home(root)
    tls = self_signed(root.parent)
    ws = Workspace(config=root / "drkit.yaml")
    tokens = add_callers(ws.catalog())
    with ws.catalog().session() as s:
        store.add_user(s, "alice", hash_password("correct horse"), [Role.ADMIN])
    daemon = DaemonSettings(listen="", tls=tls)
    server = ApiServer(create_app(ws, mount=[dashboard]), f"127.0.0.1:{free_port()}", daemon)
    host, port = server.server_address
    try:
        yield f"https://{host}:{port}", tls.cert, tokens
    finally:
        server.shutdown()
        ws.close()


def test_the_api_answers_over_https_and_not_over_http(
    https: tuple[str, Path, dict[str, str]],
) -> None:
    url, cert, tokens = https
    auth = {"Authorization": f"Bearer {tokens['viewer']}"}
    with httpx.Client(base_url=url, verify=_trusting(cert), headers=auth, timeout=30) as c:
        me = c.get("/api/me")
    assert me.status_code == 200 and me.json()["user"] == "viewer"
    with pytest.raises(httpx.ConnectError):  # the certificate is checked: not a trusted one
        httpx.get(f"{url}/healthz", timeout=30)
    plain = url.replace("https://", "http://")
    with pytest.raises(httpx.HTTPError):
        r = httpx.get(f"{plain}/api/me", headers=auth, timeout=30)
        r.raise_for_status()


def test_the_session_cookie_is_secure_under_tls(https: tuple[str, Path, dict[str, str]]) -> None:
    url, cert, _ = https
    with httpx.Client(base_url=url, verify=_trusting(cert), timeout=30) as c:
        form = c.get("/login")
        assert "secure" in form.headers["set-cookie"].lower()
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        r = c.post(
            "/login",
            data={"username": "alice", "password": "correct horse", "csrf": csrf.group(1)},
            follow_redirects=False,
        )
    assert r.status_code == 303, r.text
    session = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and "session" in v)
    flags = {p.strip().lower() for p in session.split(";")}
    assert {"secure", "httponly", "samesite=strict"} <= flags


@pytest.mark.parametrize(
    ("listen", "tls", "allowed", "refused"),
    [
        ("127.0.0.1:9464", False, False, False),
        ("[::1]:9464", False, False, False),
        ("localhost:9464", False, False, False),
        ("0.0.0.0:9464", False, False, True),
        ("[::]:9464", False, False, True),
        (":9464", False, False, True),
        ("192.0.2.10:9464", False, False, True),
        ("drkit.example.org:9464", False, False, True),
        ("0.0.0.0:9464", True, False, False),
        ("0.0.0.0:9464", False, True, False),
    ],
)
def test_which_addresses_need_tls(listen: str, tls: bool, allowed: bool, refused: bool) -> None:
    assert (insecure_listen(listen, tls=tls, allowed=allowed) is not None) is refused


def test_drkit_serve_refuses_plain_http_off_loopback(tmp_path: Path) -> None:
    root = tmp_path / "home"
    env = make_home(root)
    argv = [sys.executable, "-m", "drkit", "serve", "--listen", f"0.0.0.0:{free_port()}"]
    r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "plain HTTP on 0.0.0.0" in r.stderr and "daemon.tls.cert" in r.stderr
    assert "allow_insecure_http" in r.stderr and "Traceback" not in r.stderr


def test_a_certificate_that_does_not_load_is_a_clear_error(tmp_path: Path) -> None:
    root = tmp_path / "home"
    make_home(root)
    (tmp_path / "cert.pem").write_text("not a certificate\n")
    daemon = DaemonSettings(
        listen="", tls=TlsSettings(cert=tmp_path / "cert.pem", key=tmp_path / "missing.pem")
    )
    ws = Workspace(config=root / "drkit.yaml")
    try:
        with pytest.raises(ConfigError) as caught:
            ApiServer(create_app(ws), f"127.0.0.1:{free_port()}", daemon)
    finally:
        ws.close()
    assert "cert.pem" in caught.value.message and "PEM" in caught.value.hint
