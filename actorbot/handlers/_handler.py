"""Handler actors: the classes users subclass, one live instance per seed.

A handler sees one update at a time, in ``update_id`` order for its seed, with its own
state. Hooks, all optional:

- ``on_open(update)``: before the first update is handled;
- ``on_message(update)``: every update; by default it calls the per-type hook with the
  inner object: ``on_chat_message(msg)``, ``on_edited_chat_message``, ``on_channel_post``,
  ``on_callback_query``, ``on_inline_query``, ``on_chosen_inline_result``, and
  ``on_<update_type>`` for every other type (``on_my_chat_member``, ``on_poll_answer`` ...);
  ``on_unknown(update)`` for types newer than this code;
- ``on_idle()``: no update for the route's idle timeout; return True to close (default),
  False to stay for another timeout;
- ``on_event(message)``: messages scheduled with :meth:`Handler.schedule` or told to the
  handler's ``actor_ref``; ``on_result(result)``: sender results asked for with
  ``self.sender.notify(tag)``;
- ``on_close(reason)``: last call. ``reason`` is :class:`IdleTimeout`,
  :class:`CloseRequested`, :class:`EngineStopping`, or the exception the handler raised;
- ``on_client_connected(client)``, ``on_client_message(client, type, data)``,
  ``on_client_disconnected(client)``: a Mini App client of this handler's user
  (:mod:`actorbot.webapp`); ``on_ask(message)``: a question asked with
  ``Engine.ask(route, seed, message)``, whose answer is what it returns.

Client events and asks are :class:`Routed` events: they travel through the router like
updates, so they reach the handler in order with its seed's updates, one at a time, and
survive passivation (docs/architecture.md §2.3).

Handlers never block: no ``Future.get()``, no synchronous HTTP. Outgoing calls go through
``self.sender`` and return futures; results come back as messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Coroutine, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final, NoReturn, Protocol

import structlog
from pykka import ActorDeadError, ActorRef

from actorbot import updates
from actorbot.errors import AsyncHookError, StateError
from actorbot.handlers._commands import find_command, is_command_method
from actorbot.handlers._messages import (
    Close,
    Deliver,
    HandlerClosed,
    HandlerClosing,
    HandlerIdle,
    IdleCheck,
    Scheduled,
)
from actorbot.handlers._queries import answer_after_failure, watch_query
from actorbot.runtime import RuntimeActor, unbind
from actorbot.seeds import BusinessChat
from actorbot.sending import AnswerWatch, CallResult, ChatSender, SenderHandle

if TYPE_CHECKING:
    from actorbot.handlers._state import Persisted
    from actorbot.journal import Journal
    from actorbot.runtime import Clock, InFlight, Timer
    from actorbot.state import StateBook

log = structlog.get_logger("actorbot.handler")


class CloseReason(Exception):
    """Why a handler closed, when it did not fail."""


class IdleTimeout(CloseReason):
    """No update for the route's idle timeout, and ``on_idle`` agreed to close."""


class CloseRequested(CloseReason):
    """The handler called :meth:`Handler.close`."""


class EngineStopping(CloseReason):
    """The engine is shutting down."""


_HOOKS: Final[dict[str, str]] = {
    **{t: f"on_{t}" for t in updates.UPDATE_TYPES},
    "message": "on_chat_message",
    "edited_message": "on_edited_chat_message",
}

#: Every method the engine calls on a handler; any of them may be ``async def``.
HOOK_NAMES: Final[frozenset[str]] = frozenset({
    "on_open", "on_message", "on_idle", "on_event", "on_result", "on_close", "on_unknown",
    "on_ask", "on_client_connected", "on_client_message", "on_client_disconnected",
    *_HOOKS.values(),
})


def async_hooks(cls: type) -> list[str]:
    """The hooks (``@command`` methods included) that ``cls`` defines as ``async def``."""
    found = []
    for name in dir(cls):
        value = getattr(cls, name, None)
        if (name in HOOK_NAMES or is_command_method(value)) and (
            inspect.iscoroutinefunction(value)
        ):
            found.append(name)
    return found


