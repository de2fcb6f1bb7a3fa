"""Polling and Webhook settings are checked where they are made."""

from __future__ import annotations

import pytest

from actorbot import Polling, Webhook
from actorbot.errors import ConfigError
from actorbot.runtime import Backoff


@pytest.mark.parametrize(("options", "match"), [
    ({"timeout": -1}, "timeout"),
    ({"limit": 0}, "limit 1-100"),
    ({"limit": 101}, "limit 1-100"),
    ({"conflict_retries": -1}, "conflict_retries"),
    ({"allowed_updates": "message"}, "list of update types"),
    ({"allowed_updates": ["mesage"]}, "unknown update types \\['mesage'\\]"),
])
def test_polling_refuses_bad_values(options: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Polling(**options)  # type: ignore[arg-type]


def test_polling_keeps_allowed_updates_as_a_tuple() -> None:
    polling = Polling(allowed_updates=["message", "callback_query"], backoff=Backoff(0.1, 1.0))
    assert polling.allowed_updates == ("message", "callback_query")
    assert polling.backoff.maximum == 1.0


def test_webhook_checks_its_allowed_updates_too() -> None:
    with pytest.raises(ConfigError, match=r"Webhook\.allowed_updates"):
        Webhook("https://bot.example.org/hook", allowed_updates=["edited"])
    hook = Webhook("https://bot.example.org/hook", allowed_updates=["message"])
    assert hook.allowed_updates == ("message",)


def test_webhook_errors_are_config_errors_and_value_errors() -> None:
    with pytest.raises(ConfigError):
        Webhook("")
    with pytest.raises(ValueError, match="max_connections"):
        Webhook("https://bot.example.org/hook", max_connections=101)
