"""Where actors run: many actors on a bounded pool of threads, or one thread each.

A ``ThreadingActor`` costs a thread (~25 KiB, ~1 ms to start); a bot with a million chats
cannot have a million threads. A :class:`RuntimeActor` is a pykka actor whose runtime is
chosen when it is spawned:

- :class:`ActorPool`: the actor's inbox, when it receives a message, puts the actor on the
  pool's run queue; a worker then processes a slice of its messages;
- :class:`ThreadPerActor`: pykka's own ``ThreadingActor`` inbox, loop and futures.

With the pool, these pykka guarantees hold: per-actor FIFO order, one message at a time,
never one actor on two threads at once; ``ActorRef.tell``/``ask``/``proxy``/``stop`` and
futures work unchanged.

Differences, all deliberate:

- pooled actors are not put in pykka's global ``ActorRegistry`` (a list: unregistering is
  O(n) and ``stop_all`` is LIFO); whoever spawns them keeps their refs;
- the URN is a counter, not ``uuid4`` (25 µs each), and the stopped flag is a slot, not a
  ``threading.Event`` (~1 KiB each);
- a message that reaches an actor after it stopped is not left hanging: an ``ask`` gets
  ``ActorDeadError`` at once.

A pooled actor must never block its worker (no ``Future.get()``, no blocking ``ask``, no
synchronous I/O): a nested blocking ask can deadlock the pool. Results come back as messages.

This module builds on pykka's private extension points (``_create_actor_inbox``,
``_create_future``, ``_start_actor_loop``), on private loop helpers it calls or replaces
(``_actor_loop``, ``_actor_loop_setup``, ``_handle_receive``, ``_handle_failure``,
``_stop``), on the fields ``Actor.__init__`` sets (it sets them itself instead), and on
``_envelope.Envelope`` and ``messages._ActorStop``. :data:`PYKKA_TESTED` is the minor
version they were checked against (setup.cfg pins pykka to it), and
``tests/runtime/test_pool.py`` fails loudly, saying what to re-check, when pykka changes
any of them.
"""

from __future__ import annotations

import itertools
import logging
import queue
import sys
import threading
from collections import deque
from collections.abc import Coroutine
from types import CoroutineType
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol, Self

import pykka
from pykka import ActorDeadError, ActorRef, ThreadingFuture
from pykka._envelope import Envelope
from pykka.messages import _ActorStop

from actorbot.errors import AsyncHookError, ConfigError, StateError

if TYPE_CHECKING:
    from types import TracebackType

    from pykka._actor import ActorInbox

PYKKA_TESTED: Final = "4.5"

_pykka_log: Final = logging.getLogger("pykka")  # pykka's own logger (pykka._actor.logger)

_LOCKS: Final = tuple(threading.Lock() for _ in range(64))
_urns = itertools.count(1)


def _dead(actor: RuntimeActor) -> tuple[type[ActorDeadError], ActorDeadError, None]:
    return ActorDeadError, ActorDeadError(f"{actor} stopped before handling the message"), None


def _no_loop(actor: RuntimeActor) -> tuple[type[AsyncHookError], AsyncHookError, None]:
    error = AsyncHookError(f"{actor} answered a message with a coroutine, but its runtime "
                           f"({type(actor).runtime!r}) has no event loop to await it")
    return AsyncHookError, error, None


class _Inbox:
    """A pooled actor's mailbox; a ``put`` schedules the actor if it is not already.

    It is also the actor's ``actor_stopped`` flag (``is_set``/``set``, the part of
    ``threading.Event`` pykka uses): one small object per actor instead of two.
    """

    __slots__ = ("_actor", "_dead", "_items", "_lock", "_pool", "_scheduled", "_stopped")

    def __init__(self, actor: RuntimeActor, pool: ActorPool) -> None:
        self._actor = actor
        self._pool = pool
        self._items: deque[Envelope[Any]] | None = None  # allocated while non-empty
        self._scheduled = False
        self._dead = False
        self._stopped = False
        self._lock = _LOCKS[(id(actor) >> 6) & 63]

    def is_set(self) -> bool:
        return self._stopped

    def set(self) -> None:
        self._stopped = True

    def wait(self, timeout: float | None = None) -> bool:
        raise NotImplementedError("pooled actors have no stop event to wait on; use stop()")

    def put(self, envelope: Envelope[Any], /) -> None:
        with self._lock:
            if self._dead:
                if envelope.reply_to is not None:
                    envelope.reply_to.set_exception(_dead(self._actor))
                return
            items = self._items
            if items is None:
                items = self._items = deque()
            items.append(envelope)
            if self._scheduled:
                return
            self._scheduled = True
        self._pool._submit(self._actor)

    def get(self) -> Envelope[Any]:
        """Pop the next envelope; raises ``IndexError`` when empty (never blocks)."""
        with self._lock:
            items = self._items
            if not items:
                raise IndexError("inbox is empty")
            return items.popleft()

    def empty(self) -> bool:
        return not self._items

    def release(self) -> bool:
        """End a slice: unschedule if empty (True) or keep the actor scheduled (False)."""
        with self._lock:
            if self._items:
                return False
            self._items = None
            self._scheduled = False
            return True

    def close(self) -> list[Envelope[Any]]:
        """Refuse further messages; return the ones still queued."""
        with self._lock:
            self._dead = True
            left = list(self._items or ())
            self._items = None
            return left


