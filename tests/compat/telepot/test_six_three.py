"""telepot 6.3 behaviour the reference describes without an example program (issue 15)."""

from __future__ import annotations

import json
import queue
import threading
from typing import Any, ClassVar

import pytest
import structlog

from actorbot.compat import telepot
from actorbot.compat.telepot import delegate as d
from actorbot.compat.telepot.namedtuple import InlineQueryResultArticle, namedtuple
from actorbot.runtime import ManualClock
from actorbot.testing import FakeBotApi
from tests.compat.telepot.test_runtime import Echo
from tests.helpers import eventually

TOKEN = "123456:TEST-token"


def update(uid: int, chat: int = 1) -> dict[str, Any]:
    return {"update_id": uid, "message": {"message_id": uid, "date": 0, "text": f"u{uid}",
                                          "chat": {"id": chat, "type": "private"}}}


# -- Answerer(bot, compute_function) --------------------------------------------------------


def test_answerer_6_3_supersedes_the_older_query_at_once(telegram: FakeBotApi) -> None:
    release = threading.Event()
    started: list[str] = []

    def compute(inline_query: dict[str, Any]) -> list[Any]:
        started.append(inline_query["query"])
        if inline_query["query"] == "slow":
            release.wait(10)
        return [InlineQueryResultArticle(id="a", title=inline_query["query"],
                                         message_text=inline_query["query"])]

    bot = telepot.Bot(TOKEN)
    answerer = telepot.helper.Answerer(bot, compute)
    bot.notifyOnMessage(answerer.answer)
    try:
        slow = telegram.inject_inline_query(5, "slow")["inline_query"]["id"]
        eventually(lambda: started == ["slow"], 10, "the slow computation to start")
        fast = telegram.inject_inline_query(5, "fast")["inline_query"]["id"]
        # The newer query is computed and answered while the older one still computes.
        calls = telegram.wait_for_calls("answerInlineQuery", 1, timeout=10)
        assert started == ["slow", "fast"]
        release.set()
        answerer.join(10)
        assert not answerer.busy
    finally:
        assert bot.stop()
    calls = telegram.calls_to("answerInlineQuery")
    assert [c.params["inline_query_id"] for c in calls] == [fast]
    assert slow != fast
    assert calls[0].params["results"] == [{"type": "article", "id": "a", "title": "fast",
                                           "input_message_content": {"message_text": "fast"}}]


def test_answerer_without_a_compute_function_says_so() -> None:
    answerer = telepot.helper.Answerer(telepot.Bot(TOKEN))
    with pytest.raises(TypeError, match="compute function"):
        answerer.answer({"id": "q", "from": {"id": 1}, "query": "x"})


# -- helper names and close(code, reason) --------------------------------------------------


class Closer(telepot.helper.ChatHandler):
    closed: ClassVar[list[tuple[Any, Any]]] = []

    def __init__(self, seed_tuple: Any, timeout: float) -> None:
        super().__init__(seed_tuple, timeout)

    def on_message(self, msg: dict[str, Any]) -> None:
        self.sender.sendMessage(f"got {msg['text']}")
        self.close(4, "done")

    def on_close(self, exception: BaseException) -> None:
        assert isinstance(exception, telepot.exception.StopListening)
        self.closed.append((exception.code, exception.reason))


def test_close_code_and_reason_reach_on_close(telegram: FakeBotApi) -> None:
    Closer.closed = []
    assert telepot.helper.WaitTooLong is telepot.exception.WaitTooLong
    bot = telepot.DelegatorBot(TOKEN, [(d.per_chat_id(), d.create_open(Closer, timeout=10))])
    bot.notifyOnMessage()
    try:
        telegram.inject_message(1, "a")
        telegram.inject_message(1, "b")
        eventually(lambda: len(Closer.closed) == 2, 10, "two closes")
    finally:
        assert bot.stop()
    assert Closer.closed == [(4, "done"), (4, "done")]
    assert telegram.sent_texts(1) == ["got a", "got b"]


# -- ChatHandler under a seed that is not the chat ----------------------------------------


class PerUser(telepot.helper.ChatHandler):
    def __init__(self, seed_tuple: Any, timeout: float) -> None:
        super().__init__(seed_tuple, timeout)

    def on_message(self, msg: dict[str, Any]) -> None:
        self.sender.sendMessage(f"{self.id} in {self.chat_id}")


def test_chat_handler_per_user_replies_to_the_chat_of_the_first_message(
    telegram: FakeBotApi,
) -> None:
    bot = telepot.DelegatorBot(TOKEN, [(d.per_from_id(), d.create_open(PerUser, timeout=10))])
    bot.notifyOnMessage()
    try:
        telegram.inject_message(-40, "hi", chat_type="group", user_id=7)
        assert telegram.wait_for(lambda: telegram.sent_texts(-40) == ["7 in -40"], 10)
    finally:
        assert bot.stop()
    assert telegram.sent_texts(7) == []


# -- DelegatorBot.handle(msg), called directly --------------------------------------------


def test_delegator_bot_handle_called_directly_delegates_in_order(
    telegram: FakeBotApi,
) -> None:
    bot = telepot.DelegatorBot(TOKEN, [(d.per_chat_id(), d.create_open(Echo, timeout=10))])
    try:
        for n in range(1, 5):
            bot.handle(update(n, chat=1 + n % 2)["message"])  # as a webhook app would
        assert telegram.wait_for(lambda: len(telegram.calls_to("sendMessage")) == 4, 10)
        with pytest.raises(telepot.BadFlavor):
            bot.handle({"neither": 1, "nor": 2})
    finally:
        assert bot.stop()
    assert telegram.sent_texts(1) == ["1:u2", "2:u4"]
    assert telegram.sent_texts(2) == ["1:u1", "2:u3"]
    assert telegram.calls_to("getUpdates") == []  # no polling was started


