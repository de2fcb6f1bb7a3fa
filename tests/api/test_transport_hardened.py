"""The transport's answer reader against h11 on generated answers, and its bounds: what a
hostile or broken server sends cannot grow memory or time without limit, and a process
with many descriptors still reuses its connections."""

from __future__ import annotations

import itertools
import os
import socket
import struct
from collections.abc import Iterator

import h11
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actorbot.api import Client, ResponseTooLarge
from actorbot.api._transport import _Reader, _TooLarge
from actorbot.testing import FakeBotApi
from tests.api.test_transport import TOKEN, OneShotServer

_NAMES = st.sampled_from(["x-a", "X-B", "x-request-id", "Server", "Date", "vary"])
_VALUES = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=0,
                  max_size=12)
_HEADERS = st.lists(st.tuples(_NAMES, _VALUES), max_size=6)
_CHUNKS = st.lists(st.binary(min_size=1, max_size=40), max_size=5)


def serialize(status: int, headers: list[tuple[str, str]], chunks: list[bytes],
              chunked: bool, interim: list[int]) -> bytes:
    """h11 as the server: the bytes of interim answers and one final answer."""
    server = h11.Connection(h11.SERVER)
    server.receive_data(b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")
    assert isinstance(server.next_event(), h11.Request)
    data = b""
    for code in interim:
        data += server.send(h11.InformationalResponse(status_code=code, headers=[])) or b""
    framing = ([("Transfer-Encoding", "chunked")] if chunked
               else [("Content-Length", str(sum(map(len, chunks))))])
    data += server.send(h11.Response(status_code=status, headers=headers + framing)) or b""
    for chunk in chunks:
        data += server.send(h11.Data(data=chunk)) or b""
    data += server.send(h11.EndOfMessage()) or b""
    return data


def parse_with_h11(data: bytes) -> tuple[int, dict[str, str], bytes]:
    client = h11.Connection(h11.CLIENT)
    client.send(h11.Request(method="POST", target="/x",
                            headers=[("Host", "h"), ("Content-Length", "0")]))
    client.send(h11.EndOfMessage())
    client.receive_data(data)
    status, headers, body = 0, {}, b""
    while True:
        event = client.next_event()
        if isinstance(event, h11.Response):
            status = event.status_code
            for name, value in event.headers:
                key = name.decode()
                headers[key] = f"{headers[key]}, {value.decode()}" if key in headers \
                    else value.decode()
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage | h11.NEED_DATA):
            return status, headers, body


def parse_split(data: bytes, cuts: list[int]) -> tuple[int, dict[str, str], bytes]:
    """Our reader, with ``data`` arriving in pieces cut at ``cuts``."""
    bounds = [0, *cuts, len(data)]
    pieces = iter([data[a:b] for a, b in itertools.pairwise(bounds) if b > a])
    reader = _Reader(lambda: next(pieces, b""))
    status, headers, body, _ = reader.answer()
    assert not reader.buf  # nothing of this answer is left for the next one
    return status, dict(headers), body


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(status=st.integers(200, 599).filter(lambda s: s not in (204, 304)),
       headers=_HEADERS, chunks=_CHUNKS, chunked=st.booleans(),
       interim=st.lists(st.sampled_from([100, 102, 103]), max_size=2))
def test_the_reader_agrees_with_h11_however_the_answer_is_split(
    status: int, headers: list[tuple[str, str]], chunks: list[bytes], chunked: bool,
    interim: list[int],
) -> None:
    data = serialize(status, headers, chunks, chunked, interim)
    expected = parse_with_h11(data)
    assert parse_split(data, []) == expected
    assert parse_split(data, list(range(1, len(data)))) == expected  # a byte per recv
    for cut in range(1, len(data)):  # every single split point
        assert parse_split(data, [cut]) == expected


def reader_of(data: bytes, **bounds: int) -> _Reader:
    pieces = iter([data])
    return _Reader(lambda: next(pieces, b""), **bounds)


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + b"x" * 64 + b"\r\n"
    b"40\r\n" + b"x" * 64 + b"\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * 101,
    b"HTTP/1.1 200 OK\r\nX-Big: " + b"x" * 200 + b"\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n" + b"x" * 300,
])
def test_heads_and_bodies_are_bounded(answer: bytes) -> None:
    with pytest.raises(_TooLarge):
        reader_of(answer, max_head=100, max_body=100).answer()


def test_an_oversized_answer_is_a_typed_error() -> None:
    srv = OneShotServer(answer=b"HTTP/1.1 200 OK\r\nX-Big: " + b"x" * 70_000 + b"\r\n\r\n")
    try:
        with Client(TOKEN, base_url=f"http://127.0.0.1:{srv.port}") as client, \
                pytest.raises(ResponseTooLarge, match="too large"):
            client.call("getMe")
    finally:
        srv.close()


def test_interim_answers_are_skipped_and_repeated_headers_joined() -> None:
    answer = (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
              b"HTTP/1.1 200 OK\r\nVary: a\r\nvary: b\r\nContent-Length: 2\r\n"
              b"Content-Length: 2\r\n\r\n{}")
    status, headers, body, keep = reader_of(answer).answer()
    assert (status, headers.get("Vary"), body, keep) == (200, "a, b", b"{}", True)
    assert "link" not in headers


@pytest.fixture
def many_descriptors() -> Iterator[None]:
    """More than 1,024 open descriptors, so new sockets get numbers select() refuses."""
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    yield
    for fd in held:
        os.close(fd)


@pytest.mark.usefixtures("many_descriptors")
def test_connections_above_descriptor_1023_are_reused(tg: FakeBotApi) -> None:
    with Client(tg.token, base_url=tg.base_url) as client:
        client.send_message(1, "0")
        transport = client._fast
        assert transport is not None
        first = transport._idle[0]
        assert first.sock.fileno() > 1024
        for i in range(1, 10):
            client.send_message(1, str(i))
        assert transport._idle == [first]  # one connection served every call
    assert tg.sent_texts(1) == [str(i) for i in range(10)]


class ResettingServer(OneShotServer):
    """Answers a connection's first request; when the next one arrives it resets the
    connection without reading it (as a server that closed it while idle does)."""

    def _handle(self, conn: socket.socket) -> None:
        super()._handle(conn)
        conn.recv(1, socket.MSG_PEEK)  # the next request is here: reset, unread
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_a_reset_before_the_request_was_read_is_retried_for_any_method() -> None:
    srv = ResettingServer()
    try:
        with Client(TOKEN, base_url=f"http://127.0.0.1:{srv.port}") as client:
            assert client.call("sendMessage", chat_id=1, text="a") is True
            assert client.call("sendMessage", chat_id=1, text="b") is True
        assert srv.requests == 2  # each answered once, on its own connection
    finally:
        srv.close()
