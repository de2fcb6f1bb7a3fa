"""Webhook intake: a plain WSGI application that hands Telegram's POSTs to the engine.

Mount :class:`WebhookApp` in any WSGI stack (Flask, Django, cheroot, gunicorn...): actorbot
needs no web framework. Each request is checked (method, secret token in constant time,
size, JSON shape) and the update is handed to ``engine.feed`` *before* the 200 answer.
Telegram sends a chat's next update only after that answer, so per-chat order holds
without any global re-ordering buffer. A refused hand-over (engine stopping, backpressure)
answers 429/503, never 200, so Telegram retries: an acknowledged update is always in the
engine. A bad request is answered and counted; it never reaches the engine.

:class:`Webhook` is the engine side: ``Engine(token, routes, webhook=Webhook(url, ...))``
calls ``setWebhook`` on start and, if asked, ``deleteWebhook`` on stop.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any, Final
from urllib.parse import urlsplit
from wsgiref.types import StartResponse, WSGIEnvironment

import structlog

from actorbot.api import Client, InputFileLike
from actorbot.errors import ConfigError, TelegramError
from actorbot.intake._gate import (
    DEFAULT_MAX_BODY,
    SECRET_HEADER,
    Answer,
    Gate,
    Reject,
    unreadable,
)
from actorbot.intake._settings import Polling, update_types

log = structlog.get_logger("actorbot.webhook")

__all__ = ["DEFAULT_MAX_BODY", "SECRET_HEADER", "Feed", "Webhook", "WebhookApp",
           "close_intake", "open_intake"]

_SECRET_ENVIRON: Final = "HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN"  # noqa: S105
#: Telegram's rule for ``secret_token``: 1-256 characters A-Z, a-z, 0-9, _ and -.
_SECRET_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")

Feed = Callable[[Any], object]


def _host_only(url: str) -> str:
    """The URL without its path or ``user:password@``: some deployments hide a secret (or
    the token) there."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}/..." if host else "<url>"


@dataclass(frozen=True, repr=False)
class Webhook:
    """Webhook intake (``Engine(intake=Webhook(url, ...))``): what ``setWebhook`` gets.

    Updates then come through a :class:`WebhookApp` (or any code) into ``engine.feed``.
    ``delete_on_stop=False`` (the default) leaves the webhook set when the engine stops, so
    Telegram keeps the updates that arrive meanwhile for the next start (a deploy, not an
    outage). ``max_connections`` (1-100, Telegram's default 40) bounds the parallel
    requests; ``allowed_updates``: the update types to receive (None: Telegram's default).
    """

    url: str
    secret_token: str | None = None
    max_connections: int | None = None
    drop_pending_updates: bool = False
    delete_on_stop: bool = False
    ip_address: str | None = None
    certificate: InputFileLike | None = None
    allowed_updates: Sequence[str] | None = None

    def __post_init__(self) -> None:
        if not self.url:
            raise ConfigError("a webhook needs a url")
        if self.secret_token is not None and not _SECRET_RE.fullmatch(self.secret_token):
            raise ConfigError("secret_token must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        if self.max_connections is not None and not 1 <= self.max_connections <= 100:
            raise ConfigError("max_connections must be between 1 and 100")
        object.__setattr__(self, "allowed_updates",
                           update_types(self.allowed_updates, "Webhook.allowed_updates"))

    def __repr__(self) -> str:
        secret = "<hidden>" if self.secret_token else None
        return (f"Webhook(url={_host_only(self.url)!r}, secret_token={secret}, "
                f"max_connections={self.max_connections}, "
                f"delete_on_stop={self.delete_on_stop})")


def open_intake(client: Client, intake: Polling | Webhook | None) -> None:
    """Before updates flow: set the webhook, or delete one so that polling may start."""
    if isinstance(intake, Webhook):
        types = intake.allowed_updates
        client.set_webhook(
            intake.url,
            certificate=intake.certificate,
            ip_address=intake.ip_address,
            max_connections=intake.max_connections,
            allowed_updates=None if types is None else list(types),
            drop_pending_updates=intake.drop_pending_updates or None,
            secret_token=intake.secret_token,
        )
        log.info("webhook.set", url=_host_only(intake.url), max_connections=intake.max_connections)
    elif isinstance(intake, Polling) and intake.delete_webhook:
        client.delete_webhook()  # pending updates stay, for getUpdates
        log.info("webhook.deleted", reason="polling")


def close_intake(client: Client, intake: Polling | Webhook | None) -> None:
    """On stop: delete the webhook if configured to; a failure is logged, stop goes on."""
    if not isinstance(intake, Webhook) or not intake.delete_on_stop:
        return
    try:
        client.delete_webhook()
    except TelegramError as exc:
        log.warning("webhook.delete_failed", error=type(exc).__name__)
    else:
        log.info("webhook.deleted", reason="stop")


def _read(stream: IO[bytes], size: int) -> bytes:
    """Up to ``size`` bytes: WSGI servers may return short reads. A body the server cannot
    decode (cheroot: a bad chunk size) is the client's fault: a 400, not a 500."""
    chunks: list[bytes] = []
    while size > 0:
        try:
            chunk = stream.read(size)
        except Exception as exc:  # noqa: BLE001 - whatever the server raises for bad input
            raise unreadable(exc) from None
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class WebhookApp:
    """The WSGI application Telegram POSTs updates to.

    ``feed`` takes one update (``engine.feed``, or a :class:`~actorbot.intake.Reorderer`).
    ``secret_token`` must equal the one given to ``setWebhook``; pass ``None`` only to
    accept requests from anyone who learns the URL. Answers: 200 once ``feed`` returned;
    405 for a method other than POST; 401 without the secret header, 403 with a wrong one
    (the value is never logged); 411/413 for a missing length or a body over
    ``max_body`` (not read); 400 for a body that is not a JSON object with an integer
    ``update_id``; 429 (with ``Retry-After``) or 503 when ``feed`` refuses the update.
    The checks and answers are :class:`~actorbot.intake.WebhookASGIApp`'s too.
    """

    def __init__(
        self, feed: Feed, *, secret_token: str | None, max_body: int = DEFAULT_MAX_BODY
    ) -> None:
        self._gate = Gate(secret_token, max_body)
        self._feed = feed
        self.max_body = max_body

    def __repr__(self) -> str:
        return self._gate.describe("WebhookApp")

    def stats(self) -> dict[str, int]:
        """Requests by outcome: accepted, bad_method, unauthorized, too_large, bad_request,
        refused (``feed`` raised)."""
        return self._gate.stats()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        gate = self._gate
        try:
            length = gate.head(environ.get("REQUEST_METHOD"), environ.get(_SECRET_ENVIRON),
                               environ.get("CONTENT_LENGTH"),
                               bool(environ.get("wsgi.input_terminated")))
            stream = environ.get("wsgi.input") or io.BytesIO()
            body = _read(stream, self.max_body + 1 if length is None else length)
            update = gate.update(gate.body(body, length))
        except Reject as reject:
            return _answer(start_response, gate.rejected(reject, environ.get("REMOTE_ADDR")))
        try:
            self._feed(update)
        except Exception as exc:  # noqa: BLE001 - any refusal: Telegram retries, we go on
            return _answer(start_response, gate.refused(update, exc))
        return _answer(start_response, gate.accepted())


def _answer(start_response: StartResponse, answer: Answer) -> list[bytes]:
    start_response(answer.status, answer.headers())
    return [answer.text.encode()]
