"""telepot.helper: handler base classes, listeners, chat-bound proxies, the inline answerer.

Both telepot generations are accepted: ``ChatHandler(seed_tuple, timeout)`` and
``Monitor(seed_tuple, capture)`` with ``capture(**criteria)`` (telepot 6-8), and the
keyword form with ``include_callback_query``/``event_space`` and pattern lists
(telepot 12). Differences, all deliberate:

- a delegate's listener hears the updates the router sends to its seed (telepot put
  every message in every listener's queue: O(handlers) per update); captures still
  filter them. Use ``include_callback_query_chat_id`` to route callback queries to chat
  handlers, as telepot 12 did;
- an idle close (``IdleTerminate``) or ``close()`` is not logged as an error;
- a handler whose ``on_<flavor>`` hook is missing ignores that message.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import structlog

from actorbot.compat.telepot import _calls
from actorbot.compat.telepot._flavor import NORMAL, canonical
from actorbot.compat.telepot._flavor import flavor as _flavor
from actorbot.compat.telepot._listen import Listener, Microphone
from actorbot.compat.telepot._runtime import Loop
from actorbot.compat.telepot._schedule import EventScheduler
from actorbot.compat.telepot.exception import (
    BadFlavor,
    IdleTerminate,
    StopListening,
    WaitTooLong,
)

__all__ = [
    "Administrator",
    "Answerer",
    "AnswererMixin",
    "ChatContext",
    "ChatHandler",
    "DefaultRouterMixin",
    "Editor",
    "InlineUserHandler",
    "Listener",
    "ListenerContext",
    "Microphone",
    "Monitor",
    "Router",
    "Sender",
    "UserContext",
    "UserHandler",
    "WaitTooLong",
    "openable",
]

log = structlog.get_logger("actorbot.compat.telepot")

_INLINE = ("inline_query", "chosen_inline_result")


class _Bound:
    """A proxy filling in the first parameter of the bot's methods that start with it."""

    _first = ""

    def __init__(self, bot: Any, value: Any) -> None:
        self._bot = bot
        self._value = value

    def __getattr__(self, name: str) -> Callable[..., Any]:
        names = _calls.signature(name)
        if not names or names[0] != self._first:
            raise AttributeError(f"{type(self).__name__} has no method {name!r}")
        return functools.partial(getattr(self._bot, name), self._value)


class Sender(_Bound):
    """The bot's ``send*``/``forwardMessage``... methods with ``chat_id`` filled in."""

    _first = "chat_id"


class Administrator(_Bound):
    """The bot's chat administration methods with ``chat_id`` filled in."""

    _first = "chat_id"


class Editor(_Bound):
    """The bot's ``editMessage*`` methods with the message identifier filled in."""

    _first = "msg_identifier"

    def __init__(self, bot: Any, msg_identifier: Any) -> None:
        if isinstance(msg_identifier, dict):
            chat = msg_identifier.get("chat")
            if isinstance(chat, dict) and "message_id" in msg_identifier:
                msg_identifier = (chat["id"], msg_identifier["message_id"])
            else:
                msg_identifier = (msg_identifier["inline_message_id"],)
        super().__init__(bot, msg_identifier)


class Router:
    """Routes a message to ``routing_table[key_function(msg)]`` (None: the default entry).

    The key function may return a key, or ``(key,)``, ``(key, args)``,
    ``(key, args, kwargs)`` to pass extra arguments.
    """

    def __init__(self, key_function: Callable[[Any], Any], routing_table: dict[Any, Any]) -> None:
        self.key_function = key_function
        self.routing_table = routing_table

    def map(self, msg: Any) -> Any:
        key = self.key_function(msg)
        return self.routing_table[key[0] if isinstance(key, tuple | list) else key]

    def route(self, msg: Any, *_aa: Any, **_kw: Any) -> Any:
        key = self.key_function(msg)
        args: Any = ()
        kwargs: Any = {}
        if isinstance(key, tuple | list):  # (key,), (key, args) or (key, args, kwargs)
            key, *rest = key
            if rest:
                args = rest[0]
            if len(rest) > 1:
                kwargs = rest[1]
        if key in self.routing_table:
            fn = self.routing_table[key]
        elif None in self.routing_table:
            fn = self.routing_table[None]
        else:
            raise RuntimeError(f"No handler for key: {key!r}, and default handler not defined")
        return fn(msg, *args, **kwargs)


