"""The lean HTTP/1.1 server on its own, with a trivial handler and raw sockets."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator

import pytest

from actorbot.testing._http import HttpServer, Request, Response


class Echo:
    """A request handler that echoes the request and can be told to fail or drop."""

    def __init__(self) -> None:
        self.requests: list[Request] = []

    def __call__(self, req: Request) -> Response:
        self.requests.append(req)
        if req.path == "/boom":
            raise RuntimeError("bug")
        if req.path == "/drop":
            return Response(200, drop=True)
        body = f"{req.method} {req.path}?{req.query} {len(req.body)}".encode()
        return Response(200, body, content_type="text/plain", headers=(("X-Echo", "1"),))


@pytest.fixture
def echo() -> Echo:
    return Echo()


@pytest.fixture
def server(echo: Echo) -> Iterator[HttpServer]:
    srv = HttpServer(echo, threading.Event())
    srv.start()
    yield srv
    srv.stop()


def raw(server: HttpServer, data: bytes) -> bytes:
    """Send bytes on a fresh socket and read until the server closes it."""
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_many_requests_over_one_keep_alive_connection(server: HttpServer, echo: Echo) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        for i in range(200):
            conn.request("POST", f"/x?i={i}", body=b"a" * i)
            resp = conn.getresponse()
            assert resp.status == 200
            assert resp.getheader("X-Echo") == "1"
            assert resp.read() == f"POST /x?i={i} {i}".encode()
        assert server.connection_count == 1
    finally:
        conn.close()
    assert len(echo.requests) == 200


def test_connection_close_is_honoured(server: HttpServer) -> None:
    out = raw(server, b"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Connection: close\r\n" in out
    assert out.endswith(b"GET /a? 0")


def test_http10_closes_by_default(server: HttpServer) -> None:
    out = raw(server, b"GET /a HTTP/1.0\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK\r\n")


def test_pipelined_requests(server: HttpServer) -> None:
    two = b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\nConnection: close\r\n\r\n"
    out = raw(server, two)
    assert out.count(b"HTTP/1.1 200 OK") == 2
    assert out.index(b"GET /1") < out.index(b"GET /2")


def test_chunked_request_body(server: HttpServer, echo: Echo) -> None:
    body = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n"
    head = b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    out = raw(server, head + body)
    assert out.endswith(b"POST /c? 11")
    assert echo.requests[0].body == b"hello world"


def test_expect_100_continue(server: HttpServer, echo: Echo) -> None:
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"POST /e HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"abc")
        assert sock.recv(1000).endswith(b"POST /e? 3")
    assert echo.requests[0].body == b"abc"


def test_header_names_are_lower_case(server: HttpServer, echo: Echo) -> None:
    raw(server, b"GET / HTTP/1.1\r\nContent-TYPE: text/x\r\nConnection: close\r\n\r\n")
    assert echo.requests[0].headers["content-type"] == "text/x"


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"NONSENSE\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nContent-Length: nope\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n", b"413"),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n", b"431"),
    ],
)
def test_malformed_requests_get_an_error_and_close(
    server: HttpServer, data: bytes, status: bytes
) -> None:
    assert raw(server, data).startswith(b"HTTP/1.1 " + status)


def test_handler_exception_is_a_500_and_the_connection_survives(
    server: HttpServer,
) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        conn.request("GET", "/boom")
        resp = conn.getresponse()
        assert resp.status == 500
        assert b"Internal Server Error" in resp.read()
        conn.request("GET", "/fine")
        assert conn.getresponse().read() == b"GET /fine? 0"
    finally:
        conn.close()
    assert [type(e) for e in server.errors] == [RuntimeError]


def test_drop_closes_without_an_answer(server: HttpServer) -> None:
    assert raw(server, b"GET /drop HTTP/1.1\r\n\r\n") == b""


def test_stop_closes_idle_keep_alive_connections(echo: Echo) -> None:
    srv = HttpServer(echo, threading.Event())
    srv.start()
    with socket.create_connection((srv.host, srv.port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
        assert sock.recv(1000).startswith(b"HTTP/1.1 200")
        srv.stop()
        assert sock.recv(1000) == b""
