"""Property tests: no helper of actorbot.updates raises on any JSON-ish input, and ids are
always int (never bool) or None. The router calls these on whatever arrives."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from actorbot.updates import (
    CONTENT_TYPES,
    UNKNOWN,
    UPDATE_TYPES,
    Glance,
    business_connection_id,
    chat_id,
    chat_type,
    content_type,
    glance,
    payload,
    sender_id,
    thread_id,
    update_type,
    user_id,
)
from tests.corpus import CORPUS

# Keys the helpers look at, so that generated dicts often go down the real paths.
KEYS = st.sampled_from(
    [
        *UPDATE_TYPES,
        *CONTENT_TYPES[:12],
        "update_id", "message_id", "chat", "id", "type", "from", "sender_chat", "user",
        "actor_chat", "voter_chat", "new_chat_member", "source", "boost", "user_chat_id",
        "message_thread_id", "is_topic_message", "business_connection_id", "query",
        "chat_instance", "data", "result_id", "shipping_address", "total_amount",
        "invoice_payload", "poll_id", "option_ids", "question", "options", "_idle",
    ]
) | st.text(max_size=6)  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["private", "group", "supergroup", "channel", ""])
)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=40,
)
# Update-shaped: a known (or unknown) payload key holding anything.
UPDATES = st.builds(
    lambda kind, body, extra: {"update_id": 1, **extra, kind: body},
    st.sampled_from([*UPDATE_TYPES, "new_kind"]),
    JSONISH,
    st.dictionaries(KEYS, JSONISH, max_size=2),
)


def _is_id(value: Any) -> bool:
    return value is None or type(value) is int


def check_everything(value: Any) -> None:
    kind = update_type(value)
    assert kind in UPDATE_TYPES or kind == UNKNOWN
    inner = payload(value)
    assert inner is None if kind == UNKNOWN else inner is value[kind]
    for helper in (chat_id, user_id, sender_id, thread_id):
        assert _is_id(helper(value))
    assert _is_id(thread_id(value, topic_only=True))
    found_type = chat_type(value)
    assert found_type is None or isinstance(found_type, str)
    connection = business_connection_id(value)
    assert connection is None or (isinstance(connection, str) and connection)
    seen = glance(value)
    assert isinstance(seen, Glance)
    assert seen == (kind, seen.content_type, found_type, chat_id(value), user_id(value))
    for content in (content_type(value), content_type(inner), seen.content_type):
        assert content is None or content in CONTENT_TYPES


@given(JSONISH)
def test_no_helper_raises_on_jsonish_values(value: Any) -> None:
    check_everything(value)


@given(UPDATES)
def test_no_helper_raises_on_update_shaped_values(update: dict[str, Any]) -> None:
    check_everything(update)


@given(
    st.integers() | st.booleans() | st.text(max_size=3) | st.none(),
    st.integers() | st.booleans() | st.floats() | st.none(),
)
def test_ids_are_the_ints_received_and_nothing_else(chat: Any, user: Any) -> None:
    update = {
        "update_id": 1,
        "message": {"message_id": 1, "chat": {"id": chat}, "from": {"id": user}},
    }
    assert chat_id(update) == (chat if type(chat) is int else None)
    assert user_id(update) == (user if type(user) is int else None)


def _corpus() -> list[Any]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(CORPUS.glob("*.json"))]


def _locations(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key/index path inside a decoded JSON value."""
    children: Iterable[tuple[Any, Any]]
    if isinstance(value, dict):
        children = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return []
    found = []
    for key, child in children:
        found.append((*here, key))
        found.extend(_locations(child, (*here, key)))
    return found


CORPUS_UPDATES = _corpus()


@st.composite
def damaged_corpus_updates(draw: st.DrawFn) -> Any:
    """A real update with one nested value replaced by anything."""
    update = copy.deepcopy(draw(st.sampled_from(CORPUS_UPDATES)))
    *parent, last = draw(st.sampled_from(_locations(update)))
    holder = update
    for key in parent:
        holder = holder[key]
    holder[last] = draw(JSONISH)
    return update


@given(damaged_corpus_updates())
def test_no_helper_raises_on_damaged_real_updates(update: Any) -> None:
    check_everything(update)