def _safe_flavor(msg: Any) -> str:
    found = _flavor(msg)
    if found == "unknown":
        raise BadFlavor(msg)
    return found


class DefaultRouterMixin:
    """``on_message`` routes by flavor to ``on_chat_message``, ``on_callback_query``, ...,
    and events to ``on__<name>`` (``on__idle``); missing hooks are skipped."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._router = Router(_safe_flavor, {None: self._by_hook})
        super().__init__(*args, **kwargs)

    @property
    def router(self) -> Router:
        return self._router

    def _by_hook(self, msg: Any) -> Any:
        kind = _safe_flavor(msg)
        hook = getattr(self, "on_chat_message" if kind == NORMAL else f"on_{kind}", None)
        if hook is None:
            log.debug("telepot.no_hook", flavor=kind, handler=type(self).__name__)
            return None
        return hook(msg)

    def on_message(self, msg: Any) -> Any:
        """Route ``msg``; what the hook returned (a coroutine, for an asyncio delegate)."""
        return self._router.route(msg)


class ListenerContext:
    """``bot``, ``id`` and a ``listener`` of the bot (of the delegate, inside a delegate)."""

    def __init__(self, bot: Any, context_id: Any, *args: Any, **kwargs: Any) -> None:
        self._bot = bot
        self._id = context_id
        self._listener: Listener = bot.create_listener()
        super().__init__(*args, **kwargs)

    @property
    def bot(self) -> Any:
        return self._bot

    @property
    def id(self) -> Any:
        return self._id

    @property
    def listener(self) -> Listener:
        return self._listener


class ChatContext(ListenerContext):
    """A listener context bound to a chat: ``chat_id``, ``sender``, ``administrator``."""

    def __init__(self, bot: Any, context_id: Any, chat_id: Any = None) -> None:
        super().__init__(bot, context_id)
        self._chat_id = context_id if chat_id is None else chat_id
        self._sender = Sender(bot, self._chat_id)
        self._administrator = Administrator(bot, self._chat_id)

    @property
    def chat_id(self) -> Any:
        return self._chat_id

    @property
    def sender(self) -> Sender:
        return self._sender

    @property
    def administrator(self) -> Administrator:
        return self._administrator


class UserContext(ListenerContext):
    """A listener context bound to a user: ``user_id`` and a ``sender`` to their chat."""

    def __init__(self, bot: Any, context_id: Any, user_id: Any = None) -> None:
        super().__init__(bot, context_id)
        self._user_id = context_id if user_id is None else user_id
        self._sender = Sender(bot, self._user_id)

    @property
    def user_id(self) -> Any:
        return self._user_id

    @property
    def sender(self) -> Sender:
        return self._sender


def _open(self: Any, initial_msg: Any, seed: Any) -> None:
    """Called with the first message; return True if it was handled here."""


def _on_message(self: Any, msg: Any) -> None:
    raise NotImplementedError


def _on_close(self: Any, ex: BaseException) -> None:
    log.debug("telepot.delegate_closed", delegate=type(self).__name__,
              reason=type(ex).__name__)


def _close(self: Any, code: Any = None, reason: Any = None) -> None:
    """Close this delegate (``close()``, ``close(code, reason)`` or ``close(exception)``)."""
    if isinstance(code, BaseException):
        raise code
    raise StopListening(code, reason)


def _listener(self: Any) -> Listener:
    raise NotImplementedError


def openable(cls: type[Any]) -> type[Any]:
    """Give ``cls`` the methods ``create_open`` needs, where it does not define them."""
    for name, fn in (("open", _open), ("on_message", _on_message), ("on_close", _on_close),
                     ("close", _close), ("listener", property(_listener))):
        if getattr(cls, name, None) is None:
            setattr(cls, name, fn)
    return cls


def _field(msg: Any, key: str, default: Any) -> Any:
    """``msg[key]['id']`` (the chat or the sender of a handler's first message), else
    ``default``."""
    inner = msg.get(key) if isinstance(msg, dict) else None
    found = inner.get("id") if isinstance(inner, dict) else None
    return default if found is None else found


def _scheduler_of(bot: Any, event_space: Any, source_id: Any) -> EventScheduler | None:
    scheduler = getattr(bot, "scheduler", None)
    if isinstance(scheduler, EventScheduler):
        return scheduler.standard(event_space, source_id)
    return None


class _Handler(ListenerContext, DefaultRouterMixin):
    """What ChatHandler and UserHandler share: the idle timeout and the event scheduler."""

    _timeout: float | None = None
    _scheduler: EventScheduler | None = None

    def _setup(self, timeout: float | None, event_space: Any) -> None:
        self._timeout = timeout
        self.listener.set_options(timeout=timeout)
        self._scheduler = _scheduler_of(self.bot, event_space, self.id)
        if self._scheduler is not None:
            self._scheduler.configure(self.listener)

    @property
    def scheduler(self) -> EventScheduler | None:
        """Events for this handler only (``event_later(delay, ('_name', {...}))``)."""
        return self._scheduler

    def on__idle(self, event: dict[str, Any]) -> None:
        """No message for the timeout: close (override to say goodbye or stay)."""
        raise IdleTerminate(event["_idle"]["seconds"])

    def idle_event(self) -> dict[str, Any]:
        scheduler = self._scheduler
        space = scheduler.event_space if scheduler is not None else None
        return {"_idle": {"source": {"space": space, "id": self.id}, "seconds": self._timeout}}


@openable
class Monitor(ListenerContext, DefaultRouterMixin):
    """A delegate that never times out (pair it with ``per_application()``)."""

    def __init__(self, seed_tuple: tuple[Any, Any, Any], capture: list[Any], **_kw: Any) -> None:
        bot, _initial_msg, seed = seed_tuple
        super().__init__(bot, seed)
        for criteria in capture:
            if isinstance(criteria, dict):
                self.listener.capture(**criteria)
            else:
                self.listener.capture(criteria)


@openable
class ChatHandler(ChatContext, _Handler):
    """A delegate per chat: ``chat_id``, ``sender``; closes after ``timeout`` idle seconds."""

    def __init__(
        self,
        seed_tuple: tuple[Any, Any, Any],
        timeout: float | None = None,
        callback_query: bool = True,
        *,
        include_callback_query: bool = False,
        event_space: Any = None,
        **_kw: Any,
    ) -> None:
        bot, initial_msg, seed = seed_tuple
        # 6.3: the initial message's chat, whatever the seed (per_from_id in a group);
        # a callback query routed here by its chat has none: the seed is that chat.
        ChatContext.__init__(self, bot, seed, _field(initial_msg, "chat", seed))
        self.listener.capture(chat__id=self.chat_id)
        if callback_query:  # telepot 8: callback queries from the private chat's user
            self.listener.capture(_=lambda m: _flavor(m) == "callback_query",
                                  from__id=self.chat_id)
        if include_callback_query:
            self.listener.capture(message__chat__id=self.chat_id)
        self._setup(timeout, event_space)


@openable
class UserHandler(UserContext, _Handler):
    """A delegate per user: ``user_id``, ``sender`` to their private chat."""

    def __init__(
        self,
        seed_tuple: tuple[Any, Any, Any],
        timeout: float | None = None,
        flavors: Any = "all",
        *,
        include_callback_query: bool = False,
        event_space: Any = None,
        **_kw: Any,
    ) -> None:
        bot, initial_msg, seed = seed_tuple
        UserContext.__init__(self, bot, seed, _field(initial_msg, "from", seed))
        if flavors == "all":
            self.listener.capture(from__id=self.user_id)
        else:
            wanted = {canonical(f) for f in flavors}
            self.listener.capture(_=lambda m: _flavor(m) in wanted, from__id=self.user_id)
        if include_callback_query:
            self.listener.capture(message__chat__id=self.user_id)
        self._setup(timeout, event_space)


class InlineUserHandler(UserHandler):
    """A user handler for inline queries and chosen inline results."""

    def __init__(self, seed_tuple: tuple[Any, Any, Any], timeout: float | None = None,
                 **kwargs: Any) -> None:
        kwargs["flavors"] = _INLINE
        super().__init__(seed_tuple, timeout, **kwargs)


def answer_arguments(query_id: Any, answer: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``answerInlineQuery``'s arguments for what a compute function returned: a list of
    results, a tuple ``(results, *positional)`` or a dict of keyword arguments."""
    if isinstance(answer, list):
        return (query_id, answer), {}
    if isinstance(answer, tuple):
        return (query_id, *answer), {}
    if isinstance(answer, dict):
        return (query_id,), answer
    raise ValueError("Invalid answer format")


class Answerer:
    """Answers inline queries on a thread per query, at most one answer in the works per user.

    telepot 6.3's ``Answerer(bot, compute_function)`` + ``answer(inline_query)`` and 12.7's
    ``Answerer(bot)`` + ``answer(inline_query, compute_fn, *args, **kwargs)`` both work.
    A newer query from the same user supersedes the older one at once: its computation
    starts right away, and the older one's result is never sent (a computation cannot be
    interrupted; it is left to finish and its result dropped, as telepot did).
    """

    def __init__(self, bot: Any, compute_function: Callable[..., Any] | None = None) -> None:
        self._bot = bot
        self._compute = compute_function
        self._lock = threading.Lock()
        self._latest: dict[Any, object] = {}  # user -> the token of their newest query
        self._workers: set[threading.Thread] = set()

    def answer(self, inline_query: dict[str, Any], compute_fn: Callable[..., Any] | None = None,
               *compute_args: Any, **compute_kwargs: Any) -> None:
        """Compute the answer to ``inline_query`` on a new thread and send it, unless a
        newer query from the same user came meanwhile.

        Without ``compute_fn``, the constructor's ``compute_function(inline_query)`` is
        used. The result is a list of results, a tuple ``(results, *answerInlineQuery
        args)`` or a dict of ``answerInlineQuery`` keyword arguments.
        """
        if compute_fn is None:
            if self._compute is None:
                raise TypeError("answer() needs a compute function: Answerer(bot, fn) or "
                                "answer(inline_query, fn)")
            job = functools.partial(self._compute, inline_query)
        else:
            job = functools.partial(compute_fn, *compute_args, **compute_kwargs)
        user = inline_query["from"]["id"]
        token = object()
        worker = threading.Thread(target=self._work, args=(user, token, inline_query, job),
                                  name="telepot-answerer")
        with self._lock:
            self._latest[user] = token
            self._workers.add(worker)
        loop = getattr(self._bot, "loop", None)  # made before message_loop(): look it up now
        if isinstance(loop, Loop):
            loop.track(self)  # bot.stop() joins the computations under way
        worker.start()

    def _current(self, user: Any, token: object) -> bool:
        with self._lock:
            return self._latest.get(user) is token

    def _work(self, user: Any, token: object, query: dict[str, Any],
              job: Callable[[], Any]) -> None:
        try:
            answer = job()
            if self._current(user, token):
                self._send(query["id"], answer)
            else:
                log.debug("telepot.answer_superseded", query_id=query["id"])
        except Exception as exc:  # one failed answer must not stop the others
            log.error("telepot.answer_failed", error=f"{type(exc).__name__}: {exc}",
                      exc_info=exc)
        finally:
            with self._lock:
                self._workers.discard(threading.current_thread())
                if self._latest.get(user) is token:
                    del self._latest[user]

    def _send(self, query_id: Any, answer: Any) -> None:
        args, kwargs = answer_arguments(query_id, answer)
        self._bot.answerInlineQuery(*args, **kwargs)

    @property
    def busy(self) -> bool:
        """Whether a computation is under way."""
        with self._lock:
            return bool(self._workers)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the computations under way (for tests and shutdown)."""
        with self._lock:
            workers = list(self._workers)
        for worker in workers:
            worker.join(timeout)


_Answerer = Answerer


class AnswererMixin:
    """Gives a handler an ``answerer``."""

    Answerer: type[_Answerer] = _Answerer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._answerer = self.Answerer(getattr(self, "bot", None))
        super().__init__(*args, **kwargs)

    @property
    def answerer(self) -> _Answerer:
        return self._answerer
