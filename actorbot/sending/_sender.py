"""The sender actor: the one place that decides the order and pace of every outgoing call.

Deciding is serial; the HTTP requests themselves run on a small pool of worker threads
with keep-alive connections, so a ~50 ms round trip does not cap the bot at 20 calls/s.

- **Per-chat FIFO**: one call in flight per chat; chats proceed in parallel.
- **Rate limits by construction** (:class:`RateLimits`, Telegram's limits with a margin):
  per private chat (a bucket), per group and overall (sliding windows, so no window is
  exceeded even from a cold start), and an opt-in paid-broadcast lane for calls with
  ``allow_paid_broadcast``. Only message-sending calls are charged; the overall slot comes
  from the :class:`Limiter` seam.
- **O(log n) per call, whatever waits**: a chat is in exactly one place (the free line,
  its lane's line, or the sleepers' heap); when a lane's budget is spent the sender leaves
  its line alone until the limiter says it may have room, so 100,000 queued chats cost no
  more per message than ten.
- **429** pauses only the chat that got it, for ``retry_after``; the same call is retried.
- **5xx, 429 and connection failures** retry with exponential backoff and jitter until
  ``retry_deadline`` after queueing, however many tries that takes; a call that may already
  have reached Telegram is retried (``max_retries`` times) only if it is idempotent or the
  caller opted in. The future gets the typed error otherwise. A retried edit answered "message is
  not modified" took effect the first time: it resolves with ``True``.
- **Chat migration** (400 with ``migrate_to_chat_id``): the call and everything queued for
  the old id move to the new id; ``sender.chat_migrated`` is logged and ``on_migrated``
  called.
- **Priority**: ``answerCallbackQuery``/``answerInlineQuery`` go before queued bulk calls,
  and fail with :class:`TooLate` once Telegram would no longer accept them.
- **Coalescing** (opt-in per call): an ``editMessage*`` of a message replaces a queued edit
  of the same message; both futures get the newest result.
- **Bounded**: at most ``max_queue`` calls wait; beyond that :class:`SenderQueueFull` (or
  the caller blocks, by configuration). :meth:`Sender.flush` drains with a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Final

import pykka
import structlog
from pykka import ActorDeadError, ActorRef

from actorbot.api import Client, check_call
from actorbot.errors import (
    ChatMigrated,
    MessageNotModified,
    NetworkError,
    RetryAfter,
    SenderError,
    SenderQueueFull,
    SenderStopped,
    ServerError,
    TooLate,
)
from actorbot.runtime import (
    Failure,
    InFlight,
    LoopRuntime,
    Runtime,
    RuntimeActor,
    ThreadPerActor,
    holding,
)
from actorbot.sending._answers import note_call
from actorbot.sending._future import CallFuture
from actorbot.sending._limiter import Lane, LocalLimiter, window_count
from actorbot.sending._ratelimit import (
    Rate,
    SlidingWindow,
    TokenBucket,
    is_charged,
    is_private_chat,
)
from actorbot.sending._settings import Sending

if TYPE_CHECKING:
    from actorbot.runtime import Clock, Timer

log = structlog.get_logger("actorbot.sender")

_PRIORITY: Final = frozenset({"answerCallbackQuery", "answerInlineQuery"})
_BASE_CONNECTIONS: Final = 8  # calls at once while round trips are short ...
_SHORT_RTT: Final = 0.002  # ... i.e. up to this long; then more, in proportion
_RTT_WINDOW: Final = 100  # calls per window of the round-trip estimate
_COALESCE: Final = frozenset({"editMessageText", "editMessageCaption",
                              "editMessageReplyMarkup", "editMessageMedia"})
_UNSAFE_PREFIXES: Final = ("send", "forward", "copy", "create", "post", "upload", "gift",
                           "transfer", "refund", "convert", "upgrade")


def is_idempotent(method: str) -> bool:
    """Whether repeating ``method`` cannot do twice what it did once (no new message etc.)."""
    return not method.startswith(_UNSAFE_PREFIXES) or method == "sendChatAction"


@dataclass(frozen=True, slots=True)
class CallResult:
    """The outcome of one call, told to the actor that asked with ``notify(tag)``."""

    tag: Any
    method: str
    result: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class CallOptions:
    """Per-call choices: ``coalesce`` edits; ``retry_unsafe``: retry even if the call may
    have reached Telegram (it may then happen twice)."""

    coalesce: bool = False
    retry_unsafe: bool = False


_DEFAULT_OPTIONS: Final = CallOptions()


@dataclass(slots=True, eq=False)
class Call:
    """One outgoing call and its future; ``notify`` (if set) is told a :class:`CallResult`."""

    method: str
    params: dict[str, Any]
    future: CallFuture[Any] = field(default_factory=CallFuture)
    notify: ActorRef[Any] | None = None
    tag: Any = None
    options: CallOptions = _DEFAULT_OPTIONS
    created: float = 0.0
    attempts: int = 0
    also: list[Call] | None = None  # coalesced calls that share this call's outcome
    held: tuple[InFlight, int] | None = None  # the update this call holds open
    lane: Lane | None = None  # the limiter's lane this attempt holds a slot of


@dataclass(slots=True)
class _Done:
    call: Call
    result: Any
    error: BaseException | None


class _Wake:
    """Clock -> sender: a bucket refilled or a pause ended."""


@dataclass(slots=True)
class _Flush:
    future: pykka.Future[bool]
    deadline: float


@dataclass
class SenderStats:
    queued: int = 0
    in_flight: int = 0
    calls: int = 0
    succeeded: int = 0
    failed: int = 0
    retries: int = 0
    rate_limited: int = 0
    too_late: int = 0
    coalesced: int = 0
    migrated: int = 0
    bucket_wait_s: float = 0.0
    failed_by_error: dict[str, int] = field(default_factory=dict)
    """Calls that finally failed, by error class name (``failed`` is their sum)."""


class _Chat:
    """One chat's queue and limit; ``placed``: it is in a line or the sleepers' heap (so it
    is never in two places, and never scanned where it cannot go)."""

    __slots__ = ("busy", "key", "paused_until", "placed", "queue", "rate")

    def __init__(self, key: Any, rate: Rate | None) -> None:
        self.key = key
        self.queue: deque[Call] = deque()
        self.busy = False
        self.paused_until = 0.0
        self.placed = False
        self.rate = rate


def _settle(call: Call, result: Any, error: BaseException | None) -> None:
    """Resolve a call's future (and those coalesced into it) and notify its caller."""
    for each in (call, *(call.also or ())):
        if error is None:
            each.future.set(result)
        else:
            each.future.set_exception((type(error), error, error.__traceback__))
        if each.notify is not None:
            _tell(each.notify, CallResult(each.tag, each.method, result, error))
        if each.held is not None:
            tracker, seq = each.held
            if isinstance(error, SenderStopped):
                tracker.abandon(seq)  # never sent: the update is replayed at next start
            elif error is None:
                tracker.finish(seq)
            else:
                tracker.finish(seq, Failure(_describe(each, error), _handled_by(each)))


