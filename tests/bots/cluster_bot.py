"""Handlers for the cluster tests' worker processes (``actorbot worker tests.bots...``).

``Counter`` counts each chat's messages in declared state (a RedisStore under a worker)
and answers ``"<text> <count>"``; ``Echo`` answers the text.
"""

from __future__ import annotations

from typing import Any

from actorbot import ChatHandler
from actorbot.handlers import State
from tests.bots.state_counter_bot import Count


class Counter(ChatHandler):
    state = State(Count)

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.state.n += 1
        self.sender.send_message(f"{msg['text']} {self.state.n}")


class Echo(ChatHandler):
    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.sender.send_message(msg["text"])
