"""The transport over TLS: certificate checked, keep-alive connections reused."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

cryptography = pytest.importorskip("cryptography")
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

from actorbot.api import Client, ConnectError  # noqa: E402

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections = 0

    def setup(self) -> None:
        super().setup()
        type(self).connections += 1

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = b'{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"tls"}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def https(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    cert, key = self_signed(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, name="tls-server")
    thread.start()
    Answer.connections = 0
    yield f"https://localhost:{server.server_address[1]}", cert
    server.shutdown()
    server.server_close()
    thread.join()


def test_tls_calls_reuse_one_verified_connection(
    https: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, cert = https
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    with Client(TOKEN, base_url=url) as client:
        assert client._fast is not None
        for _ in range(5):
            assert client.get_me()["first_name"] == "tls"
    assert Answer.connections == 1


def test_an_untrusted_certificate_is_a_connect_error(
    https: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = https
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with Client(TOKEN, base_url=url) as client, pytest.raises(ConnectError) as info:
        client.get_me()
    assert info.value.may_have_reached is False
    assert TOKEN.partition(":")[2] not in str(info.value)


def test_from_an_event_loop_tls_calls_reuse_one_verified_connection(
    https: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, cert = https
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    client = Client(TOKEN, base_url=url)
    session = client.loop_session()

    async def main() -> list[str]:
        names = [(await session.request_checked("getMe", {}))["first_name"] for _ in range(5)]
        session.close()
        return names

    assert asyncio.run(main()) == ["tls"] * 5
    assert Answer.connections == 1


def test_from_an_event_loop_an_untrusted_certificate_is_a_connect_error(
    https: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = https
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    session = Client(TOKEN, base_url=url).loop_session()
    with pytest.raises(ConnectError) as info:
        asyncio.run(session.request_checked("getMe", {}))
    assert info.value.may_have_reached is False
    assert TOKEN.partition(":")[2] not in str(info.value)
