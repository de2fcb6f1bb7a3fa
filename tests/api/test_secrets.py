"""No exception raised by the client carries the token, not even as its context."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import socket
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from actorbot import ChatHandler, Route, per_chat_id
from actorbot.api import Client
from actorbot.errors import NetworkError, TelegramError
from actorbot.testing import FakeBotApi, Fault
from tests.helpers import eventually, logging_restored, make_engine

TOKEN = "123456:SECRET-token-ABCdef_ghi"


def chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        if exc.__cause__ is not None:
            yield from chain(exc.__cause__)
        exc = exc.__context__


@pytest.fixture
def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there any more


@pytest.mark.parametrize("call", ["upload", "download"])
def test_upload_and_download_errors_hold_no_token(dead_url: str, call: str) -> None:
    client = Client(TOKEN, base_url=dead_url, connect_timeout=2, read_timeout=2)
    def fail() -> None:
        if call == "upload":
            client.request("sendDocument", {"chat_id": 1, "document": io.BytesIO(b"x")})
        else:
            client._download("documents/file_1.txt", io.BytesIO())

    try:
        with pytest.raises(NetworkError) as info:
            fail()
    finally:
        client.close()
    for exc in chain(info.value):
        assert TOKEN not in repr(exc)
        assert TOKEN not in str(exc)
    assert info.value.__context__ is None
    assert TOKEN not in "".join(traceback.format_exception(info.value))


class Impatient(ChatHandler):
    """Waits for a reply that fails and lets the error escape: ``handler.failed``."""

    def on_chat_message(self, m: dict[str, Any]) -> None:
        self.sender.send_message("x").get(timeout=10)


def scenarios(tg: FakeBotApi, dead_url: str) -> None:
    """Failures whose log lines and tracebacks have held the token."""
    with Client(tg.token, base_url=tg.base_url) as client:  # urllib3 logs each URL at DEBUG
        with contextlib.suppress(TelegramError):
            client.request("sendDocument", {"chat_id": 5, "document": io.BytesIO(b"x")})
        with contextlib.suppress(TelegramError):
            client._download("documents/none.txt", io.BytesIO())
    with Client(tg.token, base_url=dead_url, connect_timeout=2) as client, \
            contextlib.suppress(NetworkError):
        client.request("sendDocument", {"chat_id": 5, "document": io.BytesIO(b"x")})
    tg.add_fault(Fault(method="sendMessage", drop="before"))
    engine = make_engine(tg, [Route(per_chat_id(), Impatient)], intake=None)
    with engine:
        engine.feed(tg.inject_message(5, "hi"))
        eventually(lambda: engine.stats()["failed"] >= 1, what="handler.failed")


def test_no_log_line_holds_the_token_under_stdlib_debug_logging(
    tg: FakeBotApi, dead_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stream = io.StringIO()
    with logging_restored():
        structlog.reset_defaults()
        logging.basicConfig(level=logging.DEBUG, stream=stream, force=True)
        scenarios(tg, dead_url)
    out = stream.getvalue() + capsys.readouterr().out
    assert "sendDocument" in out  # urllib3 did log the requests
    assert "handler.failed" in out
    assert tg.token not in out


def test_no_log_line_holds_the_token_with_json_dict_tracebacks(
    tg: FakeBotApi, dead_url: str
) -> None:
    stream = io.StringIO()
    with logging_restored():
        logging.basicConfig(level=logging.DEBUG, stream=stream, force=True)
        structlog.configure(
            processors=[structlog.processors.add_log_level, structlog.processors.dict_tracebacks,
                        structlog.processors.JSONRenderer(default=repr)],
            logger_factory=structlog.PrintLoggerFactory(file=stream))
        scenarios(tg, dead_url)
    out = stream.getvalue()
    failed = [json.loads(line) for line in out.splitlines() if '"handler.failed"' in line]
    assert failed
    assert failed[0]["exception"][0]["frames"]  # the traceback, locals and all, is there
    assert tg.token not in out
