"""JSON calls from an event loop, over the loop's own keep-alive connections.

A sender on an engine's event loop would otherwise hand every call to an HTTP worker
thread and its answer back to the loop: two thread wake-ups per call, and the GIL passed
between threads on every ``recv``. Here the loop writes the request and the answer
arrives through the loop's selector, with no thread in between. The exchange is
:class:`~actorbot.api._transport.JsonTransport`'s: the same request, the same bounded
:class:`~actorbot.api._transport._Reader` (run over the bytes received so far until an
answer is complete), the same typed errors, and the same single retry of a reused
connection reset before a byte of its answer arrived.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from typing import Final

from actorbot.api._transport import (
    _MAX_BODY,
    Answer,
    Headers,
    _Reader,
    _ssl_context,
    dropped,
    failure,
    network_error,
    request_head,
)
from actorbot.errors import ConnectError

_RESET: Final = (ConnectionResetError, BrokenPipeError)


class _Incomplete(Exception):
    """The answer has not all arrived yet."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection: the bytes received, and a wake-up when more come."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.data = bytearray()
        self.ended = False  # EOF or closed
        self.error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream transport

    def data_received(self, data: bytes) -> None:
        self.data += data
        self._wake()

    def eof_received(self) -> bool:
        self.ended = True
        self._wake()
        return False  # close

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        self.error = exc
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    @property
    def usable(self) -> bool:
        """Idle and still open, with nothing unasked-for received: also what the loop has
        not read yet (a close that just arrived), as the threaded transport checks."""
        if self.ended or self.data or self.transport is None:
            return False
        sock = self.transport.get_extra_info("socket")
        return sock is not None and not dropped(sock)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        self.ended = True

    async def answer(self) -> tuple[int, Headers, bytes, bool]:
        """The next whole answer (status, headers, body, keep-alive)."""
        while True:
            if self.error is not None and not self.data:
                raise self.error  # reset (or failed) before a byte of an answer
            parsed = self._parse()
            if parsed is not None:
                return parsed
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            await waiter

    def _parse(self) -> tuple[int, Headers, bytes, bool] | None:
        if not self.ended and _incomplete(self.data):
            return None
        received = bytes(self.data)
        given = False

        def recv() -> bytes:
            nonlocal given
            if not given:
                given = True
                return received
            if self.ended:
                return b""
            raise _Incomplete

        reader = _Reader(recv)
        try:
            answer = reader.answer()
        except _Incomplete:
            return None
        self.data = bytearray(reader.buf)  # anything past this answer
        return answer


_LENGTH: Final = re.compile(rb"\r\ncontent-length[ \t]*:[ \t]*(\d+)", re.IGNORECASE)
_CHUNKED: Final = re.compile(rb"\r\ntransfer-encoding[ \t]*:", re.IGNORECASE)


def _incomplete(data: bytearray) -> bool:
    """Whether more bytes are certainly needed before an answer can be whole.

    Only a hint, so that an answer arriving in many packets is parsed once, not once per
    packet; :class:`_Reader` decides. When in doubt (an interim 1xx, a 204), it says no.
    """
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return True
    head = bytes(data[:end])
    status = head[9:12]
    if status[:1] == b"1" or status in (b"204", b"304"):
        return False
    if _CHUNKED.search(head):
        return not data.endswith(b"\r\n\r\n")  # how every chunked body ends
    length = _LENGTH.search(head)
    if length is None:
        return True  # the body ends with the connection
    digits = length.group(1)
    if len(digits) > 12 or int(digits) > _MAX_BODY:
        return False  # the reader refuses it at once
    return len(data) < end + 4 + int(digits)


class LoopTransport:
    """POSTs JSON bodies to one origin from one event loop (not thread-safe: loop only).

    At most ``pool_maxsize`` idle connections are kept; more may be open at once.
    """

    def __init__(self, base_url: str, *, pool_maxsize: int, connect_timeout: float,
                 token: str) -> None:
        self._host, self._port, self._prefix, https, self._head = request_head(base_url)
        self._pool_maxsize = pool_maxsize
        self._connect_timeout = connect_timeout
        self._token = token
        self._idle: list[_Connection] = []
        self._context: ssl.SSLContext | None = _ssl_context() if https else None

    def __repr__(self) -> str:
        return f"LoopTransport(host={self._host!r}, idle={len(self._idle)})"

    async def post(self, method: str, body: bytes, read_timeout: float) -> Answer:
        """POST ``body`` to the bot's ``method``; raises typed network errors."""
        conn, reused = await self._checkout(method)
        try:
            try:
                status, headers, content, keep = await self._exchange(
                    conn, method, body, read_timeout)
            except _RESET:
                if not reused or conn.data:
                    raise
                # As JsonTransport: a reused connection reset before a byte of an answer
                # was closed before our request could be read; once more, on a new one.
                conn.close()
                conn = await self._connect(method)
                status, headers, content, keep = await self._exchange(
                    conn, method, body, read_timeout)
        except BaseException as exc:
            conn.close()
            error = failure(exc, method, self._token)
            if error is exc:
                raise
            raise error from None
        if keep and len(self._idle) < self._pool_maxsize:
            self._idle.append(conn)
        else:
            conn.close()
        return Answer(status, headers, content)

    async def _exchange(self, conn: _Connection, method: str, body: bytes,
                        read_timeout: float) -> tuple[int, Headers, bytes, bool]:
        request = (f"POST {self._prefix}/bot{self._token}/{method} HTTP/1.1\r\n{self._head}"
                   f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body
        assert conn.transport is not None  # connected
        conn.transport.write(request)
        async with asyncio.timeout(read_timeout):
            return await conn.answer()

    async def _checkout(self, method: str) -> tuple[_Connection, bool]:
        while self._idle:
            conn = self._idle.pop()
            if conn.usable:
                return conn, True
            conn.close()
        return await self._connect(method), False

    async def _connect(self, method: str) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, conn = await loop.create_connection(
                    _Connection, self._host, self._port, ssl=self._context,
                    server_hostname=self._host if self._context is not None else None)
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            error = network_error(ConnectError, "could not connect", method, exc, self._token)
            raise error from None
        return conn

    def close(self) -> None:
        """Close the idle connections (on the loop's thread)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
