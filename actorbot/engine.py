"""The engine: wires poller, router, handlers, sender and clock, and stops them in order.

Graceful stop (DESIGN §2.6): stop fetching -> let the router route what it has -> wait
until every update in flight is handled -> close the handlers -> flush the sender ->
confirm the offset -> stop the actors and join every thread. pykka's
``ActorRegistry.stop_all()`` (LIFO, no draining) is not used.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from types import FrameType, TracebackType
from typing import Any, Literal, Self

import pykka
import structlog

from actorbot.actors._clock import Clock
from actorbot.actors._messages import Batch, ChatMoved, Ping, Shutdown
from actorbot.actors._poller import Poller, PollerStats, PollingStopped, confirm_offset
from actorbot.actors._router import Route, Router, RouterStats
from actorbot.actors._runtime import ActorPool, Runtime, ThreadPerActor
from actorbot.actors._sender import RateLimits, Sender, SenderHandle, SenderStats
from actorbot.actors._tracker import InFlight
from actorbot.api import DEFAULT_BASE_URL, Client

log = structlog.get_logger("actorbot.engine")

RuntimeName = Literal["pool", "threads"]


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


class Engine:
    """A bot: updates in (polling or :meth:`feed`), handler actors per seed, calls out.

    ``routes`` are :class:`Route` objects or ``(seed_function, handler_class)`` pairs.
    ``runtime`` runs handlers on a bounded pool of ``workers`` threads (``"pool"``, the
    default) or one thread each (``"threads"``); core actors have threads of their own.
    """

    def __init__(
        self,
        token: str,
        routes: Iterable[Route | tuple[Any, Any]],
        *,
        base_url: str = DEFAULT_BASE_URL,
        polling: bool = True,
        runtime: RuntimeName | Runtime = "pool",
        workers: int = 4,
        poll_timeout: int = 30,
        allowed_updates: Sequence[str] | None = None,
        max_in_flight: int = 1000,
        stats_interval: float | None = 60.0,
        clock: Clock | None = None,
        sweep_limit: int = 2000,
        rate_limits: RateLimits | None = None,
        http_workers: int = 8,
        max_queue: int = 10_000,
        block_when_full: bool = False,
    ) -> None:
        self.routes = [r if isinstance(r, Route) else Route(*r) for r in routes]
        if not self.routes:
            raise ValueError("an engine needs at least one route")
        if runtime not in ("pool", "threads") and (
            isinstance(runtime, str) or not hasattr(runtime, "spawn")
        ):
            raise ValueError(f"runtime must be 'pool', 'threads' or a Runtime, not {runtime!r}")
        if workers < 1 or max_in_flight < 1:
            raise ValueError("workers and max_in_flight must be at least 1")
        self._token = token
        self.base_url = base_url
        self.polling = polling
        self._runtime_choice = runtime
        self.workers = workers
        self.poll_timeout = poll_timeout
        self.allowed_updates = allowed_updates
        self.max_in_flight = max_in_flight
        self.stats_interval = stats_interval
        self.sweep_limit = sweep_limit
        self.rate_limits = rate_limits or RateLimits()
        self.http_workers = http_workers
        self.max_queue = max_queue
        self.block_when_full = block_when_full
        self.clock = clock or Clock()
        self.tracker = InFlight()
        self.client = Client(token, base_url=base_url, pool_maxsize=max(10, http_workers))
        self.status = "stopped"
        self.error: BaseException | None = None
        self.runtime: Runtime | None = None
        self.router: pykka.ActorRef[Router] | None = None
        self.sender: pykka.ActorRef[Sender] | None = None
        self._sender_handle: SenderHandle | None = None
        self._poller: pykka.ActorRef[Poller] | None = None
        self._poller_actor: Poller | None = None
        self._router_actor: Router | None = None
        self._sender_actor: Sender | None = None
        self._poll_client: Client | None = None
        self._stats_timer: Any = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._started_at = 0.0

    def __repr__(self) -> str:
        return f"Engine(bot_id={self.client.bot_id}, status={self.status!r})"

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> Self:
        with self._lock:
            if self.status != "stopped":
                raise RuntimeError(f"engine is {self.status}")
            self.status = "starting"
        self._done.clear()
        self.error = None
        self._started_at = time.monotonic()
        self.clock.start()
        choice = self._runtime_choice
        if choice == "pool":
            self.runtime = ActorPool(self.workers, name="actorbot-handlers")
        elif choice == "threads":
            self.runtime = ThreadPerActor()
        else:
            assert not isinstance(choice, str)  # __init__ checked the name
            self.runtime = choice
        self._sender_actor = Sender(
            self.client, self.clock, limits=self.rate_limits, workers=self.http_workers,
            max_queue=self.max_queue, block_when_full=self.block_when_full,
            on_relieved=self.tracker.poke, on_migrated=self._on_chat_migrated)
        sender_actor = self._sender_actor
        self.tracker.congested = lambda: sender_actor.congested  # hold fetching meanwhile
        self.sender = _start(self._sender_actor)
        self._sender_handle = SenderHandle.of(self._sender_actor)
        self._router_actor = Router(self.routes, self.runtime, self.clock, self.tracker,
                                    self._sender_handle, sweep_limit=self.sweep_limit)
        self.router = _start(self._router_actor)
        if self.polling:
            self._poll_client = Client(self._token, base_url=self.base_url)
            self._poller_actor = Poller(
                self._poll_client, self.router, self.tracker, timeout=self.poll_timeout,
                allowed_updates=self.allowed_updates, max_in_flight=self.max_in_flight,
                on_fatal=self._on_fatal)
            self._poller = _start(self._poller_actor)
        if self.stats_interval:
            self._stats_timer = self.clock.call_later(self.stats_interval, self._emit_stats)
        self.status = "running"
        log.info("engine.started", bot_id=self.client.bot_id, polling=self.polling,
                 runtime=getattr(self.runtime, "name", type(self.runtime).__name__),
                 routes=[r.name for r in self.routes])
        return self

    def feed(self, updates: Any) -> None:
        """Hand updates to the router from any source (a list is one batch, in order)."""
        if self.router is None or self.status not in ("running", "starting"):
            raise RuntimeError(f"engine is {self.status}: start() it before feeding updates")
        batch = list(updates) if isinstance(updates, list) else [updates]
        self.tracker.admit(len(batch))
        self.router.tell(Batch(batch))

    def call(self, method: str, /, **params: Any) -> pykka.Future[Any]:
        """Queue any Bot API call on the sender (from code outside handlers)."""
        if self._sender_handle is None or self.status != "running":
            raise RuntimeError(f"engine is {self.status}: start() it before calling")
        return self._sender_handle.submit(method, params)

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop gracefully within ``timeout`` seconds; True if everything was drained."""
        with self._lock:
            if self.status in ("stopped", "stopping"):
                return True
            self.status = "stopping"
        deadline = time.monotonic() + timeout

        def left() -> float:
            return max(deadline - time.monotonic(), 0.0)

        drained = True
        if self._stats_timer is not None:
            self._stats_timer.cancel()
        if self._poller is not None and self._poller_actor is not None:
            self._stop_poller(self._poller, self._poller_actor, left)
        if self.router is not None:
            drained &= _ping(self.router, left())  # every batch it got is now routed
            drained &= self.tracker.wait_idle(left())  # ... and handled
            if not drained:
                log.warning("engine.stop_timeout", stage="drain", in_flight=len(self.tracker))
            closing = self.router.ask(Shutdown(), timeout=max(left(), 0.001))
            try:
                closing.get(timeout=max(left(), 0.001))
            except pykka.Timeout:
                drained = False
                log.warning("engine.stop_timeout", stage="close handlers",
                            alive=self.stats()["handlers_alive"])
        if self._sender_actor is not None and self.sender is not None:
            flushed = self._sender_actor.flush_future(self.clock.now() + left())
            try:
                drained &= bool(flushed.get(timeout=max(left(), 0.001) + 1.0))
            except pykka.Timeout:
                drained = False
            if not drained:
                log.warning("engine.stop_timeout", stage="flush sender")
        if self._poller_actor is not None and self._poller_actor.offset is not None:
            confirm_offset(self.client, self._poller_actor.offset)
        self._teardown(left())
        self.status = "stopped"
        self._done.set()
        log.info("engine.stopped", drained=drained)
        return drained

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

    def _teardown(self, timeout: float) -> None:
        for ref in (self.router, self.sender):
            if ref is not None:
                with contextlib.suppress(pykka.ActorDeadError, pykka.Timeout):
                    ref.stop(timeout=max(timeout, 0.1))
        if self.runtime is not None:
            self.runtime.shutdown(max(timeout, 0.1))
        self.clock.stop(max(timeout, 0.1))
        self.client.close()
        if self._poll_client is not None:
            self._poll_client.close()
        self._poller = self.router = self.sender = None
        self._sender_handle = None

    def _on_chat_migrated(self, old: int | str, new: int) -> None:
        router = self.router
        if router is not None:
            with contextlib.suppress(pykka.ActorDeadError):
                router.tell(ChatMoved(old, new))

    def _on_fatal(self, error: PollingStopped) -> None:
        self.error = error
        self._done.set()

    def run_forever(self) -> None:
        """Run until SIGINT/SIGTERM (in the main thread) or a fatal error; stop gracefully.

        Raises :class:`PollingStopped` after stopping if polling could not go on.
        """
        if self.status == "stopped":
            self.start()
        previous: dict[signal.Signals, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous[signum] = signal.signal(signum, self._on_signal)
        try:
            self._done.wait()  # signal handlers run during the wait
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self.stop()
        if self.error is not None:
            raise self.error

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        log.info("engine.signal", signal=signal.Signals(signum).name)
        self._done.set()

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
        """Counters for operators; the periodic ``engine.stats`` event logs the same."""
        r = self._router_actor.stats if self._router_actor is not None else RouterStats()
        q = self._sender_actor.stats if self._sender_actor is not None else SenderStats()
        p = self._poller_actor.stats if self._poller_actor is not None else PollerStats()
        lag = None
        if r.last_update_date is not None:
            lag = max(time.time() - r.last_update_date, 0.0)
        return {
            "status": self.status,
            "handlers_alive": r.alive,
            "handlers_by_class": dict(r.alive_by_class),
            "spawned": r.spawned,
            "passivated": r.passivated,
            "closed": r.closed,
            "failed": r.failed,
            "in_flight": len(self.tracker),
            "passivating": r.passivating,
            "buffered": r.buffered,
            "buffered_total": r.buffered_total,
            "routed": r.routed,
            "skipped": r.skipped,
            "malformed": r.malformed,
            "dropped": r.dropped,
            "handled": self.tracker.finished,
            "sender_queue": q.queued,
            "sender_in_flight": q.in_flight,
            "sender_calls": q.calls,
            "sender_failed": q.failed,
            "sender_retries": q.retries,
            "sender_rate_limited": q.rate_limited,
            "sender_bucket_wait_s": round(q.bucket_wait_s, 3),
            "polls": p.polls,
            "fetched": p.fetched,
            "poll_errors": p.errors,
            "poll_rate_limited": p.rate_limited,
            "update_lag_s": lag,
        }

    def _emit_stats(self) -> None:
        stats = self.stats()
        stats.pop("status")
        log.info("engine.stats", **stats)
        if self.status == "running" and self.stats_interval:
            self._stats_timer = self.clock.call_later(self.stats_interval, self._emit_stats)
