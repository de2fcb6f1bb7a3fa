"""The sender actor and the chat-bound facade handlers use to reach it.

Every outgoing Bot API call goes through one sender actor, which resolves a pykka future
per call and, when asked, tells the calling actor a :class:`CallResult` so that handlers
never block on a future. This sender is serial (one call at a time, in the order made);
rate limits, retries and pipelining are the sender issue's work behind the same interface.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import pykka
import structlog
from pykka import ActorDeadError, ActorRef

from actorbot.actors._messages import Ping
from actorbot.api import METHODS, Client, MethodSpec, TelegramError
from actorbot.api.codegen import snake_case

log = structlog.get_logger("actorbot.sender")

_BY_SNAKE: Final[dict[str, MethodSpec]] = {snake_case(n): s for n, s in METHODS.items()}
_BY_LOWER: Final[dict[str, MethodSpec]] = {n.lower(): s for n, s in METHODS.items()}


@dataclass(slots=True, frozen=True)
class CallResult:
    """The outcome of one call, told to the actor that asked with ``notify(tag)``."""

    tag: Any
    method: str
    result: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(slots=True, frozen=True)
class Call:
    """One outgoing call; ``notify`` (if set) is told a :class:`CallResult` with ``tag``."""

    method: str
    params: Mapping[str, Any]
    notify: ActorRef[Any] | None = None
    tag: Any = None


class Sender(pykka.ThreadingActor):
    """Owns the client; performs calls one at a time in arrival order."""

    def __init__(self, client: Client) -> None:
        super().__init__()
        self.client = client
        self.calls = 0
        self.errors = 0

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, Ping):
            return None  # a flush: every call made before it is done
        if not isinstance(message, Call):
            raise TypeError(f"the sender takes Call messages, not {type(message).__name__}")
        self.calls += 1
        try:
            result = self.client.request(message.method, message.params)
        except TelegramError as exc:
            self.errors += 1
            log.info("sender.call_failed", method=message.method, error=type(exc).__name__,
                     description=str(exc))
            self._notify(message, None, exc)
            raise
        self._notify(message, result, None)
        return result

    @staticmethod
    def _notify(call: Call, result: Any, error: BaseException | None) -> None:
        if call.notify is None:
            return
        with contextlib.suppress(ActorDeadError):  # the caller closed; the future has it
            call.notify.tell(CallResult(call.tag, call.method, result, error))


_NO_TAG: Final = object()


class ChatSender:
    """``self.sender`` of a handler: every Bot API method, returning a pykka future.

    ``chat_id`` is filled in for methods that take one, so required parameters after it
    can be positional: ``self.sender.send_message("hi")``. ``notify(tag)`` returns a facade
    whose calls also deliver a :class:`CallResult` to the handler's ``on_result``.
    """

    __slots__ = ("_chat_id", "_owner", "_ref", "_tag")

    def __init__(
        self,
        sender: ActorRef[Any],
        chat_id: int | str | None,
        owner: ActorRef[Any] | None = None,
        tag: Any = _NO_TAG,
    ) -> None:
        self._ref = sender
        self._chat_id = chat_id
        self._owner = owner
        self._tag = tag

    @property
    def chat_id(self) -> int | str | None:
        return self._chat_id

    def notify(self, tag: Any) -> ChatSender:
        """The same facade, whose calls report back to the handler as ``on_result``."""
        if self._owner is None:
            raise RuntimeError("this sender has no actor to notify")
        return ChatSender(self._ref, self._chat_id, self._owner, tag)

    def call(self, method: str, /, **params: Any) -> pykka.Future[Any]:
        """Call any Bot API method; ``chat_id`` defaults to the bound chat."""
        spec = _BY_LOWER.get(method.lower())
        if self._chat_id is not None and "chat_id" not in params and (
            spec is None or "chat_id" in spec.params
        ):
            params["chat_id"] = self._chat_id
        if spec is not None:
            missing = [p for p in spec.required if params.get(p) is None]
            if missing:
                names = ", ".join(repr(p) for p in missing)
                raise TypeError(f"{spec.name}() missing required parameter(s): {names}")
        notify = self._owner if self._tag is not _NO_TAG else None
        tag = None if self._tag is _NO_TAG else self._tag
        future: pykka.Future[Any] = self._ref.ask(Call(method, params, notify, tag), block=False)
        return future

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