def _describe(call: Call, error: BaseException) -> str:
    """What a dead letter says about a failed call: method, chat, error; never text."""
    return (f"{call.method} to chat {call.params.get('chat_id')!r} failed after "
            f"{call.attempts} attempt(s): {type(error).__name__}: {error}")


def _handled_by(call: Call) -> Callable[[], bool]:
    """A failure is the handler's once it was told (``on_result``) or ``get()`` raised it."""
    if call.notify is not None:
        return lambda: True
    future = call.future
    return lambda: future.error_seen


def _log_failure(call: Call, error: BaseException) -> None:
    update_id = call.held[0].key_of(call.held[1]) if call.held is not None else None
    log.warning("sender.call_failed", method=call.method, chat_id=call.params.get("chat_id"),
                update_id=update_id, error=type(error).__name__, attempts=call.attempts)


class _Pace:
    """How many calls run at once, from the round trips of the last calls."""

    def __init__(self, count: int) -> None:
        self._max = count
        # The shortest round trip of the last two windows of calls: the link's latency,
        # without the queueing a busy server (or our own load) adds to the average.
        self._window_min = self._last_min = 0.0
        self._window_calls = 0

    @property
    def rtt(self) -> float:
        return min(self._window_min, self._last_min)

    def _sample(self, seconds: float) -> None:
        # Updated racily by the workers: a hint for the limit, not a measurement.
        if self._window_calls == 0 or seconds < self._window_min:
            self._window_min = seconds
        self._window_calls += 1
        if self._window_calls >= _RTT_WINDOW:
            self._last_min, self._window_calls = self._window_min, 0

    def limit(self) -> int:
        """Calls to run at once: a few connections while round trips are short (more
        threads would only fight over the GIL), more as they grow, to hide the latency."""
        wanted = math.ceil(_BASE_CONNECTIONS * self.rtt / _SHORT_RTT)
        return max(min(wanted, self._max), min(_BASE_CONNECTIONS, self._max))


