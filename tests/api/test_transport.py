"""The http.client transport: keep-alive reuse, stale connections, proxies, errors."""

from __future__ import annotations

import socket
import threading

import pytest

from actorbot.api import Client, ConnectionLost, RetryAfter
from actorbot.api._transport import JsonTransport, usable_for
from actorbot.testing import FakeBotApi

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
OK = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r\n"
      b'{"ok":true,"result":true}')


class OneShotServer:
    """Answers each connection's first request, then closes it without saying so: the
    client finds a dead keep-alive connection in its pool next time."""

    def __init__(self, answer: bytes = OK) -> None:
        self.answer = answer
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.requests = 0
        self.closed = threading.Semaphore(0)  # released after each connection is closed
        self._thread = threading.Thread(target=self._serve, name="one-shot-server")
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                self._handle(conn)
            self.closed.release()

    def _handle(self, conn: socket.socket) -> None:
        """Read one request and answer it."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length")), 0)
        while len(body) < length:
            body += conn.recv(65536)
        if data:
            self.requests += 1
            conn.sendall(self.answer)

    def close(self) -> None:
        self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() (close alone does not)
        self.sock.close()
        self._thread.join()


def test_a_connection_the_server_closed_is_replaced_transparently(
    server: OneShotServer,
) -> None:
    with Client(TOKEN, base_url=f"http://127.0.0.1:{server.port}") as client:
        for _ in range(5):
            assert client.call("logOut") is True
            assert server.closed.acquire(timeout=5)  # closed before the next call
    assert server.requests == 5
    assert server.connections == 5  # each dead connection was noticed before reuse


def test_keep_alive_connections_are_reused(tg: FakeBotApi) -> None:
    with Client(tg.token, base_url=tg.base_url) as client:
        for i in range(20):
            client.send_message(1, str(i))
        transport = client._fast
        assert transport is not None
        assert len(transport._idle) == 1  # one connection served all twenty calls


def test_a_connection_dropped_mid_answer_is_lost_not_retried() -> None:
    srv = OneShotServer(answer=OK[:-10])  # the body is cut short
    try:
        with Client(TOKEN, base_url=f"http://127.0.0.1:{srv.port}") as client:
            with pytest.raises(ConnectionLost) as info:
                client.call("sendMessage", chat_id=1, text="x")
            assert info.value.may_have_reached is True
            assert TOKEN.partition(":")[2] not in str(info.value)
        assert srv.requests == 1
    finally:
        srv.close()


def test_concurrent_calls_share_the_pool(tg: FakeBotApi) -> None:
    with Client(tg.token, base_url=tg.base_url, pool_maxsize=3) as client:
        errors: list[BaseException] = []

        def send(chat: int) -> None:
            try:
                for i in range(20):
                    client.send_message(chat, str(i))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=send, args=(c,)) for c in range(1, 7)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert client._fast is not None
        assert len(client._fast._idle) <= 3
    for chat in range(1, 7):
        assert tg.sent_texts(chat) == [str(i) for i in range(20)]


def test_a_proxy_in_the_environment_goes_through_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert not usable_for("https://api.telegram.org")
    assert usable_for("http://127.0.0.1:8081")  # bypassed by NO_PROXY
    assert Client(TOKEN)._fast is None
    monkeypatch.delenv("HTTPS_PROXY")
    assert usable_for("https://api.telegram.org")
    transport = Client(TOKEN)._fast
    assert isinstance(transport, JsonTransport)
    assert TOKEN not in repr(transport)
    assert not usable_for("ftp://example.org")


CHUNKED = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"a;ext=1\r\n{\"ok\":true\r\n10\r\n,\"result\":[1,2]}\r\n0\r\nX-Trailer: y\r\n\r\n")
UNTIL_CLOSE = b'HTTP/1.0 200 OK\r\n\r\n{"ok":true,"result":"old"}'


@pytest.mark.parametrize(("answer", "result", "reusable"), [
    (CHUNKED, [1, 2], True),
    (UNTIL_CLOSE, "old", False),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 27\r\nConnection: close\r\n\r\n"
     b'{"ok":true,"result":"bye"} ', "bye", False),
])
def test_answer_framings(answer: bytes, result: object, reusable: bool) -> None:
    srv = OneShotServer(answer=answer)
    try:
        with Client(TOKEN, base_url=f"http://127.0.0.1:{srv.port}") as client:
            assert client.call("getMe") == result
            assert client._fast is not None
            assert len(client._fast._idle) == reusable
    finally:
        srv.close()


NOT_HTTP = [
    b"SMTP ready\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
]


@pytest.mark.parametrize("answer", NOT_HTTP)
def test_what_is_not_http_is_a_lost_connection(answer: bytes) -> None:
    srv = OneShotServer(answer=answer)
    try:
        with Client(TOKEN, base_url=f"http://127.0.0.1:{srv.port}") as client, \
                pytest.raises(ConnectionLost):
            client.call("getMe")
    finally:
        srv.close()


def test_retry_after_header_is_read_case_insensitively() -> None:
    body = b'{"ok":false,"error_code":429,"description":"Too Many Requests"}'
    answer = (b"HTTP/1.1 429 Too Many Requests\r\nretry-AFTER: 7\r\nContent-Length: "
              + str(len(body)).encode() + b"\r\n\r\n" + body)
    srv = OneShotServer(answer=answer)
    try:
        with Client(TOKEN, base_url=f"http://127.0.0.1:{srv.port}") as client:
            with pytest.raises(RetryAfter) as info:
                client.call("sendMessage", chat_id=1, text="x")
            assert info.value.retry_after == 7
    finally:
        srv.close()