def check_hooks(cls: type) -> None:
    """Refuse hooks the engine could not await, before anything runs (AsyncHookError)."""
    for name in dir(cls):
        value = getattr(cls, name, None)
        if (name in HOOK_NAMES or is_command_method(value)) and (
            inspect.isasyncgenfunction(value)
        ):
            raise AsyncHookError(f"{cls.__name__}.{name} is an async generator: a hook is a "
                                 f"def or an async def, and it returns, not yields")
    dispatched = {*_HOOKS.values(), "on_unknown"}
    coroutines = [name for name in async_hooks(cls)
                  if name in dispatched or is_command_method(getattr(cls, name, None))]
    on_message = getattr(cls, "on_message", None)
    if coroutines and on_message is not Handler.on_message and (
        not inspect.iscoroutinefunction(on_message)
    ):
        raise AsyncHookError(
            f"{cls.__name__}.on_message is a plain def, but {', '.join(coroutines)} "
            f"{'is' if len(coroutines) == 1 else 'are'} async def: the coroutines it gets "
            f"from super().on_message() would never run. Make it "
            f"'async def on_message(self, update)' and 'await super().on_message(update)'")


class Attachment(Protocol):
    """Something a handler holds between events (a Mini App client): it may keep the
    handler from idling out, and is handed over when the handler closes."""

    @property
    def keeps_alive(self) -> bool: ...

    def handover(self, reason: BaseException) -> None:
        """The handler holding it closes for ``reason`` (its successor takes it)."""

    def send(self, type: str, data: Any = None) -> None: ...


class Routed:
    """An event that is not an update but is routed like one (``Deliver.update``).

    The router delivers it to ``(route, seed)`` through the same path as updates: in order
    with that seed's updates, buffered while its handler passivates, handed to the
    successor. The handler calls :meth:`call` (and :meth:`opening` first when the event's
    ``attachment`` is new to it), then :meth:`done` with the hook's result, or
    :meth:`failed` with what it raised; the router calls :meth:`failed` for an event it
    could not deliver (the engine stops, the seed gave up).
    """

    __slots__ = ()

    hook: ClassVar[str] = "on_event"
    """The hook :meth:`call` runs (for error messages)."""
    detaches: ClassVar[bool] = False
    """The handler lets go of ``attachment`` after this event."""

    @property
    def attachment(self) -> Attachment | None:
        return None

    @property
    def stale(self) -> bool:
        """Not worth delivering to a handler its attachment is new to (a handover of a
        client that closed meanwhile)."""
        return False

    @property
    def as_update(self) -> Any:
        """An update standing for the event's user (for ``is_admin``), or None."""
        return None

    def opening(self, handler: Handler) -> Any:
        """``attachment`` is new to ``handler``: what its hook returned, or None."""
        return None

    def call(self, handler: Handler) -> Any:
        raise NotImplementedError

    def done(self, result: Any) -> None:
        """The hook returned ``result`` (awaited)."""

    def failed(self, error: BaseException) -> None:
        """The hook raised ``error``, or the event never reached a handler."""


# Handler state. _OPENED and _CLOSE_ASKED are flags on top of the three lifecycle values.
_ACTIVE, _DRAINING, _CLOSED = 0, 1, 2
_LIFECYCLE, _OPENED, _CLOSE_ASKED = 3, 4, 8


class AdminCheck(Protocol):
    """What a handler asks of the access list (:class:`actorbot.routing.AccessList`),
    which lives in the router's stage above this one."""

    def is_admin_update(self, update: Any) -> bool: ...


@dataclass(slots=True, frozen=True)
class RouteServices:
    """What every handler of one route shares (one object per route, not per handler)."""

    route: str
    idle_timeout: float | None
    router: ActorRef[Any]
    sender: SenderHandle | None
    clock: Clock
    tracker: InFlight
    journal: Journal | None = None
    access: AdminCheck | None = None
    bot_username: str | None = None
    state: StateBook | None = None  # declared state's store (handlers/_state.py)


