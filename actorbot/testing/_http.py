"""A lean threaded HTTP/1.1 server: just what a Bot API client needs, and fast.

``http.server.BaseHTTPRequestHandler`` parses headers with the ``email`` package and writes
through a buffered file; on the hot path of every benchmark that costs more than the fake's
own work. This server reads requests with one ``recv`` buffer per connection, answers each
with a single ``sendall`` (Content-Length, keep-alive) and runs one thread per connection,
so a handler that blocks (long poll, emulated latency) holds up only its own connection.

Every thread it starts is joined by :meth:`HttpServer.stop`.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Final

MAX_HEAD: Final = 64 * 1024
MAX_BODY: Final = 64 * 1024 * 1024
_RECV: Final = 256 * 1024
_SLOW_CHUNKS: Final = 8
_GRACE: Final = 2.0


@dataclass(slots=True)
class Request:
    """One parsed HTTP request. Header names are lower-case."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class Response:
    """What to answer. ``drop`` closes the connection without answering; ``slow_body``
    spreads the body over that many seconds (emulates a slow or stalled network)."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    drop: bool = False
    slow_body: float = 0.0


RequestHandler = Callable[[Request], Response]


class _BadRequest(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status


def _status_line(status: int) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    return f"HTTP/1.1 {status} {phrase}\r\n".encode("latin-1")


_STATUS_LINES: Final = {s.value: _status_line(s.value) for s in HTTPStatus}


def render_head(response: Response, body_len: int, close: bool) -> bytes:
    """Status line and headers of ``response``, ending with the blank line."""
    parts = [
        _STATUS_LINES.get(response.status) or _status_line(response.status),
        b"Content-Type: ",
        response.content_type.encode("latin-1"),
        b"\r\nContent-Length: ",
        str(body_len).encode(),
        b"\r\n",
    ]
    for name, value in response.headers:
        parts.append(f"{name}: {value}\r\n".encode("latin-1"))
    if close:
        parts.append(b"Connection: close\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)


@dataclass(slots=True, eq=False)
class _Conn:
    sock: socket.socket
    thread: threading.Thread | None = None
    buf: bytearray = field(default_factory=bytearray)


class HttpServer:
    """Threaded HTTP/1.1 server on ``host``; ``port=0`` picks a free port."""

    def __init__(
        self,
        handler: RequestHandler,
        stop_event: threading.Event,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._handler = handler
        self._stopping = stop_event
        self._listener = socket.create_server((host, port), backlog=128)
        self._listener.setblocking(False)
        self.host, self.port = self._listener.getsockname()[:2]
        self._wake_r, self._wake_w = socket.socketpair()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._busy = 0  # requests being handled or answered
        self._conns: set[_Conn] = set()
        self._threads: set[threading.Thread] = set()  # joined on stop, even when finishing
        self._accept_thread: threading.Thread | None = None
        self._counter = 0
        #: Exceptions raised by the handler (answered 500); tests of the fake assert it empty.
        self.errors: list[Exception] = []

    def start(self) -> None:
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"fake-telegram-{self.port}-accept", daemon=True
        )
        self._accept_thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, close every connection and join every thread."""
        self._stopping.set()
        self._wake_w.send(b"x")
        if self._accept_thread is not None:
            self._accept_thread.join(timeout)
        with self._lock:
            # let requests already being handled (e.g. long polls just woken) answer first
            self._idle.wait_for(lambda: self._busy == 0, min(timeout, _GRACE))
            conns = list(self._conns)
            threads = list(self._threads)
        for conn in conns:
            _shutdown(conn.sock)
        for thread in threads:
            thread.join(timeout)
        self._listener.close()
        self._wake_r.close()
        self._wake_w.close()

    def close_all_connections(self) -> int:
        """Close every open client connection (the server keeps accepting); returns how many."""
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            _shutdown(conn.sock)
        return len(conns)

    @property
    def connection_count(self) -> int:
        with self._lock:
            return len(self._conns)

    def _accept_loop(self) -> None:
        with selectors.DefaultSelector() as sel:
            sel.register(self._listener, selectors.EVENT_READ)
            sel.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in sel.select():
                    if key.fileobj is self._listener:
                        self._accept_one()

    def _accept_one(self) -> None:
        try:
            sock, _ = self._listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        sock.setblocking(True)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = _Conn(sock)
        with self._lock:
            if self._stopping.is_set():
                sock.close()
                return
            self._counter += 1
            self._threads = {t for t in self._threads if t.is_alive()}
            conn.thread = threading.Thread(
                target=self._serve,
                args=(conn,),
                name=f"fake-telegram-{self.port}-conn-{self._counter}",
                daemon=True,
            )
            self._conns.add(conn)
            self._threads.add(conn.thread)
        conn.thread.start()

    def _serve(self, conn: _Conn) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    request, keep_alive = self._read_request(conn)
                except _BadRequest as exc:
                    body = exc.args[0].encode()
                    head = render_head(
                        Response(exc.status, content_type="text/plain"), len(body), True
                    )
                    conn.sock.sendall(head + body)
                    return
                if request is None:
                    return
                with self._lock:
                    self._busy += 1
                try:
                    if not self._answer(conn, request, keep_alive):
                        return
                finally:
                    with self._lock:
                        self._busy -= 1
                        self._idle.notify_all()
        except OSError:
            return
        finally:
            with self._lock:
                self._conns.discard(conn)
            _shutdown(conn.sock)
            conn.sock.close()

    def _answer(self, conn: _Conn, request: Request, keep_alive: bool) -> bool:
        """Handle one request and write the answer; False when the connection must close."""
        try:
            response = self._handler(request)
        except Exception as exc:  # noqa: BLE001  (a bug in the fake must not kill the connection)
            with self._lock:
                self.errors.append(exc)
            body = b'{"ok":false,"error_code":500,"description":"Internal Server Error"}'
            response = Response(500, body)
        if response.drop:
            return False
        keep_alive = keep_alive and not self._stopping.is_set()
        self._write(conn, response, not keep_alive)
        return keep_alive

    def _write(self, conn: _Conn, response: Response, close: bool) -> None:
        body = response.body
        head = render_head(response, len(body), close)
        if response.slow_body <= 0 or not body:
            conn.sock.sendall(head + body)
            return
        conn.sock.sendall(head)
        step = max(1, -(-len(body) // _SLOW_CHUNKS))
        pause = response.slow_body / -(-len(body) // step)
        for start in range(0, len(body), step):
            if self._stopping.wait(pause):
                return
            conn.sock.sendall(body[start : start + step])

    def _fill(self, conn: _Conn) -> bool:
        chunk = conn.sock.recv(_RECV)
        if not chunk:
            return False
        conn.buf += chunk
        return True

    def _read_exact(self, conn: _Conn, n: int) -> bytes:
        while len(conn.buf) < n:
            if not self._fill(conn):
                raise _BadRequest(400, "truncated body")
        data = bytes(conn.buf[:n])
        del conn.buf[:n]
        return data

    def _read_line(self, conn: _Conn) -> bytes:
        while (end := conn.buf.find(b"\r\n")) < 0:
            if len(conn.buf) > MAX_HEAD or not self._fill(conn):
                raise _BadRequest(400, "bad chunked body")
        line = bytes(conn.buf[:end])
        del conn.buf[: end + 2]
        return line

    def _read_request(self, conn: _Conn) -> tuple[Request | None, bool]:
        buf = conn.buf
        while (end := buf.find(b"\r\n\r\n")) < 0:
            if len(buf) > MAX_HEAD:
                raise _BadRequest(431, "request header too large")
            if not self._fill(conn):
                if buf.strip():
                    raise _BadRequest(400, "truncated request")
                return None, False
        if end > MAX_HEAD:
            raise _BadRequest(431, "request header too large")
        head = bytes(buf[:end]).decode("latin-1")
        del buf[: end + 4]
        lines = head.lstrip("\r\n").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            raise _BadRequest(400, "bad request line")
        method, target, version = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise _BadRequest(400, "bad header line")
            headers[name.strip().lower()] = value.strip()
        connection = headers.get("connection", "").lower()
        if version == "HTTP/1.1":
            keep_alive = "close" not in connection
        else:
            keep_alive = "keep-alive" in connection
        body = self._read_body(conn, headers)
        path, _, query = target.partition("?")
        return Request(method.upper(), path, query, headers, body), keep_alive

    def _read_body(self, conn: _Conn, headers: dict[str, str]) -> bytes:
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        length_text = headers.get("content-length")
        if not chunked and length_text is None:
            return b""
        if headers.get("expect", "").lower() == "100-continue" and not conn.buf:
            conn.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        if chunked:
            return self._read_chunked(conn)
        try:
            length = int(length_text or "0")
        except ValueError:
            raise _BadRequest(400, "bad content-length") from None
        if length < 0 or length > MAX_BODY:
            raise _BadRequest(413, "body too large")
        return self._read_exact(conn, length)

    def _read_chunked(self, conn: _Conn) -> bytes:
        out = bytearray()
        while True:
            size_text = self._read_line(conn).split(b";")[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _BadRequest(400, "bad chunk size") from None
            if size == 0:
                while self._read_line(conn):
                    pass  # trailers
                return bytes(out)
            if len(out) + size > MAX_BODY:
                raise _BadRequest(413, "body too large")
            out += self._read_exact(conn, size)
            self._read_exact(conn, 2)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
