"""JSON calls over pooled keep-alive sockets, with a minimal HTTP/1.1 exchange.

A bot's hot path is one small JSON POST per reply. Through ``requests`` that costs about
0.5 ms of CPU (adapters, hooks, cookie jars, header merging), and even ``http.client``
parses every answer's headers with the ``email`` package and reads through a file object.
Here a request is one ``sendall`` and an answer usually one ``recv``; only what the client
needs is parsed (status, ``Content-Length`` or chunked framing, ``Connection``,
``Retry-After``). Uploads, downloads and anything behind a proxy still go through
``requests``. Errors map to the same typed errors.
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
from actorbot.errors import ConnectError, ConnectionLost, NetworkError, ReadTimeout

_MAX_HEAD: Final = 64 * 1024  # a Bot API answer's status line and headers are far smaller
_CHUNK: Final = 64 * 1024


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


class _Conn:
    """One keep-alive connection and the bytes read past the last answer."""

    __slots__ = ("buffer", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def _more(self) -> bytes:
        data = self.sock.recv(_CHUNK)
        if not data:
            raise _Broken("the server closed the connection")
        return data

    def read_answer(self) -> tuple[int, Headers, bytes, bool]:
        """Status, headers, body, and whether the connection may be reused."""
        buffer = self.buffer
        while (end := buffer.find(b"\r\n\r\n")) < 0 and len(buffer) <= _MAX_HEAD:
            buffer += self._more()
        if end < 0 or end > _MAX_HEAD:
            raise _Broken("the answer's headers are too long")
        lines = buffer[:end].decode("latin-1").split("\r\n")
        rest = buffer[end + 4:]
        version, _, status_text = lines[0].partition(" ")
        if not version.startswith("HTTP/1.") or not status_text[:3].isdigit():
            raise _Broken(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
        status = int(status_text[:3])
        headers = Headers()
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        connection = headers.get("connection", "") or ""
        keep = version == "HTTP/1.1" and "close" not in connection.lower()
        if "chunked" in (headers.get("transfer-encoding") or "").lower():
            body, rest = self._chunked(rest)
        elif (length := headers.get("content-length")) is not None:
            size = int(length)
            while len(rest) < size:
                rest += self._more()
            body, rest = rest[:size], rest[size:]
        elif status in (204, 304) or 100 <= status < 200:
            body = b""
        else:  # delimited by the end of the connection
            chunks = [rest]
            while data := self.sock.recv(_CHUNK):
                chunks.append(data)
            body, rest, keep = b"".join(chunks), b"", False
        self.buffer = rest
        return status, headers, body, keep

    def _chunked(self, data: bytes) -> tuple[bytes, bytes]:
        parts: list[bytes] = []
        while True:
            while (eol := data.find(b"\r\n")) < 0:
                data += self._more()
            size = int(data[:eol].split(b";")[0], 16)
            data = data[eol + 2:]
            if size == 0:  # trailers, then an empty line
                while (end := data.find(b"\r\n")) != 0:
                    if end > 0:
                        data = data[end + 2:]
                    else:
                        data += self._more()
                return b"".join(parts), data[2:]
            while len(data) < size + 2:
                data += self._more()
            parts.append(data[:size])
            data = data[size + 2:]


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
        parts = urlsplit(base_url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/")
        default_port = self._port == (443 if self._https else 80)
        host = f"[{self._host}]" if ":" in self._host else self._host
        self._head = (f"Host: {host if default_port else f'{host}:{self._port}'}\r\n"
                      "Content-Type: application/json\r\nAccept-Encoding: identity\r\n"
                      "Connection: keep-alive\r\n")
        self._pool_maxsize = pool_maxsize
        self._connect_timeout = connect_timeout
        self._token = token
        self._idle: list[_Conn] = []
        self._lock = threading.Lock()
        self._context = _ssl_context() if self._https else None

    def post(self, method: str, path: str, body: bytes, read_timeout: float) -> Answer:
        """POST ``body`` to ``path`` (below the base URL); raises typed network errors."""
        request = (f"POST {self._prefix}{path} HTTP/1.1\r\n{self._head}"
                   f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body
        conn, reused = self._checkout(method)
        try:
            try:
                conn.sock.sendall(request)
            except (BrokenPipeError, ConnectionResetError):
                if not reused:
                    raise
                # The server closed this idle connection just now: nothing reached it.
                conn.close()
                conn, reused = self._connect(method), False
                conn.sock.sendall(request)
            conn.sock.settimeout(read_timeout)
            status, headers, content, keep = conn.read_answer()
        except TimeoutError as exc:
            conn.close()
            raise self._error(ReadTimeout, "no answer in time", method, exc) from None
        except (OSError, ValueError, _Broken) as exc:
            conn.close()
            raise self._error(ConnectionLost, "connection lost", method, exc) from None
        except BaseException:
            conn.close()
            raise
        if keep:
            self._checkin(conn)
        else:
            conn.close()
        return Answer(status, headers, content)

    def _checkout(self, method: str) -> tuple[_Conn, bool]:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._connect(method), False
            if not conn.buffer and not _dropped(conn):  # closed while idle? (like urllib3)
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
        detail = redact(f"{type(exc).__name__}: {exc}", self._token)
        return kind(f"{what} ({detail})", method=method)

    def close(self) -> None:
        """Close the idle connections (the transport stays usable, as a Session does)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def __repr__(self) -> str:
        return f"JsonTransport(host={self._host!r}, idle={len(self._idle)})"


def _dropped(conn: _Conn) -> bool:
    """An idle keep-alive connection the server closed (readable means EOF or junk)."""
    try:
        readable, _, _ = select.select([conn.sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
