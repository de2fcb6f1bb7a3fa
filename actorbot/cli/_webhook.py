"""``actorbot run --webhook-url``: the engine's :class:`~actorbot.webhook.WebhookApp` on a
small threaded WSGI server from the standard library.

Meant to sit behind the TLS-terminating reverse proxy Telegram talks to, so it listens on
127.0.0.1 by default. Any WSGI server can host ``WebhookApp`` instead; this one only spares
a command-line user from writing that glue.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from socketserver import ThreadingMixIn
from typing import Any, Self
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from actorbot.webhook import Feed, WebhookApp


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = False
    block_on_close = True  # server_close() joins the request threads


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """WebhookApp logs what matters (webhook.rejected/refused), not every request."""


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) -> (host, port)."""
    host, colon, port = text.rpartition(":")
    if not colon or not port.isdigit() or not host:
        raise ValueError(f"expected HOST:PORT, not {text!r}")
    return host.strip("[]"), int(port)


def webhook_secret(environ: Mapping[str, str], name: str) -> str:
    """The secret Telegram must send back: from ``name`` if set, else a fresh random one
    (``setWebhook`` runs at every start, so a new secret per run is fine)."""
    return environ.get(name, "").strip() or secrets.token_urlsafe(32)


class WebhookServer:
    """Serves ``WebhookApp(feed)`` on ``host:port`` from one thread (plus one per request)."""

    def __init__(self, feed: Feed, secret_token: str, host: str, port: int) -> None:
        self.app = WebhookApp(feed, secret_token=secret_token)
        self._server: WSGIServer = make_server(host, port, self.app, server_class=_Server,
                                               handler_class=_Quiet)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.5,),
                                        name="actorbot-webhook", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_port

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout)
        self._server.server_close()
