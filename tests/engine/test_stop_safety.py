"""Answers the poller cannot read end polling with a clear error; stop() always stops."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from actorbot import ChatHandler, Polling, Route, per_chat_id
from actorbot.errors import PollingStopped
from actorbot.journal import MemoryJournal
from actorbot.runtime import Backoff
from actorbot.testing import FakeBotApi, Fault
from tests.helpers import engine_threads, eventually, make_engine

FAST = Backoff(initial=0.001, maximum=0.002)
TOO_DEEP = b'{"ok":true,"result":' + b"[" * 200_000 + b"]" * 200_000 + b"}"


class Quiet(ChatHandler):
    def on_chat_message(self, m: dict[str, Any]) -> None:
        pass


@pytest.mark.parametrize("body", [TOO_DEEP, b"<html>gateway</html>", b'{"ok":true,"result":{}}'])
def test_unreadable_answers_are_counted_then_fatal_and_stop_stops(
    tg: FakeBotApi, no_thread_left: None, body: bytes
) -> None:
    tg.add_fault(Fault(method="getUpdates", raw_body=body))
    engine = make_engine(tg, [Route(per_chat_id(), Quiet)],
                         intake=Polling(timeout=1, backoff=FAST, unreadable_retries=3))
    with capture_logs() as logs:
        engine.start()
        eventually(lambda: engine.error is not None, what="polling to stop", timeout=10)
        assert isinstance(engine.error, PollingStopped)
        assert "4 getUpdates answers in a row could not be read" in str(engine.error)
        stats = engine.stats()
        assert engine.status == "failed"  # nothing polls any more
        assert engine.stop(5) is True
    assert engine.status == "stopped"
    assert stats["poll_errors"] == 4
    assert engine._poller_actor is not None
    assert engine._poller_actor.stats.unreadable == 4
    assert [e["attempt"] for e in logs if e["event"] == "poller.unreadable"] == [1, 2, 3]
    assert engine.stop() is True  # stopped: nothing left to do


class BrokenClose(MemoryJournal):
    def close(self) -> None:
        raise RecursionError("maximum recursion depth exceeded")


def test_stop_goes_on_whatever_raises_and_says_so(
    tg: FakeBotApi, no_thread_left: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(tg, [Route(per_chat_id(), Quiet)], journal=BrokenClose())
    engine.start()
    eventually(lambda: engine.status == "connected", what="connected")

    def broken_flush(deadline: float) -> Any:
        raise RuntimeError("boom")

    assert engine._sender_actor is not None
    monkeypatch.setattr(engine._sender_actor, "flush_future", broken_flush)
    with capture_logs() as logs:
        assert engine.stop(5) is False
    assert engine.status == "stopped"
    failed = [(e["stage"], e["error"]) for e in logs if e["event"] == "engine.stop_failed"]
    assert failed == [("flush sender", "RuntimeError"), ("close journal", "RecursionError")]
    assert not {t for t in engine_threads() if t.startswith("actorbot")}