class Runtime(Protocol):
    """Gives an actor its inbox and stopped flag, and runs its message loop."""

    def init_actor(self, actor: RuntimeActor) -> None: ...

    def start_actor(self, actor: RuntimeActor) -> None: ...

    def spawn(self, cls: type[RuntimeActor], /, *args: Any, **kwargs: Any) -> ActorRef[Any]: ...

    def shutdown(self, timeout: float | None = None) -> bool: ...


class ActorPool:
    """A fixed set of worker threads that run pooled actors' message slices.

    ``throughput`` is how many messages one actor may process before yielding its worker,
    so a busy actor cannot starve the others.
    """

    def __init__(self, workers: int = 2, *, name: str = "actorbot-pool", throughput: int = 16):
        if workers < 1 or throughput < 1:
            raise ConfigError("workers and throughput must be at least 1")
        self.name = name
        self.throughput = throughput
        self._ready: queue.SimpleQueue[RuntimeActor | None] = queue.SimpleQueue()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}") for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def __repr__(self) -> str:
        return f"ActorPool(name={self.name!r}, workers={len(self._threads)})"

    @property
    def queued(self) -> int:
        """Actors waiting for a worker (approximate)."""
        return self._ready.qsize()

    def spawn(self, cls: type[RuntimeActor], /, *args: Any, **kwargs: Any) -> ActorRef[Any]:
        """Construct ``cls(*args, **kwargs)`` on this pool and start it."""
        return bound_class(cls, self).start(*args, **kwargs)

    def init_actor(self, actor: RuntimeActor) -> None:
        if self._closed:
            raise StateError(f"{self!r} is shut down")
        inbox = _Inbox(actor, self)
        actor.actor_inbox = inbox
        actor.actor_stopped = inbox  # type: ignore[assignment]

    def start_actor(self, actor: RuntimeActor) -> None:
        inbox: _Inbox = actor.actor_inbox  # type: ignore[assignment]
        with inbox._lock:
            if inbox._scheduled:  # a message arrived during __init__: already queued
                return
            inbox._scheduled = True
        self._submit(actor)

    def _submit(self, actor: RuntimeActor) -> None:
        self._ready.put(actor)

    def _work(self) -> None:
        get = self._ready.get
        budget = self.throughput
        while (actor := get()) is not None:
            actor._run_slice(budget)

    def shutdown(self, timeout: float | None = None) -> bool:
        """Stop the workers once the run queue is empty; True if all of them ended in time.

        Actors still alive are not stopped here: their owner stops them first, in order.
        """
        self._closed = True
        for _ in self._threads:
            self._ready.put(None)
        for thread in self._threads:
            thread.join(timeout)
        return not any(t.is_alive() for t in self._threads)


class ThreadPerActor:
    """pykka's ``ThreadingActor`` mechanics: a queue inbox and a thread per actor."""

    name = "thread-per-actor"

    def __repr__(self) -> str:
        return "ThreadPerActor()"

    def spawn(self, cls: type[RuntimeActor], /, *args: Any, **kwargs: Any) -> ActorRef[Any]:
        return bound_class(cls, self).start(*args, **kwargs)

    def init_actor(self, actor: RuntimeActor) -> None:
        actor.actor_inbox = pykka.ThreadingActor._create_actor_inbox()
        actor.actor_stopped = threading.Event()

    def start_actor(self, actor: RuntimeActor) -> None:
        threading.Thread(target=actor._actor_loop, name=f"{type(actor).__name__}-actor").start()

    def shutdown(self, timeout: float | None = None) -> bool:
        return True


_bound: dict[tuple[type[Any], object], type[Any]] = {}
_bound_lock = threading.Lock()


def bound_class(cls: type[RuntimeActor], runtime: Runtime) -> type[RuntimeActor]:
    """``cls`` bound to ``runtime`` (a cached subclass), so ``start()`` knows where to run."""
    if cls.runtime is runtime:
        return cls
    key = (cls, runtime)
    with _bound_lock:
        sub = _bound.get(key)
        if sub is None:
            attrs = {"runtime": runtime, "__module__": cls.__module__,
                     "__qualname__": cls.__qualname__}
            sub = _bound[key] = type(cls.__name__, (cls,), attrs)
        return sub


def unbind(cls: type[RuntimeActor]) -> type[RuntimeActor]:
    """The class a user wrote, behind any runtime-bound subclass."""
    while "runtime" in cls.__dict__ and cls.__bases__[0] is not RuntimeActor:
        cls = cls.__bases__[0]
    return cls


