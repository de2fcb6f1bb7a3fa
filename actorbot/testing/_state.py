"""The fake bot's state: update queue, chats, messages, files, queries, recorded calls.

One re-entrant lock guards everything. Two conditions share it: ``updates_cond`` wakes
long polls (update queued, poll terminated, server closing) and ``changed`` wakes
``wait_for`` callers (any call recorded or update queued). Keeping them apart means a
``sendMessage`` does not wake a pending ``getUpdates`` for nothing.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from actorbot.testing._errors import (
    CHAT_NOT_FOUND,
    CONFLICT_OTHER_POLL,
    CONFLICT_SET_WEBHOOK,
    CONFLICT_WEBHOOK_ACTIVE,
    FakeApiError,
)
from actorbot.testing._objects import PRIVATE, ChatInfo, Json, StoredFile, UserInfo, chat_type_for

LONG_POLL_MAX: Final = 50
#: Update types Telegram leaves out unless ``allowed_updates`` names them.
OPT_IN_TYPES: Final = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One API request the fake answered: canonical method name, decoded parameters,
    monotonic receive time (the server's clock), HTTP status, response body, uploads."""

    method: str
    params: dict[str, Any]
    time: float
    status: int
    response: Any
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass(slots=True)
class _Queued:
    seq: int
    kind: str | None  # update type; None for non-dicts and dicts without one
    obj: Any
    data: bytes


class _Poll:
    """A pending long poll; ``terminated`` is set to the error text that ends it (with
    ``code``: 409, or 401 when the token is revoked)."""

    __slots__ = ("code", "terminated")

    def __init__(self) -> None:
        self.terminated: str | None = None
        self.code = 409


class RawResult(bytes):
    """A result already serialised to JSON (getUpdates), with its decoded form for records."""

    decoded: Any


def _update_kind(obj: Any) -> str | None:
    if isinstance(obj, dict):
        for key in obj:
            if key != "update_id":
                return str(key)
    return None


def _encode(obj: Any) -> bytes:
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate: JSON escapes it, as Telegram's does
        return json.dumps(obj, separators=(",", ":")).encode()


@dataclass(slots=True)
class Webhook:
    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    has_custom_certificate: bool = False
    last_error_date: int | None = None
    last_error_message: str | None = None