def _report(sender: ActorRef[Any], call: Call, result: Any, error: BaseException | None) -> None:
    """An outcome back to the sender, or, once it has stopped, settled here (so that no
    result is lost)."""
    try:
        sender.tell(_Done(call, result, error))
    except ActorDeadError:
        if error is not None:
            _log_failure(call, error)
        _settle(call, result, error)


class _Workers(_Pace):
    """HTTP worker threads: each takes a call, performs it, reports the outcome."""

    def __init__(self, client: Client, count: int, sender: ActorRef[Any]) -> None:
        super().__init__(count)
        self._client = client
        self._sender = sender
        self._jobs: queue.SimpleQueue[Call | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def submit(self, call: Call, in_flight: int) -> None:
        """Queue ``call``; ``in_flight`` (this one included) says how many run at once.

        Threads start as concurrency first needs them, up to ``count``: a quiet bot keeps
        one or two, a busy bot on a slow link gets enough to hide the round trip.
        """
        if in_flight > len(self._threads) and len(self._threads) < self._max:
            thread = threading.Thread(target=self._work,
                                      name=f"actorbot-http-{len(self._threads)}")
            self._threads.append(thread)
            thread.start()
        self._jobs.put(call)

    def _work(self) -> None:
        while (call := self._jobs.get()) is not None:
            result: Any = None
            error: BaseException | None = None
            started = time.perf_counter()
            try:
                result = self._client.request_checked(call.method, call.params)
            except Exception as exc:  # noqa: BLE001 - every outcome goes back to the sender
                error = exc
            self._sample(time.perf_counter() - started)
            _report(self._sender, call, result, error)

    def stop(self, timeout: float | None = None) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join(timeout)


class _LoopWorkers(_Pace):
    """For a sender on an event loop: each call a task on that loop, over the loop's own
    connections (:class:`~actorbot.api.LoopSession`), with no thread in between."""

    def __init__(self, client: Client, count: int, sender: ActorRef[Any]) -> None:
        super().__init__(count)
        self._session = client.loop_session()
        self._sender = sender
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, call: Call, in_flight: int) -> None:
        task = asyncio.get_running_loop().create_task(self._work(call))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _work(self, call: Call) -> None:
        result: Any = None
        error: BaseException | None = None
        started = time.perf_counter()
        try:
            result = await self._session.request_checked(call.method, call.params)
        except asyncio.CancelledError:
            error = SenderStopped(f"{call.method}: the sender stopped before its answer came")
        except Exception as exc:  # noqa: BLE001 - every outcome goes back to the sender
            error = exc
        self._sample(time.perf_counter() - started)
        _report(self._sender, call, result, error)

    def stop(self, timeout: float | None = None) -> None:
        """Calls still out are cancelled, and settled with ``SenderStopped``: their updates
        are replayed at the next start (the engine flushes the sender before it stops)."""
        for task in list(self._tasks):
            task.cancel()
        self._session.close()


