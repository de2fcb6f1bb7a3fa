"""Everything actorbot raises, under one base class: :class:`ActorbotError`.

Catch :class:`ActorbotError` for anything of ours; :class:`TelegramError` for anything
about a Bot API call (:class:`ApiError`: Telegram answered and refused, one subclass per
status; :class:`NetworkError`: no usable answer, with ``may_have_reached`` saying whether a
non-idempotent call may be retried; :class:`InvalidResponse`: an answer that is not a Bot
API response; :class:`SenderError`: the sender gave up without an answer). Misuse raises
:class:`ConfigError` (a ``ValueError``) or :class:`StateError` (a ``RuntimeError``; the
engine's :class:`NotRunning` is one); a wrong argument type is Python's ``TypeError``.

The module is the bottom layer of the package: it imports nothing from actorbot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

#: Why :class:`AuthDataInvalid` refused data (code can branch on it).
Reason = Literal[
    "malformed",          # not a query string, a field with a newline, a bad JSON field...
    "duplicate_field",    # one key twice: which value was signed?
    "missing_hash",
    "hash_mismatch",
    "missing_signature",
    "signature_mismatch",
    "missing_auth_date",
    "expired",
]


class ActorbotError(Exception):
    """Base of every exception actorbot raises on purpose."""


class ConfigError(ActorbotError, ValueError):
    """Settings or arguments that are invalid or contradict each other, refused before
    anything was done."""


class StateError(ActorbotError, RuntimeError):
    """A call that the object's state does not allow: started twice, used after close."""


class NotRunning(StateError):
    """The engine is not running (not started yet, stopping or stopped) for this call."""


class TelegramError(ActorbotError):
    """Base of every error about a Bot API call: Telegram refused it, or no answer came."""

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


class ResponseTooLarge(NetworkError):
    """The answer's headers or body passed the transport's bound: it was not read (the
    connection is closed), and the call may have taken effect."""


class InvalidResponse(TelegramError):
    """The server answered something that is not a Bot API response (bad JSON, wrong shape)."""

    def __init__(self, status: int, detail: str, *, method: str | None = None) -> None:
        where = f"{method}: " if method else ""
        super().__init__(f"{where}invalid response (HTTP {status}): {detail}", method=method)
        self.status = status


class SenderError(TelegramError):
    """The sender refused or gave up on a call without an answer from Telegram."""


class SenderQueueFull(SenderError):
    """``max_queue`` calls are already waiting."""


class TooLate(SenderError):
    """A callback or inline query answer waited past the time Telegram accepts it."""


class SenderStopped(SenderError):
    """The sender stopped (or its flush deadline passed) before the call could be made."""


class PollingStopped(ActorbotError):
    """Polling cannot go on (bad token, webhook set, another poller...): see ``cause``."""

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.cause = cause


class AsyncHookError(ActorbotError, TypeError):
    """A coroutine where nothing could await it: an ``async def`` hook the engine cannot
    run on its event loop, or an awaitable returned by a plain ``def`` hook of a handler
    that runs on a thread. Raised at ``Engine()`` or handled as the hook's failure."""


class NoSuchDeadLetter(ActorbotError, LookupError):
    """``replay_dead_letter`` was given an ``update_id`` the journal holds no dead letter
    for (never parked, already replayed, or dropped past ``max_dead_letters``)."""


class EngineBusy(ActorbotError):
    """``feed`` waited ``timeout`` seconds for room: hand the update in again later (a
    webhook answers 429 with ``Retry-After``)."""

    retry_after = 1


class StateCodecError(ActorbotError, ValueError):
    """A handler's declared state could not be encoded or decoded (or migrated): the
    engine logs it and goes on with a fresh state rather than crash-looping on one row."""


class StateStoreError(ActorbotError):
    """A state store could not read or write (Redis unreachable, a locked file...)."""


class AuthDataInvalid(ActorbotError, ValueError):
    """Refused data; ``reason`` is one of :data:`Reason`, for code to branch on."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason: Reason = reason


class InitDataInvalid(AuthDataInvalid):
    """A Mini App's ``initData`` was refused."""


class LoginInvalid(AuthDataInvalid):
    """Login Widget data was refused."""
