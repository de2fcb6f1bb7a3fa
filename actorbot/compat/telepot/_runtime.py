"""How a telepot program runs on the engine: one handler actor per seed, one thread per delegate.

telepot code blocks: ``bot.sendMessage`` returns the sent Message, ``listener.wait()``
suspends a delegate until its next message. So a telepot bot's engine runs handlers with
``runtime="threads"`` (a thread per handler actor, where blocking is allowed), and every
call a telepot program makes goes through the engine's sender and waits for its result:
rate limits, retries and per-chat order of outgoing calls hold as for native handlers.

- A plain ``Bot``'s callback runs in one actor that sees every message in order, as
  telepot's single collector thread did.
- Each ``DelegatorBot`` pattern is a route. Its handler actor (a *shell*) runs the
  pattern's delegates one after another on a thread of their own, and hands each routed
  message over through a :class:`~._listen.Feed` (see there for why nothing is lost).
  When a delegate ends, its shell closes; the router's handshake gives the shell's
  successor whatever arrived meanwhile, in order.
- ``run_as_thread()`` returns at once, as in telepot; the engine is then stopped
  gracefully when the main thread ends (telepot's daemon threads just died).
"""

from __future__ import annotations

import contextlib
import inspect
import json
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol, TypeVar

import pykka
import structlog

from actorbot.api import Connection
from actorbot.compat.telepot._listen import Feed, Listener, Microphone, Outcome
from actorbot.compat.telepot._schedule import EventScheduler
from actorbot.compat.telepot.exception import StopListening
from actorbot.engine import Engine, Handling
from actorbot.handlers import Handler
from actorbot.intake import Polling, Reorderer
from actorbot.routing import Route
from actorbot.updates import update_id

if TYPE_CHECKING:
    from actorbot.compat.telepot._bot import BotBase
    from actorbot.sending import SenderHandle

log = structlog.get_logger("actorbot.compat.telepot")
T = TypeVar("T")

MESSAGE_KEYS: Final = ("message", "edited_message", "channel_post", "edited_channel_post",
                       "callback_query", "inline_query", "chosen_inline_result",
                       "shipping_query", "pre_checkout_query")
"""The Update types telepot 12 delivered (in its order); others are not routed."""

JOIN_TIMEOUT: Final = 5.0
MAX_JUMP: Final = 10_000  # update_ids further back than this start a new sequence
_STOP: Final = object()


class Joinable(Protocol):
    """Work a program started off the engine (an ``Answerer``): joined when the bot stops."""

    def join(self, timeout: float | None = None) -> None: ...


def message_of(update: Any) -> Any:
    """The message telepot passed to handlers: the Update's inner object, or None."""
    if isinstance(update, dict):
        for key in MESSAGE_KEYS:
            if key in update:
                return update[key]
    return None


def dictify(data: Any) -> dict[str, Any]:
    """An Update from a webhook body: JSON text, UTF-8 bytes, or a dict."""
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    if isinstance(data, str):
        data = json.loads(data)
    if not isinstance(data, dict):
        raise ValueError(f"not an Update: {type(data).__name__}")
    return data


# -- the actors ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _RunEnded:
    run: _Run


@dataclass(frozen=True, slots=True)
class _Event:
    data: Any


class _Shell(Handler):
    """Base of the handler actors a telepot bot's routes use (configured per route)."""

    loop: ClassVar[Loop]

    def on_open(self, update: Any) -> None:
        self.loop.attach(self)

    def on_close(self, reason: BaseException) -> None:
        self.loop.detach(self)

    def release(self) -> None:
        """The bot is stopping and this actor is stuck: let it go."""


class _CallbackShell(_Shell):
    """Calls the plain bot's callback with every message, in order."""

    callback: ClassVar[Callable[[Any], Any]]

    def on_message(self, update: Any) -> None:
        try:
            type(self).callback(message_of(update))
        except Exception as exc:  # noqa: BLE001 - telepot printed it and went on
            callback_failed(update, exc)


