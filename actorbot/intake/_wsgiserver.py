"""A small threaded WSGI server from the standard library, for the webhook and metrics.

``wsgiref`` alone is not enough: its request handlers read without a timeout, so one client
that connects and sends nothing holds a thread forever, blocks a single-threaded server's
every other request, and makes ``shutdown()``/``server_close()`` wait for it forever.
Here every connection has its own thread and a socket timeout, and
:meth:`WSGIThreadServer.stop` ends idle connections (their reads see end-of-file; a request
already read still gets its answer) and joins every thread within its deadline.

Connections are kept alive (HTTP/1.1) when the framing allows it: the request's body had
a ``Content-Length`` (or there was none) the application read to the end, and the answer
has a length too. Otherwise
the answer says ``Connection: close``. A webhook's 40 parallel connections then stay open
instead of one connection and one thread per update (``benchmarks/webhook.py``).
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from collections.abc import Callable
from typing import IO, Any, Final, Self, cast
from wsgiref.headers import Headers
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import WSGIApplication

#: Seconds a client may take to send its request (Telegram and Prometheus send at once).
REQUEST_TIMEOUT: Final = 10.0


class _Input:
    """``wsgi.input`` that ends at ``Content-Length``; what it did not read shows in
    ``left`` (then the connection cannot carry another request)."""

    def __init__(self, stream: io.BufferedIOBase, length: int) -> None:
        self._stream = stream
        self.left = length

    def read(self, size: int | None = -1) -> bytes:
        return self._take(self._stream.read, size)

    def readline(self, size: int | None = -1) -> bytes:
        return self._take(self._stream.readline, size)

    def _take(self, read: Callable[[int], bytes], size: int | None) -> bytes:
        if size is None or size < 0 or size > self.left:
            size = self.left
        data = read(size) if size else b""
        self.left -= len(data)
        return data

    def readlines(self, hint: int = -1) -> list[bytes]:
        return list(iter(self.readline, b""))

    def __iter__(self) -> Any:
        return iter(self.readline, b"")


class _Answer(ServerHandler):
    """wsgiref's handler, answering HTTP/1.1 with ``Connection: close`` where needed."""

    http_version = "1.1"
    body: _Input | None = None
    request_handler: _QuietHandler
    headers: Headers

    def cleanup_headers(self) -> None:
        super().cleanup_headers()  # a one-chunk answer gets its Content-Length here
        handler = self.request_handler
        unread = self.body is None or self.body.left > 0
        if handler.close_connection or unread or "Content-Length" not in self.headers:
            handler.close_connection = True
            self.headers["Connection"] = "close"


class _QuietHandler(WSGIRequestHandler):
    timeout = REQUEST_TIMEOUT
    protocol_version = "HTTP/1.1"
    #: wsgiref writes the head and the body apart: with Nagle's algorithm, a kept-alive
    #: connection's body then waits for the client's delayed ACK (40 ms on Linux).
    disable_nagle_algorithm = True
    server: WSGIServer

    def log_message(self, format: str, *args: Any) -> None:
        """The application logs what matters, not every request."""

    def handle(self) -> None:
        """Requests until the client or the framing closes the connection."""
        self.close_connection = True
        self._one()
        while not self.close_connection:
            self._one()

    def _one(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except TimeoutError:  # idle past the timeout: close
            self.close_connection = True
            return
        if not self.raw_requestline:  # end-of-file: the client or stop() ended it
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.close_connection = True
            self.send_error(414)
            return
        if not self.parse_request():  # it answered the error
            self.close_connection = True
            return
        length = self.headers.get("Content-Length", "0")
        body: _Input | None = None
        stdin: Any = io.BytesIO()
        if length.isdigit() and "Transfer-Encoding" not in self.headers:
            body = stdin = _Input(self.rfile, int(length))  # no length and no chunks: empty
        else:  # a body the app cannot delimit: nothing of it is read, and the answer closes
            self.close_connection = True
        answer = _Answer(stdin, cast(IO[bytes], self.wfile), self.get_stderr(),
                         self.get_environ(), multithread=True)
        answer.request_handler = self
        answer.body = body
        app = self.server.get_app()
        assert app is not None  # set by make_server
        answer.run(app)


class _Server(WSGIServer):
    """One thread per connection, each one known, so that stop can end and join them."""

    #: The listen backlog (socketserver's default is 5): Telegram opens up to 100
    #: connections at once, and a refused one counts as a failed delivery.
    request_queue_size = 128

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.thread_name = "actorbot-wsgi"
        self._open: dict[socket.socket, threading.Thread] = {}
        self._open_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self._handle, args=(request, client_address),
                                  name=f"{self.thread_name}-request", daemon=True)
        with self._open_lock:
            self._open[request] = thread
        thread.start()

    def _handle(self, request: Any, client_address: Any) -> None:
        try:
            with contextlib.suppress(Exception):  # a client gone mid-request: not our error
                self.finish_request(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._open_lock:
                self._open.pop(request, None)

    def end_requests(self, deadline: float) -> bool:
        """Wake every reader with end-of-file, join the request threads by ``deadline``."""
        with self._open_lock:
            open_requests = dict(self._open)
        for sock in open_requests:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RD)
        for thread in open_requests.values():
            thread.join(max(deadline - time.monotonic(), 0.0))
        return not any(thread.is_alive() for thread in open_requests.values())


class WSGIThreadServer:
    """Serves ``app`` on ``host:port`` (0: a free port) from a thread named ``name``."""

    def __init__(self, app: WSGIApplication, host: str, port: int, *, name: str) -> None:
        self._server = make_server(host, port, app, server_class=_Server,
                                   handler_class=_QuietHandler)
        assert isinstance(self._server, _Server)
        self._server.thread_name = name
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.5,),
                                        name=name, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_port

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop accepting, end the connections, join every thread; True if all ended."""
        deadline = time.monotonic() + timeout
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(max(deadline - time.monotonic(), 0.0))
        done = self._server.end_requests(deadline)
        self._server.server_close()
        return done and not self._thread.is_alive()