class RuntimeActor(pykka.Actor):
    """A pykka actor whose runtime (:class:`ActorPool` or :class:`ThreadPerActor`) is set
    when it is spawned with ``runtime.spawn(cls, ...)``."""

    runtime: ClassVar[Runtime | None] = None

    # pykka's per-actor fields as slots: the instance dict is left to the user's attributes.
    __slots__ = ("_actor_ref", "_needs_setup", "actor_inbox", "actor_stopped", "actor_urn")

    @classmethod
    def start(cls, *args: Any, **kwargs: Any) -> ActorRef[Self]:
        """Start on ``cls.runtime``. Unlike pykka, the actor is not added to the registry."""
        obj = cls(*args, **kwargs)
        obj._start_actor_loop()
        return obj.actor_ref

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        runtime = type(self).runtime
        if runtime is None:
            raise StateError(
                f"{type(self).__name__} has no runtime: spawn it with runtime.spawn(cls, ...)"
            )
        self.actor_urn = f"urn:actorbot:{next(_urns)}"
        runtime.init_actor(self)
        self._actor_ref = ActorRef(self)
        self._needs_setup = True

    @staticmethod
    def _create_actor_inbox() -> ActorInbox:  # pragma: no cover - the runtime builds it
        raise NotImplementedError("inboxes are created by the actor's runtime")

    @staticmethod
    def _create_future() -> pykka.Future[Any]:
        return ThreadingFuture()

    def _start_actor_loop(self) -> None:
        runtime = type(self).runtime
        assert runtime is not None  # __init__ checked it
        runtime.start_actor(self)

    # -- running on a pool worker ----------------------------------------------------------

    def _run_slice(self, budget: int) -> None:
        """Up to ``budget`` messages on a thread; one answered with a coroutine fails (no
        loop to await it) and ends the slice. (:class:`LoopRuntime` awaits them instead.)"""
        pending = self._slice(budget)
        if pending is None:
            return
        envelope, coroutine = pending
        coroutine.close()
        self._failed(envelope, _no_loop(self))
        self._end_slice()

    def _slice(self, budget: int) -> tuple[Envelope[Any], Coroutine[Any, Any, Any]] | None:
        """Up to ``budget`` messages, until one is answered with a coroutine: that one is
        returned, the actor still scheduled (its runtime awaits it, then goes on); else the
        slice ends (None)."""
        inbox: _Inbox = self.actor_inbox  # type: ignore[assignment]
        stopped = self.actor_stopped
        if self._needs_setup:
            self._needs_setup = False
            self._actor_loop_setup()
        for _ in range(budget):
            if stopped.is_set():
                break
            try:
                envelope = inbox.get()
            except IndexError:
                break
            coroutine = self._process(envelope)
            if coroutine is not None:
                return envelope, coroutine
        self._end_slice()
        return None

    def _end_slice(self) -> None:
        inbox: _Inbox = self.actor_inbox  # type: ignore[assignment]
        if self.actor_stopped.is_set():
            self._teardown(inbox)
        elif not inbox.release():
            inbox._pool._submit(self)

    def _process(self, envelope: Envelope[Any]) -> Coroutine[Any, Any, Any] | None:
        """One message, with pykka's semantics for replies and failures.

        A coroutine answer is returned, not replied: the actor's runtime awaits it first
        (:class:`~actorbot.runtime.LoopRuntime`) and then calls :meth:`_replied`.
        """
        try:
            response = self._handle_receive(envelope.message)
        except Exception:  # noqa: BLE001 - pykka semantics: the failure goes to the asker
            self._failed(envelope, sys.exc_info())
            return None
        except BaseException:  # noqa: BLE001 - a worker thread must survive SystemExit etc.
            self._failed(envelope, sys.exc_info(), fatal=True)
            return None
        if type(response) is CoroutineType:
            return response
        if envelope.reply_to is not None:
            envelope.reply_to.set(response)
        return None

    def _failed(self, envelope: Envelope[Any], exc_info: Any, *, fatal: bool = False) -> None:
        """The message raised: the asker gets the error; without one, the actor fails."""
        if envelope.reply_to is not None:
            envelope.reply_to.set_exception(exc_info)
            if not fatal:
                return
        self._handle_failure(*exc_info)
        if fatal:
            return
        try:
            self.on_failure(*exc_info)
        except Exception:  # noqa: BLE001
            self._handle_failure(*sys.exc_info())

    def _teardown(self, inbox: _Inbox) -> None:
        for envelope in inbox.close():
            if envelope.reply_to is None:
                continue
            if isinstance(envelope.message, _ActorStop):
                envelope.reply_to.set(None)
            else:
                envelope.reply_to.set_exception(_dead(self))

    # -- both runtimes: no global registry -------------------------------------------------

    def _stop(self) -> None:
        self.actor_stopped.set()
        try:
            self.on_stop()
        except Exception:  # noqa: BLE001
            self._handle_failure(*sys.exc_info())

    def _handle_failure(
        self,
        exception_type: type[BaseException] | None,
        exception_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        _pykka_log.error(  # same logger and message as pykka
            "Unhandled exception in %s:",
            self,
            exc_info=(exception_type, exception_value, traceback),  # type: ignore[arg-type]
        )
        self.actor_stopped.set()
