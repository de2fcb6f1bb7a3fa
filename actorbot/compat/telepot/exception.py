"""telepot's exceptions, raised as subclasses of actorbot's typed errors too.

A failed call raises what telepot raised (``TelegramError`` and its description-matched
subclasses such as ``BotWasBlockedError``, with ``description``, ``error_code`` and
``json``), and the same object is also the actorbot error behind it (``Forbidden``,
``RetryAfter`` ...), so old ``except`` clauses and new ones both work. Subclasses a
program defines with ``DESCRIPTION_PATTERNS`` are honoured, as in telepot.
"""

from __future__ import annotations

import re
import threading
from typing import Any, ClassVar

from actorbot.errors import ApiError, ChatMigrated, InvalidResponse, RetryAfter, Unauthorized
from actorbot.errors import TelegramError as _ActorbotError

__all__ = [
    "BadFlavor",
    "BadHTTPResponse",
    "BotWasBlockedError",
    "BotWasKickedError",
    "EventNotFound",
    "IdleTerminate",
    "MigratedToSupergroupChatError",
    "NotEnoughRightsError",
    "StopListening",
    "TelegramError",
    "TelepotException",
    "TooManyRequestsError",
    "UnauthorizedError",
    "WaitTooLong",
    "translate",
]


class TelepotException(Exception):
    """Base of telepot's own exceptions."""


class BadFlavor(TelepotException):
    """A message of no flavor telepot knows.

    Its text names the offender's type and keys only: it is logged when a handler lets it
    through, and message text is never logged (``offender`` still has the whole object).
    """

    def __init__(self, offender: Any) -> None:
        super().__init__(offender)

    @property
    def offender(self) -> Any:
        return self.args[0]

    def __str__(self) -> str:
        offender = self.offender
        if isinstance(offender, dict):
            return f"no flavor for a dict with keys {sorted(map(str, offender))}"
        if isinstance(offender, str):
            return f"no such flavor: {offender[:40]!r}"
        return f"no flavor for a {type(offender).__name__}"

    def __repr__(self) -> str:
        return f"BadFlavor({self})"


class BadHTTPResponse(TelepotException, InvalidResponse):
    """The server answered something that is not a Bot API response."""

    def __init__(self, status: int, text: str, response: Any = None) -> None:
        InvalidResponse.__init__(self, status, text)
        self.args = (status, text, response)

    @property
    def text(self) -> str:
        return str(self.args[1])

    @property
    def response(self) -> Any:
        return self.args[2]


class EventNotFound(TelepotException):
    """A scheduled event to cancel is no longer scheduled."""

    def __init__(self, event: Any) -> None:
        super().__init__(event)

    @property
    def event(self) -> Any:
        return self.args[0]


class WaitTooLong(TelepotException):
    """``Listener.wait()`` saw no matching message within its timeout."""

    def __init__(self, seconds: float | None) -> None:
        super().__init__(seconds)

    @property
    def seconds(self) -> float | None:
        value: float | None = self.args[0]
        return value


class IdleTerminate(WaitTooLong):
    """A handler closes because it was idle for its timeout: a normal exit."""


class StopListening(TelepotException):
    """A handler asked to close (``self.close(code, reason)``), or the bot is stopping: a
    normal exit. ``code`` and ``reason`` are what ``close`` was given (telepot 6.3)."""

    def __init__(self, code: Any = None, reason: Any = None) -> None:
        super().__init__(code, reason)

    @property
    def code(self) -> Any:
        return self.args[0]

    @property
    def reason(self) -> Any:
        return self.args[1]


class TelegramError(TelepotException, ApiError):
    """Telegram refused a call. ``args`` is ``(description, error_code, json)`` as in telepot."""

    DESCRIPTION_PATTERNS: ClassVar[list[str]] = []

    def __init__(self, description: str, error_code: int, json: dict[str, Any]) -> None:
        ApiError.__init__(self, error_code, description, json.get("parameters"))
        self.args = (description, error_code, json)

    @property
    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = self.args[2]
        return value


class UnauthorizedError(TelegramError):
    DESCRIPTION_PATTERNS: ClassVar[list[str]] = ["unauthorized"]


class BotWasKickedError(TelegramError):
    DESCRIPTION_PATTERNS: ClassVar[list[str]] = ["bot.*kicked"]


class BotWasBlockedError(TelegramError):
    DESCRIPTION_PATTERNS: ClassVar[list[str]] = ["bot.*blocked"]


class TooManyRequestsError(TelegramError):
    DESCRIPTION_PATTERNS: ClassVar[list[str]] = ["too *many *requests"]


class MigratedToSupergroupChatError(TelegramError):
    DESCRIPTION_PATTERNS: ClassVar[list[str]] = ["migrated.*supergroup *chat"]


class NotEnoughRightsError(TelegramError):
    DESCRIPTION_PATTERNS: ClassVar[list[str]] = ["not *enough *rights"]


# When no description pattern matches, the actorbot type decides (Telegram's wording
# changes; the status and parameters do not).
_BY_TYPE: tuple[tuple[type[ApiError], type[TelegramError]], ...] = (
    (RetryAfter, TooManyRequestsError),
    (ChatMigrated, MigratedToSupergroupChatError),
    (Unauthorized, UnauthorizedError),
)

_combined: dict[tuple[type[Exception], type[Exception]], type[Exception]] = {}
_combined_lock = threading.Lock()


def _combine(telepot_cls: type[Exception], actorbot_cls: type[Exception]) -> type[Exception]:
    """``telepot_cls`` that is also ``actorbot_cls`` (cached), named like the telepot class."""
    if issubclass(telepot_cls, actorbot_cls):
        return telepot_cls
    key = (telepot_cls, actorbot_cls)
    with _combined_lock:
        cls = _combined.get(key)
        if cls is None:
            attrs = {"__module__": telepot_cls.__module__, "__qualname__": telepot_cls.__qualname__}
            cls = _combined[key] = type(telepot_cls.__name__, (telepot_cls, actorbot_cls), attrs)
        return cls


def _subclasses(cls: type[TelegramError]) -> list[type[TelegramError]]:
    found: list[type[TelegramError]] = []
    for sub in cls.__subclasses__():
        if sub not in _combined.values():
            found.append(sub)
            found.extend(_subclasses(sub))
    return found


def _telepot_class(error: ApiError) -> type[TelegramError]:
    for cls in _subclasses(TelegramError):
        if any(re.search(p, error.description, re.IGNORECASE) for p in cls.DESCRIPTION_PATTERNS):
            return cls
    return next((t for a, t in _BY_TYPE if isinstance(error, a)), TelegramError)


def translate(error: BaseException) -> BaseException:
    """The telepot exception for an actorbot error (others are returned unchanged)."""
    if isinstance(error, TelepotException) or not isinstance(error, _ActorbotError):
        return error
    if isinstance(error, ApiError):
        body = {"ok": False, "error_code": error.error_code, "description": error.description}
        if error.parameters:
            body["parameters"] = dict(error.parameters)
        cls = _combine(_telepot_class(error), type(error))
        out = cls(error.description, error.error_code, body)
    elif isinstance(error, InvalidResponse):
        out = _combine(BadHTTPResponse, type(error))(error.status, str(error), None)
    else:
        return error  # network errors and the sender's own: no telepot equivalent
    out.method = error.method  # type: ignore[attr-defined]
    return out
