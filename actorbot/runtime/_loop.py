"""Actors on an asyncio event loop, for handlers with ``async def`` hooks.

pykka has no asyncio support, and a pykka future awaited on a loop blocks it
(``Future.__await__`` calls the blocking ``get()``). :class:`LoopRuntime` is the actor
runtime that makes ``async def`` hooks real: a :class:`RuntimeActor` on it has the pool's
inbox, and its messages are processed on the loop's thread. When a message's answer is a
coroutine (a handler whose hook is ``async def``), the runtime awaits it in a task before
the actor's next message, so the actor guarantees hold exactly (one message at a time, in
order), while different actors' coroutines run concurrently on the one loop.

Messages from other threads reach the loop in batches (:class:`LoopWaker`): one wake-up
for every actor that became ready meanwhile.

The loop is either the runtime's own (:meth:`LoopRuntime.start` makes it with
``loop_factory`` and runs it on a thread, :meth:`LoopRuntime.shutdown` stops and joins
it) or the application's (``LoopRuntime(loop)``, e.g. the loop of a FastAPI service,
which the runtime never stops).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Final

from pykka import ActorRef
from pykka._envelope import Envelope

from actorbot.errors import ConfigError, StateError
from actorbot.runtime._pool import RuntimeActor, _Inbox, bound_class
from actorbot.runtime._wake import LoopWaker, waker_for

#: Messages one actor processes before the loop runs other callbacks.
THROUGHPUT: Final = 16


class LoopRuntime:
    """Runs actors, and the coroutines their messages return, on one event loop."""

    name = "event-loop"

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop | None = None,
        *,
        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
    ) -> None:
        self._loop = loop
        self._loop_factory = loop_factory or asyncio.new_event_loop
        self._owned = loop is None
        self._thread: threading.Thread | None = None
        self._thread_id: int | None = None
        self._waker: LoopWaker | None = None if loop is None else waker_for(loop)
        self._closed = False
        self.tasks: set[asyncio.Task[Any]] = set()
        """The coroutines running now, one per busy actor at most (read on the loop)."""

    def __repr__(self) -> str:
        return f"LoopRuntime(owned={self._owned})"

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise StateError("the runtime's event loop is not started: call start() first")
        return self._loop

    @property
    def owned(self) -> bool:
        """Whether the runtime runs its own loop (else the application's)."""
        return self._owned

    def start(self) -> LoopRuntime:
        """Start the runtime's own loop on a thread (nothing to do on the application's)."""
        if not self._owned:
            return self
        if self._thread is not None:
            raise StateError(f"{self!r} is already started")
        loop = self._loop_factory()
        if not isinstance(loop, asyncio.AbstractEventLoop):
            raise ConfigError(f"the loop factory {self._loop_factory!r} returned {loop!r}, "
                              f"not an event loop")
        self._loop = loop
        self._waker = waker_for(loop)
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(started.set)
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name="actorbot-loop")
        self._thread.start()
        started.wait()
        self._thread_id = self._thread.ident
        return self

    def in_loop_thread(self) -> bool:
        """Whether the caller runs on the loop's thread (where blocking would deadlock)."""
        loop = self._loop
        if loop is None or not loop.is_running():
            return False  # a stopped loop runs no hook: blocking on its thread is fine
        if self._thread_id is not None:
            return threading.get_ident() == self._thread_id
        with contextlib.suppress(RuntimeError):
            return asyncio.get_running_loop() is loop
        return False

    # -- Runtime ----------------------------------------------------------------------------

    def spawn(self, cls: type[RuntimeActor], /, *args: Any, **kwargs: Any) -> ActorRef[Any]:
        return bound_class(cls, self).start(*args, **kwargs)

    def init_actor(self, actor: RuntimeActor) -> None:
        if self._closed:
            raise StateError(f"{self!r} is shut down")
        inbox = _Inbox(actor, self)  # type: ignore[arg-type]  # it only calls _submit
        actor.actor_inbox = inbox
        actor.actor_stopped = inbox  # type: ignore[assignment]

    def start_actor(self, actor: RuntimeActor) -> None:
        inbox: _Inbox = actor.actor_inbox  # type: ignore[assignment]
        with inbox._lock:
            if inbox._scheduled:
                return
            inbox._scheduled = True
        self._submit(actor)

    def _submit(self, actor: RuntimeActor) -> None:
        """``actor`` has messages: run it on the loop, waking the loop once per batch."""
        if self._thread_id is not None and threading.get_ident() == self._thread_id:
            self.loop.call_soon(self._run, actor)
            return
        assert self._waker is not None  # set with the loop
        self._waker.call(self._run, actor)

    def _run(self, actor: RuntimeActor) -> None:
        """A slice of ``actor``'s messages, on the loop; a coroutine goes on in a task."""
        if self._thread_id is None:  # the application's loop: its thread, learnt here
            self._thread_id = threading.get_ident()
        pending = actor._slice(THROUGHPUT)
        if pending is not None:
            self._drive_in_task(actor, *pending)

    def _drive_in_task(
        self, actor: RuntimeActor, envelope: Envelope[Any], coroutine: Coroutine[Any, Any, Any]
    ) -> None:
        task = self.loop.create_task(self._drive(actor, envelope, coroutine))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _drive(
        self, actor: RuntimeActor, envelope: Envelope[Any], coroutine: Coroutine[Any, Any, Any]
    ) -> None:
        """Await ``actor``'s coroutines one after the other, its plain messages between.

        One task per busy actor rather than one per message: the next message starts in
        this task as soon as the coroutine before it returns, without a loop iteration or
        a task of its own. After ``THROUGHPUT`` messages the task yields the loop to the
        others, and after a cancellation (``shutdown``) it ends, so that a fresh task
        carries on.
        """
        task = asyncio.current_task(self.loop)
        for _ in range(THROUGHPUT):
            try:
                response = await coroutine
            except asyncio.CancelledError:
                # Cancelled by shutdown() after its deadline, below what the actor caught.
                if envelope.reply_to is not None:
                    error = StateError("cancelled by the runtime's shutdown")
                    with contextlib.suppress(Exception):
                        envelope.reply_to.set_exception((StateError, error, None))
                break
            except Exception as exc:  # noqa: BLE001 - pykka semantics, as on the pool
                actor._failed(envelope, (type(exc), exc, exc.__traceback__))
            else:
                if envelope.reply_to is not None:
                    envelope.reply_to.set(response)
            if task is not None and task.cancelling():
                break  # a cancellation the handler caught: later messages get a fresh task
            pending = actor._slice(THROUGHPUT)
            if pending is None:
                return  # the slice ended: released, or submitted again
            envelope, coroutine = pending
        else:
            self._drive_in_task(actor, envelope, coroutine)  # its first step waits its turn
            return
        self.loop.call_soon(self._run, actor)  # outside this task's context

    # -- stopping ---------------------------------------------------------------------------

    def cancel_running(self, timeout: float) -> int:
        """Cancel every running coroutine; the number cancelled. Callable from any thread;
        waits at most ``timeout`` seconds for the cancellation to be delivered."""
        loop = self._loop
        if loop is None or loop.is_closed() or not self.tasks:
            return 0

        def cancel() -> int:
            tasks = [t for t in self.tasks if not t.done()]
            for task in tasks:
                task.cancel()
            return len(tasks)

        if self.in_loop_thread():
            return cancel()
        future: concurrent.futures.Future[int] = concurrent.futures.Future()

        def run() -> None:
            future.set_result(cancel())

        try:
            loop.call_soon_threadsafe(run)
            return future.result(timeout)
        except (RuntimeError, TimeoutError):
            return 0

    def busy(self) -> int:
        """How many coroutines are running (an approximate read from any thread)."""
        return len(self.tasks)

    def shutdown(self, timeout: float | None = None) -> bool:
        """Cancel what still runs, stop and join the runtime's own loop; True if in time.

        The owner stops the actors first, in order; this is the last step. The
        application's loop is left running.
        """
        self._closed = True
        if self.tasks:
            self.cancel_running(timeout if timeout is not None else 1.0)
        thread = self._thread
        if thread is None or self._loop is None:
            return True
        with contextlib.suppress(RuntimeError):  # already closed
            self._loop.call_soon_threadsafe(self._loop.stop)
        thread.join(timeout)
        return not thread.is_alive()
