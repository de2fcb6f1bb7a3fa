"""telepot's documented examples, with only the imports changed, against the fake Telegram.

Each class and bot below is telepot's code as its documentation shows it (the counter in
its telepot 8 and telepot 12 forms, the ``MessagePrinter`` monitor, the inline answerer,
a conversation waiting on its listener); the tests then assert what the bot did.
"""

# ruff: noqa: RUF059, RET504 - the classes and bots are telepot's documented code, unchanged

from __future__ import annotations

import threading
from typing import Any

import pytest

from actorbot.compat import telepot
from actorbot.compat.telepot.delegate import (
    call,
    create_open,
    include_callback_query_chat_id,
    pave_event_space,
    per_chat_id,
)
from actorbot.compat.telepot.loop import MessageLoop
from actorbot.compat.telepot.namedtuple import InlineQueryResultArticle, InputTextMessageContent
from actorbot.testing import FakeBotApi
from tests.helpers import eventually

TOKEN = "123456:TEST-token"  # the fake's token, as telepot examples read it from argv


def texts(tg: FakeBotApi, chat: int) -> list[str]:
    return tg.sent_texts(chat)


# -- the counter, telepot 12 (doc/_code/counter.py with the event space and callbacks) ----


class MessageCounter(telepot.helper.ChatHandler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super(MessageCounter, self).__init__(*args, **kwargs)  # noqa: UP008 - telepot's code
        self._count = 0

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self._count += 1
        self.sender.sendMessage(self._count)

    def on_callback_query(self, msg: dict[str, Any]) -> None:
        query_id, from_id, data = telepot.glance(msg, flavor="callback_query")
        self.bot.answerCallbackQuery(query_id, text=f"count is {self._count}")


def test_counter_counts_per_chat_in_order_and_starts_over_after_the_timeout(
    telegram: FakeBotApi,
) -> None:
    bot = telepot.DelegatorBot(TOKEN, [
        include_callback_query_chat_id(
            pave_event_space())(
                per_chat_id(), create_open, MessageCounter, timeout=0.3),
    ])
    MessageLoop(bot).run_as_thread()
    try:
        for chat in (1001, 1002, 1003):
            for text in ("a", "b", "c", "d"):
                telegram.inject_message(chat, text)
        assert telegram.wait_for(lambda: len(telegram.calls_to("sendMessage")) == 12, 10)
        assert [texts(telegram, c) for c in (1001, 1002, 1003)] == [["1", "2", "3", "4"]] * 3
        telegram.inject_callback_query(1002, 1002, "how many?")
        answers = telegram.wait_for_calls("answerCallbackQuery", 1, timeout=10)
        assert answers[0].params["text"] == "count is 4"
        loop = bot.loop
        assert loop is not None
        eventually(lambda: loop.engine.stats()["handlers_alive"] == 0, 10, "idle close")
        telegram.inject_message(1001, "back")
        assert telegram.wait_for(lambda: len(telegram.calls_to("sendMessage")) == 13, 10)
        assert texts(telegram, 1001) == ["1", "2", "3", "4", "1"]
    finally:
        assert bot.stop()


# -- the counter, telepot 8 (REFERENCE.md: ChatHandler(seed_tuple, timeout)) --------------


class OldMessageCounter(telepot.helper.ChatHandler):
    def __init__(self, seed_tuple: Any, timeout: float) -> None:
        super(OldMessageCounter, self).__init__(seed_tuple, timeout)  # noqa: UP008
        self._count = 0

    def on_message(self, msg: dict[str, Any]) -> None:
        self._count += 1
        self.sender.sendMessage(self._count)


def test_telepot_8_counter_with_message_loop(telegram: FakeBotApi) -> None:
    bot = telepot.DelegatorBot(TOKEN, [
        (per_chat_id(), create_open(OldMessageCounter, timeout=10)),
    ])
    bot.message_loop()
    try:
        for text in ("x", "y", "z"):
            telegram.inject_message(-100, text, chat_type="group", user_id=7)
        assert telegram.wait_for(lambda: len(telegram.calls_to("sendMessage")) == 3, 10)
        assert texts(telegram, -100) == ["1", "2", "3"]
    finally:
        assert bot.stop()


# -- the MessagePrinter monitor (REFERENCE.md, telepot.helper.Monitor) ---------------------


printed: list[Any] = []


class MessagePrinter(telepot.helper.Monitor):
    def __init__(self, seed_tuple: Any) -> None:
        # Returns true for every message, meaning all are captured.
        capture_criteria = {"_": lambda msg: True}
        super(MessagePrinter, self).__init__(seed_tuple, [capture_criteria])  # noqa: UP008

    def on_message(self, msg: Any) -> None:
        printed.append(msg)  # telepot's example prints it


def test_message_printer_sees_every_message_of_every_chat_in_order(
    telegram: FakeBotApi,
) -> None:
    printed.clear()
    bot = telepot.DelegatorBot(TOKEN, [
        # Seed is always the same, meaning only one MessagePrinter is ever spawned.
        (lambda msg: 1, create_open(MessagePrinter)),
    ])
    bot.message_loop()
    try:
        sent = [telegram.inject_message(c, f"m{i}") for i in range(5) for c in (1, 2)]
        telegram.inject_inline_query(1, "cats")
        eventually(lambda: len(printed) == 11, 10, "11 messages printed")
        assert [m.get("text") for m in printed[:10]] == [u["message"]["text"] for u in sent]
        assert printed[10]["query"] == "cats"
        loop = bot.loop
        assert loop is not None
        assert loop.engine.stats()["spawned"] == 1
    finally:
        assert bot.stop()


# -- the inline answerer (doc/_code/inline_query_answerer.py) ------------------------------


def test_inline_answerer_answers_and_a_new_query_supersedes_the_unfinished_one(
    telegram: FakeBotApi,
) -> None:
    release = threading.Event()
    chosen: list[tuple[Any, ...]] = []

    def on_inline_query(msg: dict[str, Any]) -> None:
        def compute() -> list[Any]:
            query_id, from_id, query_string = telepot.glance(msg, flavor="inline_query")
            if query_string == "slow":
                release.wait(10)
            articles = [InlineQueryResultArticle(
                            id="abc",
                            title=query_string,
                            input_message_content=InputTextMessageContent(
                                message_text=query_string
                            )
                       )]
            return articles

        answerer.answer(msg, compute)

    def on_chosen_inline_result(msg: dict[str, Any]) -> None:
        chosen.append(telepot.glance(msg, flavor="chosen_inline_result"))

    bot = telepot.Bot(TOKEN)
    answerer = telepot.helper.Answerer(bot)
    bot.message_loop({"inline_query": on_inline_query,
                      "chosen_inline_result": on_chosen_inline_result})
    try:
        slow = telegram.inject_inline_query(5, "slow")["inline_query"]["id"]
        eventually(lambda: answerer._workers, 10, "the slow computation to start")
        newer = telegram.inject_inline_query(5, "fast")["inline_query"]["id"]
        other = telegram.inject_inline_query(6, "other user")["inline_query"]["id"]
        telegram.wait_for_calls("answerInlineQuery", 1, timeout=10)  # user 6 is not held up
        release.set()
        telegram.inject_chosen_inline_result(5, "abc", "fast")
        eventually(lambda: chosen, 10, "the chosen result")
        answerer.join(10)
        calls = telegram.calls_to("answerInlineQuery")
        assert sorted(c.params["inline_query_id"] for c in calls) == sorted([newer, other])
        assert slow not in [c.params["inline_query_id"] for c in calls]
        by_id = {c.params["inline_query_id"]: c.params["results"] for c in calls}
        assert by_id[newer] == [{"type": "article", "id": "abc", "title": "fast",
                                 "input_message_content": {"message_text": "fast"}}]
        assert chosen == [("abc", 5, "fast")]
    finally:
        assert bot.stop()


# -- a conversation that waits on its listener (telepot's call() and Listener) -------------


def conversation(seed_tuple: Any) -> None:
    bot, msg, chat_id = seed_tuple
    listener = bot.create_listener()
    listener.capture(chat__id=chat_id)
    listener.set_options(timeout=10)
    bot.sendMessage(chat_id, "What is your name?")
    name = listener.wait()["text"]
    bot.sendMessage(chat_id, "How old are you?")
    age = listener.wait()["text"]
    bot.sendMessage(chat_id, f"{name} is {age}")


def test_capture_based_conversation_gets_each_answer_in_order(telegram: FakeBotApi) -> None:
    bot = telepot.DelegatorBot(TOKEN, [(per_chat_id(), call(conversation))])
    bot.message_loop()
    try:
        for chat, name, age in ((1, "Ann", "30"), (2, "Bob", "41")):
            telegram.inject_message(chat, "/start")
            telegram.inject_message(chat, name)
            telegram.inject_message(chat, age)
        assert telegram.wait_for(lambda: len(telegram.calls_to("sendMessage")) == 6, 10)
        assert texts(telegram, 1) == ["What is your name?", "How old are you?", "Ann is 30"]
        assert texts(telegram, 2) == ["What is your name?", "How old are you?", "Bob is 41"]
        telegram.inject_message(1, "again")  # the conversation ended: a new one starts
        assert telegram.wait_for(lambda: len(telegram.calls_to("sendMessage")) == 7, 10)
        assert texts(telegram, 1)[-1] == "What is your name?"
    finally:
        assert bot.stop()


@pytest.mark.parametrize("style", ["mic", "bot"])
def test_microphone_listeners_outside_delegates_hear_every_message(
    telegram: FakeBotApi, style: str
) -> None:
    bot = telepot.DelegatorBot(TOKEN, [(per_chat_id(), call(conversation))])
    if style == "bot":
        listener = bot.create_listener()
    else:
        import queue

        q: queue.Queue[Any] = queue.Queue()
        bot.mic.add(q)
        listener = telepot.helper.Listener(bot.mic, q)
    listener.capture(text=lambda t: t.startswith("#"))
    listener.set_options(timeout=10)
    bot.message_loop()
    try:
        telegram.inject_message(3, "hello")
        telegram.inject_message(4, "#tag")
        assert listener.wait()["text"] == "#tag"
    finally:
        assert bot.stop()
