"""Engine.evict: live handlers of given seeds close with the given reason; the next
update for one of them spawns a fresh handler (actorbot.cluster uses it when a partition
moves away)."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from actorbot import ChatHandler, Route, per_chat_id
from actorbot.handlers import CloseReason
from actorbot.testing import FakeBotApi
from tests.helpers import eventually, make_engine


class Moved(CloseReason):
    pass


class Recorder(ChatHandler):
    lock = threading.Lock()
    opened: ClassVar[list[Any]] = []
    closed: ClassVar[list[tuple[Any, str]]] = []

    def on_open(self, update: Any) -> None:
        with self.lock:
            self.opened.append(self.seed)

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.sender.send_message("ok")

    def on_close(self, reason: BaseException) -> None:
        with self.lock:
            self.closed.append((self.seed, type(reason).__name__))


def message(update_id: int, chat: int) -> dict[str, Any]:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "text": "hi", "chat": {"id": chat, "type": "private"},
        "from": {"id": chat, "is_bot": False, "first_name": "u"}}}


def test_evicted_handlers_close_and_the_next_update_spawns_anew(tg: FakeBotApi) -> None:
    engine = make_engine(tg, [Route(per_chat_id(), Recorder)], intake=None)
    with engine:
        engine.feed([message(1, 1), message(2, 2)])
        eventually(lambda: len(tg.calls_to("sendMessage")) == 2, 10, "2 answers")
        engine.evict([(0, 1), (0, 99), (7, 1)], Moved("gone"))  # unknown keys: ignored
        eventually(lambda: Recorder.closed == [(1, "Moved")], 10, "chat 1 closed")
        engine.feed([message(3, 1)])
        eventually(lambda: len(tg.calls_to("sendMessage")) == 3, 10, "3 answers")
    assert sorted(Recorder.opened) == [1, 1, 2]
    assert sorted(Recorder.closed) == [(1, "EngineStopping"), (1, "Moved"), (2, "EngineStopping")]
