"""delegate: telepot's seed functions and delegate kinds; helper's handlers and events."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from actorbot.compat import telepot
from actorbot.compat.telepot import delegate as d
from actorbot.testing import FakeBotApi
from tests.helpers import eventually

TOKEN = "123456:TEST-token"
CHAT = {"message_id": 1, "date": 0, "text": "hi", "chat": {"id": -5, "type": "group"},
        "from": {"id": 7, "is_bot": False, "first_name": "a"}}
INLINE = {"id": "q", "from": {"id": 7, "is_bot": False, "first_name": "a"}, "query": "x",
          "offset": ""}
CALLBACK = {"id": "c", "chat_instance": "i", "data": "d", "from": CHAT["from"],
            "message": CHAT}
INLINE_CALLBACK = {"id": "c", "chat_instance": "i", "data": "d", "from": CHAT["from"],
                   "inline_message_id": "im"}
EVENT = {"_alarm": {"source": {"space": 3, "id": -5}}}


@pytest.mark.parametrize(("seeder", "msg", "seed"), [
    (d.per_chat_id(), CHAT, -5),
    (d.per_chat_id(types=["private"]), CHAT, None),
    (d.per_chat_id(), INLINE, None),  # no chat: not mine, never an exception
    (d.per_chat_id_in({-5}), CHAT, -5),
    (d.per_chat_id_in({1}), CHAT, None),
    (d.per_chat_id_except({-5}), CHAT, None),
    (d.per_from_id(), CHAT, 7),
    (d.per_from_id(), CALLBACK, 7),  # 6.3: every message with a `from` (12.7: not these)
    (d.per_from_id(flavors=["chat", "inline_query"]), CALLBACK, None),
    (d.per_from_id(flavors=["chat"]), CHAT, 7),  # 12.7's name for "normal"
    (d.per_from_id(flavors=["normal"]), CHAT, 7),
    (d.per_from_id_in({7}), INLINE, 7),
    (d.per_from_id_except({7}), INLINE, None),
    (d.per_inline_from_id(), INLINE, 7),
    (d.per_inline_from_id(), CHAT, None),
    (d.per_inline_from_id_in({8}), INLINE, None),
    (d.per_inline_from_id_except({8}), INLINE, 7),
    (d.per_application(), INLINE, 1),
    (d.per_message(), CHAT, []),
    (d.per_message(flavors=["inline_query"]), CHAT, None),
    (d.per_callback_query_chat_id(), CALLBACK, -5),
    (d.per_callback_query_chat_id(types=["private"]), CALLBACK, None),
    (d.per_callback_query_origin(), CALLBACK, (-5, 1)),
    (d.per_callback_query_origin(), INLINE_CALLBACK, ("im",)),
    (d.per_callback_query_origin(origins=["chat"]), INLINE_CALLBACK, None),
    (d.per_event_source_id(3), EVENT, -5),
    (d.per_event_source_id(4), EVENT, None),
    (d.chain(d.per_chat_id(), d.per_from_id()), INLINE, 7),
    (d.until(lambda s: s == 7, [d.per_chat_id(), d.per_from_id()]), CHAT, 7),
])
def test_seed_functions_follow_telepot(seeder: Any, msg: Any, seed: Any) -> None:
    assert seeder(msg) == seed


def test_pair_producers_add_seeders_and_keyword_arguments() -> None:
    seen: list[Any] = []
    seeder, delegator = d.include_callback_query_chat_id(d.pave_event_space())(
        d.per_chat_id(), lambda *a, **kw: seen.append((a, kw)) or "made", "arg", timeout=1)
    assert delegator == "made"
    (args, kwargs), = seen
    assert args == ("arg",)
    assert kwargs["timeout"] == 1
    assert kwargs["include_callback_query"] is True
    assert isinstance(kwargs["event_space"], int)
    assert seeder(CHAT) == -5
    assert seeder(CALLBACK) == -5
    event = {"_x": {"source": {"space": kwargs["event_space"], "id": 9}}}
    assert seeder(event) == 9


def test_glance_flavor_flance_shapes() -> None:
    assert telepot.flavor(CHAT) == "normal"
    assert telepot.flavor(CALLBACK) == "callback_query"
    assert telepot.glance(CHAT) == ("text", "group", -5)
    assert telepot.glance(CHAT, long=True) == ("text", "group", -5, 0, 1)
    assert telepot.glance(CHAT, flavor="normal") == telepot.glance2(CHAT) == ("text", "group", -5)
    assert telepot.flance(CHAT) == ("normal", ("text", "group", -5))
    assert telepot.flance(INLINE, long=True) == ("inline_query", ("q", 7, "x", ""))
    assert telepot.flance(CALLBACK) == ("callback_query", ("c", 7, "d"))
    assert telepot.fleece(EVENT) == ("_alarm", EVENT["_alarm"])
    assert telepot.is_event(EVENT)
    assert telepot.origin_identifier(CALLBACK) == (-5, 1)
    assert telepot.message_identifier(CHAT) == (-5, 1)
    with pytest.raises(telepot.BadFlavor):
        telepot.flavor({"a": 1, "b": 2})
    with pytest.raises(telepot.BadFlavor):
        telepot.glance(CHAT, flavor="nonsense")


# -- delegate kinds on a running bot -------------------------------------------------------


class Replier(threading.Thread):
    """A delegate that is a Thread (telepot: objects with start() and is_alive())."""

    def __init__(self, seed_tuple: Any) -> None:
        super().__init__()
        self.bot, self.msg, self.chat_id = seed_tuple

    def run(self) -> None:
        self.bot.sendMessage(self.chat_id, f"thread got {self.msg['text']}")


class Job:
    def __init__(self, seed_tuple: Any, prefix: str) -> None:
        self.bot, self.msg, self.chat_id = seed_tuple
        self.prefix = prefix

    def run(self) -> None:
        self.bot.sendMessage(self.chat_id, f"{self.prefix} {self.msg['text']}")


@telepot.helper.openable
class Closer:
    """An @openable class of its own: closes itself when told to."""

    def __init__(self, seed_tuple: Any) -> None:
        self.bot, _msg, self.chat_id = seed_tuple
        self._listener = self.bot.create_listener()
        self._listener.capture(chat__id=self.chat_id)

    @property
    def listener(self) -> Any:
        return self._listener

    def on_message(self, msg: dict[str, Any]) -> None:
        if msg["text"] == "bye":
            self.close()
        self.bot.sendMessage(self.chat_id, f"open: {msg['text']}")

    def on_close(self, ex: BaseException) -> None:
        self.bot.sendMessage(self.chat_id, f"closed by {type(ex).__name__}")


@pytest.mark.parametrize(("delegator", "texts"), [
    (Replier, ["thread got a", "thread got b"]),
    (d.create_run(Job, "job"), ["job a", "job b"]),
    (d.create_open(Closer), ["open: a", "closed by StopListening", "open: b"]),
])
def test_delegate_kinds(telegram: FakeBotApi, delegator: Any, texts: list[str]) -> None:
    bot = telepot.DelegatorBot(TOKEN, [(d.per_chat_id(), delegator)])
    bot.message_loop()
    try:
        telegram.inject_message(1, "a")
        if texts[1].startswith("closed"):
            telegram.inject_message(1, "bye")
        telegram.inject_message(1, "b")
        eventually(lambda: len(telegram.sent_texts(1)) >= len(texts), 10, "the replies")
    finally:
        assert bot.stop()
    assert telegram.sent_texts(1)[:len(texts)] == texts


class Alarm(telepot.helper.UserHandler):
    """telepot 12's scheduler: an event comes back to this handler's ``on__alarm``."""

    def __init__(self, seed_tuple: Any, **kwargs: Any) -> None:
        super().__init__(seed_tuple, **kwargs)
        self.router.routing_table["_alarm"] = self.on__alarm

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        assert self.scheduler is not None
        self.scheduler.event_later(0.05, ("_alarm", {"payload": msg["text"]}))

    def on__alarm(self, event: dict[str, Any]) -> None:
        self.sender.sendMessage(f"alarm: {event['_alarm']['payload']}")


def test_user_handler_events_come_back_to_their_handler(telegram: FakeBotApi) -> None:
    bot = telepot.DelegatorBot(TOKEN, [
        d.pave_event_space()(d.per_from_id(), d.create_open, Alarm, timeout=10),
    ])
    bot.message_loop()
    try:
        telegram.inject_message(7, "wake up")
        assert telegram.wait_for(lambda: telegram.sent_texts(7) == ["alarm: wake up"], 10)
    finally:
        assert bot.stop()


class Wrapped:
    """A startable that is not a Thread: telepot accepted any object with start() and
    is_alive(); its listener must read the same feed its shell offers messages to."""

    def __init__(self, seed_tuple: Any) -> None:
        self.bot, self.msg, self.chat_id = seed_tuple
        self._thread = threading.Thread(target=self._run, name="telepot-wrapped")

    def start(self) -> None:
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        listener = self.bot.create_listener()
        listener.capture(chat__id=self.chat_id)
        self.bot.sendMessage(self.chat_id, f"got {self.msg['text']}")
        try:
            msg = listener.wait()
        except telepot.exception.StopListening:
            return
        self.bot.sendMessage(self.chat_id, f"then {msg['text']}")


def test_a_startable_that_is_not_a_thread_gets_its_messages_and_its_shell_closes(
    telegram: FakeBotApi,
) -> None:
    bot = telepot.DelegatorBot(TOKEN, [(d.per_chat_id(), Wrapped)])
    bot.message_loop()
    try:
        telegram.inject_message(1, "a")
        telegram.inject_message(1, "b")
        eventually(lambda: len(telegram.sent_texts(1)) == 2, 10, "both replies")
        loop = bot.loop
        assert loop is not None
        eventually(lambda: loop.engine.stats()["handlers_alive"] == 0, 10, "the shell closes")
    finally:
        assert bot.stop()
    assert telegram.sent_texts(1) == ["got a", "then b"]


@pytest.mark.parametrize(("key", "expected"), [
    ("a", ("m", (), {})),
    (("a",), ("m", (), {})),
    (("a", (1,)), ("m", (1,), {})),  # telepot: a 2-tuple has no keyword arguments
    (("a", (1,), {"y": 2}), ("m", (1,), {"y": 2})),
    ("zz", ("default", "m")),
])
def test_router_passes_the_arguments_its_key_function_returns(key: Any, expected: Any) -> None:
    router = telepot.helper.Router(lambda _msg: key, {
        "a": lambda msg, *args, **kwargs: (msg, args, kwargs),
        None: lambda msg: ("default", msg),
    })
    assert router.route("m") == expected
