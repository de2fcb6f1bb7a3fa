"""The Bot API client: typed errors, uploads, and one method per Bot API method."""

from actorbot.api._client import (
    DEFAULT_BASE_URL,
    Client,
    Connection,
    LoopSession,
    check_call,
    method_spec,
)
from actorbot.api._errors import error_from_response
from actorbot.api._files import InputFile, InputFileLike
from actorbot.api._methods import API_VERSION, METHODS
from actorbot.api._redact import REDACTED, redact
from actorbot.api._spec import MethodSpec
from actorbot.errors import (
    ApiError,
    BadRequest,
    ChatMigrated,
    Conflict,
    ConnectError,
    ConnectionLost,
    Forbidden,
    InvalidResponse,
    LoggedOut,
    MessageNotModified,
    NetworkError,
    NotFound,
    QueryExpired,
    ReadTimeout,
    ResponseTooLarge,
    RetryAfter,
    ServerError,
    TelegramError,
    Unauthorized,
)

__all__ = [
    "API_VERSION",
    "DEFAULT_BASE_URL",
    "METHODS",
    "REDACTED",
    "ApiError",
    "BadRequest",
    "ChatMigrated",
    "Client",
    "Conflict",
    "ConnectError",
    "Connection",
    "ConnectionLost",
    "Forbidden",
    "InputFile",
    "InputFileLike",
    "InvalidResponse",
    "LoggedOut",
    "LoopSession",
    "MessageNotModified",
    "MethodSpec",
    "NetworkError",
    "NotFound",
    "QueryExpired",
    "ReadTimeout",
    "ResponseTooLarge",
    "RetryAfter",
    "ServerError",
    "TelegramError",
    "Unauthorized",
    "check_call",
    "error_from_response",
    "method_spec",
    "redact",
]
