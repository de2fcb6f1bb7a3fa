"""The event-loop transport (``Client.loop_session()``): the same exchange, answers and
typed errors as the threaded one (tests/api/test_transport.py), from a loop."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import pytest
import requests

from actorbot.api import (
    Client,
    ConnectError,
    ConnectionLost,
    ReadTimeout,
    ResponseTooLarge,
    RetryAfter,
    check_call,
)
from actorbot.api import _loop_transport as loop_transport
from actorbot.api._loop_transport import _Connection
from actorbot.api._transport import _Reader
from actorbot.testing import FakeBotApi
from tests.api.test_transport import (
    CHUNKED,
    NOT_HTTP,
    OK,
    TOKEN,
    UNTIL_CLOSE,
    OneShotServer,
)
from tests.api.test_transport_hardened import ResettingServer


class OnLoop:
    """A client's :class:`LoopSession` driven from the test: one loop for all its calls,
    so that connections are kept between them."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.loop = asyncio.new_event_loop()
        self.session = client.loop_session()

    def call(self, method: str, **params: Any) -> Any:
        method, checked = check_call(method, params)
        return self.loop.run_until_complete(self.session.request_checked(method, checked))

    @property
    def idle(self) -> list[_Connection]:
        transport = self.session._transport
        assert transport is not None
        return transport._idle

    def close(self) -> None:
        self.session.close()
        self.loop.run_until_complete(asyncio.sleep(0))  # the transports close
        self.loop.close()
        self.client.close()


def on_loop(base_url: str, **options: Any) -> OnLoop:
    return OnLoop(Client(TOKEN, base_url=base_url, **options))


def test_a_connection_the_server_closed_is_replaced_transparently(
    server: OneShotServer,
) -> None:
    calls = on_loop(f"http://127.0.0.1:{server.port}")
    try:
        for _ in range(5):
            assert calls.call("logOut") is True
            assert server.closed.acquire(timeout=5)
    finally:
        calls.close()
    assert (server.requests, server.connections) == (5, 5)


def test_keep_alive_connections_are_reused(tg: FakeBotApi) -> None:
    calls = OnLoop(Client(tg.token, base_url=tg.base_url))
    try:
        for i in range(20):
            assert calls.call("sendMessage", chat_id=1, text=str(i))["text"] == str(i)
        assert len(calls.idle) == 1  # one connection served all twenty calls
    finally:
        calls.close()
    assert tg.sent_texts(1) == [str(i) for i in range(20)]


def test_concurrent_calls_on_the_loop_each_get_their_own_answer(tg: FakeBotApi) -> None:
    calls = OnLoop(Client(tg.token, base_url=tg.base_url, pool_maxsize=3))

    async def chat(chat: int) -> list[str]:
        texts = []
        for i in range(10):
            method, checked = check_call("sendMessage", {"chat_id": chat, "text": str(i)})
            texts.append((await calls.session.request_checked(method, checked))["text"])
        return texts

    async def main() -> list[list[str]]:
        return await asyncio.gather(*(chat(c) for c in range(1, 7)))

    try:
        assert calls.loop.run_until_complete(main()) == [[str(i) for i in range(10)]] * 6
        assert len(calls.idle) <= 3
    finally:
        calls.close()


def test_a_connection_dropped_mid_answer_is_lost_not_retried() -> None:
    srv = OneShotServer(answer=OK[:-10])
    calls = on_loop(f"http://127.0.0.1:{srv.port}")
    try:
        with pytest.raises(ConnectionLost) as info:
            calls.call("sendMessage", chat_id=1, text="x")
        assert info.value.may_have_reached is True
        assert TOKEN.partition(":")[2] not in str(info.value)
        assert srv.requests == 1
    finally:
        calls.close()
        srv.close()


def test_a_reset_before_the_request_was_read_is_retried_once() -> None:
    srv = ResettingServer()
    calls = on_loop(f"http://127.0.0.1:{srv.port}")
    try:
        assert calls.call("sendMessage", chat_id=1, text="a") is True
        assert calls.call("sendMessage", chat_id=1, text="b") is True
        assert srv.requests == 2
    finally:
        calls.close()
        srv.close()


