"""WSGIThreadServer: keep-alive where the framing allows it, Connection: close where it
does not, and stop() still ends idle (kept-alive) connections and joins every thread."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from actorbot.intake import WebhookApp, WSGIThreadServer, _wsgiserver

NAME = "test-wsgi"


@pytest.fixture
def fed() -> list[Any]:
    return []


@pytest.fixture
def server(fed: list[Any]) -> Iterator[WSGIThreadServer]:
    app = WebhookApp(fed.append, secret_token=None, max_body=100)
    server = WSGIThreadServer(app, "127.0.0.1", 0, name=NAME).start()
    try:
        yield server
    finally:
        assert server.stop(5)
        assert not [t.name for t in threading.enumerate() if t.name.startswith(NAME)]


def ask(conn: http.client.HTTPConnection, body: bytes, **headers: str) -> http.client.HTTPResponse:
    conn.request("POST", "/", body=body, headers=headers)
    answer = conn.getresponse()
    answer.read()
    return answer


def raw(port: int, data: bytes) -> bytes:
    """Send ``data``, read until the server closes (it must, or this times out)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.usefixtures("no_thread_left")
def test_one_connection_carries_many_requests(server: WSGIThreadServer, fed: list[Any]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    for uid in range(5):
        answer = ask(conn, b'{"update_id": %d}' % uid)
        assert (answer.status, answer.version, answer.will_close) == (200, 11, False)
    sock = conn.sock
    conn.request("GET", "/")  # no body at all: 405, and the connection stays
    answer = conn.getresponse()
    assert (answer.status, answer.will_close, answer.read()) == (405, False, b"only POST")
    assert ask(conn, b'{"update_id": 9}').status == 200
    assert conn.sock is sock  # the same connection throughout
    conn.close()
    assert [u["update_id"] for u in fed] == [0, 1, 2, 3, 4, 9]


@pytest.mark.usefixtures("no_thread_left")
def test_an_unread_body_closes_the_connection(server: WSGIThreadServer, fed: list[Any]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    answer = ask(conn, b"x" * 101)  # over max_body: the app does not read it
    assert (answer.status, answer.getheader("Connection"), answer.will_close) == (
        413, "close", True)
    conn.close()
    chunked = raw(server.port, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                               b"\r\n5\r\nhello\r\n0\r\n\r\n")
    assert chunked.startswith(b"HTTP/1.1 411 ")
    assert b"Connection: close" in chunked
    old = raw(server.port, b'POST / HTTP/1.0\r\nContent-Length: 16\r\n\r\n{"update_id": 5}')
    assert old.startswith(b"HTTP/1.1 200 ")  # an HTTP/1.0 client: closed after its answer
    assert fed == [{"update_id": 5}]


@pytest.mark.usefixtures("no_thread_left")
def test_stop_ends_kept_alive_connections_at_once(server: WSGIThreadServer) -> None:
    conns = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=5) for _ in range(5)]
    for uid, conn in enumerate(conns):
        assert ask(conn, b'{"update_id": %d}' % uid).status == 200  # now idle, kept alive
    started = time.monotonic()
    assert server.stop(5)
    assert time.monotonic() - started < _wsgiserver.REQUEST_TIMEOUT / 2
    for conn in conns:
        conn.close()


@pytest.mark.usefixtures("no_thread_left")
def test_an_idle_connection_is_closed_after_the_timeout(
    fed: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_wsgiserver._QuietHandler, "timeout", 0.2)
    server = WSGIThreadServer(WebhookApp(fed.append, secret_token=None), "127.0.0.1", 0,
                              name=NAME).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            assert sock.recv(1) == b""  # sent nothing: the server closed it
    finally:
        assert server.stop(5)