class BotState:
    """Everything one fake bot knows. Callers hold ``lock`` (re-entrant) around use."""

    def __init__(
        self,
        bot_user: Json,
        first_update_id: int,
        clock: Callable[[], float],
        rng: random.Random,
    ) -> None:
        self.rng = rng
        self.lock = threading.RLock()
        self.updates_cond = threading.Condition(self.lock)
        self.changed = threading.Condition(self.lock)
        self.clock = clock
        self.bot_user = bot_user
        #: A bot as it appears in a message's ``from`` (getMe's extra fields left out).
        self.bot_sender = {k: bot_user[k] for k in ("id", "is_bot", "first_name", "username")}
        self.closing = False
        # updates
        self.queue: deque[_Queued] = deque()
        self.next_seq = first_update_id
        self.confirmed_offset = first_update_id
        self.allowed: frozenset[str] | None = None  # None = Telegram's default set
        self.poll: _Poll | None = None
        self.webhook = Webhook()
        # chats and content
        self.chats: dict[int, ChatInfo] = {}
        self.users: dict[int, UserInfo] = {}
        self.messages: dict[int, dict[int, Json]] = {}
        self.next_message_id: dict[int, int] = {}
        self.blocked: set[int] = set()
        self.migrated: dict[int, int] = {}
        self.files: dict[str, StoredFile] = {}
        self.file_paths: dict[str, StoredFile] = {}
        self.file_counter = 0
        self.media_group_counter = 0
        self.commands: dict[tuple[str, str], list[Json]] = {}
        self.callback_queries: dict[str, bool] = {}  # id -> answered
        self.inline_queries: dict[str, bool] = {}
        self.query_counter = 0
        self.strict_chats = False
        self.record_calls = True
        # records
        self.calls: list[RecordedCall] = []
        self.calls_by_method: dict[str, list[RecordedCall]] = {}
        self.stats: Counter[str] = Counter()

    # -- records -------------------------------------------------------------------------

    def record(self, call: RecordedCall) -> None:
        if self.record_calls:
            self.calls.append(call)
            self.calls_by_method.setdefault(call.method.lower(), []).append(call)
        self.stats["calls"] += 1
        self.stats[f"status_{call.status}"] += 1
        self.changed.notify_all()

    def reset_calls(self) -> None:
        self.calls = []
        self.calls_by_method = {}
        self.changed.notify_all()

    # -- updates -------------------------------------------------------------------------

    def add_updates(self, raws: Iterable[Any], keep_update_id: bool) -> list[int]:
        """Queue updates; dicts get ``update_id`` = their sequence number unless kept."""
        items: list[_Queued] = []
        seq = self.next_seq
        for raw in raws:  # encode all first: a bad value queues nothing
            obj = raw
            if isinstance(raw, dict) and not keep_update_id:
                obj = {"update_id": seq}
                obj.update((k, v) for k, v in raw.items() if k != "update_id")
            items.append(_Queued(seq, _update_kind(obj), obj, _encode(obj)))
            seq += 1
        self.queue.extend(items)
        self.next_seq = seq
        seqs = [item.seq for item in items]
        if seqs:
            self.updates_cond.notify_all()
            self.changed.notify_all()
        return seqs

    def _confirm(self, offset: int) -> None:
        queue = self.queue
        if offset < 0:
            while len(queue) > -offset:
                queue.popleft()
            if queue:
                self.confirmed_offset = max(self.confirmed_offset, queue[0].seq)
            return
        offset = min(offset, self.next_seq)
        while queue and queue[0].seq < offset:
            queue.popleft()
        self.confirmed_offset = max(self.confirmed_offset, offset)

    def _deliverable(self, kind: str | None) -> bool:
        if kind is None:
            return True
        if self.allowed is None:
            return kind not in OPT_IN_TYPES
        return kind in self.allowed

    def collect(self, limit: int) -> list[_Queued]:
        """The first ``limit`` deliverable updates; others met on the way are dropped."""
        out: list[_Queued] = []
        dropped: set[int] = set()
        for item in self.queue:
            if len(out) >= limit:
                break
            if self._deliverable(item.kind):
                out.append(item)
            else:
                dropped.add(item.seq)
        if dropped:
            self.queue = deque(q for q in self.queue if q.seq not in dropped)
            self.stats["updates_filtered"] += len(dropped)
        return out

    def set_allowed(self, allowed: Any) -> None:
        if allowed is None:
            return
        if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
            raise FakeApiError(400, "Bad Request: can't parse allowed updates JSON object")
        self.allowed = frozenset(allowed) if allowed else None

    def get_updates(self, offset: int, limit: int, timeout: float, allowed: Any) -> RawResult:
        """Telegram's getUpdates, long poll included. Caller holds the lock."""
        if self.webhook.url:
            raise FakeApiError(409, CONFLICT_WEBHOOK_ACTIVE)
        if self.poll is not None:
            self.poll.terminated = CONFLICT_OTHER_POLL
            self.updates_cond.notify_all()
        self.set_allowed(allowed)
        if offset:
            self._confirm(offset)
        batch = self.collect(limit)
        if not batch and timeout > 0 and not self.closing:
            poll = self.poll = _Poll()
            self.changed.notify_all()  # lets tests wait until the poll is pending
            deadline = time.monotonic() + timeout
            try:
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self.updates_cond.wait(remaining)
                    if poll.terminated is not None:
                        raise FakeApiError(poll.code, poll.terminated)
                    if self.is_closing():
                        break
                    batch = self.collect(limit)
                    if batch:
                        break
            finally:
                if self.poll is poll:
                    self.poll = None
        result = RawResult(b"[" + b",".join(q.data for q in batch) + b"]")
        result.decoded = [q.obj for q in batch]
        self.stats["updates_delivered"] += len(batch)
        return result

    def terminate_poll(self, reason: str = CONFLICT_SET_WEBHOOK, code: int = 409) -> None:
        if self.poll is not None:
            self.poll.terminated = reason
            self.poll.code = code
            self.updates_cond.notify_all()

    def drop_pending(self) -> None:
        if self.queue:
            self.confirmed_offset = max(self.confirmed_offset, self.queue[-1].seq + 1)
        self.queue.clear()

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True
        self.updates_cond.notify_all()
        self.changed.notify_all()

    # -- chats and users -----------------------------------------------------------------

    def user(self, user_id: int) -> UserInfo:
        user = self.users.get(user_id)
        if user is None:
            chat = self.chats.get(user_id)
            first = chat.first_name if chat is not None and chat.first_name else f"User{user_id}"
            user = UserInfo(user_id, first)
            if chat is not None:
                user.last_name, user.username = chat.last_name, chat.username
            self.users[user_id] = user
        return user

    def chat(self, chat_id: int, chat_type: str | None = None) -> ChatInfo:
        """The chat with this id, created on first use from the id convention."""
        chat = self.chats.get(chat_id)
        if chat is None:
            kind = chat_type or chat_type_for(chat_id)
            chat = ChatInfo(chat_id, kind)
            if kind == PRIVATE:
                user = self.users.get(chat_id)
                chat.first_name = user.first_name if user else f"User{chat_id}"
                if user is not None:
                    chat.last_name, chat.username = user.last_name, user.username
            self.chats[chat_id] = chat
        return chat

    def resolve_chat(self, value: Any, *, write: bool = True) -> ChatInfo:
        """The target chat of a call, applying blocks, migrations and strictness."""
        chat_id: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            chat_id = value
        elif isinstance(value, str) and value.startswith("@"):
            name = value[1:].lower()
            for chat in self.chats.values():
                if chat.username and chat.username.lower() == name:
                    chat_id = chat.id
                    break
        if not chat_id or (self.strict_chats and chat_id not in self.chats):
            raise FakeApiError(400, CHAT_NOT_FOUND)
        if write:
            if chat_id in self.migrated:
                raise FakeApiError(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    {"migrate_to_chat_id": self.migrated[chat_id]},
                )
            if chat_id in self.blocked:
                raise FakeApiError(403, "Forbidden: bot was blocked by the user")
        return self.chat(chat_id)

    # -- messages ------------------------------------------------------------------------

    def next_mid(self, chat_id: int) -> int:
        mid = self.next_message_id.get(chat_id, 1)
        self.next_message_id[chat_id] = mid + 1
        return mid

    def store_message(self, chat_id: int, msg: Json) -> None:
        self.messages.setdefault(chat_id, {})[msg["message_id"]] = msg

    def message(self, chat_id: int, message_id: Any) -> Json | None:
        return self.messages.get(chat_id, {}).get(message_id)

    def new_query_id(self) -> str:
        self.query_counter += 1
        return str(4_000_000_000_000_000_000 + self.query_counter)
