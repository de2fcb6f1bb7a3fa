"""Updates SQLite cannot hold natively (ids past 64 bits, lone surrogates) block nothing."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, ClassVar

from actorbot import ChatHandler, Route, per_chat_id
from actorbot.journal import SqliteJournal
from actorbot.testing import FakeBotApi
from tests.helpers import eventually, make_engine


class Seen(ChatHandler):
    lock = threading.Lock()
    texts: ClassVar[list[str]] = []

    def on_chat_message(self, m: dict[str, Any]) -> None:
        with self.lock:
            self.texts.append(m.get("text", ""))


def message(update_id: int, chat: int, text: str) -> dict[str, Any]:
    return {"update_id": update_id, "message": {
        "message_id": 1, "date": 0, "text": text, "chat": {"id": chat, "type": "private"}}}


def test_polled_lone_surrogates_are_journaled_and_block_no_chat(
    tg: FakeBotApi, tmp_path: Path
) -> None:
    Seen.texts.clear()
    journal = SqliteJournal(tmp_path / "j.db")
    engine = make_engine(tg, [Route(per_chat_id(), Seen)], journal=journal)
    with engine:
        tg.inject_message(1, "bad \ud800")
        tg.inject_message(2, "fine")
        eventually(lambda: sorted(Seen.texts) == ["bad \ud800", "fine"], what="both chats")
        assert engine.stats()["poll_errors"] == 0
    assert journal.count("pending") == 0


def test_fed_big_ids_and_surrogates_are_journaled_losslessly(
    tg: FakeBotApi, tmp_path: Path
) -> None:
    Seen.texts.clear()
    journal = SqliteJournal(tmp_path / "j.db")
    engine = make_engine(tg, [Route(per_chat_id(), Seen)], intake=None, journal=journal)
    with engine:
        engine.feed([message(2**63, 1, "big"), message(5, 2, "\udfff")])
        engine.feed(message(2**64, 3, "bigger"))
        engine.feed(message(2**63, 1, "big"))  # a duplicate, even past 64 bits
        eventually(lambda: len(Seen.texts) == 3, what="three updates")
        assert sorted(Seen.texts) == sorted(["\udfff", "big", "bigger"])
        assert engine.stats()["duplicates"] == 1
    assert journal.count("pending") == 0
    assert journal.count("done") == 3
