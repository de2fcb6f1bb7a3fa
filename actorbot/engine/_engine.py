"""The engine: wires poller, router, handlers, sender and clock, and stops them in order.

Graceful stop (docs/architecture.md §2.6): stop fetching -> let the router route what it has -> wait
until every update in flight is handled -> close the handlers -> flush the sender ->
confirm the offset -> stop the actors and join every thread. pykka's
``ActorRegistry.stop_all()`` (LIFO, no draining) is not used.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from types import TracebackType
from typing import Any, Final, Self

import pykka
import structlog

from actorbot.api import Client, Connection
from actorbot.engine._components import Component
from actorbot.engine._settings import Handling, Hooks, Status
from actorbot.engine._stats import Parts, read_stats
from actorbot.errors import (
    ConfigError,
    EngineBusy,
    NoSuchDeadLetter,
    NotRunning,
    PollingStopped,
    StateError,
)
from actorbot.handlers import (
    Routed,
    async_hooks,
    commands_of,
    declared_state,
    prepare_commands,
)
from actorbot.intake import (
    Poller,
    PollerStats,
    Polling,
    Webhook,
    close_intake,
    confirm_offset,
    open_intake,
)
from actorbot.journal import DeadLetter, Journal, Keep, MemoryJournal, SqliteJournal
from actorbot.routing import (
    AccessList,
    Ask,
    Batch,
    ChatMoved,
    Dispatch,
    Evict,
    Ping,
    Route,
    Router,
    RouterStats,
    Shutdown,
)
from actorbot.runtime import (
    ActorPool,
    Clock,
    InFlight,
    LoopRuntime,
    Runtime,
    ThreadPerActor,
    bound_class,
    stop_on_signals,
)
from actorbot.seeds import is_hashable
from actorbot.sending import CallFuture, Sender, SenderHandle, SenderStats, Sending
from actorbot.state import MemoryStore, SqliteStore, StateBook, StateStore
from actorbot.updates import update_type

log = structlog.get_logger("actorbot.engine")

_LIVE: Final = frozenset({Status.STARTING, Status.CONNECTED, Status.RETRYING})
_STOPPABLE: Final = _LIVE | {Status.FAILED}
_CALL_FAILED: Final = "sender"
"""The ``route`` of a dead letter parked because a Bot API call made for it failed."""


def _start(actor: pykka.Actor) -> pykka.ActorRef[Any]:
    """Start a core actor built by hand (the engine keeps the object for its stats).

    Core actors stay out of pykka's global registry: the engine owns their lifecycle.
    """
    actor._start_actor_loop()
    return actor.actor_ref


def _ping(ref: pykka.ActorRef[Any], timeout: float) -> bool:
    """Flush: True once ``ref`` handled everything sent to it before (False on timeout)."""
    try:
        ref.ask(Ping(), timeout=max(timeout, 0.001))
    except pykka.Timeout:
        return False
    except pykka.ActorDeadError:
        return True
    return True


#: Seconds a component's start may take before ``Engine.start`` gives up on it.
_COMPONENT_START: Final = 30.0


def _grace(left: float) -> float:
    """The end of a stop's deadline kept for cancelling coroutines and their unwinding."""
    return min(0.5, left / 10)


def _journal_of(journal: Journal | str | os.PathLike[str] | None) -> Journal:
    if journal is None:
        return MemoryJournal()
    if isinstance(journal, Journal):
        return journal
    return SqliteJournal(journal)


def _stateful(routes: list[Route]) -> bool:
    """Whether a route's handler declares ``State``; such routes need distinct names."""
    names = [r.name for r in routes if declared_state(r.handler) is not None]
    if len(set(names)) != len(names):
        raise ConfigError("routes whose handlers declare State need distinct names "
                          "(Route(..., name=...)): state is stored per route name")
    return bool(names)


def _store_of(
    state: StateStore | str | os.PathLike[str] | None, routes: list[Route]
) -> StateStore | None:
    """``state=``: a store, a SQLite file path, or None (in memory, if a route needs one)."""
    needed = _stateful(routes)
    if isinstance(state, StateStore):
        return state
    if state is None:
        return MemoryStore() if needed else None
    if isinstance(state, (str, os.PathLike)):
        return SqliteStore(state)
    raise ConfigError(f"Engine(state=...) takes a StateStore or a file path, not "
                      f"{type(state).__name__}")


