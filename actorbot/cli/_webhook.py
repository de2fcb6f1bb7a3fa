"""``actorbot run --webhook-url``: the engine's :class:`~actorbot.WebhookApp` on a
small threaded WSGI server from the standard library.

Meant to sit behind the TLS-terminating reverse proxy Telegram talks to, so it listens on
127.0.0.1 by default. Any WSGI server can host ``WebhookApp`` instead; this one only spares
a command-line user from writing that glue.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Self

from actorbot.errors import ConfigError
from actorbot.intake import Feed, WebhookApp, WSGIThreadServer


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) -> (host, port)."""
    host, colon, port = text.rpartition(":")
    if not colon or not port.isdigit() or not host:
        raise ConfigError(f"expected HOST:PORT, not {text!r}")
    return host.strip("[]"), int(port)


def webhook_secret(environ: Mapping[str, str], name: str) -> str:
    """The secret Telegram must send back: from ``name`` if set, else a fresh random one
    (``setWebhook`` runs at every start, so a new secret per run is fine)."""
    return environ.get(name, "").strip() or secrets.token_urlsafe(32)


class WebhookServer:
    """Serves ``WebhookApp(feed)`` on ``host:port`` from one thread (plus one per request)."""

    def __init__(self, feed: Feed, secret_token: str, host: str, port: int) -> None:
        self.app = WebhookApp(feed, secret_token=secret_token)
        self._server = WSGIThreadServer(self.app, host, port, name="actorbot-webhook")

    @property
    def port(self) -> int:
        return self._server.port

    def start(self) -> Self:
        self._server.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Within ``timeout``, even with clients that connected and never sent a request."""
        self._server.stop(timeout)
