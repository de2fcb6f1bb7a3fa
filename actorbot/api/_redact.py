"""Keep bot tokens out of text that may be printed: logs, exception messages, reprs."""

from __future__ import annotations

import re
from urllib.parse import quote

REDACTED = "<token>"

# Telegram tokens look like ``123456789:AAH...`` (bot id, colon, 35 url-safe characters).
_TOKEN_RE = re.compile(r"\d{3,}(?::|%3A)[A-Za-z0-9_-]{20,}")


def redact(text: str, token: str | None = None) -> str:
    """Replace ``token`` (also URL-encoded) and anything shaped like a token with a marker."""
    if token:
        text = text.replace(token, REDACTED).replace(quote(token, safe=""), REDACTED)
    return _TOKEN_RE.sub(REDACTED, text)