@dataclass(slots=True, frozen=True)
class HandlerContext:
    """What the router gives every handler it spawns: its key, its seed, its route's
    services. Kept small: a bot may have a million of them."""

    key: Any
    seed: Any
    services: RouteServices

    @property
    def route(self) -> str:
        return self.services.route

    @property
    def idle_timeout(self) -> float | None:
        return self.services.idle_timeout

    @property
    def router(self) -> ActorRef[Any]:
        return self.services.router

    @property
    def sender(self) -> SenderHandle | None:
        return self.services.sender

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def tracker(self) -> InFlight:
        return self.services.tracker


def _tell_quietly(ref: ActorRef[Any], message: Any) -> None:
    with contextlib.suppress(ActorDeadError):  # a timer outlived its handler
        ref.tell(message)


class Handler(RuntimeActor):
    """Base of every handler actor; see the module docstring for the hooks."""

    # Slots keep the instance dict for the user's own attributes: a dict already full of
    # ours grows (and costs ~800 bytes) as soon as on_open adds one.
    __slots__ = ("_attached", "_last_active", "_returned", "_sender", "_state", "_timers",
                 "_update", "context")

    _is_async: ClassVar[bool] = False
    """Whether a hook is ``async def``: then the handler runs on the engine's event loop."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._is_async = bool(async_hooks(cls))

    tolerated_failures: frozenset[str] = frozenset({"callback_query", "inline_query"})
    """Update types whose hook may raise without closing the handler: the error is logged
    (``handler.hook_failed``) and the update counts as handled. A button press or an
    inline query is not worth this handler's state, and retrying one is pointless. Every
    other failure follows the route's :class:`FailurePolicy`."""

    callback_failure_text: str | None = None
    """Shown to the user when ``on_callback_query`` raised (a tolerated failure): the query
    is answered with it, unless the hook answered it itself; None: answered without text."""

    _persisted: ClassVar[Persisted | None] = None  # set by a State declaration (_state.py)

    def __init__(self, context: HandlerContext) -> None:
        super().__init__()
        self.context = context
        self._state = _ACTIVE
        self._last_active = context.services.clock.now()
        self._returned: list[Deliver] | None = None
        self._timers: set[Timer] | None = None
        self._sender: ChatSender | None = None
        self._update: Any = None
        self._attached: dict[Attachment, None] | None = None

    @property
    def seed(self) -> Any:
        """What the route's seed function returned for this handler's updates."""
        return self.context.seed

    def __str__(self) -> str:
        return f"{type(self).__name__}(route={self.context.route!r}, seed={self.seed!r})"

    # -- the API handlers use --------------------------------------------------------------

    @property
    def sender(self) -> ChatSender:
        """Outgoing Bot API calls, bound to this handler's chat when it has one."""
        if self._sender is None:
            if self.context.sender is None:
                raise StateError("this engine has no sender")
            self._sender = ChatSender(
                self.context.sender, self.chat_id_for_sender, self.actor_ref,
                business_connection_id=self.business_connection_id_for_sender)
        return self._sender

    @property
    def chat_id_for_sender(self) -> int | str | None:
        """The chat ``self.sender`` fills in; None for handlers not bound to a chat."""
        return None

    @property
    def business_connection_id_for_sender(self) -> str | None:
        """The business connection ``self.sender`` replies through, if any."""
        return None

    @property
    def is_admin(self) -> bool:
        """Whether the user behind the update being handled is in the engine's admin list
        (:class:`~actorbot.AccessList`); False outside ``on_open``/``on_message``."""
        access = self.context.services.access
        update = self._update
        if isinstance(update, Routed):
            update = update.as_update
        return access is not None and update is not None and access.is_admin_update(update)

    def schedule(self, delay: float, message: Any) -> Timer:
        """Have ``message`` delivered to :meth:`on_event` after ``delay`` seconds.

        Cancel with ``timer.cancel()``; pending timers are cancelled when the handler closes.
        """
        event = Scheduled(message)
        timer = self.context.clock.call_later(delay, _tell_quietly, self.actor_ref, event)
        if self._timers is None:
            self._timers = set()
        self._timers.add(timer)
        event.timer = timer
        return timer

    def close(self) -> None:
        """Close after the current message; later updates for this seed go to a new handler."""
        self._state |= _CLOSE_ASKED

    @property
    def clients(self) -> tuple[Attachment, ...]:
        """The Mini App clients open to this handler (:mod:`actorbot.webapp`), oldest first."""
        return tuple(self._attached) if self._attached else ()

    def push(self, type: str, data: Any = None) -> int:
        """Send ``{"type", "data"}`` to every open client; how many it was sent to."""
        clients = self.clients
        for client in clients:
            client.send(type, data)
        return len(clients)

    def checkpoint(self) -> None:
        """Save the declared ``State`` at the end of this hook, even with ``save="close"``."""
        if self._persisted is not None:
            self._persisted.checkpoint(self)

    # -- hooks ----------------------------------------------------------------------------

    def on_open(self, update: Any) -> Awaitable[None] | None:
        """Before the first update is handled."""
        return None

    def on_message(self, update: Any) -> Any:
        """Every update; the default runs the ``@command`` method a command message names,
        else calls the hook for its type with the inner object.

        It returns what that hook returned, so an ``async def`` override awaits it:
        ``await super().on_message(update)`` (in a handler with ``async def`` hooks it is
        always awaitable).
        """
        kind = updates.update_type(update)
        if kind == "message":
            found = find_command(self, update[kind], self.context.services.bot_username)
            if found is not None:
                method, args = found
                return self._awaitable(method(update[kind], args), method.__name__)
        name = _HOOKS.get(kind, "on_unknown")
        hook = getattr(self, name, None)
        if hook is None:
            return self._awaitable(None, name)
        inner = update if kind == updates.UNKNOWN else update[kind]
        if kind not in self.tolerated_failures:
            return self._awaitable(hook(inner), name)
        watch = watch_query(kind, inner)
        try:
            result = self._awaitable(hook(inner), name)
        except Exception as exc:  # noqa: BLE001 - see tolerated_failures
            self._hook_failed(kind, update, exc, watch)
            return self._awaitable(None, name)
        if result is not _DONE and self._is_async and inspect.isawaitable(result):
            return self._tolerating(result, kind, update, watch)
        return result

    def on_idle(self) -> bool | Awaitable[bool]:
        """No update for the idle timeout: return True to close, False to stay."""
        return True

    def on_event(self, message: Any) -> Awaitable[None] | None:
        """A scheduled message, or one told to this actor."""
        return None

    def on_result(self, result: CallResult) -> Awaitable[None] | None:
        """The result of a call made through ``self.sender.notify(tag)``."""
        return None

    def on_close(self, reason: BaseException) -> Awaitable[None] | None:
        """Last call: the handler is closing because of ``reason``."""
        return None

    def on_ask(self, message: Any) -> Any:
        """A question from ``Engine.ask``: the return value (awaited if async) answers it."""
        return None

    def on_client_connected(self, client: Any) -> Awaitable[None] | None:
        """A Mini App client of this handler's user logged in (or was handed over by the
        handler this one succeeds: then ``client.resumed`` is True)."""
        return None

    def on_client_message(self, client: Any, type: str, data: Any) -> Awaitable[None] | None:
        """A message ``{"type": type, "data": data}`` from an open client."""
        return None

    def on_client_disconnected(self, client: Any) -> Awaitable[None] | None:
        """The client closed (or the engine closes it as it stops)."""
        return None

    # -- protocol (runs on the handler's worker, one message at a time) --------------------
    #
    # One code path for both kinds of handler: the protocol is written as coroutines. A
    # handler with ``async def`` hooks returns the coroutine from on_receive, and its
    # runtime (LoopRuntime) awaits it before the next message. A plain handler's coroutine
    # never suspends (it awaits only what its hooks return, and a plain hook returning an
    # awaitable is an error), so on_receive drives it to the end at once.

    def on_receive(self, message: Any) -> Any:
        receiving = self._receive(message)
        if self._is_async:
            return receiving
        try:
            receiving.send(None)
        except StopIteration:
            return None
        receiving.close()  # pragma: no cover - see above: it cannot suspend
        raise AsyncHookError(f"{self} suspended on a thread")

    async def _receive(self, message: Any) -> None:
        kind = type(message)
        if kind is Deliver:
            await self._deliver(message)
        elif kind is IdleCheck:
            await self._idle_check()
        elif kind is Close:
            await self._close(message.reason)
        elif self._state & _LIFECYCLE != _ACTIVE:
            return  # closing: timers, results and events have nobody to go to
        elif kind is Scheduled:
            if self._timers is not None:
                self._timers.discard(message.timer)
            await self._run(self.on_event, message.message, "on_event")
        elif kind is CallResult:
            await self._run(self.on_result, message, "on_result")
        else:
            await self._run(self.on_event, message, "on_event")

    def _awaitable(self, result: Any, hook: str) -> Any:
        """What ``hook`` returned, checked: for a handler with async hooks always something
        ``await`` accepts; for a plain handler never an awaitable."""
        if result is None:
            return _DONE if self._is_async else None
        if not self._is_async and inspect.isawaitable(result):
            self._not_awaitable(result, hook)
        return result

    async def _result(self, result: Any, hook: str) -> Any:
        """What a hook returned, awaited if it is awaitable (only async handlers can)."""
        if not inspect.isawaitable(result):
            return result
        if not self._is_async:
            self._not_awaitable(result, hook)
        return await result

    def _not_awaitable(self, result: Any, hook: str) -> NoReturn:
        if isinstance(result, Coroutine):
            result.close()  # said here, instead of Python's "never awaited" warning
        raise AsyncHookError(
            f"{unbind(type(self)).__name__}.{hook} returned {type(result).__name__} from a "
            f"plain def, and this handler runs on a thread: make the hook async def")

    async def _tolerating(
        self, awaitable: Any, kind: str, update: Any, watch: AnswerWatch | None
    ) -> Any:
        try:
            return await awaitable
        except Exception as exc:  # noqa: BLE001 - see tolerated_failures
            self._hook_failed(kind, update, exc, watch)
            return None

    def _hook_failed(
        self, kind: str, update: Any, exc: Exception, watch: AnswerWatch | None
    ) -> None:
        self.context.services.tracker.note_hook_failure()
        log.error("handler.hook_failed", route=self.context.route, seed=repr(self.seed),
                  handler=type(self).__name__, update_type=kind,
                  update_id=update.get("update_id"), error=f"{type(exc).__name__}: {exc}",
                  exc_info=exc)
        answer_after_failure(self, watch)

    async def _deliver(self, delivery: Deliver) -> None:
        state = self._state
        if state & _LIFECYCLE != _ACTIVE:
            if self._returned is None:
                self._returned = []
            self._returned.append(delivery)  # the router hands it to our successor
            return
        services = self.context.services
        tracker = services.tracker
        self._last_active = services.clock.now()
        tracker.run(delivery.seq)  # calls made meanwhile hold the update open
        retried = cancelled = False
        self._update = delivery.update  # for is_admin
        try:
            await self._handle(delivery.update, state)
        except asyncio.CancelledError as exc:
            cancelled = True  # stop()'s deadline passed: the journal replays the update
            _tell_failed(delivery, exc)
        except Exception as exc:  # noqa: BLE001 - isolate: log, close, let the seed recover
            _tell_failed(delivery, exc)
            retried = await self._fail(exc, delivery)
        finally:
            self._update = None
            tracker.ran()
            if self._persisted is not None and not cancelled:  # declared state, before the ack
                self._persisted.after_update(self, delivery, self._state & _LIFECYCLE != _ACTIVE)
            if cancelled:
                tracker.abandon(delivery.seq)
            elif not retried:
                tracker.finish(delivery.seq)
        if self._is_async:
            self._last_active = services.clock.now()  # busy until now, not idle
        if cancelled:
            await self._cancelled("on_message", delivery)
        elif self._state & (_CLOSE_ASKED | _LIFECYCLE) == _CLOSE_ASKED:
            await self._begin_closing(CloseRequested(), None)

    async def _handle(self, update: Any, state: int) -> None:
        if not state & _OPENED:
            self._state = state | _OPENED
            opened = self.on_open(update)
            if opened is not None:
                await self._result(opened, "on_open")
        if type(update) is not dict and isinstance(update, Routed):
            await self._handle_routed(update)
            return
        handled = self.on_message(update)
        if handled is not None:
            await self._result(handled, "on_message")

    async def _handle_routed(self, event: Routed) -> None:
        attachment = event.attachment
        if attachment is not None:
            attached = self._attached
            if attached is None or attachment not in attached:
                if event.detaches or event.stale:  # gone before it reached us
                    event.done(None)
                    return
                if attached is None:
                    attached = self._attached = {}
                attached[attachment] = None
                opened = event.opening(self)
                if opened is not None:
                    await self._result(opened, "on_client_connected")
        result = event.call(self)
        if result is not None:
            result = await self._result(result, event.hook)
        if event.detaches and self._attached is not None:
            self._attached.pop(attachment, None)  # type: ignore[arg-type]  # not None here
        event.done(result)

    async def _run(self, hook: Any, arg: Any, name: str) -> None:
        self._last_active = self.context.services.clock.now()
        try:
            result = hook(arg)
            if result is not None:
                await self._result(result, name)
        except asyncio.CancelledError:
            await self._cancelled(name, None)
            return
        except Exception as exc:  # noqa: BLE001
            await self._fail(exc, None)
        else:
            if self._persisted is not None:  # declared state
                self._persisted.after_event(self)
        if self._state & (_CLOSE_ASKED | _LIFECYCLE) == _CLOSE_ASKED:
            await self._begin_closing(CloseRequested(), None)

    async def _cancelled(self, hook: str, delivery: Deliver | None) -> None:
        """The engine stopped and its deadline passed while ``hook`` ran: close."""
        log.warning("handler.cancelled", route=self.context.route, seed=repr(self.seed),
                    handler=type(self).__name__, hook=hook,
                    update_id=updates.update_id(delivery.update) if delivery else None)
        if self._state & _LIFECYCLE == _ACTIVE:
            await self._begin_closing(EngineStopping(), None)

    async def _fail(self, exc: Exception, delivery: Deliver | None) -> bool:
        """Log, close, and decide the failed update's fate; True if it will be retried."""
        update = delivery.update if delivery is not None else None
        update_id = updates.update_id(update)
        error = f"{type(exc).__name__}: {exc}"
        ctx = self.context
        log.error("handler.failed", route=ctx.route, seed=repr(self.seed),
                  handler=type(self).__name__, update_id=update_id, error=error,
                  retries_left=delivery.retries if delivery is not None else None,
                  exc_info=exc)
        retried = False
        if delivery is not None and delivery.retries > 0:
            # Our successor gets it first, before whatever reached us after it.
            again = Deliver(update, delivery.seq, delivery.retries - 1, delivery.durable)
            self._returned = [again, *(self._returned or ())]
            retried = True
        elif delivery is not None and delivery.durable and ctx.services.journal is not None:
            log.error("journal.parked", route=ctx.route, seed=repr(self.seed),
                      update_id=update_id, error=error)
            ctx.services.journal.park(update, ctx.route, error)
        await self._begin_closing(exc, exc)
        return retried

    async def _begin_closing(self, reason: BaseException, error: BaseException | None) -> None:
        """Stop accepting work, run ``on_close``, and ask the router to stop delivering."""
        self._state = (self._state & ~_LIFECYCLE) | _DRAINING
        await self._finish(reason)
        self.context.router.tell(HandlerClosing(self.context.key, self.actor_ref, error))

    async def _finish(self, reason: BaseException) -> None:
        if self._timers:
            for timer in self._timers:
                timer.cancel()
            self._timers = None
        try:
            closed = self.on_close(reason)
            if closed is not None:
                await self._result(closed, "on_close")
        except asyncio.CancelledError:
            log.warning("handler.cancelled", route=self.context.route, seed=repr(self.seed),
                        handler=type(self).__name__, hook="on_close", update_id=None)
        except Exception as exc:
            log.error("handler.on_close_failed", route=self.context.route,
                      seed=repr(self.seed), error=f"{type(exc).__name__}: {exc}", exc_info=exc)
        if self._persisted is not None and isinstance(reason, CloseReason):  # declared state
            self._persisted.after_close(self)
        attached, self._attached = self._attached, None
        for attachment in attached or ():
            try:
                attachment.handover(reason)  # to our successor
            except Exception as exc:
                log.error("handler.handover_failed", route=self.context.route,
                          seed=repr(self.seed), error=type(exc).__name__, exc_info=exc)

    async def _idle_check(self) -> None:
        if self._state & _LIFECYCLE != _ACTIVE:
            return  # already closing: the router learns it from HandlerClosing
        ctx = self.context
        now = ctx.clock.now()
        timeout = ctx.idle_timeout
        if timeout is not None and now - self._last_active < timeout:
            ctx.router.tell(HandlerIdle(ctx.key, self.actor_ref, False, self._last_active))
            return
        if self._attached and any(a.keeps_alive for a in self._attached):
            self._last_active = now  # an open client is activity: ask again a timeout later
            ctx.router.tell(HandlerIdle(ctx.key, self.actor_ref, False, now))
            return
        try:
            closing = self.on_idle()
            if type(closing) is not bool:
                closing = await self._result(closing, "on_idle")
        except asyncio.CancelledError:
            await self._cancelled("on_idle", None)
            return
        except Exception as exc:  # noqa: BLE001
            await self._fail(exc, None)
            return
        if self._is_async:
            now = ctx.clock.now()
        if not closing:
            self._last_active = now
            ctx.router.tell(HandlerIdle(ctx.key, self.actor_ref, False, now))
            return
        self._state = _CLOSED
        await self._finish(IdleTimeout())
        ctx.router.tell(HandlerIdle(ctx.key, self.actor_ref, True, now))
        self._stop()

    async def _close(self, reason: BaseException) -> None:
        if self._state & _LIFECYCLE == _ACTIVE:
            self._state = (self._state & ~_LIFECYCLE) | _DRAINING
            await self._finish(reason)
        self._state = _CLOSED
        returned, self._returned = self._returned or [], None
        self.context.router.tell(HandlerClosed(self.context.key, self.actor_ref, returned))
        self._stop()


