"""Engine status and its hooks, and the handler hooks whose failures are only logged."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import pytest
from structlog.testing import capture_logs

from actorbot import Engine, FailurePolicy, Route, UserHandler, per_chat_id, per_from_id
from actorbot.engine import Hooks, Status
from actorbot.errors import NotRunning, PollingStopped, ServerError, StateError
from actorbot.handlers._handler import ChatHandler
from actorbot.intake import Polling
from actorbot.testing import FakeBotApi, Fault
from tests.helpers import eventually, make_engine

pytestmark = pytest.mark.usefixtures("no_thread_left")


class Echo(ChatHandler):
    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.sender.send_message(msg.get("text", ""))


class Events:
    """Records hook calls from any thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: list[Any] = []

    def add(self, item: Any) -> None:
        with self.lock:
            self.items.append(item)

    def list(self) -> list[Any]:
        with self.lock:
            return list(self.items)

    def hooks(self) -> Hooks:
        return Hooks(on_status=self.add, on_connected=lambda: self.add("on_connected"),
                     on_error=self.add)


def test_polling_statuses_in_order(tg: FakeBotApi) -> None:
    events = Events()
    engine = make_engine(tg, [Route(per_chat_id(), Echo)], hooks=events.hooks())
    assert (engine.status, engine.running) == ("stopped", False)
    with engine:
        eventually(lambda: engine.status == "connected", 30, "the first getUpdates")
        assert engine.running
        tg.inject_message(1, "hi")
        assert tg.wait_for(lambda: tg.sent_texts(1) == ["hi"], 30)
    assert (engine.status, engine.running) == ("stopped", False)
    assert events.list() == ["starting", "connected", "on_connected", "stopping", "stopped"]
    assert engine.stats()["status"] == "stopped"


def test_errors_mean_retrying_until_getupdates_works_again(tg: FakeBotApi) -> None:
    tg.add_fault(Fault(method="getUpdates", status=502, times=2))
    events = Events()
    with make_engine(tg, [Route(per_chat_id(), Echo)], hooks=events.hooks()) as engine:
        eventually(lambda: "on_connected" in events.list(), 30, "the connection")
        assert engine.status == "connected"
    got = events.list()
    assert [e for e in got if isinstance(e, str)] == [
        "starting", "retrying", "connected", "on_connected", "stopping", "stopped"]
    errors = [e for e in got if isinstance(e, BaseException)]
    assert [type(e) for e in errors] == [ServerError, ServerError]
    assert got.index(errors[0]) == 2  # after "retrying" is set, before "connected"


def test_without_polling_started_means_connected(tg: FakeBotApi) -> None:
    events = Events()
    engine = make_engine(tg, [Route(per_chat_id(), Echo)], intake=None, hooks=events.hooks())
    engine.start()
    try:
        assert events.list() == ["starting", "connected", "on_connected"]
        assert engine.running
        with pytest.raises(RuntimeError, match="already running"):
            engine.start()
    finally:
        engine.stop()
    assert events.list()[-2:] == ["stopping", "stopped"]


def test_a_fatal_poll_error_reaches_on_error(tg: FakeBotApi) -> None:
    tg.add_fault(Fault(method="getUpdates", status=401))
    events = Events()
    with make_engine(tg, [Route(per_chat_id(), Echo)], hooks=events.hooks()) as engine:
        eventually(lambda: engine.error is not None, 30, "the fatal error")
    errors = [e for e in events.list() if isinstance(e, BaseException)]
    assert len(errors) == 1
    assert isinstance(errors[0], PollingStopped)
    assert "connected" not in events.list()


def test_failing_hooks_are_logged_not_fatal(tg: FakeBotApi) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("hook bug")

    with capture_logs() as logs:
        engine = make_engine(
            tg, [Route(per_chat_id(), Echo)],
            hooks=Hooks(on_status=broken, on_connected=broken, on_error=broken),
        )
        with engine:
            eventually(lambda: engine.status == "connected", 30, "the connection")
            tg.inject_message(1, "still works")
            assert tg.wait_for(lambda: tg.sent_texts(1) == ["still works"], 30)
    assert engine.status == "stopped"
    failed = [(e["hook"], e["error"]) for e in logs if e["event"] == "engine.hook_failed"]
    assert failed == [("on_status", "RuntimeError: hook bug"),     # starting
                      ("on_status", "RuntimeError: hook bug"),     # connected
                      ("on_connected", "RuntimeError: hook bug"),
                      ("on_status", "RuntimeError: hook bug"),     # stopping
                      ("on_status", "RuntimeError: hook bug")]     # stopped
    assert tg.token not in repr(logs)


