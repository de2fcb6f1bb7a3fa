"""Signing Mini App ``initData`` as Telegram does, for tests and demos of a Mini App
backend (the fake server's token, or any test token)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

from actorbot.testing._inject import DEFAULT_USER_ID


def sign_init_data(
    token: str,
    user: dict[str, Any] | int | None = DEFAULT_USER_ID,
    *,
    auth_date: int | None = None,
    query_id: str | None = None,
    **fields: str,
) -> str:
    """``Telegram.WebApp.initData`` for ``user`` (a user object, or just its id), signed
    with ``token`` the way :func:`actorbot.webapp.validate_init_data` checks it.

    ``auth_date`` defaults to now; other ``fields`` (``start_param``, ``chat_type``...) are
    added as given. A real page gets this string from Telegram, never from its backend.
    """
    if isinstance(user, int):
        user = {"id": user, "first_name": f"User {user}", "language_code": "en"}
    signed: dict[str, str] = dict(fields)
    signed["auth_date"] = str(int(time.time()) if auth_date is None else auth_date)
    if user is not None:
        signed["user"] = json.dumps(user, separators=(",", ":"), ensure_ascii=False)
    if query_id is not None:
        signed["query_id"] = query_id
    check = "\n".join(f"{k}={v}" for k, v in sorted(signed.items())).encode()
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    signed["hash"] = hmac.new(secret, check, hashlib.sha256).hexdigest()
    return urlencode(signed)
