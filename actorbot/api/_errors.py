"""Typed errors for everything that can go wrong talking to the Bot API.

Classification follows Telegram's advice (``error_code`` may change, so HTTP status and
``parameters`` decide first; description text only for cases with no other signal):

- :class:`ApiError`: Telegram answered and refused. Subclasses per status.
- :class:`NetworkError`: no usable answer; ``may_have_reached`` says whether the request
  could have taken effect (decides whether a non-idempotent call may be retried).
- :class:`InvalidResponse`: an answer that is not a Bot API response at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class TelegramError(Exception):
    """Base of every error the client raises."""

    def __init__(self, message: str, *, method: str | None = None) -> None:
        super().__init__(message)
        self.method = method


class ApiError(TelegramError):
    """Telegram answered ``ok: false``."""

    def __init__(
        self,
        error_code: int,
        description: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        method: str | None = None,
    ) -> None:
        where = f"{method}: " if method else ""
        super().__init__(f"{where}[{error_code}] {description}", method=method)
        self.error_code = error_code
        self.description = description
        self.parameters: dict[str, Any] = dict(parameters or {})


class BadRequest(ApiError):
    """400: the call itself is wrong; retrying it unchanged cannot help."""


class ChatMigrated(BadRequest):
    """400 with ``migrate_to_chat_id``: the group became a supergroup with a new id."""

    @property
    def migrate_to_chat_id(self) -> int:
        return int(self.parameters["migrate_to_chat_id"])


class MessageNotModified(BadRequest):
    """400 for an edit with identical content: usually safe to treat as success."""


class QueryExpired(BadRequest):
    """400 for answering a callback or inline query too late or twice."""


class LoggedOut(BadRequest):
    """400 ``Logged out``: the bot called ``logOut`` on this server; fatal here."""


class Unauthorized(ApiError):
    """401 (or 421): the token is invalid, revoked, or not served by this server. Fatal."""


class Forbidden(ApiError):
    """403: blocked by the user, kicked from the chat, or not allowed to write there."""


class NotFound(ApiError):
    """404: unknown method or URL; a programming or configuration error."""


class Conflict(ApiError):
    """409: another ``getUpdates`` poller, or a webhook, owns this bot's updates."""


class RetryAfter(ApiError):
    """429 flood control: repeat this call after ``retry_after`` seconds, not sooner."""

    @property
    def retry_after(self) -> int:
        return int(self.parameters.get("retry_after", 1))


class ServerError(ApiError):
    """5xx (JSON or not): transient; retry with backoff if the call is safe to repeat."""


class NetworkError(TelegramError):
    """The request failed below HTTP: no Bot API answer was received."""

    may_have_reached = True

    def __init__(self, message: str, *, method: str | None = None) -> None:
        super().__init__(f"{method}: {message}" if method else message, method=method)


class ConnectError(NetworkError):
    """The connection could not be opened: the request never reached the server."""

    may_have_reached = False


class ReadTimeout(NetworkError):
    """The request was sent but no answer came in time: it may have taken effect."""


class ConnectionLost(NetworkError):
    """The connection broke after the request was (perhaps) sent."""


class InvalidResponse(TelegramError):
    """The server answered something that is not a Bot API response (bad JSON, wrong shape)."""

    def __init__(self, status: int, detail: str, *, method: str | None = None) -> None:
        where = f"{method}: " if method else ""
        super().__init__(f"{where}invalid response (HTTP {status}): {detail}", method=method)
        self.status = status


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    421: Unauthorized,
    429: RetryAfter,
}

_BAD_REQUEST_PREFIXES: tuple[tuple[str, type[BadRequest]], ...] = (
    ("bad request: message is not modified", MessageNotModified),
    ("bad request: query is too old", QueryExpired),
    ("logged out", LoggedOut),
)


def error_from_response(
    status: int,
    error_code: int,
    description: str,
    parameters: Mapping[str, Any] | None,
    *,
    method: str | None = None,
) -> ApiError:
    """Build the most specific error for one ``ok: false`` response."""
    params = parameters or {}
    cls: type[ApiError]
    if "retry_after" in params or status == 429:
        cls = RetryAfter
    elif "migrate_to_chat_id" in params:
        cls = ChatMigrated
    elif status >= 500:
        cls = ServerError
    else:
        cls = _BY_STATUS.get(status) or _BY_STATUS.get(error_code) or ApiError
        if cls is BadRequest:
            lowered = description.lower()
            cls = next((c for p, c in _BAD_REQUEST_PREFIXES if lowered.startswith(p)), BadRequest)
    return cls(error_code, description, params, method=method)