class Sender(RuntimeActor):
    """See the module docstring. Takes :class:`Call` messages; :meth:`flush_future` drains.

    ``Sender(...).start()`` runs it on a thread of its own. An engine with an event loop
    spawns it there instead (``loop_runtime.spawn(Sender, ...)``): an awaited call then
    goes from the coroutine to an HTTP worker and its answer back to the coroutine with
    no hop through a thread of the sender's.
    """

    runtime: ClassVar[Runtime | None] = ThreadPerActor()

    def __init__(
        self,
        client: Client,
        clock: Clock,
        settings: Sending | None = None,
        *,
        on_migrated: Callable[[int | str, int], None] | None = None,
        on_relieved: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self.clock = clock
        self.settings = settings = settings or Sending()
        self.limits = settings.limits
        self.worker_count = settings.http_workers
        self.max_retries = settings.max_retries
        self.backoff = settings.backoff
        self.answer_deadline = settings.answer_deadline
        self.on_migrated = on_migrated
        self.block_when_full = settings.block_when_full
        self.slots = threading.BoundedSemaphore(settings.max_queue)
        self.high_water = max(settings.max_queue // 2, 1)
        self.low_water = settings.max_queue // 4
        self.on_relieved = on_relieved
        self.stats = SenderStats()
        self.retry_deadline = settings.retry_deadline
        self.limiter = settings.limiter or LocalLimiter(self.limits)
        self._chats: dict[Any, _Chat] = {}
        self._free: deque[_Chat] = deque()  # heads that no limit charges
        self._lanes: dict[Lane, deque[_Chat]] = {"overall": deque(), "paid": deque()}
        self._lane_closed: dict[Lane, float] = {"overall": 0.0, "paid": 0.0}
        self._sleeping: list[tuple[float, int, _Chat]] = []
        self._idlers: list[tuple[float, int, _Chat]] = []  # chats to forget once fresh
        self._sleep_seq = itertools.count()
        self._priority: deque[Call] = deque()
        self._migrated: dict[Any, int] = {}
        self._wake: Timer | None = None
        self._wake_at = 0.0
        self._flushes: list[_Flush] = []
        self._workers: _Workers | _LoopWorkers | None = None
        self._congested = False

    # -- lifecycle ------------------------------------------------------------------------

    def on_start(self) -> None:
        workers = _LoopWorkers if isinstance(type(self).runtime, LoopRuntime) else _Workers
        self._workers = workers(self.client, self.worker_count, self.actor_ref)

    def on_stop(self) -> None:
        self._fail_everything(SenderStopped("the sender stopped"))
        if self._wake is not None:
            self._wake.cancel()
        if self._workers is not None:
            # Calls in flight finish; their workers settle them (the actor is gone).
            self._workers.stop(timeout=self.client.read_timeout + self.client.connect_timeout)

    # -- messages -------------------------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        kind = type(message)
        if kind is Call:
            self._accept(message)
        elif kind is _Done:
            self._finish(message)
        elif kind is _Wake:
            if self._wake is not None and self._wake_at <= self.clock.now():
                self._wake = None  # this was the scheduled wake (not a flush deadline's)
        elif kind is _Flush:
            self._flushes.append(message)
        else:
            raise TypeError(f"the sender takes Call messages, not {kind.__name__}")
        self._pump()
        self._check_flushes()
        self._check_congestion()
        return None

    @property
    def congested(self) -> bool:
        """The queue passed its high-water mark and has not yet drained to the low one:
        whoever feeds the bot (the poller) should hold off. Read from any thread."""
        return self._congested

    def _check_congestion(self) -> None:
        queued = self.stats.queued
        if not self._congested and queued >= self.high_water:
            self._congested = True
            log.info("sender.congested", queued=queued)
        elif self._congested and queued <= self.low_water:
            self._congested = False
            if self.on_relieved is not None:
                self.on_relieved()

    def _accept(self, call: Call) -> None:
        if not call.created:  # a retried priority call keeps its age
            call.created = self.clock.now()
        if call.method in _PRIORITY:
            self._priority.append(call)
            self.stats.queued += 1
            return
        chat = self._chat_for(call)
        if call.options.coalesce and call.method in _COALESCE and self._coalesce(chat, call):
            return
        chat.queue.append(call)
        self.stats.queued += 1
        if len(chat.queue) == 1 and not chat.busy:
            self._place(chat, self.clock.now())

    def _chat_for(self, call: Call) -> _Chat:
        key = call.params.get("chat_id")
        if key in self._migrated:
            key = self._migrated[key]
            call.params["chat_id"] = key
        return self._chat(key)

    def _chat(self, key: Any) -> _Chat:
        chat = self._chats.get(key)
        if chat is None:
            rate: Rate | None = None
            lim = self.limits
            if key is None:
                pass
            elif is_private_chat(key):
                if not math.isinf(lim.private_per_s):
                    rate = TokenBucket(lim.private_per_s, lim.private_burst, self.clock.now())
            elif not math.isinf(lim.group_per_min):
                rate = SlidingWindow(window_count(lim.group_per_min / 60.0, lim.group_window),
                                     lim.group_window + lim.margin)
            chat = self._chats[key] = _Chat(key, rate)
        return chat

    def _coalesce(self, chat: _Chat, call: Call) -> bool:
        target = (call.params.get("message_id"), call.params.get("inline_message_id"))
        for queued in chat.queue:
            if (queued.method == call.method and queued.options.coalesce
                    and (queued.params.get("message_id"),
                         queued.params.get("inline_message_id")) == target):
                queued.params = call.params
                if queued.also is None:
                    queued.also = []
                queued.also.append(call)
                self.stats.coalesced += 1
                return True
        return False

    def _place(self, chat: _Chat, now: float) -> None:
        """Put a chat with a head call and nothing in flight where its head can next go:
        the sleepers' heap (paused, or its own limit spent), its lane's line, or the free
        line. O(log n)."""
        if chat.placed or chat.busy or not chat.queue:
            return
        chat.placed = True
        if chat.paused_until > now:
            self._sleep(chat, chat.paused_until)
            return
        call = chat.queue[0]
        if chat.rate is None or not is_charged(call.method):
            self._free.append(chat)
            return
        wait = chat.rate.wait(now)
        if wait > 0:
            self.stats.bucket_wait_s += wait
            self._sleep(chat, now + wait)
            return
        self._lanes[_lane(call)].append(chat)

    def _sleep(self, chat: _Chat, until: float) -> None:
        heapq.heappush(self._sleeping, (until, next(self._sleep_seq), chat))
        self._schedule_wake(until)

    # -- dispatch -------------------------------------------------------------------------

    def _pump(self) -> None:
        """Hand calls to free workers: priority first, then chats in turn, within limits."""
        now = self.clock.now()
        stats = self.stats
        while self._sleeping and self._sleeping[0][0] <= now:
            chat = heapq.heappop(self._sleeping)[2]
            chat.placed = False
            self._place(chat, now)
        if self._sleeping:  # the next sleeper must be woken too, not only the first one
            self._schedule_wake(self._sleeping[0][0])
        assert self._workers is not None
        limit = self._workers.limit()
        while self._priority and stats.in_flight < limit:
            call = self._priority.popleft()
            stats.queued -= 1
            if now - call.created > self.answer_deadline:
                stats.too_late += 1
                self._resolve(call, None, TooLate(
                    f"{call.method} waited {now - call.created:.1f} s: Telegram no longer "
                    "accepts the answer", method=call.method))
                continue
            self._dispatch(call)
        for lane, line in self._lanes.items():
            if self._lane_closed[lane] <= now:
                self._pump_lane(lane, line, now, limit)
            elif line and not math.isinf(self._lane_closed[lane]):
                self._schedule_wake(self._lane_closed[lane])  # an earlier wake came first
        free = self._free
        while free and stats.in_flight < limit:
            chat = free.popleft()
            chat.placed = False
            if chat.queue and not chat.busy:
                if chat.rate is not None and is_charged(chat.queue[0].method):
                    self._place(chat, now)  # its head changed (a migration): charge it
                else:
                    self._send(chat)

    def _pump_lane(self, lane: Lane, line: deque[_Chat], now: float, limit: int) -> None:
        """Send from the front of ``line`` while the limiter grants slots; when it does not,
        close the lane until it says, so no chat in the line is touched meanwhile."""
        stats = self.stats
        while line and stats.in_flight < limit:
            chat = line[0]
            if (chat.busy or not chat.queue or chat.paused_until > now or chat.rate is None
                    or _lane(chat.queue[0]) != lane or chat.rate.wait(now) > 0):
                line.popleft()  # it changed since it was placed (a migration, a pause)
                chat.placed = False
                self._place(chat, now)
                continue
            wait = self.limiter.reserve(lane, now)
            if wait > 0:
                self._lane_closed[lane] = now + wait  # inf: until a call of it is answered
                if not math.isinf(wait):
                    self._schedule_wake(now + wait)
                return
            line.popleft()
            chat.placed = False
            assert chat.rate is not None
            chat.rate.take(now)
            chat.queue[0].lane = lane
            self._send(chat)

    def _send(self, chat: _Chat) -> None:
        call = chat.queue.popleft()
        self.stats.queued -= 1
        chat.busy = True
        self._dispatch(call)

    def _dispatch(self, call: Call) -> None:
        call.attempts += 1
        self.stats.in_flight += 1
        self.stats.calls += 1
        assert self._workers is not None
        self._workers.submit(call, self.stats.in_flight)

    def _schedule_wake(self, when: float) -> None:
        if self._wake is not None and self._wake_at <= when:
            return
        if self._wake is not None:
            self._wake.cancel()
        self._wake_at = when
        self._wake = self.clock.call_at(when, _tell, self.actor_ref, _Wake())

    # -- outcomes -------------------------------------------------------------------------

    def _finish(self, done: _Done) -> None:
        call, error, result = done.call, done.error, done.result
        self.stats.in_flight -= 1
        if call.lane is not None:  # its slot now counts from this answer
            self.limiter.release(call.lane, self.clock.now())
            if math.isinf(self._lane_closed[call.lane]):
                self._lane_closed[call.lane] = 0.0  # it waited for a release: ask again
            call.lane = None
        if isinstance(error, MessageNotModified) and call.attempts > 1:
            # An earlier attempt's answer was lost, but its edit took effect (errors.json:
            # "treat as success"). The message itself is not returned on this path.
            error, result = None, True
        chat = None if call.method in _PRIORITY else self._chat_for(call)
        if isinstance(error, ChatMigrated) and chat is not None:
            self._migrate(chat, call, error.migrate_to_chat_id)
            return
        retry_in: float | None = None
        if error is not None:
            retry_in = self._retry_delay(call, error)
        if retry_in is not None and chat is not None:
            self.stats.retries += 1
            self.stats.queued += 1
            chat.queue.appendleft(call)
            chat.busy = False
            chat.paused_until = max(chat.paused_until, self.clock.now() + retry_in)
            self._place(chat, self.clock.now())
            return
        if retry_in is not None:  # a priority call: back into its lane, after the delay
            self.stats.retries += 1
            self.clock.call_later(retry_in, _tell, self.actor_ref, call)
            return
        self._resolve(call, result, error)
        now = self.clock.now()
        if chat is not None:
            chat.busy = False
            if chat.queue:
                self._place(chat, now)
            else:
                heapq.heappush(self._idlers, (self._fresh_at(chat), next(self._sleep_seq), chat))
        self._forget_idle_chats(now)

    @staticmethod
    def _fresh_at(chat: _Chat) -> float:
        """When an idle chat is as good as a new one (its limit unused, no pause)."""
        return max(chat.paused_until, chat.rate.fresh_at() if chat.rate is not None else 0.0)

    def _forget_idle_chats(self, now: float) -> None:
        """Drop chats that went idle and whose limit is fresh again (a new one would be the
        same), so memory follows active chats, not every chat ever written to: a heap by
        freshness, so each finished call costs O(log n), not a scan."""
        idle = self._idlers
        while idle and idle[0][0] <= now:
            chat = heapq.heappop(idle)[2]
            if (not chat.queue and not chat.busy and self._fresh_at(chat) <= now
                    and self._chats.get(chat.key) is chat):
                del self._chats[chat.key]

    def _retry_delay(self, call: Call, error: BaseException) -> float | None:
        """Seconds before ``call`` is tried again, or None to give up with ``error``.

        What cannot have taken effect (429, 5xx, no connection, a stale keep-alive
        connection) is retried until ``retry_deadline`` after queueing, however many tries
        that takes: an outage shorter than that loses nothing. A call that may have
        reached Telegram is retried ``max_retries`` times, and only if it is safe to repeat.
        """
        if isinstance(error, RetryAfter):
            self.stats.rate_limited += 1
            log.warning("sender.rate_limited", method=call.method, retry_after=error.retry_after,
                        chat_id=call.params.get("chat_id"))
            delay = float(error.retry_after)
        elif self._repeatable(call, error):
            delay = self.backoff.delay(call.attempts)
        else:
            return None
        left = call.created + self.retry_deadline - self.clock.now()
        if left <= 0 or (isinstance(error, RetryAfter) and delay > left):
            return None  # (a retry before retry_after ends would only be refused again)
        delay = min(delay, left)  # a last try at the deadline rather than none
        log.info("sender.retry", method=call.method, attempt=call.attempts,
                 error=type(error).__name__, retry_in=round(delay, 3))
        return delay

    def _repeatable(self, call: Call, error: BaseException) -> bool:
        if isinstance(error, ServerError):
            return True
        if not isinstance(error, NetworkError):
            return False
        return not error.may_have_reached or (
            call.attempts <= self.max_retries
            and (is_idempotent(call.method) or call.options.retry_unsafe))

    def _migrate(self, chat: _Chat, call: Call, new_id: int) -> None:
        """Move ``call`` and everything queued for its old chat id to ``new_id``, in order,
        ahead of what was already queued there; later calls to the old id follow too."""
        old_id = chat.key
        self._migrated[old_id] = new_id
        self.stats.migrated += 1
        self.stats.retries += 1
        log.info("sender.chat_migrated", old_chat_id=old_id, new_chat_id=new_id)
        moved = [call, *chat.queue]
        chat.queue.clear()
        chat.busy = False
        del self._chats[old_id]
        target = self._chat(new_id)
        for each in moved:
            each.params["chat_id"] = new_id
        target.queue.extendleft(reversed(moved))
        self.stats.queued += 1  # the call that was in flight waits again
        self._place(target, self.clock.now())
        if self.on_migrated is not None:
            try:
                self.on_migrated(old_id, new_id)
            except Exception:  # a broken hook must not stop the sender
                log.exception("sender.on_migrated_failed")

    def _resolve(self, call: Call, result: Any, error: BaseException | None) -> None:
        count = 1 + len(call.also or ())
        for _ in range(count):
            self.slots.release()
        if error is None:
            self.stats.succeeded += count
        else:
            self.stats.failed += count
            name = type(error).__name__
            by_error = self.stats.failed_by_error
            by_error[name] = by_error.get(name, 0) + count
            if not isinstance(error, SenderStopped):  # stopping: replayed, not lost
                _log_failure(call, error)
        _settle(call, result, error)

    # -- flush and stop -------------------------------------------------------------------

    def flush_future(self, deadline: float) -> pykka.Future[bool]:
        """Ask for a future that is True once every queued call is done (False at deadline).

        Thread-safe: it only sends the sender a message.
        """
        future: pykka.Future[bool] = pykka.ThreadingFuture()
        _tell(self.actor_ref, _Flush(future, deadline))
        self.clock.call_at(deadline, _tell, self.actor_ref, _Wake())
        return future

    def _idle(self) -> bool:
        return self.stats.queued == 0 and self.stats.in_flight == 0

    def _check_flushes(self) -> None:
        if not self._flushes:
            return
        now = self.clock.now()
        keep = []
        for flush in self._flushes:
            if self._idle():
                flush.future.set(True)
            elif now >= flush.deadline:
                self._fail_everything(SenderStopped("the flush deadline passed first"))
                flush.future.set(self._idle())
            else:
                keep.append(flush)
        self._flushes = keep

    def _fail_everything(self, error: SenderError) -> None:
        """Resolve every queued call with ``error`` (calls in flight finish by themselves)."""
        queued = list(self._priority)
        self._priority.clear()
        for chat in self._chats.values():
            queued.extend(chat.queue)
            chat.queue.clear()
            chat.placed = False
        self._free.clear()
        for line in self._lanes.values():
            line.clear()
        self._sleeping.clear()
        self.stats.queued = 0
        for call in queued:
            self._resolve(call, None, error)


def _lane(call: Call) -> Lane:
    return "paid" if call.params.get("allow_paid_broadcast") else "overall"


def _tell(ref: ActorRef[Any], message: Any) -> None:
    with contextlib.suppress(ActorDeadError):  # the receiver is gone: nothing to tell
        ref.tell(message)


@dataclass(frozen=True, slots=True)
class SenderHandle:
    """What callers on other threads need to queue calls: the ref and the queue's slots."""

    ref: ActorRef[Any]
    slots: threading.BoundedSemaphore
    block_when_full: bool = False

    loop: LoopRuntime | None = None
    """The event loop the sender runs on, if it does: callers there never block on a
    full queue (the loop they would block is the one that drains it)."""

    @classmethod
    def of(cls, sender: Sender) -> SenderHandle:
        runtime = type(sender).runtime
        loop = runtime if isinstance(runtime, LoopRuntime) else None
        return cls(sender.actor_ref, sender.slots, sender.block_when_full, loop)

    def submit(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        notify: ActorRef[Any] | None = None,
        tag: Any = None,
        options: CallOptions = _DEFAULT_OPTIONS,
    ) -> CallFuture[Any]:
        """Queue one call; the future resolves with its result or its typed error."""
        block = self.block_when_full and not (self.loop is not None
                                              and self.loop.in_loop_thread())
        return submit(self.ref, self.slots, method, params, notify=notify, tag=tag,
                      options=options, block=block)


def submit(
    sender: ActorRef[Any],
    slots: threading.BoundedSemaphore,
    method: str,
    params: Mapping[str, Any],
    *,
    notify: ActorRef[Any] | None = None,
    tag: Any = None,
    options: CallOptions = _DEFAULT_OPTIONS,
    block: bool = False,
) -> CallFuture[Any]:
    """Queue one call on the sender; the future resolves with its result or typed error."""
    method, checked = check_call(method, params)  # once, here: the workers trust it
    note_call(method, checked)
    if not slots.acquire(blocking=block):
        raise SenderQueueFull(f"{method}: the sender's queue is full")
    call = Call(method, checked, notify=notify, tag=tag, options=options, held=holding())
    if call.held is not None:  # a handler is handling an update: it is done once we are
        call.held[0].hold(call.held[1])
    try:
        sender.tell(call)
    except ActorDeadError:
        slots.release()
        if call.held is not None:
            call.held[0].finish(call.held[1])
        raise SenderStopped(f"{method}: the sender is not running") from None
    return call.future