def callback_failed(update: Any, exc: Exception) -> None:
    log.error("telepot.callback_failed", update_id=update.get("update_id"),
              error=f"{type(exc).__name__}: {exc}", exc_info=exc)


class _MicShell(_Shell):
    """Relays every message to the bot's microphone (listeners made outside delegates)."""

    def on_message(self, update: Any) -> None:
        self.loop.mic.send(message_of(update))


class _DelegateShell(_Shell):
    """Runs a pattern's delegates for one seed, one at a time, and feeds them."""

    delegator: ClassVar[Callable[[Any], Any]]
    label: ClassVar[str]

    def on_open(self, update: Any) -> None:
        self._delegate: _Run | None = None
        super().on_open(update)

    def on_message(self, update: Any) -> None:
        self._hand(message_of(update), spawn=True)

    def on_event(self, message: Any) -> None:
        if isinstance(message, _RunEnded):
            if message.run is self._delegate:
                self._reap()
        elif isinstance(message, _Event):
            self._hand(message.data, spawn=False)

    def on_close(self, reason: BaseException) -> None:
        run, self._delegate = self._delegate, None
        if run is not None:
            run.stop(JOIN_TIMEOUT)
        super().on_close(reason)

    def release(self) -> None:
        run = self._delegate
        if run is not None:
            run.feed.close()

    def _hand(self, msg: Any, *, spawn: bool) -> None:
        run = self._delegate
        if run is not None:
            # A startable that is not a thread may read messages elsewhere (a listener of
            # the bot's microphone): as in telepot, one alive when msg came has it.
            claimed = run.foreign_alive()
            outcome = run.feed.offer(msg)
            if outcome is Outcome.TAKEN:
                self._reap()
                return
            if outcome is Outcome.CLOSED:
                log.warning("telepot.delegate_abandoned", route=self.context.route,
                            seed=repr(self.seed))
                return
            run.join(JOIN_TIMEOUT)  # it ended without taking msg: as telepot, start anew
            self._delegate = None
            if claimed:
                log.debug("telepot.delegate_ended", route=self.context.route,
                          seed=repr(self.seed), taken="unknown")
                self.close()  # the next message gets a new shell, and a new delegate
                return
        if spawn:
            self._delegate = self._start(msg)
            self._reap()

    def _reap(self) -> None:
        """Close once the delegate has ended (one that is not a thread cannot say so)."""
        run = self._delegate
        if run is not None and run.feed.done:
            run.join(JOIN_TIMEOUT)
            self._delegate = None
            self.close()  # the next message gets a new shell, and a new delegate

    def produce(self, msg: Any, feed: Any, view: type[DelegateBot], make: Callable[[Any], T],
                ) -> T | None:
        """``make(delegator((bot view, msg, seed)))``; None (and close) if either failed."""
        ref = self.actor_ref
        scheduler = EventScheduler(self.context.clock, lambda data: _tell(ref, _Event(data)))
        try:
            return make(type(self).delegator((view(self.loop.bot, feed, scheduler), msg,
                                              self.seed)))
        except Exception as exc:  # telepot printed it and went on
            log.error("telepot.delegate_failed", route=self.context.route, seed=repr(self.seed),
                      stage="create", error=f"{type(exc).__name__}: {exc}", exc_info=exc)
            self.close()
            return None

    def _start(self, msg: Any) -> _Run | None:
        feed = Feed()
        ref = self.actor_ref
        run = self.produce(msg, feed, DelegateBot,
                           lambda delegate: _Run(delegate, feed, type(self).label))
        if run is None:
            return None
        run.start(lambda: _tell(ref, _RunEnded(run)))
        if not run.foreign:  # one we cannot hear may never wait: see _hand
            feed.settle()  # the first message is handled once the delegate waits for more
        return run


def _tell(ref: pykka.ActorRef[Any], message: Any) -> None:
    with contextlib.suppress(pykka.ActorDeadError):
        ref.tell(message)