def _tell_failed(delivery: Deliver, error: BaseException) -> None:
    """A routed event's sender learns that its hook raised (an update has nobody to tell)."""
    if isinstance(delivery.update, Routed):
        delivery.update.failed(error)


class _Done:
    """An awaitable that is already done: what ``await super().on_message(update)`` gets
    when the hook it ran was a plain def."""

    __slots__ = ()

    def __await__(self) -> Iterator[None]:
        return iter(())


_DONE: Final = _Done()


class ChatHandler(Handler):
    """A handler per chat (route it with ``per_chat_id()``): ``self.chat_id`` is the seed,
    and ``self.sender`` sends to that chat."""

    @property
    def chat_id(self) -> int:
        seed = self.seed
        if isinstance(seed, BusinessChat):
            return seed.chat_id
        chat: int = seed
        return chat

    @property
    def business_connection_id(self) -> str | None:
        """Set for a business account's chat (seed :class:`~actorbot.seeds.BusinessChat`)."""
        seed = self.seed
        return seed.connection_id if isinstance(seed, BusinessChat) else None

    @property
    def chat_id_for_sender(self) -> int | str | None:
        return self.chat_id

    @property
    def business_connection_id_for_sender(self) -> str | None:
        return self.business_connection_id


class UserHandler(Handler):
    """A handler per user (route it with ``per_from_id()``): ``self.user_id`` is the seed,
    and ``self.sender`` writes to the user's private chat (whose id is the user id)."""

    @property
    def user_id(self) -> int:
        seed: int = self.seed
        return seed

    @property
    def chat_id_for_sender(self) -> int | str | None:
        return self.user_id


class Monitor(Handler):
    """One instance that sees every update its route sends it (``per_application()``);
    it never idles out. ``self.sender`` needs an explicit ``chat_id``."""
