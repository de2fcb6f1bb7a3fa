"""A reply that finally fails is never silent: logged, counted, and its update parked."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from structlog.testing import capture_logs

from actorbot import CallResult, ChatHandler, Route, per_chat_id
from actorbot.errors import NoSuchDeadLetter, TelegramError
from actorbot.journal import MemoryJournal, SqliteJournal
from actorbot.runtime import Backoff
from actorbot.sending import RateLimits, Sending
from actorbot.testing import FakeBotApi, Fault
from tests.helpers import eventually, make_engine

FAST = Sending(limits=RateLimits.unlimited(), max_retries=2, retry_deadline=0.05,
               backoff=Backoff(initial=0.001, maximum=0.002))


class Reply(ChatHandler):
    """Replies without looking at the outcome: a failure is nobody's but the engine's."""

    def on_chat_message(self, m: dict[str, Any]) -> None:
        self.sender.send_message(f"re: {m['text']}")


class Careful(ChatHandler):
    """Waits for its reply and handles the error itself."""

    caught: ClassVar[list[str]] = []

    def on_chat_message(self, m: dict[str, Any]) -> None:
        try:
            self.sender.send_message(f"re: {m['text']}").get(timeout=10)
        except TelegramError as exc:
            self.caught.append(type(exc).__name__)


class Notified(ChatHandler):
    """Asks for the outcome as a message: on_result sees the error."""

    results: ClassVar[list[bool]] = []

    def on_chat_message(self, m: dict[str, Any]) -> None:
        self.sender.notify("reply").send_message(f"re: {m['text']}")

    def on_result(self, result: CallResult) -> None:
        self.results.append(result.ok)


def journal_of(kind: str, tmp_path: Path) -> MemoryJournal | SqliteJournal:
    return SqliteJournal(tmp_path / "j.db") if kind == "sqlite" else MemoryJournal()


FAULTS = {
    "drop": Fault(method="sendMessage", drop="before"),
    "outage": Fault(method="sendMessage", status=502),
    "html_200": Fault(method="sendMessage", raw_body=b"<html>ok</html>"),
}


@pytest.mark.parametrize("journal_kind", ["memory", "sqlite"])
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_failed_reply_is_logged_counted_and_parked(
    tg: FakeBotApi, tmp_path: Path, fault: str, journal_kind: str
) -> None:
    journal = journal_of(journal_kind, tmp_path)
    engine = make_engine(tg, [Route(per_chat_id(), Reply)], intake=None, sending=FAST,
                         journal=journal)
    tg.add_fault(FAULTS[fault])
    with capture_logs() as logs, engine:
        update = tg.inject_message(7, "hello")
        engine.feed(update)
        eventually(lambda: engine.stats()["dead_letters"] == 1, what="the dead letter")
        (dead,) = engine.dead_letters()
        by_error = dict(engine._sender_actor.stats.failed_by_error)  # type: ignore[union-attr]
    assert (dead.update_id, dead.route) == (update["update_id"], "sender")
    assert dead.error.startswith("sendMessage to chat 7 failed after")
    assert "hello" not in dead.error
    assert tg.token not in dead.error
    assert dead.update == update
    (warning,) = [e for e in logs if e["event"] == "sender.call_failed"]
    assert warning["log_level"] == "warning"
    assert (warning["method"], warning["chat_id"], warning["update_id"]) == (
        "sendMessage", 7, update["update_id"])
    assert by_error == {warning["error"]: 1}
    assert "hello" not in repr(logs)
    assert journal.stats.pending == 0  # not replayed forever: parked instead
    if isinstance(journal, SqliteJournal):
        assert journal.count("pending") == 0
        assert [d.update_id for d in journal.dead_letters()] == [update["update_id"]]


def test_a_failure_the_handler_saw_is_its_own(tg: FakeBotApi) -> None:
    Careful.caught.clear()
    Notified.results.clear()
    engine = make_engine(tg, [Route(per_chat_id(), Careful), Route(per_chat_id(), Notified)],
                         intake=None, sending=FAST)
    tg.add_fault(Fault(method="sendMessage", status=502))
    with engine:
        engine.feed(tg.inject_message(7, "hello"))
        eventually(lambda: engine.stats()["handled"] == 1, what="the update handled")
        eventually(lambda: Notified.results == [False], what="on_result")
        assert Careful.caught == ["ServerError"]
        assert engine.dead_letters() == []
        assert engine.journal.stats.acked == 1


def test_an_operator_replays_a_dead_letter(tg: FakeBotApi, tmp_path: Path) -> None:
    engine = make_engine(tg, [Route(per_chat_id(), Reply)], intake=None, sending=FAST,
                         journal=tmp_path / "j.db")
    tg.add_fault(Fault(method="sendMessage", drop="before", times=1))
    with engine:
        update = tg.inject_message(7, "hello")
        engine.feed(update)
        eventually(lambda: engine.stats()["dead_letters"] == 1, what="the dead letter")
        assert tg.sent_texts(7) == []
        engine.replay_dead_letter(update["update_id"])
        eventually(lambda: tg.sent_texts(7) == ["re: hello"], what="the reply, at last")
        eventually(lambda: engine.journal.stats.pending == 0, what="acknowledged")
        assert engine.dead_letters() == []
        with pytest.raises(NoSuchDeadLetter):
            engine.replay_dead_letter(update["update_id"])
