"""configure_logging: one format for structlog and stdlib records, secrets never printed."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from actorbot import ChatHandler, Route, per_chat_id
from actorbot.monitoring._logging import RedactSecrets, configure_logging
from actorbot.testing import FakeBotApi
from tests.helpers import eventually, logging_restored, make_engine

SECRET = "123456:TEST-token"  # the fake's token: too short for the token-shaped pattern
REAL_SHAPED = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    with logging_restored():
        yield


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


class Secretive:
    def __repr__(self) -> str:
        return f"<client for {SECRET}>"


class Plain:
    def __repr__(self) -> str:
        return "<plain>"


def test_json_puts_time_level_event_first_and_redacts_every_value() -> None:
    out = io.StringIO()
    configure_logging("json", "info", stream=out, secrets=[SECRET])
    structlog.get_logger("app").info(
        "thing.happened", url=f"http://x/bot{SECRET}/getMe", nested={"a": [1, SECRET]},
        obj=Secretive(), count=3)
    [line] = json_lines(out)
    assert list(line)[:3] == ["timestamp", "level", "event"]
    assert line["event"] == "thing.happened"
    assert line["level"] == "info"
    assert line["logger"] == "app"
    assert line["url"] == "http://x/bot<token>/getMe"
    assert line["nested"] == {"a": [1, "<token>"]}
    assert line["obj"] == "<client for <token>>"
    assert line["count"] == 3
    assert SECRET not in out.getvalue()


def test_stdlib_records_share_the_format_and_redaction() -> None:
    out = io.StringIO()
    configure_logging("json", "debug", stream=out)
    # urllib3 logs every request line at DEBUG, with the token in the path
    logging.getLogger("urllib3.connectionpool").debug(
        '%s "POST /bot%s/getUpdates HTTP/1.1" 200', "https://api.telegram.org:443", REAL_SHAPED)
    [line] = json_lines(out)
    assert line["logger"] == "urllib3.connectionpool"
    assert line["level"] == "debug"
    assert line["event"] == ('https://api.telegram.org:443 "POST /bot<token>/getUpdates '
                             'HTTP/1.1" 200')


def test_tracebacks_are_redacted_in_both_formats() -> None:
    for fmt in ("json", "console"):
        out = io.StringIO()
        configure_logging(fmt, stream=out, secrets=[SECRET])  # type: ignore[arg-type]
        try:
            raise ValueError(f"refused {SECRET}")
        except ValueError:
            structlog.get_logger("app").exception("call.failed")
            logging.getLogger("lib").exception("stdlib failed")
        text = out.getvalue()
        assert SECRET not in text, fmt
        assert text.count("ValueError: refused <token>") == 2, fmt


def test_level_filters_structlog_and_stdlib_alike() -> None:
    out = io.StringIO()
    configure_logging("json", "warning", stream=out)
    structlog.get_logger("a").info("quiet")
    logging.getLogger("b").info("quiet too")
    structlog.get_logger("a").warning("loud")
    logging.getLogger("b").error("loud too")
    assert [line["event"] for line in json_lines(out)] == ["loud", "loud too"]


def test_console_is_plain_text_off_a_terminal() -> None:
    out = io.StringIO()
    configure_logging("console", stream=out, secrets=[SECRET])
    structlog.get_logger("app").info("engine.started", token_field=SECRET, n=1)
    text = out.getvalue()
    assert "\x1b[" not in text  # no colour codes in a file or a pipe
    assert "engine.started" in text
    assert "n=1" in text
    assert "token_field=<token>" in text


def test_calling_again_replaces_the_previous_configuration() -> None:
    first, second = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    before = len(root.handlers)
    configure_logging("json", stream=first)
    configure_logging("console", stream=second)
    assert len(root.handlers) == before + 1
    structlog.get_logger("app").info("once")
    assert first.getvalue() == ""
    assert "once" in second.getvalue()


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="log format"):
        configure_logging("xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging("json", "loud")


def test_redactor_leaves_values_without_secrets_untouched() -> None:
    redactor = RedactSecrets([SECRET, ""])
    plain = Plain()
    event = {"event": "x", "obj": plain, "n": 1.5, "flag": True, "none": None,
             "tags": ("a", SECRET), "ids": {1, 2}}
    cleaned = redactor(None, "info", event)
    assert cleaned["obj"] is plain
    assert cleaned["tags"] == ("a", "<token>")
    assert cleaned["ids"] == {1, 2}
    assert (cleaned["n"], cleaned["flag"], cleaned["none"]) == (1.5, True, None)
    assert redactor.text(f"a {REAL_SHAPED} b") == "a <token> b"  # shape alone suffices


class Counter(ChatHandler):
    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.sender.send_message("ok")


def test_periodic_stats_lines_carry_the_numbers_of_engine_stats(
    tg: FakeBotApi, no_thread_left: None
) -> None:
    out = io.StringIO()
    configure_logging("json", stream=out, secrets=[tg.token])
    engine = make_engine(tg, [Route(per_chat_id(), Counter, idle_timeout=None)],
                         stats_interval=0.05)

    def stats_lines() -> list[dict[str, Any]]:
        return [line for line in json_lines(out) if line["event"] == "engine.stats"]

    with engine:
        for chat in (1, 2, 3, 1):
            tg.inject_message(chat, "hi")
        eventually(lambda: engine.stats()["handled"] == 4 and engine.stats()["sender_calls"] == 4,
                   what="4 updates handled and answered")
        settled = len(stats_lines())
        eventually(lambda: len(stats_lines()) >= settled + 2, what="two stats events after")
        logged, now = stats_lines()[-1], engine.stats()
    for key in ("handlers_alive", "handlers_by_class", "spawned", "passivated", "failed",
                "handled", "in_flight", "sender_queue"):
        assert logged[key] == now[key], key
    assert logged["handlers_alive"] == 3
    assert logged["handlers_by_class"] == {"Counter": 3}
    assert tg.token not in out.getvalue()
