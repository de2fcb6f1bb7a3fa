"""Injecting updates: what users do (write, edit, press buttons, query inline).

Each helper builds the Update the real server would send, stores the message in the chat's
transcript and queues it; it returns a copy of the Update for assertions. A mixin of
:class:`~actorbot.testing.FakeBotApi`, kept apart so the server class stays readable.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any, Final

from actorbot.testing._objects import PRIVATE, ChatInfo, Json, now
from actorbot.testing._state import BotState

#: Sender of injected group messages when no ``user_id`` is given.
DEFAULT_USER_ID: Final = 7000000001


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class InjectMixin:
    """The ``inject_*`` methods; needs ``_state`` and ``bot_id`` from the host class."""

    _state: BotState
    bot_id: int

    def inject_update(self, raw: Any, *, keep_update_id: bool = False) -> int:
        """Queue any JSON value as an update; returns its sequence number (its update_id
        unless ``keep_update_id``)."""
        return self.inject_updates([raw], keep_update_id=keep_update_id)[0]

    def inject_updates(self, raws: Iterable[Any], *, keep_update_id: bool = False) -> list[int]:
        """Queue many updates under one lock acquisition (for benchmarks)."""
        with self._state.lock:
            return self._state.add_updates(raws, keep_update_id)

    def _sender(self, chat: ChatInfo, user_id: int | None) -> Json:
        st = self._state
        if user_id is None:
            user_id = chat.id if chat.type == PRIVATE else DEFAULT_USER_ID
        return st.user(user_id).to_dict()

    def _user_message(
        self,
        chat_id: int,
        *,
        user_id: int | None,
        chat_type: str | None,
        message_thread_id: int | None,
        reply_to: int | None,
        content: Json,
    ) -> tuple[ChatInfo, Json]:
        st = self._state
        chat = st.chat(chat_id, chat_type)
        if chat_type is not None and chat.type != chat_type:
            raise ValueError(f"chat {chat_id} is a {chat.type} chat, not {chat_type}")
        msg: Json = {"message_id": st.next_mid(chat_id), "from": self._sender(chat, user_id)}
        msg["chat"] = chat.to_dict()
        msg["date"] = now()
        if message_thread_id is not None:
            msg["message_thread_id"] = message_thread_id
            if chat.is_forum:
                msg["is_topic_message"] = True
        if reply_to is not None:
            target = st.message(chat_id, reply_to)
            if target is None:
                target = {"message_id": reply_to, "chat": chat.to_dict(), "date": now()}
            msg["reply_to_message"] = {k: v for k, v in target.items() if k != "reply_to_message"}
        msg.update(content)
        st.store_message(chat_id, msg)
        return chat, msg

    def inject_message(
        self,
        chat_id: int,
        text: str | None = None,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        message_thread_id: int | None = None,
        reply_to: int | None = None,
        entities: list[Json] | None = None,
        **extra: Any,
    ) -> Json:
        """A user writes in ``chat_id`` (sender: the private chat's user, else ``user_id``
        or a default user). ``extra`` fields go into the Message. Returns the Update."""
        content: Json = {}
        if text is not None:
            content["text"] = text
        if entities:
            content["entities"] = entities
        content.update(extra)
        with self._state.lock:
            _, msg = self._user_message(
                chat_id,
                user_id=user_id,
                chat_type=chat_type,
                message_thread_id=message_thread_id,
                reply_to=reply_to,
                content=content,
            )
            return self._queue({"message": msg})

    def inject_command(
        self,
        chat_id: int,
        command: str,
        args: str | None = None,
        **kwargs: Any,
    ) -> Json:
        """A ``/command`` message with its ``bot_command`` entity (``args`` after a space)."""
        if not command.startswith("/"):
            command = "/" + command
        text = f"{command} {args}" if args else command
        entity = {"offset": 0, "length": _utf16_len(command), "type": "bot_command"}
        return self.inject_message(chat_id, text, entities=[entity], **kwargs)

    def inject_edited_message(
        self,
        chat_id: int,
        message_id: int,
        text: str | None = None,
        **extra: Any,
    ) -> Json:
        """The user edits their message ``message_id`` (it must have been injected)."""
        st = self._state
        with st.lock:
            old = st.message(chat_id, message_id)
            if old is None:
                raise KeyError(f"no message {message_id} in chat {chat_id}")
            new = dict(old)
            if text is not None:
                new["text"] = text
            new.update(extra)
            new["edit_date"] = now()
            st.store_message(chat_id, new)
            return self._queue({"edited_message": new})

    def inject_callback_query(
        self,
        chat_id: int,
        user_id: int,
        data: str,
        *,
        message_id: int | None = None,
    ) -> Json:
        """A user presses an inline button under a message of the bot (the latest one if
        ``message_id`` is not given). The query id becomes answerable once."""
        st = self._state
        with st.lock:
            msgs = st.messages.get(chat_id, {})
            if message_id is None:
                mine = [m for m in msgs.values() if m.get("from", {}).get("id") == self.bot_id]
                if not mine:
                    raise ValueError(f"the bot has no message in chat {chat_id}; pass message_id")
                msg = mine[-1]
            else:
                msg = msgs.get(message_id) or {
                    "message_id": message_id,
                    "from": st.bot_sender,
                    "chat": st.chat(chat_id).to_dict(),
                    "date": now(),
                }
            query_id = st.new_query_id()
            st.callback_queries[query_id] = False
            query = {
                "id": query_id,
                "from": st.user(user_id).to_dict(),
                "message": msg,
                "chat_instance": str(-(abs(chat_id) * 7919 % (1 << 62))),
                "data": data,
            }
            return self._queue({"callback_query": query})

    def inject_inline_query(
        self, user_id: int, query: str, offset: str = "", *, chat_type: str = "sender"
    ) -> Json:
        """A user types ``@bot query``; the query id becomes answerable once."""
        st = self._state
        with st.lock:
            query_id = st.new_query_id()
            st.inline_queries[query_id] = False
            inline = {
                "id": query_id,
                "from": st.user(user_id).to_dict(),
                "query": query,
                "offset": offset,
                "chat_type": chat_type,
            }
            return self._queue({"inline_query": inline})

    def inject_chosen_inline_result(
        self,
        user_id: int,
        result_id: str,
        query: str,
        *,
        inline_message_id: str | None = None,
    ) -> Json:
        st = self._state
        with st.lock:
            chosen: Json = {
                "result_id": result_id,
                "from": st.user(user_id).to_dict(),
                "query": query,
            }
            if inline_message_id is not None:
                chosen["inline_message_id"] = inline_message_id
            return self._queue({"chosen_inline_result": chosen})

    def _queue(self, update: Json) -> Json:
        seq = self._state.add_updates([update], False)[0]
        return {"update_id": seq, **copy.deepcopy(update)}
