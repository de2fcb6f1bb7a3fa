"""Keep bot tokens out of text that may be printed: logs, exception messages, reprs."""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import quote

REDACTED = "<token>"

# Telegram tokens look like ``123456789:AAH...`` (bot id, colon, 35 url-safe characters).
_TOKEN_RE = re.compile(r"\d{3,}(?::|%3A)[A-Za-z0-9_-]{20,}")


def redact(text: str, token: str | None = None) -> str:
    """Replace ``token`` (also URL-encoded) and anything shaped like a token with a marker."""
    if token:
        text = text.replace(token, REDACTED).replace(quote(token, safe=""), REDACTED)
    return _TOKEN_RE.sub(REDACTED, text)


_THIRD_PARTY: tuple[str, ...] = ("urllib3.connectionpool", "urllib3.connection",
                                 "urllib3.poolmanager", "urllib3.util.retry")
"""Loggers that print request URLs (``/bot<token>/method``) at DEBUG, whatever the app's
logging setup is."""


class _RedactTokens(logging.Filter):
    """Rewrites a record whose message holds a token (or a token-shaped string)."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is the logging module's to report
            return True
        clean = message
        for token in tuple(self.tokens):
            clean = redact(clean, token)
        clean = redact(clean)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_FILTER = _RedactTokens()
_installed = threading.Lock()


def guard_third_party_logs(token: str) -> None:
    """Make sure urllib3's own loggers never print ``token``: a filter on those loggers
    (not the root logger, not a handler), so it holds under any logging configuration."""
    with _installed:
        _FILTER.tokens.add(token)
        for name in _THIRD_PARTY:
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
