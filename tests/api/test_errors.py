"""Error classification, unit level. Over-HTTP mapping of errors.json is in test_client.py."""

from __future__ import annotations

from actorbot.api import (
    ApiError,
    BadRequest,
    ChatMigrated,
    ConnectError,
    ConnectionLost,
    ReadTimeout,
    RetryAfter,
    ServerError,
    error_from_response,
)


def test_retry_after_from_parameters_wins_over_status() -> None:
    err = error_from_response(400, 400, "Too Many Requests", {"retry_after": 3})
    assert isinstance(err, RetryAfter)
    assert err.retry_after == 3


def test_migration_carries_new_id() -> None:
    err = error_from_response(400, 400, "Bad Request: x", {"migrate_to_chat_id": -1001})
    assert isinstance(err, ChatMigrated)
    assert isinstance(err, BadRequest)
    assert err.migrate_to_chat_id == -1001


def test_unknown_status_is_plain_api_error() -> None:
    err = error_from_response(418, 418, "I'm a teapot", None, method="getMe")
    assert type(err) is ApiError
    assert str(err) == "getMe: [418] I'm a teapot"
    assert err.parameters == {}


def test_any_5xx_is_server_error() -> None:
    for status in (500, 502, 503, 504, 520):
        assert isinstance(error_from_response(status, status, "x", {}), ServerError)


def test_network_errors_say_whether_the_request_may_have_reached() -> None:
    assert ConnectError("x").may_have_reached is False
    assert ReadTimeout("x").may_have_reached is True
    assert ConnectionLost("x").may_have_reached is True
