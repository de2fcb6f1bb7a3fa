"""Engine settings: one object per stage, contradictions refused when they are made."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from actorbot import ChatHandler, Engine, Handling, Hooks, Polling, Route, Sending, per_chat_id
from actorbot.api import Connection
from actorbot.errors import ConfigError
from actorbot.runtime import ThreadPerActor


class Echo(ChatHandler):
    pass


ROUTES = [Route(per_chat_id(), Echo)]


def test_the_engine_takes_a_handful_of_parameters() -> None:
    params = inspect.signature(Engine.__init__).parameters
    assert list(params) == ["self", "token", "routes", "intake", "handling", "sending",
                            "connection", "journal", "state", "access", "commands", "hooks",
                            "stats_interval", "clock", "components"]


def test_defaults_poll_telegram_with_a_pool() -> None:
    engine = Engine("1:x", ROUTES)
    assert engine.polling
    assert isinstance(engine.intake, Polling)
    assert engine.handling.runtime == "pool"
    assert engine.handling.pool_workers == 4
    assert engine.client.base_url == "https://api.telegram.org"


@pytest.mark.parametrize(("make", "match"), [
    (lambda: Handling(runtime="fibers"), "runtime"),
    (lambda: Handling(runtime="threads", workers=8), "workers sizes the 'pool' runtime"),
    (lambda: Handling(runtime=ThreadPerActor(), workers=2), "workers sizes the 'pool' runtime"),
    (lambda: Handling(workers=0), "at least 1"),
    (lambda: Handling(max_in_flight=0), "at least 1"),
    (lambda: Handling(sweep_limit=0), "sweep_limit"),
    (lambda: Handling(at_most_once=["inline_querry"]), "inline_querry"),
    (lambda: Handling(at_most_once="inline_query"), "update types"),
    (lambda: Handling(loop_factory="uvloop"), "loop_factory must be a callable"),
])
def test_handling_refuses_what_cannot_work(make: Any, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        make()


def test_at_most_once_is_kept_as_a_frozenset() -> None:
    assert Handling(at_most_once=["inline_query"]).at_most_once == frozenset({"inline_query"})


@pytest.mark.parametrize(("options", "match"), [
    ({"intake": {"timeout": 1}}, "intake=...\\) takes Polling or Webhook or None, not dict"),
    ({"handling": "pool"}, "handling=...\\) takes Handling, not str"),
    ({"sending": Polling()}, "sending=...\\) takes Sending, not Polling"),
    ({"connection": "https://example.org"}, "connection=...\\) takes Connection"),
    ({"hooks": print}, "hooks=...\\) takes Hooks"),
    ({"stats_interval": 0}, "stats_interval"),
])
def test_the_engine_refuses_a_setting_of_the_wrong_kind(
    options: dict[str, Any], match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        Engine("1:x", ROUTES, **options)


def test_old_keywords_are_a_type_error_not_ignored() -> None:
    with pytest.raises(TypeError, match="poll_timeout"):
        Engine("1:x", ROUTES, poll_timeout=1)  # type: ignore[call-arg]


def test_no_routes_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least one route"):
        Engine("1:x", [])


def test_settings_reach_the_parts() -> None:
    connection = Connection(base_url="http://127.0.0.1:9", read_timeout=7, connect_timeout=2)
    engine = Engine("1:x", ROUTES, intake=None, connection=connection,
                    sending=Sending(http_workers=3), hooks=Hooks(on_error=print))
    assert not engine.polling
    assert engine.client.base_url == "http://127.0.0.1:9"
    assert (engine.client.read_timeout, engine.client.connect_timeout) == (7, 2)
    assert engine.sending.http_workers == 3
    assert engine.hooks.on_error is print
