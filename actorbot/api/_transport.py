"""JSON calls over pooled keep-alive ``http.client`` connections.

A bot's hot path is one small JSON POST per reply. Through ``requests`` that costs about
0.5 ms of CPU (adapters, hooks, cookie jars, header merging); ``http.client`` does the
same request for a fifth of that. Uploads, downloads and anything behind a proxy still go
through ``requests``, which handles them well. Errors map to the same typed errors.
"""

from __future__ import annotations

import http.client
import os
import select
import socket
import ssl
import threading
import urllib.request
from collections.abc import Callable
from email.message import Message
from typing import Any, Final
from urllib.parse import urlsplit

from requests.utils import DEFAULT_CA_BUNDLE_PATH

from actorbot._redact import redact
from actorbot.api._errors import ConnectError, ConnectionLost, NetworkError, ReadTimeout

_HEADERS: Final = {"Content-Type": "application/json", "Connection": "keep-alive",
                   "Accept-Encoding": "identity"}


class Answer:
    """What the client needs of an HTTP answer (the same names as ``requests.Response``)."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: Message, content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


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
        self._pool_maxsize = pool_maxsize
        self._connect_timeout = connect_timeout
        self._token = token
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._context = _ssl_context() if self._https else None

    def post(self, method: str, path: str, body: bytes, read_timeout: float) -> Answer:
        """POST ``body`` to ``path`` (below the base URL); raises typed network errors."""
        conn, reused = self._checkout(method)
        try:
            try:
                conn.request("POST", self._prefix + path, body, _HEADERS)
            except (BrokenPipeError, ConnectionResetError):
                if not reused:
                    raise
                # The server closed this idle connection just now: nothing reached it.
                conn.close()
                conn, reused = self._connect(method), False
                conn.request("POST", self._prefix + path, body, _HEADERS)
            assert conn.sock is not None
            conn.sock.settimeout(read_timeout)
            response = conn.getresponse()
            content = response.read()
        except TimeoutError as exc:
            conn.close()
            raise self._error(ReadTimeout, "no answer in time", method, exc) from None
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise self._error(ConnectionLost, "connection lost", method, exc) from None
        except BaseException:
            conn.close()
            raise
        if response.will_close:
            conn.close()
        else:
            self._checkin(conn)
        return Answer(response.status, response.headers, content)

    def _checkout(self, method: str) -> tuple[http.client.HTTPConnection, bool]:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._connect(method), False
            if not _dropped(conn):
                return conn, True
            conn.close()

    def _checkin(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self._pool_maxsize:
                self._idle.append(conn)
                return
        conn.close()

    def _connect(self, method: str) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection
        if self._https:
            conn = http.client.HTTPSConnection(self._host, self._port,
                                               timeout=self._connect_timeout,
                                               context=self._context)
        else:
            conn = http.client.HTTPConnection(self._host, self._port,
                                              timeout=self._connect_timeout)
        try:
            conn.connect()
        except (OSError, ssl.SSLError) as exc:
            conn.close()
            raise self._error(ConnectError, "could not connect", method, exc) from None
        assert conn.sock is not None
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

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


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """An idle keep-alive connection the server closed (readable means EOF or junk)."""
    sock: Any = conn.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