def test_hooks_can_be_set_after_construction(tg: FakeBotApi) -> None:
    events = Events()
    engine = make_engine(tg, [Route(per_chat_id(), Echo)], intake=None)
    engine.hooks = Hooks(on_status=events.add)
    with engine:
        pass
    assert events.list() == ["starting", "connected", "stopping", "stopped"]


# -- handler hooks whose failure is tolerated ------------------------------------------------


NO_RETRY = FailurePolicy(retries=0)  # one failure is one failure


class Fragile(UserHandler):
    opened: ClassVar[int] = 0

    def on_open(self, update: Any) -> None:
        self.count = 0
        Fragile.opened += 1

    def on_callback_query(self, query: dict[str, Any]) -> None:
        self.count += 1
        raise RuntimeError("button bug")

    def on_inline_query(self, query: dict[str, Any]) -> None:
        self.count += 1
        raise ValueError("inline bug")

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.count += 1
        if msg["text"] == "fail":
            raise RuntimeError("message bug")
        self.sender.send_message(f"count={self.count}")


def test_callback_and_inline_hook_failures_keep_the_handler(tg: FakeBotApi) -> None:
    Fragile.opened = 0
    route = Route(per_from_id(), Fragile, on_failure=NO_RETRY)
    with capture_logs() as logs, make_engine(tg, [route]) as engine:
        tg.inject_callback_query(5, 5, "press", message_id=1)
        tg.inject_inline_query(5, "query")
        tg.inject_message(5, "hi")  # same handler, state kept: the third update it saw
        tg.inject_message(5, "fail")  # any other hook: the route's failure policy
        tg.inject_message(5, "hi")  # a fresh handler
        assert tg.wait_for(lambda: len(tg.sent_texts(5)) == 2, 30)
        stats = engine.stats()
    assert tg.sent_texts(5) == ["count=3", "count=1"]
    assert (stats["spawned"], stats["failed"], Fragile.opened) == (2, 1, 2)
    assert stats["hook_failures"] == 2
    tolerated = [(e["update_type"], e["error"], e["handler"])
                 for e in logs if e["event"] == "handler.hook_failed"]
    assert tolerated == [("callback_query", "RuntimeError: button bug", "Fragile"),
                         ("inline_query", "ValueError: inline bug", "Fragile")]
    assert [e["error"] for e in logs if e["event"] == "handler.failed"] == [
        "RuntimeError: message bug"]


def test_tolerated_failures_can_be_turned_off(tg: FakeBotApi) -> None:
    class Strict(Fragile):
        tolerated_failures = frozenset()

    with make_engine(tg, [Route(per_from_id(), Strict, on_failure=NO_RETRY)]) as engine:
        tg.inject_callback_query(5, 5, "press", message_id=1)
        tg.inject_message(5, "hi")
        assert tg.wait_for(lambda: len(tg.sent_texts(5)) == 1, 30)
        stats = engine.stats()
    assert tg.sent_texts(5) == ["count=1"]  # a new handler after the failure
    assert (stats["spawned"], stats["failed"], stats["hook_failures"]) == (2, 1, 0)


def test_engine_repr_and_misuse_messages(tg: FakeBotApi) -> None:
    engine = Engine(
        tg.token, [Route(per_chat_id(), Echo)], intake=None, connection=tg.connection,
        stats_interval=None,
    )
    assert repr(engine) == "Engine(bot_id=123456, status='stopped')"
    with pytest.raises(RuntimeError, match="engine is stopped"):
        engine.feed({"update_id": 1})


# -- the Status enum and the failed state ----------------------------------------------------


def test_status_is_a_str_enum() -> None:
    assert Status.CONNECTED == "connected"
    assert isinstance(Status.FAILED, str)
    assert f"{Status.RETRYING}" == "retrying"
    assert [s.value for s in Status] == [
        "stopped", "starting", "connected", "retrying", "failed", "stopping"]


def _wait_failed(engine: Engine) -> None:
    eventually(lambda: engine.status == "failed", 30, "the fatal error")