class DelegateBot:
    """The bot as one delegate sees it: its listeners read the delegate's feed."""

    def __init__(self, bot: BotBase, feed: Any, scheduler: EventScheduler) -> None:
        self._bot = bot
        self._feed = feed
        self._scheduler = scheduler

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bot, name)

    def __repr__(self) -> str:
        return f"<delegate view of {self._bot!r}>"

    @property
    def scheduler(self) -> EventScheduler:
        """Events scheduled here come back to this delegate only."""
        return self._scheduler

    def create_listener(self) -> Listener:
        return Listener(None, self._feed)


def _startable(delegate: Any) -> bool:
    return inspect.ismethod(getattr(delegate, "start", None)) and inspect.ismethod(
        getattr(delegate, "is_alive", None))


class _Run:
    """One delegate: telepot's startable object, function or ``(func, args, kwargs)``."""

    def __init__(self, delegate: Any, feed: Feed, label: str) -> None:
        self.feed = feed
        self._thread: threading.Thread | None = None
        self._foreign: Any = None
        self._target: Callable[..., Any] | None = None
        self._args: tuple[Any, ...] = ()
        self._kwargs: dict[str, Any] = {}
        self._label = label
        if _startable(delegate):
            if isinstance(delegate, threading.Thread):
                self._thread = delegate
            else:
                self._foreign = delegate
        elif callable(delegate):
            self._target = delegate
        elif (isinstance(delegate, tuple) and len(delegate) == 3 and callable(delegate[0])
              and isinstance(delegate[1], list | tuple) and isinstance(delegate[2], dict)):
            self._target, self._args, self._kwargs = delegate[0], tuple(delegate[1]), delegate[2]
        else:
            raise TypeError("Delegate does not have the required methods, is not callable, "
                            "and is not a valid tuple.")

    @property
    def foreign(self) -> bool:
        """Whether this is a startable that is not a thread (we cannot hear it end)."""
        return self._foreign is not None

    def foreign_alive(self) -> bool:
        """Whether this is a startable that is not a thread, and it is alive."""
        return self._foreign is not None and bool(self._foreign.is_alive())

    def start(self, on_end: Callable[[], None]) -> None:
        if self._foreign is not None:  # we cannot hear it end: the feed asks is_alive()
            self.feed.watch(self._foreign.is_alive)  # the feed its listeners already read
            self._foreign.start()
            return
        if self._thread is not None:
            body = self._thread.run

            def run_thread() -> None:
                try:
                    body()
                finally:
                    self.feed.exited()
                    on_end()

            self._thread.run = run_thread  # type: ignore[method-assign]
            self._thread.start()
            return
        self._thread = threading.Thread(target=self._body, args=(on_end,),
                                        name=f"telepot-{self._label}")
        self._thread.start()

    def _body(self, on_end: Callable[[], None]) -> None:
        assert self._target is not None
        try:
            self._target(*self._args, **self._kwargs)
        except StopListening:
            pass  # a normal exit: the bot is stopping or the delegate closed itself
        except Exception as exc:  # telepot printed it and went on
            log.error("telepot.delegate_failed", delegate=self._label, stage="run",
                      error=f"{type(exc).__name__}: {exc}", exc_info=exc)
        finally:
            self.feed.exited()
            on_end()

    def join(self, timeout: float) -> None:
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("telepot.delegate_still_running", delegate=self._label)

    def stop(self, timeout: float) -> None:
        self.feed.close()
        self.join(timeout)


# -- ordered sources -----------------------------------------------------------------------


class _DropLate:
    """The Reorderer's sink for ordered telepot sources: an update older than one already
    handed on is discarded, as telepot did once ``maxhold`` had expired (the Reorderer
    itself releases it out of order). A jump back of more than ``max_jump`` is a new
    sequence, as for the Reorderer, not a late update."""

    def __init__(self, feed: Callable[[list[Any]], object], max_jump: int) -> None:
        self._feed = feed
        self._max_jump = max_jump
        self._last: int | None = None  # the largest update_id handed on

    def __call__(self, batch: list[Any]) -> None:
        last = self._last
        fresh: list[Any] = []
        for update in batch:
            uid = update_id(update)
            if uid is not None and last is not None and last - self._max_jump <= uid < last:
                log.warning("telepot.late_update_discarded", update_id=uid, after=last)
                continue
            fresh.append(update)
            if uid is not None:
                last = uid if last is None or uid > last or uid < last - self._max_jump else last
        if fresh:
            self._feed(fresh)  # may raise: the Reorderer then undoes, and so do we
        self._last = last