@pytest.mark.parametrize(("answer", "result", "reusable"), [
    (CHUNKED, [1, 2], True),
    (UNTIL_CLOSE, "old", False),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 27\r\nConnection: close\r\n\r\n"
     b'{"ok":true,"result":"bye"} ', "bye", False),
    (b"HTTP/1.1 100 Continue\r\n\r\n" + OK, True, True),
])
def test_answer_framings(answer: bytes, result: object, reusable: bool) -> None:
    srv = OneShotServer(answer=answer)
    calls = on_loop(f"http://127.0.0.1:{srv.port}")
    try:
        assert calls.call("getMe") == result
        assert len(calls.idle) == reusable
    finally:
        calls.close()
        srv.close()


@pytest.mark.parametrize("answer", [
    *NOT_HTTP, b"HTTP/1.1 200 OK\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n"])
def test_what_is_not_http_is_a_lost_connection(answer: bytes) -> None:
    srv = OneShotServer(answer=answer)
    calls = on_loop(f"http://127.0.0.1:{srv.port}")
    try:
        with pytest.raises((ConnectionLost, ResponseTooLarge)):
            calls.call("getMe")
    finally:
        calls.close()
        srv.close()


def test_an_oversized_answer_is_a_typed_error() -> None:
    srv = OneShotServer(answer=b"HTTP/1.1 200 OK\r\nX-Big: " + b"x" * 70_000 + b"\r\n\r\n")
    calls = on_loop(f"http://127.0.0.1:{srv.port}")
    try:
        with pytest.raises(ResponseTooLarge, match="too large"):
            calls.call("getMe")
    finally:
        calls.close()
        srv.close()


def test_an_error_answer_is_the_same_typed_error() -> None:
    body = b'{"ok":false,"error_code":429,"description":"Too Many Requests"}'
    answer = (b"HTTP/1.1 429 Too Many Requests\r\nretry-AFTER: 7\r\nContent-Length: "
              + str(len(body)).encode() + b"\r\n\r\n" + body)
    srv = OneShotServer(answer=answer)
    calls = on_loop(f"http://127.0.0.1:{srv.port}")
    try:
        with pytest.raises(RetryAfter) as info:
            calls.call("sendMessage", chat_id=1, text="x")
        assert info.value.retry_after == 7
    finally:
        calls.close()
        srv.close()


class Silent(OneShotServer):
    """Reads a connection's request and never answers it."""

    def __init__(self) -> None:
        self.done = threading.Event()
        super().__init__()

    def _handle(self, conn: socket.socket) -> None:
        conn.recv(65536)
        self.done.wait(10)

    def close(self) -> None:
        self.done.set()
        super().close()


def test_no_answer_in_time_is_a_read_timeout_and_the_connection_is_dropped() -> None:
    srv = Silent()
    calls = on_loop(f"http://127.0.0.1:{srv.port}", read_timeout=0.2)
    try:
        with pytest.raises(ReadTimeout, match="no answer in time") as info:
            calls.call("getMe")
        assert TOKEN.partition(":")[2] not in str(info.value)
        assert calls.idle == []
    finally:
        calls.close()
        srv.close()


def test_nothing_listening_is_a_connect_error() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    calls = on_loop(f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(ConnectError, match="could not connect") as info:
            calls.call("getMe")
        assert info.value.may_have_reached is False
    finally:
        calls.close()


def test_what_the_fast_path_does_not_serve_runs_in_a_thread(tg: FakeBotApi) -> None:
    calls = OnLoop(Client(tg.token, base_url=tg.base_url, session=requests.Session()))
    try:
        assert calls.session._transport is None  # a custom session: requests, in a thread
        assert calls.call("sendMessage", chat_id=1, text="via requests")["text"] == (
            "via requests")
    finally:
        calls.close()
    assert tg.sent_texts(1) == ["via requests"]


def test_an_answer_in_many_packets_is_parsed_once_it_is_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    readers: list[_Reader] = []

    class Counted(_Reader):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            readers.append(self)

    monkeypatch.setattr(loop_transport, "_Reader", Counted)
    conn = _Connection()

    async def main() -> Any:
        waiting = asyncio.ensure_future(conn.answer())
        for byte in OK:  # a byte per packet: parsing each time would be quadratic
            await asyncio.sleep(0)
            conn.data_received(bytes([byte]))
        return await waiting

    status, _, body, keep = asyncio.run(main())
    assert (status, body, keep) == (200, b'{"ok":true,"result":true}', True)
    assert len(readers) == 1  # the reader ran once, on the whole answer