def test_a_wrong_token_fails_the_engine(tg: FakeBotApi) -> None:
    events = Events()
    wrong = tg.token + "x"
    engine = Engine(wrong, [Route(per_chat_id(), Echo)], connection=tg.connection,
                    intake=Polling(timeout=1), stats_interval=None, hooks=events.hooks())
    with capture_logs() as logs:
        engine.start()
        try:
            _wait_failed(engine)
            assert engine.status is Status.FAILED
            assert not engine.running
            assert isinstance(engine.error, PollingStopped)
            with pytest.raises(NotRunning, match=r"engine failed .*PollingStopped") as raised:
                engine.feed({"update_id": 1, "message": {}})
            assert wrong not in str(raised.value)
            with pytest.raises(NotRunning, match="engine failed"):
                engine.call("getMe")
            with pytest.raises(StateError, match="stop\\(\\) it"):
                engine.start()
        finally:
            assert engine.stop()
    assert engine.status == "stopped"
    assert isinstance(engine.error, PollingStopped)  # kept after stop()
    statuses = [e for e in events.list() if isinstance(e, str)]
    assert statuses == ["starting", "failed", "stopping", "stopped"]
    assert all(isinstance(e, Status) for e in events.list() if isinstance(e, str))
    assert wrong not in repr(logs)


def test_a_token_revoked_while_running_fails_the_engine(tg: FakeBotApi) -> None:
    events = Events()
    with make_engine(tg, [Route(per_chat_id(), Echo)], hooks=events.hooks()) as engine:
        eventually(lambda: engine.status == "connected", 30, "the first getUpdates")
        tg.inject_message(1, "hi")
        assert tg.wait_for(lambda: tg.sent_texts(1) == ["hi"], 30)
        old = tg.token
        assert tg.revoke_token() != old
        _wait_failed(engine)
        assert not engine.running
        with pytest.raises(NotRunning, match="engine failed"):
            engine.feed({"update_id": 1})
    assert engine.status == "stopped"
    statuses = [e for e in events.list() if isinstance(e, str)]
    assert statuses == ["starting", "connected", "on_connected", "failed", "stopping",
                        "stopped"]


def test_run_forever_raises_the_fatal_error_after_stopping(tg: FakeBotApi) -> None:
    tg.add_fault(Fault(method="getUpdates", status=401))
    engine = make_engine(tg, [Route(per_chat_id(), Echo)])
    with pytest.raises(PollingStopped):
        engine.run_forever()
    assert engine.status == "stopped"


# -- a raising on_callback_query still answers its query -------------------------------------


class Buttons(UserHandler):
    def on_callback_query(self, query: dict[str, Any]) -> None:
        if query["data"] == "answer-then-fail":
            self.sender.answer_callback_query(query["id"], text="done")
        raise RuntimeError("button bug")

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.sender.send_message("still here")


def _answers(tg: FakeBotApi) -> list[dict[str, Any]]:
    return [dict(c.params) for c in tg.calls_to("answerCallbackQuery")]


@pytest.mark.parametrize("text", [None, "Something went wrong"])
def test_a_raising_callback_hook_answers_its_query_once(
    tg: FakeBotApi, text: str | None
) -> None:
    class Kind(Buttons):
        callback_failure_text = text

    with make_engine(tg, [Route(per_from_id(), Kind, on_failure=NO_RETRY)]) as engine:
        fail = tg.inject_callback_query(5, 5, "fail", message_id=1)
        answered = tg.inject_callback_query(5, 5, "answer-then-fail", message_id=1)
        tg.inject_message(5, "hi")  # same handler, after both queries
        assert tg.wait_for(lambda: tg.sent_texts(5) == ["still here"], 30)
        stats = engine.stats()
    expected = {"callback_query_id": fail["callback_query"]["id"]}
    if text is not None:
        expected["text"] = text
    by_id = {a["callback_query_id"]: a for a in _answers(tg)}  # sent in any order
    assert len(_answers(tg)) == len(by_id) == 2
    assert by_id[fail["callback_query"]["id"]] == expected
    assert by_id[answered["callback_query"]["id"]]["text"] == "done"
    assert all(c.status == 200 for c in tg.calls_to("answerCallbackQuery"))
    assert (stats["hook_failures"], stats["failed"], stats["spawned"]) == (2, 0, 1)
    assert engine.dead_letters() == []


def test_a_failed_courtesy_answer_is_not_a_dead_letter(tg: FakeBotApi) -> None:
    tg.add_fault(Fault(method="answerCallbackQuery", status=400))
    with make_engine(tg, [Route(per_from_id(), Buttons, on_failure=NO_RETRY)]) as engine:
        tg.inject_callback_query(5, 5, "fail", message_id=1)
        tg.inject_message(5, "hi")
        assert tg.wait_for(lambda: tg.sent_texts(5) == ["still here"], 30)
        assert tg.wait_for(lambda: len(tg.calls_to("answerCallbackQuery")) == 1, 30)
        engine.stop()
        assert engine.dead_letters() == []