def reorderer(engine: Engine, maxhold: float) -> Reorderer:
    """A re-orderer feeding ``engine`` with telepot's semantics (late updates discarded)."""
    sink = _DropLate(engine.feed, MAX_JUMP)
    return Reorderer(sink, clock=engine.clock, max_hold=maxhold, max_jump=MAX_JUMP)


# -- the loop ------------------------------------------------------------------------------


def _shell_class(base: type[_Shell], name: str, **attrs: Any) -> type[_Shell]:
    attrs = {"__module__": base.__module__, "__qualname__": name,
             **{k: staticmethod(v) if inspect.isfunction(v) else v for k, v in attrs.items()}}
    return type(name, (base,), attrs)


class Loop:
    """The engine behind one bot's message loop, with what telepot's loop threads did."""

    # The handler actors of its routes (the asyncio flavour has its own).
    callback_shell: ClassVar[type[_Shell]] = _CallbackShell
    delegate_shell: ClassVar[type[_Shell]] = _DelegateShell
    mic_shell: ClassVar[type[_Shell]] = _MicShell

    def __init__(
        self,
        bot: BotBase,
        routes: Callable[[Loop], list[Route]],
        *,
        intake: Polling | None,
        options: dict[str, Any],
    ) -> None:
        self.bot = bot
        self.sender: SenderHandle | None = None
        mic = getattr(bot, "mic", None)  # not `or`: a mic with no listeners yet is falsy
        self.mic: Microphone = mic if isinstance(mic, Microphone) else Microphone()
        self._shells: set[_Shell] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._stopped = threading.Event()
        self._finished = threading.Event()
        self._drained = True
        self._source: Any = None
        self._early: list[dict[str, Any]] = []
        self._orderer: Any = None
        self._joinables: weakref.WeakSet[Joinable] = weakref.WeakSet()
        self.engine = Engine(
            bot.client.token, routes(self), intake=intake,
            handling=Handling(runtime="threads"),
            connection=Connection(base_url=bot.client.base_url), **options,
        )

    # -- wiring ---------------------------------------------------------------------------

    def callback_route(self, callback: Callable[[Any], Any]) -> Route:
        shell = _shell_class(self.callback_shell, "TelepotCallback", loop=self,
                             callback=callback)
        return Route(self.callback_seed, shell, idle_timeout=self.callback_idle,
                     name="telepot-callback")

    callback_idle: ClassVar[float | None] = None

    @staticmethod
    def callback_seed(update: Any) -> Any:
        """One seed for every message: one actor sees them all in order, as telepot's
        collector thread did."""
        return 1 if message_of(update) is not None else None

    def delegate_route(self, seeder: Callable[[Any], Any], delegator: Callable[[Any], Any],
                       label: str) -> Route:
        shell = _shell_class(self.delegate_shell, label, loop=self, delegator=delegator,
                             label=label)

        def seed(update: Any) -> Any:
            msg = message_of(update)
            return None if msg is None else seeder(msg)

        return Route(seed, shell, idle_timeout=None, name=label)

    def mic_route(self) -> Route:
        mic = self.mic
        shell = _shell_class(self.mic_shell, "TelepotMicrophone", loop=self)
        return Route(lambda u: 1 if mic and message_of(u) is not None else None, shell,
                     idle_timeout=None, name="telepot-microphone")

    def attach(self, shell: _Shell) -> None:
        with self._lock:
            self._shells.add(shell)
            if self.sender is None:
                self.sender = shell.context.sender

    def detach(self, shell: _Shell) -> None:
        with self._lock:
            self._shells.discard(shell)

    def track(self, work: Joinable) -> None:
        """Join ``work`` when the bot stops (no thread is left behind)."""
        with self._lock:
            self._joinables.add(work)

    # -- calls ----------------------------------------------------------------------------

    def call(self, method: str, params: dict[str, Any]) -> pykka.Future[Any] | None:
        """Queue a call on the engine's sender; None when the engine is not running."""
        engine = self.engine
        if engine.running:
            with contextlib.suppress(RuntimeError):  # it may have begun stopping meanwhile
                return engine.call(method, **params)
        if engine.status == "stopping" and self.sender is not None:
            return self.sender.submit(method, params)
        return None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, *, source: Any = None, orderer: Any = None, watch: bool = False) -> None:
        self.engine.start()
        self.started(orderer, watch=watch)
        if source is not None:
            self._source = source
            self._spawn(self._pull, source, orderer, name="telepot-source")

    def started(self, orderer: Any, *, watch: bool) -> None:
        """The engine runs: hand it what came before, and watch the main thread."""
        self._orderer = orderer
        early, self._early = self._early, []
        for update in early:
            self.feed(update, orderer)
        if watch:
            self._spawn(self._watch_main, name="telepot-main-watch")

    def run_forever(self, *, source: Any = None, orderer: Any = None) -> None:
        if self.engine.status == "stopped":
            self.start(source=source, orderer=orderer)
        try:
            self.engine.run_forever()
        finally:
            self.stop()

    def feed(self, update: dict[str, Any], orderer: Any = None) -> None:
        if self.engine.status == "stopped" and not self._stopped.is_set():
            self._early.append(update)  # fed before the loop started: telepot queued it
        elif orderer is not None:
            orderer.push(update)
        else:
            self.engine.feed([update])

    def _spawn(self, target: Callable[..., None], *args: Any, name: str) -> None:
        thread = threading.Thread(target=target, args=args, name=name)
        self._threads.append(thread)
        thread.start()

    def _pull(self, source: Any, orderer: Any) -> None:
        while (item := source.get()) is not _STOP:
            try:
                self.feed(dictify(item), orderer)
            except Exception as exc:  # noqa: BLE001 - a bad item must not end the loop
                log.error("telepot.bad_update", error=f"{type(exc).__name__}: {exc}")

    def _watch_main(self) -> None:
        main = threading.main_thread()
        while not self._stopped.wait(0.25):
            # The program ended (stop, as telepot's daemon threads died), or the engine was
            # stopped on its own (bot.loop.engine.stop()): the loop's threads end with it.
            if not main.is_alive() or self.engine.status == "stopped":
                self.stop()
                return

    def stop(self, timeout: float = 10.0) -> bool:
        with self._lock:
            stopping = self._stopped.is_set()
            self._stopped.set()
        if stopping:  # another thread is stopping the loop: return once it is done
            if threading.current_thread() not in self._threads:
                self._finished.wait(timeout)
            return self._drained
        if self._source is not None:
            self._source.put(_STOP)
        for thread in self._threads:  # the source is drained before the engine stops
            if thread.name == "telepot-source":
                thread.join(timeout)
        if self._orderer is not None:
            self._orderer.close()  # what waits behind a gap is handled, not lost
        drained = self.engine.stop(timeout)
        with self._lock:
            stuck = list(self._shells)
        for shell in stuck:  # delegates that never returned to wait(): stop() gave up
            shell.release()
        with self._lock:
            work = list(self._joinables)
        for joinable in work:  # e.g. inline answers still being computed
            joinable.join(timeout)
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout)
        self._drained = drained
        self._finished.set()
        return drained

    def shells(self) -> Iterator[_Shell]:
        with self._lock:
            return iter(list(self._shells))


__all__ = ["MESSAGE_KEYS", "DelegateBot", "Loop", "callback_failed", "dictify", "message_of",
           "reorderer"]
