"""Which typed error one ``ok: false`` Bot API response becomes.

Classification follows Telegram's advice (``error_code`` may change, so HTTP status and
``parameters`` decide first; description text only for cases with no other signal). The
classes themselves live in :mod:`actorbot.errors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actorbot.errors import (
    ApiError,
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    LoggedOut,
    MessageNotModified,
    NotFound,
    QueryExpired,
    RetryAfter,
    ServerError,
    Unauthorized,
)

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
