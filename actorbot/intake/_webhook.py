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

import hashlib
import hmac
import io
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any, Final
from urllib.parse import urlsplit
from wsgiref.types import StartResponse, WSGIEnvironment

import structlog

from actorbot.api import Client, InputFileLike
from actorbot.errors import ConfigError, TelegramError
from actorbot.intake._settings import Polling, update_types

log = structlog.get_logger("actorbot.webhook")

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
_SECRET_ENVIRON: Final = "HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN"  # noqa: S105
#: Telegram's rule for ``secret_token``: 1-256 characters A-Z, a-z, 0-9, _ and -.
_SECRET_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")
#: Updates are a few KiB; a MiB leaves room for long texts and many entities.
DEFAULT_MAX_BODY: Final = 1 << 20

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


def _digest(secret: bytes) -> bytes:
    """Compare digests, not secrets: equal lengths, so not even the length leaks."""
    return hashlib.sha256(secret).digest()


class _Reject(Exception):
    def __init__(self, status: str, reason: str, counter: str) -> None:
        super().__init__(reason)
        self.status, self.reason, self.counter = status, reason, counter


def _read(stream: IO[bytes], size: int) -> bytes:
    """Up to ``size`` bytes: WSGI servers may return short reads. A body the server cannot
    decode (cheroot: a bad chunk size) is the client's fault: a 400, not a 500."""
    chunks: list[bytes] = []
    while size > 0:
        try:
            chunk = stream.read(size)
        except Exception as exc:  # noqa: BLE001 - whatever the server raises for bad input
            raise _Reject("400 Bad Request", f"body unreadable ({type(exc).__name__})",
                          "bad_request") from None
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
    """

    def __init__(
        self, feed: Feed, *, secret_token: str | None, max_body: int = DEFAULT_MAX_BODY
    ) -> None:
        if max_body < 1:
            raise ConfigError("max_body must be positive")
        self._feed = feed
        self._secret = None if secret_token is None else _digest(secret_token.encode())
        self.max_body = max_body
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        secret = "<hidden>" if self._secret is not None else None
        return f"WebhookApp(secret_token={secret}, max_body={self.max_body})"

    def stats(self) -> dict[str, int]:
        """Requests by outcome: accepted, bad_method, unauthorized, too_large, bad_request,
        refused (``feed`` raised)."""
        with self._lock:
            return dict(self._counts)

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        headers: list[tuple[str, str]] = []
        try:
            update = self._update(environ)
        except _Reject as reject:
            self._count(reject.counter)
            log.info("webhook.rejected", status=int(reject.status[:3]), reason=reject.reason,
                     remote=environ.get("REMOTE_ADDR"))
            if reject.counter == "bad_method":
                headers.append(("Allow", "POST"))
            return _answer(start_response, reject.status, reject.reason, headers)
        try:
            self._feed(update)
        except Exception as exc:  # noqa: BLE001 - any refusal: Telegram retries, we go on
            self._count("refused")
            retry_after = getattr(exc, "retry_after", None)
            status = "503 Service Unavailable"
            if isinstance(retry_after, int | float) and not isinstance(retry_after, bool):
                status = "429 Too Many Requests"
                headers.append(("Retry-After", str(max(int(retry_after), 1))))
            log.warning("webhook.refused", update_id=update["update_id"],
                        error=type(exc).__name__, status=int(status[:3]))
            return _answer(start_response, status, "not accepted now, retry", headers)
        self._count("accepted")
        return _answer(start_response, "200 OK", "", headers)

    def _update(self, environ: WSGIEnvironment) -> dict[str, Any]:
        """The checked update of a request, or :class:`_Reject`."""
        if environ.get("REQUEST_METHOD") != "POST":
            raise _Reject("405 Method Not Allowed", "only POST", "bad_method")
        if self._secret is not None:
            given = environ.get(_SECRET_ENVIRON)
            if given is None:
                raise _Reject("401 Unauthorized", "secret token missing", "unauthorized")
            digest = _digest(str(given).encode("latin-1", "replace"))
            if not hmac.compare_digest(digest, self._secret):
                raise _Reject("403 Forbidden", "wrong secret token", "unauthorized")
        body = self._body(environ)
        try:
            update = json.loads(body)
        except (ValueError, RecursionError):
            raise _Reject("400 Bad Request", "body is not JSON", "bad_request") from None
        if not isinstance(update, dict):
            raise _Reject("400 Bad Request", "body is not a JSON object", "bad_request")
        uid = update.get("update_id")
        if not isinstance(uid, int) or isinstance(uid, bool):
            raise _Reject("400 Bad Request", "update_id missing", "bad_request")
        return update

    def _body(self, environ: WSGIEnvironment) -> bytes:
        stream = environ.get("wsgi.input") or io.BytesIO()
        raw = environ.get("CONTENT_LENGTH") or ""
        too_large = _Reject("413 Content Too Large", "body too large", "too_large")
        if not raw:
            if not environ.get("wsgi.input_terminated"):
                raise _Reject("411 Length Required", "Content-Length missing", "bad_request")
            body = _read(stream, self.max_body + 1)
            if len(body) > self.max_body:
                raise too_large
            return body
        try:
            length = int(raw)
        except ValueError:
            length = -1
        if length < 0:
            raise _Reject("400 Bad Request", "bad Content-Length", "bad_request")
        if length > self.max_body:
            raise too_large
        body = _read(stream, length)
        if len(body) < length:
            raise _Reject("400 Bad Request", "body shorter than Content-Length", "bad_request")
        return body


def _answer(
    start_response: StartResponse, status: str, text: str, headers: list[tuple[str, str]]
) -> list[bytes]:
    body = text.encode()
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"),
                            ("Content-Length", str(len(body))), *headers])
    return [body]
