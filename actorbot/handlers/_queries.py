"""Answering a callback query whose hook raised, so the user's button stops spinning."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

from actorbot.errors import ActorbotError
from actorbot.sending import AnswerWatch, watch_answer

if TYPE_CHECKING:
    from actorbot.handlers._handler import Handler

log = structlog.get_logger("actorbot.handler")


def watch_query(kind: str, inner: Any) -> AnswerWatch | None:
    """Before a tolerated hook runs: watch whether it answers its callback query."""
    if kind != "callback_query" or not isinstance(inner, dict):
        return None
    query_id = inner.get("id")
    return watch_answer(query_id) if isinstance(query_id, str) else None


def answer_after_failure(handler: Handler, watch: AnswerWatch | None) -> None:
    """The hook raised: answer its callback query once (``callback_failure_text``, None
    by default: no text), unless the hook already did. A failed answer is logged by the
    sender, never parked: the update's failure was tolerated already."""
    if watch is None or watch.answered:
        return
    try:
        future = handler.sender.answer_callback_query(
            watch.query_id, text=handler.callback_failure_text)
    except ActorbotError as exc:  # the sender is stopped or full: the button times out
        log.warning("handler.query_unanswered", route=handler.context.route,
                    error=type(exc).__name__)
        return
    watch.answered = True
    future.error_seen = True
