"""Telegram error answers, as the fake raises and renders them.

Texts are the real server's (``tests/data/botapi/errors.json``), so client code tested
against the fake matches on the same strings it will meet in production.
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

UNAUTHORIZED: Final = "Unauthorized"
INVALID_TOKEN: Final = "Unauthorized: invalid token specified"  # noqa: S105
NOT_FOUND: Final = "Not Found"
METHOD_NOT_FOUND: Final = "Not Found: method not found"
CONFLICT_WEBHOOK_ACTIVE: Final = (
    "Conflict: can't use getUpdates method while webhook is active;"
    " use deleteWebhook to delete the webhook first"
)
CONFLICT_OTHER_POLL: Final = (
    "Conflict: terminated by other getUpdates request;"
    " make sure that only one bot instance is running"
)
CONFLICT_SET_WEBHOOK: Final = "Conflict: terminated by setWebhook request"
BLOCKED: Final = "Forbidden: bot was blocked by the user"
MIGRATED: Final = "Bad Request: group chat was upgraded to a supergroup chat"
CHAT_NOT_FOUND: Final = "Bad Request: chat not found"
QUERY_INVALID: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup"
    " are exactly the same as a current content and reply markup of the message"
)
TEXT_EMPTY: Final = "Bad Request: message text is empty"
TEXT_TOO_LONG: Final = "Bad Request: message is too long"
WRONG_FILE_ID: Final = "Bad Request: wrong file identifier/HTTP URL specified"
RESTART: Final = "Internal Server Error: restart"

NGINX_502: Final = (
    '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body bgcolor="white">\r\n'
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.12.2</center>\r\n"
    "</body>\r\n</html>\r\n"
)


class FakeApiError(Exception):
    """A Telegram error answer; raised by method handlers, rendered by the dispatcher."""

    def __init__(
        self,
        status: int,
        description: str,
        parameters: dict[str, Any] | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters
        self.headers = headers

    def body(self) -> dict[str, Any]:
        """The JSON body, exactly shaped like Telegram's (``parameters`` only when set)."""
        out: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            out["parameters"] = self.parameters
        return out

    def encode(self) -> bytes:
        return json.dumps(self.body(), ensure_ascii=False).encode()


def bad_request(text: str) -> FakeApiError:
    return FakeApiError(400, f"Bad Request: {text}")


def missing_param(method: str, name: str) -> FakeApiError:
    """Telegram-like text for a required parameter that is absent or empty."""
    if name == "text" and method in ("sendMessage", "editMessageText"):
        return FakeApiError(400, TEXT_EMPTY)
    if name == "chat_id":
        return bad_request("chat_id is empty")
    return bad_request(f'parameter "{name}" is required')


def retry_after_seconds(delay: float) -> int:
    """Whole seconds to announce for a delay: rounded up, at least 1 (as Telegram does)."""
    return max(1, math.ceil(delay - 1e-9))


def too_many_requests(retry_after: int) -> FakeApiError:
    return FakeApiError(
        429,
        f"Too Many Requests: retry after {retry_after}",
        {"retry_after": retry_after},
        (("Retry-After", str(retry_after)),),
    )


def migrated(new_chat_id: int) -> FakeApiError:
    return FakeApiError(400, MIGRATED, {"migrate_to_chat_id": new_chat_id})
