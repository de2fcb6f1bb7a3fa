"""A small threaded WSGI server from the standard library, for the webhook and metrics.

``wsgiref`` alone is not enough: its request handlers read without a timeout, so one client
that connects and sends nothing holds a thread forever, blocks a single-threaded server's
every other request, and makes ``shutdown()``/``server_close()`` wait for it forever.
Here every request has its own thread and a socket timeout, and :meth:`WSGIThreadServer.stop`
ends idle connections (their reads see end-of-file; a request already read still gets its
answer) and joins every thread within its deadline.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any, Final, Self
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import WSGIApplication

#: Seconds a client may take to send its request (Telegram and Prometheus send at once).
REQUEST_TIMEOUT: Final = 10.0


class _QuietHandler(WSGIRequestHandler):
    timeout = REQUEST_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        """The application logs what matters, not every request."""


class _Server(WSGIServer):
    """One thread per request, each one known, so that stop can end and join them."""

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
