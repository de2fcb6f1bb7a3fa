"""JSON calls over pooled keep-alive sockets, with a minimal HTTP/1.1 exchange.

A bot's hot path is one small JSON POST per reply. Through ``requests`` that costs about
0.5 ms of CPU (adapters, hooks, cookie jars, header merging), and even ``http.client``
parses every answer's headers with the ``email`` package and reads through a file object.
Here a request is one ``sendall`` and an answer usually one ``recv``; only what the client
needs is parsed (status, ``Content-Length`` or chunked framing, ``Connection``,
``Retry-After``). Uploads, downloads and anything behind a proxy still go through
``requests``. Errors map to the same typed errors.

Hardened against what a broken or hostile server sends: heads and bodies are bounded
(:class:`ResponseTooLarge`), buffering is linear in the answer's size, interim 1xx answers
are skipped, repeated headers joined; idle connections are checked with ``poll`` (which,
unlike ``select``, works for descriptors above 1023). A reused connection reset before a
byte of its answer arrived was closed before our request could be read: it is sent again,
once, on a new connection, whatever the method.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import ssl
import threading
import urllib.request
from collections.abc import Callable
from typing import Final
from urllib.parse import urlsplit

from requests.utils import DEFAULT_CA_BUNDLE_PATH

from actorbot.api._redact import redact
from actorbot.errors import (
    ConnectError,
    ConnectionLost,
    NetworkError,
    ReadTimeout,
    ResponseTooLarge,
)

_MAX_HEAD: Final = 64 * 1024  # a Bot API answer's status line and headers are far smaller
_MAX_BODY: Final = 64 * 1024 * 1024  # getUpdates of 100 large updates is a few MB
_MAX_CHUNK_LINE: Final = 1024
_CHUNK: Final = 64 * 1024
_HEX: Final = frozenset(b"0123456789abcdefABCDEF")


class Headers(dict[str, str]):
    """Response headers by lower-case name; ``get`` is case-insensitive like requests'."""

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(key.lower(), default)


class Answer:
    """What the client needs of an HTTP answer (the same names as ``requests.Response``)."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: Headers, content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class _Broken(Exception):
    """The connection ended or spoke something that is not HTTP/1.x."""


class _TooLarge(Exception):
    """The answer's head or body passed its bound."""