_POLLING: Final = Polling()
_HANDLING: Final = Handling()
_SENDING: Final = Sending()
_CONNECTION: Final = Connection()
_HOOKS: Final = Hooks()
_SETTINGS: Final[dict[str, tuple[type, ...]]] = {
    "intake": (Polling, Webhook, type(None)), "handling": (Handling,), "sending": (Sending,),
    "connection": (Connection,), "hooks": (Hooks,),
}


def _check_types(**settings: object) -> None:
    """A settings object of the wrong kind (a bare dict, an old keyword) is refused here."""
    for name, value in settings.items():
        kinds = _SETTINGS[name]
        if not isinstance(value, kinds):
            expected = " or ".join("None" if k is type(None) else k.__name__ for k in kinds)
            raise ConfigError(f"Engine({name}=...) takes {expected}, not {type(value).__name__}")


def _runtime_for(handling: Handling) -> Runtime:
    if handling.runtime == "pool":
        return ActorPool(handling.pool_workers, name="actorbot-handlers")
    if handling.runtime == "threads":
        return ThreadPerActor()
    assert not isinstance(handling.runtime, str)  # Handling checked the name
    return handling.runtime


def _keep_all_but(transient: frozenset[str]) -> Keep | None:
    """The journal's test for updates to keep pending: all but the at-most-once types."""
    if not transient:
        return None
    return lambda update: update_type(update) not in transient


