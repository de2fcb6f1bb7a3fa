"""``self.sender`` of a handler: every Bot API method, as calls queued on the sender."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import pykka
from pykka import ActorRef

from actorbot.api import METHODS, MethodSpec, method_spec
from actorbot.api.codegen import snake_case
from actorbot.sending._sender import CallOptions, SenderHandle

_BY_SNAKE: Final[dict[str, MethodSpec]] = {snake_case(n): s for n, s in METHODS.items()}
_NO_TAG: Final = object()


class ChatSender:
    """Every Bot API method, returning a pykka future resolved by the sender.

    ``chat_id`` is filled in for methods that take one, so required parameters after it
    can be positional: ``self.sender.send_message("hi")``. ``notify(tag)`` returns a facade
    whose calls also deliver a ``CallResult`` to the handler's ``on_result``;
    ``options(coalesce=True)`` / ``options(retry_unsafe=True)`` set per-call choices.
    """

    __slots__ = ("_chat_id", "_handle", "_options", "_owner", "_tag")

    def __init__(
        self,
        handle: SenderHandle,
        chat_id: int | str | None,
        owner: ActorRef[Any] | None = None,
        tag: Any = _NO_TAG,
        options: CallOptions | None = None,
    ) -> None:
        self._handle = handle
        self._chat_id = chat_id
        self._owner = owner
        self._tag = tag
        self._options = options or CallOptions()

    @property
    def chat_id(self) -> int | str | None:
        return self._chat_id

    def notify(self, tag: Any) -> ChatSender:
        """The same facade, whose calls report back to the handler as ``on_result``."""
        if self._owner is None:
            raise RuntimeError("this sender has no actor to notify")
        return ChatSender(self._handle, self._chat_id, self._owner, tag, self._options)

    def options(self, *, coalesce: bool = False, retry_unsafe: bool = False) -> ChatSender:
        """The same facade with per-call choices (see ``CallOptions``)."""
        return ChatSender(self._handle, self._chat_id, self._owner, self._tag,
                          CallOptions(coalesce=coalesce, retry_unsafe=retry_unsafe))

    def call(self, method: str, /, **params: Any) -> pykka.Future[Any]:
        """Call any Bot API method; ``chat_id`` defaults to the bound chat."""
        if self._chat_id is not None and "chat_id" not in params:
            spec = method_spec(method)
            if spec is None or "chat_id" in spec.params:
                params["chat_id"] = self._chat_id
        tagged = self._tag is not _NO_TAG
        return self._handle.submit(method, params, notify=self._owner if tagged else None,
                                   tag=self._tag if tagged else None, options=self._options)

    def __getattr__(self, name: str) -> Callable[..., pykka.Future[Any]]:
        spec = _BY_SNAKE.get(name)
        if spec is None:
            raise AttributeError(f"no Bot API method {name!r}")
        positional = tuple(p for p in spec.required
                           if not (p == "chat_id" and self._chat_id is not None))

        def method(*args: Any, **kwargs: Any) -> pykka.Future[Any]:
            if len(args) > len(positional):
                raise TypeError(f"{name}() takes {len(positional)} positional arguments "
                                f"({', '.join(positional)}), got {len(args)}")
            for param, value in zip(positional, args, strict=False):
                if param in kwargs:
                    raise TypeError(f"{name}() got multiple values for {param!r}")
                kwargs[param] = value
            return self.call(spec.name, **kwargs)

        method.__name__ = name
        return method
