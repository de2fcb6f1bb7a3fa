"""Which callback query the calling code answered: a hook that raised may have left its
user's button spinning, and a second answer would fail (``QUERY_ID_INVALID``)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Final

_WATCH: Final[ContextVar[AnswerWatch | None]] = ContextVar("actorbot_answer_watch",
                                                          default=None)


class AnswerWatch:
    """Set ``answered`` when ``answerCallbackQuery`` is queued for ``query_id`` in this
    context (thread or task) after :func:`watch_answer`."""

    __slots__ = ("answered", "query_id")

    def __init__(self, query_id: str) -> None:
        self.query_id = query_id
        self.answered = False


def watch_answer(query_id: str) -> AnswerWatch:
    """Start noting answers to ``query_id`` made from this context (one watch at a time:
    this replaces the previous one, so nothing accumulates)."""
    watch = AnswerWatch(query_id)
    _WATCH.set(watch)
    return watch


def note_call(method: str, params: dict[str, Any]) -> None:
    """Called by ``submit`` for every call: marks the watched query answered."""
    if method == "answerCallbackQuery":
        watch = _WATCH.get()
        if watch is not None and params.get("callback_query_id") == watch.query_id:
            watch.answered = True