class Engine:
    """A bot: updates in, one handler actor per seed, every Bot API call through a sender.

    ``routes`` are :class:`~actorbot.Route` objects or ``(seed_function, handler_class)``
    pairs. Every other knob sits in a settings object of the stage it belongs to:

    - ``intake``: :class:`~actorbot.Polling` (the default), :class:`~actorbot.Webhook`
      (``setWebhook`` on start; updates come through a ``WebhookApp`` into :meth:`feed`),
      or None (updates come only through :meth:`feed`);
    - ``handling``: :class:`Handling` (runtime, pool size, backpressure, at-most-once types);
    - ``sending``: :class:`~actorbot.Sending` (rate limits, HTTP workers, queue, retries);
    - ``connection``: :class:`~actorbot.api.Connection` (base URL, timeouts, session);
    - ``journal``: where updates wait until handled: a file path (a durable
      :class:`~actorbot.journal.SqliteJournal`), a :class:`~actorbot.journal.Journal`, or
      None (a :class:`~actorbot.journal.MemoryJournal`: nothing survives a crash);
    - ``state``: where handlers' declared :class:`~actorbot.handlers.State` lives: a
      :class:`~actorbot.state.StateStore`, a SQLite file path (the journal's own path
      makes effects on state exactly-once), or None (in memory); docs/state.md;
    - ``access``: the ban and admin list (:class:`~actorbot.AccessList`, changeable live);
    - ``commands``: publish the handlers' ``@command`` menus at start;
    - ``hooks``: :class:`Hooks` (status, connected, error callbacks);
    - ``stats_interval``: seconds between ``engine.stats`` events (None: never);
    - ``clock``: the timer service (a ``ManualClock`` in tests);
    - ``components``: what runs on the engine's event loop beside the stages (the Mini
      App server, :class:`ServerTasks`), started after them and stopped before them.

    Handlers with ``async def`` hooks run on an event loop: the engine's own (a thread it
    starts and joins), or the application's when the engine is started from a coroutine
    (``await engine.start_async()``, ``async with engine:``, or ``start()`` called on a
    running loop). Sync handlers stay on ``handling.runtime``.

    ``status`` is a :class:`Status` (a ``str`` enum): "stopped", "starting", "connected"
    (getUpdates works; without polling: started), "retrying" (getUpdates fails and is
    retried), "failed" (a fatal polling error: nothing polls, ``error`` says why; call
    ``stop()``) or "stopping".
    """

    def __init__(
        self,
        token: str,
        routes: Iterable[Route | tuple[Any, Any]],
        *,
        intake: Polling | Webhook | None = _POLLING,
        handling: Handling = _HANDLING,
        sending: Sending = _SENDING,
        connection: Connection = _CONNECTION,
        journal: Journal | str | os.PathLike[str] | None = None,
        state: StateStore | str | os.PathLike[str] | None = None,
        access: AccessList | None = None,
        commands: bool = True,
        hooks: Hooks = _HOOKS,
        stats_interval: float | None = 60.0,
        clock: Clock | None = None,
        components: Iterable[Component] = (),
    ) -> None:
        _check_types(intake=intake, handling=handling, sending=sending,
                     connection=connection, hooks=hooks)
        self.routes = [r if isinstance(r, Route) else Route(*r) for r in routes]
        if not self.routes:
            raise ConfigError("an engine needs at least one route")
        self._async_routes = [r.name for r in self.routes if async_hooks(r.handler)]
        for route in self.routes:
            commands_of(route.handler)  # a command hiding a handler method fails here
        if stats_interval is not None and stats_interval <= 0:
            raise ConfigError("stats_interval must be positive (or None: no stats events)")
        self._token = token
        self.intake = intake
        self.handling = handling
        self.sending = sending
        self.connection = connection
        self.hooks = hooks
        self.stats_interval = stats_interval
        self.clock = clock or Clock()
        self.journal = _journal_of(journal)
        self.state_store = _store_of(state, self.routes)
        """Where declared handler state lives (None: no route declares any, none given)."""
        self._state_book: StateBook | None = None
        self._keep = _keep_all_but(frozenset(handling.at_most_once))
        self.tracker = InFlight()
        self.tracker.on_acked = self.journal.ack
        self.tracker.on_failed = self._on_call_failed
        self.client = connection.client(token, pool_maxsize=max(10, sending.http_workers))
        self.commands = commands
        self._menus: set[tuple[str, str]] = set()  # the command menus published so far
        self.access = access if access is not None else AccessList()
        self.status: Status = Status.STOPPED
        self.error: BaseException | None = None
        self.runtime: Runtime | None = None
        self.loop_runtime: LoopRuntime | None = None
        """Where handlers with async hooks run, while the engine runs one."""
        self._router_ref: pykka.ActorRef[Router] | None = None
        self._sender_ref: pykka.ActorRef[Sender] | None = None
        self._sender_handle: SenderHandle | None = None
        self._poller: pykka.ActorRef[Poller] | None = None
        self._poller_actor: Poller | None = None
        self._router_actor: Router | None = None
        self._sender_actor: Sender | None = None
        self._poll_client: Client | None = None
        self._stats_timer: Any = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._hooks = threading.RLock()  # status hooks run one at a time, in order
        self._started_at = 0.0
        self.components: list[Component] = []
        for component in components:
            self.add(component)

    def add(self, component: Component) -> Component:
        """Run ``component`` with the engine from its next start (see ``components``)."""
        if not isinstance(component, Component):
            raise TypeError(f"a component has start(engine) and stop(timeout), not "
                            f"{component!r}")
        if self.status is not Status.STOPPED:
            raise StateError("add components before start()")
        self.components.append(component)
        return component

    @property
    def polling(self) -> bool:
        """Whether updates come by long polling (``intake`` is a :class:`Polling`)."""
        return isinstance(self.intake, Polling)

    def __repr__(self) -> str:
        return f"Engine(bot_id={self.client.bot_id}, status={self.status.value!r})"

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> Self:
        """Start every stage; on a running event loop, async hooks run on that loop."""
        loop = None
        with contextlib.suppress(RuntimeError):
            loop = asyncio.get_running_loop()
        return self._start(loop)

    async def start_async(self) -> Self:
        """:meth:`start` from a coroutine, without blocking the loop; async hooks then
        run on this loop. Stop with :meth:`stop_async`."""
        loop = asyncio.get_running_loop()
        return await asyncio.to_thread(self._start, loop)

    async def stop_async(self, timeout: float = 10.0) -> bool:
        """:meth:`stop` from a coroutine: the loop keeps running the hooks that finish."""
        return await asyncio.to_thread(self.stop, timeout)

    async def __aenter__(self) -> Self:
        return await self.start_async()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop_async()

    def _start(self, loop: asyncio.AbstractEventLoop | None) -> Self:
        if not self._set_status(Status.STARTING, only_from=(Status.STOPPED,)):
            if self.status == Status.FAILED:
                raise StateError("engine failed: stop() it before starting it again")
            raise StateError(f"engine is already running ({self.status})")
        self._done.clear()
        self.error = None
        self._started_at = time.monotonic()
        try:
            replay = self.journal.open()
        except BaseException:
            self._set_status(Status.STOPPED)
            raise
        try:
            router = self._start_core(loop, replay)
            open_intake(self.client, self.intake)
        except BaseException:
            self.stop(1.0)  # "starting": stop() tears down what started
            raise
        if isinstance(self.intake, Polling):
            self._poll_client = self.connection.client(self._token)  # its own connections
            self._poller_actor = Poller(
                self._poll_client, router, self.tracker, self.intake,
                max_in_flight=self.handling.max_in_flight, on_fatal=self._on_fatal,
                journal=self.journal, keep=self._keep, offset=self.journal.next_offset())
            self._poller_actor.on_state = self._on_poll_state
            self._poller = _start(self._poller_actor)
        if self.stats_interval:
            self._stats_timer = self.clock.call_later(self.stats_interval, self._emit_stats)
        if not self.polling:  # else the poller says when getUpdates works
            self._on_poll_state(Status.CONNECTED, None)
        try:
            self._start_components()
        except BaseException:
            self.stop(1.0)
            raise
        log.info("engine.started", bot_id=self.client.bot_id, polling=self.polling,
                 runtime=getattr(self.runtime, "name", type(self.runtime).__name__),
                 routes=[r.name for r in self.routes])
        return self

    def _start_core(
        self, loop: asyncio.AbstractEventLoop | None, replay: list[Any]
    ) -> pykka.ActorRef[Any]:
        """State, clock, runtimes, sender and router; the router's ref."""
        if _stateful(self.routes):
            self._open_state()
        self.clock.start()
        self.runtime = _runtime_for(self.handling)
        if self._async_routes or self.components:  # components run on the loop too
            self.loop_runtime = LoopRuntime(loop, loop_factory=self.handling.loop_factory).start()
        self._sender_actor = sender_actor = self._new_sender()
        self.tracker.congested = lambda: sender_actor.congested  # hold fetching meanwhile
        self._sender_ref = _start(self._sender_actor)
        self._sender_handle = SenderHandle.of(self._sender_actor)
        username = prepare_commands(self.client, self.routes, sync=self.commands,
                                    on_error=lambda exc: self._fire("on_error", exc),
                                    published=self._menus)
        self._router_actor = Router(
            self.routes, self.runtime, self.clock, self.tracker, self._sender_handle,
            sweep_limit=self.handling.sweep_limit, journal=self.journal,
            at_most_once_types=frozenset(self.handling.at_most_once), access=self.access,
            bot_username=username, loop_runtime=self.loop_runtime, state=self._state_book)
        self._router_ref = router = _start(self._router_actor)
        if replay:  # before anything new: per-chat order holds across the restart
            log.info("journal.replay", updates=len(replay))
            self.tracker.admit(len(replay))
            router.tell(Batch(replay, replay=True))
        return router

    def _new_sender(self) -> Sender:
        """On the event loop if there is one: awaited calls then skip a thread of its own."""
        cls: type[Sender] = Sender
        if self.loop_runtime is not None:
            cls = bound_class(Sender, self.loop_runtime)  # type: ignore[assignment]
        return cls(self.client, self.clock, self.sending, on_relieved=self.tracker.poke,
                   on_migrated=self._on_chat_migrated)

    def _start_components(self) -> None:
        runtime = self.loop_runtime
        if not self.components or runtime is None:
            return
        for component in self.components:
            starting = component.start(self)
            if runtime.in_loop_thread():  # start() on the running loop: it cannot wait
                task = runtime.loop.create_task(starting)
                task.add_done_callback(functools.partial(self._component_started, component))
                continue
            asyncio.run_coroutine_threadsafe(starting, runtime.loop).result(_COMPONENT_START)
            log.info("engine.component_started", component=component.name)

    def _component_started(self, component: Component, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("engine.component_failed", component=component.name,
                      error=type(task.exception()).__name__, exc_info=task.exception())

    def _stop_components(self, left: Callable[[], float]) -> bool:
        runtime = self.loop_runtime
        if runtime is None:
            return True
        ok = True
        for component in reversed(self.components):
            budget = max(left() / 2, 0.01)  # the stages need the rest
            try:
                asyncio.run_coroutine_threadsafe(component.stop(budget), runtime.loop).result(
                    budget + 1.0)
            except Exception as exc:
                ok = False
                log.error("engine.stop_failed", stage=component.name, error=type(exc).__name__,
                          exc_info=exc)
        return ok

    def _open_state(self) -> None:
        """Declared state (docs/state.md): the state book goes between the tracker's
        acknowledgements and the journal, so an update's state commits with its ack."""
        assert self.state_store is not None  # a store is made when a route declares state
        book = StateBook(self.state_store, self.journal)
        try:
            book.open()
        except BaseException:
            self.journal.close()
            self._set_status(Status.STOPPED)
            raise
        self._state_book = book
        self.tracker.on_acked = book.ack

    def feed(self, updates: Any, *, timeout: float | None = None) -> None:
        """Hand updates to the router from any source (a list is one batch, in order).

        When it returns, the updates are in the journal (durable with a SqliteJournal):
        only then may the source forget them (answer a webhook, ack a broker message).
        Updates the journal has already seen are dropped as duplicates.

        Backpressure, as the poller has: while ``max_in_flight`` updates are in flight
        (or the sender's queue is long) it blocks, so a webhook's 200 waits and Telegram
        slows down; after ``timeout`` seconds it raises :class:`EngineBusy` instead.
        """
        router = self._router_ref
        if router is None or not self.running:
            raise self._not_running("feeding updates")
        if not self.tracker.wait_below(self.handling.max_in_flight, timeout,
                                       cancelled=lambda: not self.running):
            if not self.running:
                raise self._not_running("feeding updates (it stopped while this waited)")
            raise EngineBusy(f"{len(self.tracker)} updates in flight: try again later")
        batch = list(updates) if isinstance(updates, list) else [updates]
        batch = self.journal.record(batch, keep=self._keep)
        if batch:
            self.tracker.admit(len(batch))
            router.tell(Batch(batch))

    def ask(self, route: str, seed: Any, message: Any) -> CallFuture[Any]:
        """Ask the handler of ``seed`` on the route named ``route`` (spawned if it has
        none), from any thread or coroutine; its ``on_ask(message)`` answers.

        The question goes through the router, so the handler sees it in order with that
        seed's updates and after a passivation its successor answers. The future is
        awaitable (``await engine.ask(...)``, without blocking the loop) or waited on with
        ``get(timeout=...)``; it fails with what ``on_ask`` raised, or :class:`NotRunning`
        if the engine stopped first.
        """
        if not self.running:
            raise NotRunning(f"engine is {self.status}: start() it before asking")
        if not is_hashable(seed) or seed is None:
            raise ConfigError(f"ask() needs a hashable seed, not {type(seed).__name__}")
        future: CallFuture[Any] = CallFuture()
        self.dispatch([(self.route_index(route), seed)], Ask(message, future))
        return future

    def route_index(self, name: str) -> int:
        """The position of the route called ``name`` (a :class:`ConfigError` if none is)."""
        for index, route in enumerate(self.routes):
            if route.name == name:
                return index
        raise ConfigError(f"no route named {name!r}: the routes are "
                          f"{[r.name for r in self.routes]}")

    def dispatch(self, targets: Iterable[tuple[int, Any]], event: Routed) -> None:
        """Hand ``event`` to the handler of each ``(route index, seed)`` through the
        router (components use it while the engine stops, until the handlers close)."""
        self.dispatch_all([(tuple(targets), event)])

    def dispatch_all(self, events: list[tuple[Sequence[tuple[int, Any]], Routed]]) -> None:
        """:meth:`dispatch` for several events at once, in order: one router wake-up."""
        router = self._router_ref
        if router is None:
            raise NotRunning(f"engine is {self.status}: no router to dispatch to")
        try:
            router.tell(Dispatch(events))
        except pykka.ActorDeadError:
            for _, event in events:
                event.failed(NotRunning("the engine stopped"))

    def call(self, method: str, /, **params: Any) -> CallFuture[Any]:
        """Queue any Bot API call on the sender (from code outside handlers)."""
        if self._sender_handle is None or not self.running:
            raise self._not_running("calling")
        return self._sender_handle.submit(method, params)

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop gracefully within ``timeout`` seconds; True if everything was drained.

        Coroutines of async hooks still running when only a little of ``timeout`` is
        left are cancelled (``engine.coroutines_cancelled``); their updates stay in the
        journal and are replayed at the next start. From a coroutine on the loop those
        hooks run on, use :meth:`stop_async` (this would block it, and raises).

        Exception-safe: a stage that raises is logged (``engine.stop_failed`` with the
        stage and the error type), makes the result False, and the next stages still run,
        so every thread the engine started is stopped and the status ends "stopped"; from
        "failed" too (``error`` is kept).
        """
        if self.loop_runtime is not None and self.loop_runtime.in_loop_thread():
            raise StateError("stop() on the event loop the async hooks run on would block "
                             "them: use 'await engine.stop_async()'")
        if not self._set_status(Status.STOPPING, only_from=_STOPPABLE):
            return True
        deadline = time.monotonic() + timeout

        def left() -> float:
            return max(deadline - time.monotonic(), 0.0)

        ok = True

        def stage(name: str, step: Callable[[], bool | None]) -> None:
            nonlocal ok
            try:
                ok &= step() is not False
            except Exception as exc:
                ok = False
                log.error("engine.stop_failed", stage=name, error=type(exc).__name__,
                          exc_info=exc)

        if self._stats_timer is not None:
            stage("stats timer", self._stats_timer.cancel)
        if self.components:  # before any stage: they may still use all of them
            stage("components", lambda: self._stop_components(left))
        stage("close intake", lambda: close_intake(self.client, self.intake))
        if self._poller is not None and self._poller_actor is not None:
            poller_ref, poller = self._poller, self._poller_actor
            stage("poller", lambda: self._stop_poller(poller_ref, poller, left))
        if self._router_ref is not None:
            stage("drain", lambda: self._drain(left))
        if self._sender_actor is not None and self._sender_ref is not None:
            stage("flush sender", lambda: self._flush_sender(left))
        if self._poller_actor is not None and self._poller_actor.offset is not None:
            offset = self._poller_actor.offset
            stage("confirm offset", lambda: confirm_offset(self.client, offset))
        stage("teardown", lambda: self._teardown(left()))
        if self._state_book is not None:
            book, self._state_book = self._state_book, None
            self.tracker.on_acked = self.journal.ack
            stage("close state", book.close)
        stage("close journal", self.journal.close)  # pending updates replay at next start
        self._set_status(Status.STOPPED)
        self._done.set()
        log.info("engine.stopped", drained=ok)
        return ok

    def _drain(self, left: Callable[[], float]) -> bool:
        """Route what the router has, wait until it is handled, close the handlers."""
        assert self._router_ref is not None
        drained = _ping(self._router_ref, left())  # every batch it got is now routed
        loop_runtime = self.loop_runtime
        if loop_runtime is None:
            drained &= self.tracker.wait_idle(left())  # ... and handled
        elif not self.tracker.wait_idle(max(left() - _grace(left()), 0.0)):
            drained = False
            cancelled = loop_runtime.cancel_running(max(_grace(left()), 0.01))
            if cancelled:
                log.warning("engine.coroutines_cancelled", coroutines=cancelled,
                            in_flight=len(self.tracker))
            self.tracker.wait_idle(left())
        if not drained:
            log.warning("engine.stop_timeout", stage="drain", in_flight=len(self.tracker))
        closing = self._router_ref.ask(Shutdown(), timeout=max(left(), 0.001))
        try:
            closing.get(timeout=max(left(), 0.001))
        except pykka.Timeout:
            log.warning("engine.stop_timeout", stage="close handlers",
                        alive=self.stats()["handlers_alive"])
            return False
        return drained

    def _flush_sender(self, left: Callable[[], float]) -> bool:
        assert self._sender_actor is not None
        flushed = self._sender_actor.flush_future(self.clock.now() + left())
        try:
            done = bool(flushed.get(timeout=max(left(), 0.001) + 1.0))
        except pykka.Timeout:
            done = False
        if not done:
            log.warning("engine.stop_timeout", stage="flush sender")
        return done

    def _stop_poller(
        self, ref: pykka.ActorRef[Any], poller: Poller, left: Callable[[], float]
    ) -> None:
        poller.stop_fetching()
        stopped = ref.stop(block=False)
        while True:
            # A fetch that began just before stop_fetching() would otherwise run its whole
            # long poll: a newer getUpdates ends it with 409, so repeat until it is over.
            confirm_offset(self.client, poller.offset)
            try:
                stopped.get(timeout=min(0.2, max(left(), 0.001)))
                return
            except pykka.Timeout:
                if left() <= 0:
                    log.warning("engine.stop_timeout", stage="poller")
                    return

    def _teardown(self, timeout: float) -> bool:
        """Stop every actor and thread the engine started; each step runs even if an
        earlier one raised (logged as ``engine.stop_failed``). False if one did."""
        timeout = max(timeout, 0.1)
        steps: list[tuple[str, Callable[[], object]]] = []
        for name, ref in (("router", self._router_ref), ("sender", self._sender_ref)):
            if ref is not None:
                steps.append((name, functools.partial(ref.stop, timeout=timeout)))
        if self.runtime is not None:
            runtime = self.runtime
            steps.append(("handlers", lambda: runtime.shutdown(timeout)))
        if self.loop_runtime is not None:
            loop_runtime = self.loop_runtime
            steps.append(("event loop", lambda: loop_runtime.shutdown(timeout)))
        steps.append(("clock", lambda: self.clock.stop(timeout)))
        steps.append(("client", self.client.close))
        if self._poll_client is not None:
            steps.append(("poll client", self._poll_client.close))
        ok = True
        for name, step in steps:
            try:
                step()
            except (pykka.ActorDeadError, pykka.Timeout):
                pass  # already gone, or will be: nothing more to do for it
            except Exception as exc:
                ok = False
                log.error("engine.stop_failed", stage=name, error=type(exc).__name__,
                          exc_info=exc)
        self._poller = self._router_ref = self._sender_ref = None
        self._sender_handle = None
        self.loop_runtime = None
        return ok

    def evict(self, keys: Collection[tuple[int, Any]], reason: BaseException) -> None:
        """Close the live handlers of ``(route index, seed)`` keys with ``reason`` (their
        seeds now live in another process, actorbot.cluster): a later update for one
        spawns a fresh handler, which loads its state from the store."""
        router = self._router_ref
        if router is not None and keys:
            with contextlib.suppress(pykka.ActorDeadError):
                router.tell(Evict(tuple(keys), reason))

    def _on_chat_migrated(self, old: int | str, new: int) -> None:
        if self._state_book is not None:
            self._state_book.move(old, new)  # before the router follows the seed
        router = self._router_ref
        if router is not None:
            with contextlib.suppress(pykka.ActorDeadError):
                router.tell(ChatMoved(old, new))

    def _on_call_failed(self, update_id: int, update: Any, error: str) -> None:
        """A call an update's handler made failed and no handler saw the error: the reply
        is not out, so the update is parked (a dead letter), not forgotten as done."""
        log.error("journal.parked", route=_CALL_FAILED, update_id=update_id, error=error)
        self.journal.park(update, _CALL_FAILED, error)
        if self.tracker.on_acked is not None:  # the state book's, with declared state
            self.tracker.on_acked(update_id)

    def _on_fatal(self, error: PollingStopped) -> None:
        """Polling cannot go on: "failed" (not running: nothing polls), then ``on_error``;
        ``run_forever`` wakes to stop and raise it."""
        self.error = error
        self._set_status(Status.FAILED, only_from=_LIVE)
        self._fire("on_error", error)
        self._done.set()

    def _not_running(self, doing: str) -> NotRunning:
        """The error for a call that needs a running engine, saying why it does not run."""
        if self.status == Status.FAILED:
            return NotRunning(f"engine failed ({type(self.error).__name__}: {self.error}): "
                              f"stop() it, fix the cause, start() it before {doing}")
        return NotRunning(f"engine is {self.status}: start() it before {doing}")

    # -- status and hooks -------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Started, not failed, not stopping: "starting", "connected" or "retrying"."""
        return self.status in _LIVE

    def _set_status(self, new: Status, only_from: Collection[str] | None = None) -> bool:
        """Move to ``new`` (if the current status is in ``only_from``) and tell
        ``on_status``; False if nothing changed."""
        with self._hooks:
            with self._lock:
                old = self.status
                if old == new or (only_from is not None and old not in only_from):
                    return False
                self.status = new
            self.tracker.poke()  # a feed() waiting for room re-checks that we still run
            log.info("engine.status", status=new.value, previous=old.value)
            self._fire("on_status", new)
        return True

    def _on_poll_state(self, state: str, error: BaseException | None) -> None:
        """The poller's news (or, without a poller, the end of start())."""
        connected = state == Status.CONNECTED
        changed = self._set_status(Status.CONNECTED if connected else Status.RETRYING,
                                   only_from=_LIVE)
        if error is not None:
            self._fire("on_error", error)
        if changed and connected:
            self._fire("on_connected")

    def _fire(self, hook: str, *args: Any) -> None:
        """Run a user hook; an exception in it is logged, never raised into the engine."""
        callback = getattr(self.hooks, hook)
        if callback is None:
            return
        try:
            callback(*args)
        except Exception as exc:  # a hook must not break the engine
            log.error("engine.hook_failed", hook=hook, error=f"{type(exc).__name__}: {exc}",
                      exc_info=exc)

    def run_forever(self) -> None:
        """Run until SIGINT/SIGTERM (in the main thread) or a fatal error; stop gracefully.

        Raises :class:`PollingStopped` after stopping if polling could not go on.
        """
        if self.status == Status.STOPPED:
            self.start()
        try:
            with stop_on_signals(self._done, "engine.signal"):
                self._done.wait()  # signal handlers run during the wait
        finally:
            self.stop()
        if self.error is not None:
            raise self.error

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- observability ----------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """One entry per figure of :data:`STATS`; the periodic ``engine.stats`` event logs
        the same, and the Prometheus collector exports it."""
        return read_stats(Parts(
            status=self.status.value,
            router=self._router_actor.stats if self._router_actor is not None else RouterStats(),
            sender=self._sender_actor.stats if self._sender_actor is not None else SenderStats(),
            poller=self._poller_actor.stats if self._poller_actor is not None else PollerStats(),
            tracker=self.tracker,
            journal=self.journal.stats,
            now=time.time(),
            coroutines=self.loop_runtime.busy() if self.loop_runtime is not None else 0,
        ))

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """Updates parked after every retry failed (newest first), with their errors."""
        return self.journal.dead_letters(limit)

    def replay_dead_letter(self, update_id: int) -> None:
        """Hand a dead letter to the router again (after fixing what made it fail).

        The update is pending in the journal again first, so the replay itself is owed at
        least once; it reaches every at-least-once route its seeds match, as a replay at
        start does. Raises :class:`~actorbot.errors.NoSuchDeadLetter` if there is none.
        """
        router = self._router_ref
        if router is None or not self.running:
            raise self._not_running("replaying")
        update = self.journal.revive(update_id)
        if update is None:
            raise NoSuchDeadLetter(f"no dead letter with update_id {update_id}")
        log.info("journal.dead_letter_replayed", update_id=update_id)
        self.tracker.admit(1)
        router.tell(Batch([update], replay=True))

    def _emit_stats(self) -> None:
        log.info("engine.stats", **self.stats())
        if self.running and self.stats_interval:
            self._stats_timer = self.clock.call_later(self.stats_interval, self._emit_stats)
