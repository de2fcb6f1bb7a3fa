"""``self.sender`` of a handler: every Bot API method, typed, as calls queued on the sender."""

from __future__ import annotations

from typing import Any, Final

from pykka import ActorRef

from actorbot.api import method_spec
from actorbot.errors import StateError
from actorbot.sending._chat_methods import ChatMethods
from actorbot.sending._future import CallFuture
from actorbot.sending._sender import CallOptions, SenderHandle

_NO_TAG: Final = object()


class ChatSender(ChatMethods):
    """Every Bot API method (generated, typed), returning a future resolved by the sender.

    ``chat_id`` is keyword-only and defaults to the bound chat, so required parameters after
    it are positional: ``self.sender.send_message("hi")``. ``call(method, **params)`` reaches
    methods newer than the generated ones. ``notify(tag)`` returns a facade whose calls also
    deliver a ``CallResult`` to the handler's ``on_result``; ``options(coalesce=True)`` /
    ``options(retry_unsafe=True)`` set per-call choices. ``business_connection_id``, when
    bound (a business chat's handler), is filled into every method that takes one, so a
    reply goes out on behalf of the business account, not from the bot's own chat.
    """

    __slots__ = ("_business", "_chat_id", "_handle", "_notify", "_options", "_owner", "_tag")

    def __init__(
        self,
        handle: SenderHandle,
        chat_id: int | str | None,
        owner: ActorRef[Any] | None = None,
        tag: Any = _NO_TAG,
        options: CallOptions | None = None,
        *,
        business_connection_id: str | None = None,
    ) -> None:
        self._handle = handle
        self._business = business_connection_id
        self._chat_id = chat_id
        self._owner = owner
        self._tag = tag
        # What submit() takes, worked out once instead of per call.
        self._notify = owner if tag is not _NO_TAG else None
        self._options = options or CallOptions()

    @property
    def chat_id(self) -> int | str | None:
        return self._chat_id

    def notify(self, tag: Any) -> ChatSender:
        """The same facade, whose calls report back to the handler as ``on_result``."""
        if self._owner is None:
            raise StateError("this sender has no actor to notify")
        return ChatSender(self._handle, self._chat_id, self._owner, tag, self._options,
                          business_connection_id=self._business)

    def options(self, *, coalesce: bool = False, retry_unsafe: bool = False) -> ChatSender:
        """The same facade with per-call choices (see ``CallOptions``)."""
        return ChatSender(self._handle, self._chat_id, self._owner, self._tag,
                          CallOptions(coalesce=coalesce, retry_unsafe=retry_unsafe),
                          business_connection_id=self._business)

    def call(self, method: str, /, **params: Any) -> CallFuture[Any]:
        """Call any Bot API method by its name; ``chat_id`` defaults to the bound chat."""
        if self._chat_id is not None and "chat_id" not in params:
            spec = method_spec(method)
            if spec is None or "chat_id" in spec.params:
                params["chat_id"] = self._chat_id
        return self._submit(method, params)

    def _submit(self, method: str, params: dict[str, Any], /) -> CallFuture[Any]:
        if self._business is not None and params.get("business_connection_id") is None:
            spec = method_spec(method)
            if spec is not None and "business_connection_id" in spec.params:
                params["business_connection_id"] = self._business
        tag = None if self._notify is None else self._tag
        return self._handle.submit(method, params, notify=self._notify, tag=tag,
                                   options=self._options)

    def _submit_chat(
        self, method: str, chat_id: int | str | None, params: dict[str, Any], /
    ) -> CallFuture[Any]:
        if chat_id is None:
            chat_id = self._chat_id
            if chat_id is None and _needs_chat(method):
                raise TypeError(f"{method}() needs chat_id=...: this sender is bound to no chat")
        params["chat_id"] = chat_id
        return self._submit(method, params)


def _needs_chat(method: str) -> bool:
    spec = method_spec(method)
    return spec is not None and "chat_id" in spec.required
