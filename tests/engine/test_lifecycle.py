"""Engine lifecycle: run_forever and signals, the periodic stats event, misuse."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from structlog.testing import capture_logs

from actorbot import ChatHandler, Engine, Route, per_chat_id
from actorbot.engine import Handling
from actorbot.errors import ConfigError
from actorbot.routing import Ping
from actorbot.runtime import ManualClock
from actorbot.testing import FakeBotApi

pytestmark = pytest.mark.usefixtures("no_thread_left")

CHILD = textwrap.dedent("""
    import sys
    from actorbot import ChatHandler, Engine, Polling, Route, per_chat_id
    from actorbot.api import Connection

    class Echo(ChatHandler):
        def on_chat_message(self, msg):
            self.sender.send_message("echo: " + msg["text"])

    engine = Engine(sys.argv[1], [Route(per_chat_id(), Echo)], intake=Polling(timeout=30),
                    connection=Connection(base_url=sys.argv[2]), stats_interval=None)
    engine.run_forever()
    print("stopped", engine.status, flush=True)
""")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_run_forever_stops_gracefully_on_a_signal(tg: FakeBotApi, signum: int) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, tg.token, tg.base_url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        tg.inject_message(7, "one")
        tg.wait_for_calls("sendMessage", 1, timeout=30)
        assert tg.wait_for(lambda: tg.long_poll_pending, 30)  # idle in a 30 s long poll
        child.send_signal(signum)
        out, err = child.communicate(timeout=20)  # far less than the poll timeout
    finally:
        child.kill()
    assert child.returncode == 0, err
    assert out.strip().splitlines()[-1] == "stopped stopped"
    assert tg.sent_texts(7) == ["echo: one"]
    assert tg.pending_update_count == 0  # the handled update was confirmed before exit


class Counter(ChatHandler):
    def on_chat_message(self, msg: dict[str, Any]) -> None:
        pass


def test_periodic_stats_event_matches_stats(tg: FakeBotApi) -> None:
    clock = ManualClock()
    engine = Engine(
        tg.token, [Route(per_chat_id(), Counter)], intake=None, connection=tg.connection,
        clock=clock, stats_interval=60,
    )
    with engine, capture_logs() as logs:
        engine.feed([{"update_id": i, "message": {"message_id": i, "date": 0, "text": "x",
                                                   "chat": {"id": i % 3, "type": "private"}}}
                     for i in range(1, 10)])
        assert engine._router_ref is not None
        engine._router_ref.ask(Ping(), timeout=10)
        assert engine.tracker.wait_idle(10)
        clock.advance(60)
        clock.advance(60)
        stats = engine.stats()
    events = [e for e in logs if e["event"] == "engine.stats"]
    assert len(events) == 2
    expected = {k: v for k, v in stats.items() if k not in ("status", "update_lag_s")}
    assert {k: v for k, v in events[-1].items() if k in expected} == expected
    assert events[-1]["handlers_alive"] == 3
    assert events[-1]["handlers_by_class"] == {"Counter": 3}
    assert events[-1]["handled"] == 9


def test_context_manager_and_misuse(tg: FakeBotApi) -> None:
    engine = Engine(
        tg.token, [Route(per_chat_id(), Counter)], intake=None, connection=tg.connection,
        stats_interval=None,
    )
    with engine:
        assert engine.status == "connected"  # no poller: started is connected
        with pytest.raises(RuntimeError, match="running"):
            engine.start()
    assert engine.status == "stopped"
    assert engine.stop() is True  # stopping twice is harmless
    assert "TEST-token" not in repr(engine)
    with pytest.raises(ConfigError, match="runtime"):
        Handling(runtime="fibers")  # type: ignore[arg-type]
