"""What every webhook app checks and answers, whatever the server interface (WSGI, ASGI).

:class:`Gate` holds the secret's digest, the body limit and the counters; the apps only
move bytes. Checking is split where the I/O is: :meth:`Gate.head` before the body is read
(method, secret, length: nothing is read from a request that fails these),
:meth:`Gate.update` on the body, :meth:`Gate.refused` when ``feed`` raises. So the WSGI
and the ASGI app cannot drift apart in what they accept or how they answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any, Final

import structlog

from actorbot.errors import ConfigError

log = structlog.get_logger("actorbot.webhook")

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
#: Updates are a few KiB; a MiB leaves room for long texts and many entities.
DEFAULT_MAX_BODY: Final = 1 << 20
#: An answer without a body: Telegram only looks at the status.
_PLAIN: Final = ("Content-Type", "text/plain; charset=utf-8")


def _digest(secret: bytes) -> bytes:
    """Compare digests, not secrets: equal lengths, so not even the length leaks."""
    return hashlib.sha256(secret).digest()


@dataclass(frozen=True, slots=True)
class Answer:
    """A response: status line (``"200 OK"``), body text, extra headers."""

    status: str
    text: str = ""
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def code(self) -> int:
        return int(self.status[:3])

    def headers(self) -> list[tuple[str, str]]:
        body = len(self.text.encode())
        return [_PLAIN, ("Content-Length", str(body)), *self.extra]


ACCEPTED: Final = Answer("200 OK")
NO_HEADERS: tuple[tuple[str, str], ...] = ()


class Reject(Exception):  # a control-flow signal inside the apps, never raised out
    """The request is answered with ``answer`` and counted as ``counter``."""

    def __init__(self, status: str, reason: str, counter: str,
                 extra: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(reason)
        self.answer = Answer(status, reason, extra)
        self.counter = counter


def too_large() -> Reject:
    return Reject("413 Content Too Large", "body too large", "too_large")


def unreadable(error: BaseException) -> Reject:
    """A body the server cannot decode (a bad chunk, a client that stalls): its fault."""
    return Reject("400 Bad Request", f"body unreadable ({type(error).__name__})", "bad_request")


class Gate:
    """The checks, answers and counters one webhook app shares between its requests."""

    def __init__(self, secret_token: str | None, max_body: int) -> None:
        if max_body < 1:
            raise ConfigError("max_body must be positive")
        self._secret = None if secret_token is None else _digest(secret_token.encode())
        self.max_body = max_body
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    @property
    def guarded(self) -> bool:
        return self._secret is not None

    def stats(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def head(self, method: str | None, secret: str | None, length: str | None,
             terminated: bool) -> int | None:
        """Check what comes before the body; the exact length to read, or None: read to
        the end of a terminated (chunked) body, at most ``max_body + 1`` bytes."""
        if method != "POST":
            raise Reject("405 Method Not Allowed", "only POST", "bad_method",
                         (("Allow", "POST"),))
        if self._secret is not None:
            if secret is None:
                raise Reject("401 Unauthorized", "secret token missing", "unauthorized")
            digest = _digest(secret.encode("latin-1", "replace"))
            if not hmac.compare_digest(digest, self._secret):
                raise Reject("403 Forbidden", "wrong secret token", "unauthorized")
        if not length:
            if not terminated:
                raise Reject("411 Length Required", "Content-Length missing", "bad_request")
            return None
        try:
            size = int(length)
        except ValueError:
            size = -1
        if size < 0:
            raise Reject("400 Bad Request", "bad Content-Length", "bad_request")
        if size > self.max_body:
            raise too_large()
        return size

    def body(self, body: bytes, length: int | None) -> bytes:
        """The body as read against what :meth:`head` expected."""
        if length is None:
            if len(body) > self.max_body:
                raise too_large()
        elif len(body) < length:
            raise Reject("400 Bad Request", "body shorter than Content-Length", "bad_request")
        return body

    @staticmethod
    def update(body: bytes) -> dict[str, Any]:
        """The update in a body: a JSON object with an integer ``update_id``."""
        try:
            update = json.loads(body)
        except (ValueError, RecursionError):
            raise Reject("400 Bad Request", "body is not JSON", "bad_request") from None
        if not isinstance(update, dict):
            raise Reject("400 Bad Request", "body is not a JSON object", "bad_request")
        uid = update.get("update_id")
        if not isinstance(uid, int) or isinstance(uid, bool):
            raise Reject("400 Bad Request", "update_id missing", "bad_request")
        return update

    def rejected(self, reject: Reject, remote: object) -> Answer:
        self.count(reject.counter)
        log.info("webhook.rejected", status=reject.answer.code, reason=str(reject),
                 remote=remote)
        return reject.answer

    def refused(self, update: dict[str, Any], exc: BaseException) -> Answer:
        """``feed`` raised: 429 with ``Retry-After`` if it says when, else 503. Never 200,
        so Telegram sends the update again."""
        self.count("refused")
        retry_after = getattr(exc, "retry_after", None)
        status, extra = "503 Service Unavailable", NO_HEADERS
        if isinstance(retry_after, int | float) and not isinstance(retry_after, bool):
            status = "429 Too Many Requests"
            extra = (("Retry-After", str(max(int(retry_after), 1))),)
        log.warning("webhook.refused", update_id=update["update_id"],
                    error=type(exc).__name__, status=int(status[:3]))
        return Answer(status, "not accepted now, retry", extra)

    def accepted(self) -> Answer:
        self.count("accepted")
        return ACCEPTED

    def describe(self, name: str) -> str:
        secret = "<hidden>" if self._secret is not None else None
        return f"{name}(secret_token={secret}, max_body={self.max_body})"