class _Reader:
    """Reads HTTP/1.x answers from ``recv`` into one ``bytearray``: appends and front
    deletions are amortised O(1) and every search resumes where the last one stopped, so
    an answer costs time linear in its size however it is split into packets. Heads and
    bodies are bounded (``_TooLarge``); interim 1xx answers are skipped; repeated headers
    are joined with ", " (RFC 9110), except conflicting ``Content-Length`` values."""

    __slots__ = ("buf", "max_body", "max_head", "received", "recv")

    def __init__(self, recv: Callable[[], bytes], *, max_head: int = _MAX_HEAD,
                 max_body: int = _MAX_BODY) -> None:
        self.recv = recv
        self.buf = bytearray()
        self.received = 0  # bytes of the current answer so far
        self.max_head = max_head
        self.max_body = max_body

    def _fill(self) -> None:
        data = self.recv()
        if not data:
            raise _Broken("the server closed the connection")
        self.received += len(data)
        self.buf += data

    def _until(self, mark: bytes, limit: int) -> bytes:
        """The bytes before ``mark`` (consumed with it), at most ``limit`` of them."""
        start = 0
        while (end := self.buf.find(mark, start)) < 0:
            if len(self.buf) > limit + len(mark):
                raise _TooLarge(f"more than {limit} bytes before {mark!r}")
            start = max(len(self.buf) - len(mark) + 1, 0)
            self._fill()
        if end > limit:
            raise _TooLarge(f"more than {limit} bytes before {mark!r}")
        data = bytes(self.buf[:end])
        del self.buf[:end + len(mark)]
        return data

    def _exactly(self, size: int) -> bytes:
        while len(self.buf) < size:
            self._fill()
        data = bytes(self.buf[:size])
        del self.buf[:size]
        return data

    def answer(self) -> tuple[int, Headers, bytes, bool]:
        """Status, headers, body, and whether the connection may be reused."""
        self.received = len(self.buf)
        while True:
            version, status, headers = self._head()
            if not 100 <= status < 200 or status == 101:
                break  # 100 Continue, 103 Early Hints...: the real answer follows
        connection = (headers.get("connection") or "").lower()
        keep = version == "HTTP/1.1" and "close" not in connection
        coding = (headers.get("transfer-encoding") or "").lower()
        if status in (101, 204, 304):
            body = b""
        elif coding:
            if coding.rsplit(",", 1)[-1].strip() != "chunked":
                raise _Broken(f"unsupported transfer coding {coding!r}")
            body = self._chunked()
        elif (length := headers.get("content-length")) is not None:
            body = self._exactly(self._length(length))
        else:  # delimited by the end of the connection
            while True:
                if len(self.buf) > self.max_body:
                    raise _TooLarge(f"a body of more than {self.max_body} bytes")
                data = self.recv()
                if not data:
                    break
                self.buf += data
            body, keep = bytes(self.buf), False
            self.buf.clear()
        return status, headers, body, keep

    def _head(self) -> tuple[str, int, Headers]:
        lines = self._until(b"\r\n\r\n", self.max_head).decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if (version not in ("HTTP/1.0", "HTTP/1.1") or len(code) != 3 or not code.isdigit()
                or rest[3:4] not in ("", " ")):
            raise _Broken(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
        headers = Headers()
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            name = name.lower()
            if not colon or not name or name != name.strip():
                raise _Broken(f"not a header line: {line[:80]!r}")
            value = value.strip(" \t")
            if name in headers:
                if name == "content-length" and headers[name] != value:
                    raise _Broken("conflicting Content-Length headers")
                if name != "content-length":
                    value = f"{headers[name]}, {value}"
            headers[name] = value
        return version, int(code), headers

    def _length(self, text: str) -> int:
        if not text.isascii() or not text.isdigit():
            raise _Broken(f"not a Content-Length: {text[:20]!r}")
        size = int(text)
        if size > self.max_body:
            raise _TooLarge(f"a body of {size} bytes (at most {self.max_body})")
        return size

    def _chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self._until(b"\r\n", _MAX_CHUNK_LINE).split(b";", 1)[0].strip(b" \t")
            if not line or any(c not in _HEX for c in line):
                raise _Broken(f"not a chunk size: {line[:20]!r}")
            size = int(line, 16)
            if size == 0:
                break
            total += size
            if total > self.max_body:
                raise _TooLarge(f"a body of more than {self.max_body} bytes")
            parts.append(self._exactly(size))
            if self._exactly(2) != b"\r\n":
                raise _Broken("a chunk does not end with CRLF")
        trailers = 0
        while line := self._until(b"\r\n", self.max_head):  # trailers, then an empty line
            trailers += len(line)
            if trailers > self.max_head:
                raise _TooLarge(f"more than {self.max_head} bytes of trailers")
        return b"".join(parts)


class _Conn:
    """One keep-alive connection and the bytes read past the last answer."""

    __slots__ = ("reader", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = _Reader(self._recv)

    def _recv(self) -> bytes:
        return self.sock.recv(_CHUNK)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def read_answer(self) -> tuple[int, Headers, bytes, bool]:
        return self.reader.answer()


def network_error(kind: Callable[..., NetworkError], what: str, method: str,
                  exc: BaseException, token: str) -> NetworkError:
    detail = redact(f"{type(exc).__name__}: {exc}", token)
    return kind(f"{what} ({detail})", method=method)


def failure(exc: BaseException, method: str, token: str) -> BaseException:
    """The typed error an exchange that raised ``exc`` ends in (``exc`` itself when it
    is none of the network's: a cancellation, a bug)."""
    if isinstance(exc, TimeoutError):
        return network_error(ReadTimeout, "no answer in time", method, exc, token)
    if isinstance(exc, _TooLarge):
        return network_error(ResponseTooLarge, "answer too large", method, exc, token)
    if isinstance(exc, OSError | ValueError | _Broken):
        return network_error(ConnectionLost, "connection lost", method, exc, token)
    return exc


def request_head(base_url: str) -> tuple[str, int, str, bool, str]:
    """Host, port, path prefix, whether TLS, and the fixed request headers for an origin."""
    parts = urlsplit(base_url)
    https = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if https else 80)
    default_port = port == (443 if https else 80)
    name = f"[{host}]" if ":" in host else host
    head = (f"Host: {name if default_port else f'{name}:{port}'}\r\n"
            "Content-Type: application/json\r\nAccept-Encoding: identity\r\n"
            "Connection: keep-alive\r\n")
    return host, port, parts.path.rstrip("/"), https, head


def usable_for(base_url: str) -> bool:
    """True unless the base URL needs what only ``requests`` offers (a proxy)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    proxies = urllib.request.getproxies()
    if parts.scheme not in proxies and "all" not in proxies:
        return True
    return bool(urllib.request.proxy_bypass(parts.hostname))


def _ssl_context() -> ssl.SSLContext:
    # requests' CA choices: REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE, else certifi's bundle.
    bundle = (os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
              or DEFAULT_CA_BUNDLE_PATH)
    return ssl.create_default_context(cafile=bundle)


class JsonTransport:
    """POSTs JSON bodies to one origin; thread-safe, at most ``pool_maxsize`` idle
    connections kept (more may be open at once, like urllib3's non-blocking pool)."""

    def __init__(self, base_url: str, *, pool_maxsize: int, connect_timeout: float,
                 token: str) -> None:
        self._host, self._port, self._prefix, self._https, self._head = request_head(base_url)
        self._pool_maxsize = pool_maxsize
        self._connect_timeout = connect_timeout
        self._token = token
        self._idle: list[_Conn] = []
        self._lock = threading.Lock()
        self._context = _ssl_context() if self._https else None

    def post(self, method: str, body: bytes, read_timeout: float) -> Answer:
        """POST ``body`` to the bot's ``method``; raises typed network errors.

        The request line (and so the token) lives only in :meth:`_exchange`'s frame: a
        traceback renderer that shows frame locals (structlog's ``dict_tracebacks``)
        would show it here.
        """
        conn, reused = self._checkout(method)
        try:
            try:
                status, headers, content, keep = self._exchange(conn, method, body, read_timeout)
            except (BrokenPipeError, ConnectionResetError):
                if not reused or conn.reader.received:
                    raise
                # A reused connection the server had closed: a reset, before a byte of an
                # answer, means our request met a closed socket and was never read. Any
                # method may go again, once, on a new connection.
                conn.close()
                conn = self._connect(method)
                status, headers, content, keep = self._exchange(conn, method, body, read_timeout)
        except BaseException as exc:
            conn.close()
            error = failure(exc, method, self._token)
            if error is exc:
                raise
            raise error from None
        if keep:
            self._checkin(conn)
        else:
            conn.close()
        return Answer(status, headers, content)

    def _exchange(self, conn: _Conn, method: str, body: bytes,
                  read_timeout: float) -> tuple[int, Headers, bytes, bool]:
        request = (f"POST {self._prefix}/bot{self._token}/{method} HTTP/1.1\r\n{self._head}"
                   f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body
        conn.sock.sendall(request)
        conn.sock.settimeout(read_timeout)
        return conn.read_answer()

    def _checkout(self, method: str) -> tuple[_Conn, bool]:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._connect(method), False
            if not conn.reader.buf and not _dropped(conn):  # closed while idle? (like urllib3)
                return conn, True
            conn.close()

    def _checkin(self, conn: _Conn) -> None:
        with self._lock:
            if len(self._idle) < self._pool_maxsize:
                self._idle.append(conn)
                return
        conn.close()

    def _connect(self, method: str) -> _Conn:
        try:
            sock = socket.create_connection((self._host, self._port),
                                            timeout=self._connect_timeout)
        except OSError as exc:
            raise self._error(ConnectError, "could not connect", method, exc) from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._context is not None:
                sock = self._context.wrap_socket(sock, server_hostname=self._host)
        except (OSError, ssl.SSLError) as exc:
            sock.close()
            raise self._error(ConnectError, "could not connect", method, exc) from None
        return _Conn(sock)

    def _error(self, kind: Callable[..., NetworkError], what: str, method: str,
               exc: BaseException) -> NetworkError:
        return network_error(kind, what, method, exc, self._token)

    def close(self) -> None:
        """Close the idle connections (the transport stays usable, as a Session does)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def __repr__(self) -> str:
        return f"JsonTransport(host={self._host!r}, idle={len(self._idle)})"


_GONE: Final = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP | select.POLLNVAL


def _dropped(conn: _Conn) -> bool:
    return dropped(conn.sock)


def dropped(sock: socket.socket) -> bool:
    """An idle keep-alive connection the server closed (readable means EOF or junk).

    ``poll``, not ``select``: ``select`` fails for descriptors above 1023, and a busy
    process has those, which would make every idle connection look dropped.
    """
    try:
        poller = select.poll()
        poller.register(sock, _GONE)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True
