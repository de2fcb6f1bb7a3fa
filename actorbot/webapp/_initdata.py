"""Checking what a Mini App or the Login Widget hands your backend.

A Mini App's ``Telegram.WebApp.initData`` (a query string) and the Login Widget's fields
are only as trustworthy as their signature:

- :func:`validate_init_data`: HMAC-SHA256 keyed with ``HMAC-SHA256("WebAppData", token)``
  over the data-check-string (every field but ``hash``, sorted, ``key=value`` lines);
- :func:`validate_init_data_signature`: the Ed25519 ``signature`` Telegram adds for third
  parties, who know the bot id but not its token;
- :func:`validate_login_widget`: HMAC-SHA256 keyed with ``SHA256(token)``.

Each returns the parsed data or raises :class:`InitDataInvalid` / :class:`LoginInvalid`
with a stable ``reason``. Digests are compared in constant time, and ``auth_date`` older
than ``max_age`` seconds is refused (replayed logins). The token never appears in a
message or a repr.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl

from actorbot.errors import AuthDataInvalid, InitDataInvalid, LoginInvalid
from actorbot.webapp import _ed25519

#: Telegram's Ed25519 keys for third-party validation (production, test environment).
TELEGRAM_PUBLIC_KEY: Final = bytes.fromhex(
    "e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d")
TELEGRAM_TEST_PUBLIC_KEY: Final = bytes.fromhex(
    "40055058a4ee38156a06562e52eece92a771bcd8346a8c4615cb7376eddf72ec")

#: One day, as Telegram's own examples suggest; pass ``max_age=None`` to skip the check.
DEFAULT_MAX_AGE: Final = 86_400

# initData is a few hundred bytes; a huge string is an attack on the parser, not a login.
_MAX_LENGTH: Final = 16_384



@dataclass(frozen=True, slots=True)
class WebAppData:
    """Validated ``initData`` (Telegram's WebAppInitData): JSON fields decoded."""

    auth_date: int
    user: dict[str, Any] | None = None
    receiver: dict[str, Any] | None = None
    chat: dict[str, Any] | None = None
    query_id: str | None = None
    chat_type: str | None = None
    chat_instance: str | None = None
    start_param: str | None = None
    can_send_after: int | None = None
    fields: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Every field as received (decoded), ``hash`` and ``signature`` included."""

    @property
    def user_id(self) -> int | None:
        user_id = self.user.get("id") if self.user else None
        return user_id if type(user_id) is int else None


@dataclass(frozen=True, slots=True)
class LoginData:
    """Validated Login Widget data."""

    id: int
    auth_date: int
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    photo_url: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict, repr=False)


# -- Mini App initData ------------------------------------------------------------------------


def validate_init_data(
    init_data: str,
    token: str,
    *,
    max_age: float | None = DEFAULT_MAX_AGE,
    now: float | None = None,
) -> WebAppData:
    """Check ``initData`` against the bot token (HMAC-SHA256 with the ``WebAppData`` key).

    Raises :class:`InitDataInvalid`; ``now`` (Unix time) is for tests.
    """
    fields = _parse_query(init_data, InitDataInvalid)
    received = fields.get("hash")
    if received is None:
        raise InitDataInvalid("missing_hash")
    secret = hmac.new(b"WebAppData", _token_bytes(token), hashlib.sha256).digest()
    expected = hmac.new(secret, _check_string(fields, ("hash",)), hashlib.sha256).hexdigest()
    if not _same_hex(expected, received):
        raise InitDataInvalid("hash_mismatch")
    return _init_data(fields, max_age, now)


def validate_init_data_signature(
    init_data: str,
    bot_id: int,
    *,
    test_env: bool = False,
    public_key: bytes | None = None,
    max_age: float | None = DEFAULT_MAX_AGE,
    now: float | None = None,
) -> WebAppData:
    """Check ``initData``'s Ed25519 ``signature`` without the token (third-party use).

    The signed message is ``"<bot_id>:WebAppData\\n"`` plus the data-check-string of every
    field but ``hash`` and ``signature``. ``public_key`` replaces Telegram's key (tests).
    """
    if type(bot_id) is not int or bot_id <= 0:
        raise TypeError("bot_id must be a positive int")
    fields = _parse_query(init_data, InitDataInvalid)
    encoded = fields.get("signature")
    if encoded is None:
        raise InitDataInvalid("missing_signature")
    try:
        signature = base64.b64decode(
            encoded.translate(_URLSAFE) + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InitDataInvalid("malformed", "signature is not base64url") from None
    key = public_key or (TELEGRAM_TEST_PUBLIC_KEY if test_env else TELEGRAM_PUBLIC_KEY)
    message = f"{bot_id}:WebAppData\n".encode() + _check_string(fields, ("hash", "signature"))
    if not _ed25519.verify(key, message, signature):
        raise InitDataInvalid("signature_mismatch")
    return _init_data(fields, max_age, now)


_URLSAFE: Final = str.maketrans("-_", "+/")


def _init_data(fields: dict[str, str], max_age: float | None, now: float | None) -> WebAppData:
    auth_date = _auth_date(fields, max_age, now, InitDataInvalid)
    objects = {}
    for name in ("user", "receiver", "chat"):
        raw = fields.get(name)
        if raw is not None:
            try:
                value = json.loads(raw)
            except ValueError:
                raise InitDataInvalid("malformed", f"{name} is not JSON") from None
            if not isinstance(value, dict):
                raise InitDataInvalid("malformed", f"{name} is not a JSON object")
            objects[name] = value
    return WebAppData(
        auth_date=auth_date,
        user=objects.get("user"),
        receiver=objects.get("receiver"),
        chat=objects.get("chat"),
        query_id=fields.get("query_id"),
        chat_type=fields.get("chat_type"),
        chat_instance=fields.get("chat_instance"),
        start_param=fields.get("start_param"),
        can_send_after=_uint(fields.get("can_send_after")),
        fields=fields,
    )


# -- Login Widget ------------------------------------------------------------------------------


def validate_login_widget(
    data: Mapping[str, object] | str,
    token: str,
    *,
    max_age: float | None = DEFAULT_MAX_AGE,
    now: float | None = None,
) -> LoginData:
    """Check Login Widget data: the redirect's query string, or the fields as a mapping
    (the ``data-onauth`` JSON object, a framework's query dict). ``None`` values count as
    absent. Raises :class:`LoginInvalid`."""
    fields = _parse_query(data, LoginInvalid) if isinstance(data, str) else _login_fields(data)
    received = fields.get("hash")
    if received is None:
        raise LoginInvalid("missing_hash")
    secret = hashlib.sha256(_token_bytes(token)).digest()
    expected = hmac.new(secret, _check_string(fields, ("hash",)), hashlib.sha256).hexdigest()
    if not _same_hex(expected, received):
        raise LoginInvalid("hash_mismatch")
    auth_date = _auth_date(fields, max_age, now, LoginInvalid)
    user_id = _uint(fields.get("id"))
    if user_id is None:
        raise LoginInvalid("malformed", "id is not a number")
    return LoginData(id=user_id, auth_date=auth_date, first_name=fields.get("first_name"),
                     last_name=fields.get("last_name"), username=fields.get("username"),
                     photo_url=fields.get("photo_url"), fields=fields)


def _login_fields(data: Mapping[str, object]) -> dict[str, str]:
    if not isinstance(data, Mapping):
        raise TypeError("login data must be a mapping or a query string")
    fields: dict[str, str] = {}
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(key, str) or not isinstance(
            value, str | int
        ):
            raise LoginInvalid("malformed", "fields must be strings or integers")
        fields[key] = str(value)
    _check_lines(fields, LoginInvalid)
    return fields


# -- shared ----------------------------------------------------------------------------------


def _token_bytes(token: str) -> bytes:
    if not isinstance(token, str) or not token:
        raise TypeError("token must be a non-empty str")  # never show it
    return token.encode()


def _parse_query(query: str, error: type[AuthDataInvalid]) -> dict[str, str]:
    if not isinstance(query, str):
        raise TypeError("initData must be a str (the query string as received)")
    if len(query) > _MAX_LENGTH:
        raise error("malformed", f"longer than {_MAX_LENGTH} characters")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True, errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise error("malformed", "not a query string") from None
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            raise error("duplicate_field", repr(key[:40]))
        fields[key] = value
    _check_lines(fields, error)
    return fields


def _check_lines(fields: dict[str, str], error: type[AuthDataInvalid]) -> None:
    """Refuse newlines and ``=`` in keys, newlines in values: with them, two different
    field sets can share one data-check-string (a field could hide in another's value)."""
    for key, value in fields.items():
        if "\n" in key or "=" in key or "\n" in value:
            raise error("malformed", "a field contains a newline")


def _check_string(fields: Mapping[str, str], skip: tuple[str, ...]) -> bytes:
    return "\n".join(f"{k}={v}" for k, v in sorted(fields.items()) if k not in skip).encode()


def _same_hex(expected: str, received: str) -> bool:
    return hmac.compare_digest(expected.encode(), received.lower().encode())


def _auth_date(
    fields: Mapping[str, str], max_age: float | None, now: float | None,
    error: type[AuthDataInvalid],
) -> int:
    raw = fields.get("auth_date")
    if raw is None:
        raise error("missing_auth_date")
    auth_date = _uint(raw)
    if auth_date is None:
        raise error("malformed", "auth_date is not a Unix time")
    if max_age is not None:
        age = (time.time() if now is None else now) - auth_date
        if age > max_age:
            raise error("expired", f"auth_date is {int(age)} s old (max_age {max_age:g} s)")
    return auth_date


def _uint(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isascii() and raw.isdigit() else None
