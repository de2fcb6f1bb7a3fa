"""``--webhook-url`` (``actorbot run``, ``actorbot intake``): :class:`~actorbot.WebhookApp`
on a small threaded WSGI server from the standard library.

Meant to sit behind the TLS-terminating reverse proxy Telegram talks to, so it listens on
127.0.0.1 by default. Any WSGI server can host ``WebhookApp`` instead; this one only spares
a command-line user from writing that glue.
"""

from __future__ import annotations

import argparse
import secrets
from collections.abc import Mapping
from typing import Self

from actorbot.errors import ConfigError
from actorbot.intake import Feed, WebhookApp, WSGIThreadServer

#: Where the webhook's secret token is read from: never the command line (ps shows it).
WEBHOOK_SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"  # noqa: S105 - a name too


def add_webhook_arguments(parser: argparse.ArgumentParser, *, shared: bool = False) -> None:
    """``--webhook-url``, ``--webhook-listen``, ``--webhook-secret-env``; ``shared``: the
    secret must be given (several processes take the webhook, each checks it)."""
    unset = ("required: every intake must check the same secret" if shared
             else "unset: a random one per run")
    parser.add_argument("--webhook-url", metavar="URL",
                        help="receive updates by webhook instead of polling: Telegram POSTs "
                             "to this HTTPS URL, which your reverse proxy forwards to "
                             "--webhook-listen")
    parser.add_argument("--webhook-listen", default="127.0.0.1:8080", metavar="HOST:PORT",
                        help="where the webhook server listens (default: %(default)s)")
    parser.add_argument("--webhook-secret-env", default=WEBHOOK_SECRET_ENV, metavar="VAR",
                        help="environment variable with the webhook's secret token "
                             f"(default: %(default)s; {unset})")


def check_intake(args: argparse.Namespace) -> None:
    """Options that contradict each other are an error, not one of them ignored."""
    if args.webhook_url and args.delete_webhook:
        raise ConfigError("--delete-webhook is for polling; --webhook-url sets a webhook")


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) -> (host, port)."""
    host, colon, port = text.rpartition(":")
    if not colon or not port.isdigit() or not host:
        raise ConfigError(f"expected HOST:PORT, not {text!r}")
    return host.strip("[]"), int(port)


def webhook_secret(environ: Mapping[str, str], name: str, *, shared: bool = False) -> str:
    """The secret Telegram must send back: from ``name`` if set, else a fresh random one
    (``setWebhook`` runs at every start, so a new secret per run is fine for one process).
    ``shared``: it must be set; each of several intakes calls ``setWebhook``, and with a
    secret of its own each would make Telegram's requests to the others fail."""
    secret = environ.get(name, "").strip()
    if not secret and shared:
        raise ConfigError(f"set the webhook's secret token in the environment variable "
                          f"{name}: every webhook intake must check the same one")
    return secret or secrets.token_urlsafe(32)


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