# -- a startable delegate that is not a Thread ---------------------------------------------


class Busy:
    """Alive for a while without reading its listener, as a 6.3 delegate may be."""

    made: ClassVar[list[str]] = []
    checks: ClassVar[int] = 0  # is_alive() calls: the shell asks only once a message came

    def __init__(self, seed_tuple: Any) -> None:
        self.bot, msg, self.chat_id = seed_tuple
        self.made.append(msg["text"])
        self.go = threading.Event()
        self._thread = threading.Thread(target=self.go.wait, args=(10,),
                                        name="telepot-busy")

    def start(self) -> None:
        self._thread.start()
        BUSY.append(self)

    def is_alive(self) -> bool:
        Busy.checks += 1
        return self._thread.is_alive()


BUSY: list[Busy] = []


def test_a_startable_alive_when_a_message_comes_is_not_given_a_second_delegate(
    telegram: FakeBotApi,
) -> None:
    Busy.made = []
    Busy.checks = 0
    BUSY.clear()
    bot = telepot.DelegatorBot(TOKEN, [(d.per_chat_id(), Busy)])
    bot.notifyOnMessage()
    try:
        telegram.inject_message(1, "a")
        eventually(lambda: len(BUSY) == 1, 10, "the first delegate")
        telegram.inject_message(1, "b")  # arrives while it is alive: it is the delegate's
        # The shell found it alive (first check) and waits for it to take b or end.
        eventually(lambda: Busy.checks >= 2, 10, "the shell to hand b over")
        BUSY[0].go.set()
        loop = bot.loop
        assert loop is not None
        eventually(lambda: loop.engine.stats()["handlers_alive"] == 0, 10, "its shell closes")
        telegram.inject_message(1, "c")  # after it ended: a new delegate
        eventually(lambda: len(BUSY) == 2, 10, "the second delegate")
        BUSY[1].go.set()
    finally:
        assert bot.stop()
        for busy in BUSY:
            busy.go.set()
            busy._thread.join(10)
    assert Busy.made == ["a", "c"]


# -- an ordered source= queue discards what comes after its hold expired --------------------


def test_ordered_source_discards_an_update_later_than_its_hold(telegram: FakeBotApi) -> None:
    seen: list[str] = []
    source: queue.Queue[Any] = queue.Queue()
    clock = ManualClock()  # the hold expires when the test says so
    bot = telepot.Bot(TOKEN, clock=clock)
    bot.notifyOnMessage(lambda msg: seen.append(msg["text"]), source=source, ordered=True,
                        maxhold=3)
    try:
        source.put(update(1))
        source.put(json.dumps(update(3)))  # 2 is missing: 3 waits up to maxhold
        loop = bot.loop
        assert loop is not None
        orderer = loop._orderer  # private: to know 3 is held before time moves
        eventually(lambda: seen == ["u1"] and orderer.held == 1, 10, "u1, and u3 held")
        clock.advance(3)
        eventually(lambda: seen == ["u1", "u3"], 10, "3 released once the hold expired")
        source.put(update(2))  # too late: 6.3 discards it
        source.put(update(4))
        eventually(lambda: "u4" in seen, 10, "u4")
        source.put(update(6))
        source.put(update(5))  # within the hold: put back in order
        eventually(lambda: "u6" in seen, 10, "u6")
    finally:
        assert bot.stop()
    assert seen == ["u1", "u3", "u4", "u5", "u6"]


# -- namedtuple(dict, type) -----------------------------------------------------------------


def test_namedtuple_function_takes_list_types_and_rejects_unknown_ones() -> None:
    updates = namedtuple([update(1), update(2)], "Update[]")
    assert [u.message.text for u in updates] == ["u1", "u2"]
    sizes = namedtuple([[{"file_id": "a", "file_unique_id": "u", "width": 1, "height": 2}]],
                       "PhotoSize[][]")
    assert sizes[0][0].height == 2
    assert namedtuple({"hide_keyboard": True}, "ReplyKeyboardHide").remove_keyboard is True
    with pytest.raises(ValueError, match="unknown Bot API type 'Nonsense'"):
        namedtuple({}, "Nonsense")


# -- no message text in the logs ------------------------------------------------------------


def test_a_failing_callback_is_logged_without_the_message_text(telegram: FakeBotApi) -> None:
    def handle(msg: dict[str, Any]) -> None:
        telepot.flavor({"secret": msg["text"], "other": 1})  # raises BadFlavor

    bot = telepot.Bot(TOKEN)
    with structlog.testing.capture_logs() as logs:
        bot.notifyOnMessage(handle)
        try:
            telegram.inject_message(1, "my password is hunter2")
            eventually(lambda: any(e["event"] == "telepot.callback_failed" for e in logs), 10,
                       "the failure logged")
        finally:
            assert bot.stop()
    failed = [e for e in logs if e["event"] == "telepot.callback_failed"]
    assert failed[0]["error"] == "BadFlavor: no flavor for a dict with keys ['other', 'secret']"
    assert "hunter2" not in repr(logs)
    exc = failed[0]["exc_info"]
    assert "hunter2" not in str(exc)
    assert "hunter2" not in repr(exc)
