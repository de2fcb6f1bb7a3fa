"""The router actor: the only place handlers are created or stopped.

For each update it evaluates every route's seed function (one update may reach several
handlers), then spawns or reuses the handler for ``(route, seed)``. Per route, one
``OrderedDict`` seed -> entry is both the registry of live handlers and the idle LRU:
delivering moves an entry to the end, and the idle sweep pops from the front, so both are
O(1) per handler, whatever the number of handlers.

Passivation is a handshake (docs/architecture.md §2.3): the router stops delivering to a
handler, sends it :class:`IdleCheck` (or :class:`Close`), buffers what arrives for that
seed meanwhile, and spawns the successor only once the handler answered that it closed,
replaying the handler's returned updates and then the buffer, in order.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import queue
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import pykka
import structlog

from actorbot import updates
from actorbot.errors import AsyncHookError, ConfigError, NotRunning, StateError
from actorbot.handlers import (
    Close,
    Deliver,
    EngineStopping,
    Handler,
    HandlerClosed,
    HandlerClosing,
    HandlerContext,
    HandlerIdle,
    IdleCheck,
    Routed,
    RouteServices,
    async_hooks,
    check_hooks,
)
from actorbot.journal import DELIVERIES, Delivery, Journal
from actorbot.routing import (
    Batch,
    ChatMoved,
    Dispatch,
    Evict,
    Ping,
    Respawn,
    Shutdown,
    SweepMore,
    Tick,
)
from actorbot.runtime import Backoff, Runtime
from actorbot.seeds import SeedFunction, is_hashable
from actorbot.sending import SenderHandle

if TYPE_CHECKING:
    from actorbot.routing._access import AccessList
    from actorbot.runtime import Clock, InFlight
    from actorbot.state import StateBook

log = structlog.get_logger("actorbot.router")

_ACTIVE, _PASSIVATING, _CLOSING, _BACKOFF = 0, 1, 2, 3


_RESPAWN_AT_ONCE: Final = Backoff(initial=0.0, maximum=0.0)
"""The default failure backoff: the next update of a failed seed gets a handler at once."""


@dataclass(frozen=True, slots=True)
class FailurePolicy:
    """What happens to a seed whose handler raised.

    The failing update is logged and counted, and the seed gets a fresh handler after
    ``backoff.delay(n)`` seconds, ``n`` counting the seed's consecutive failures (a handler
    that fails at once on every update would otherwise respawn in a tight loop). An
    at-least-once update is handed to that fresh handler again, ``retries`` times at most;
    after that it is parked as a dead letter and the seed goes on with its next update.
    After ``give_up_after`` consecutive failures the seed is stopped: its updates are
    parked (at-least-once) or logged and skipped until the engine restarts.
    """

    backoff: Backoff = _RESPAWN_AT_ONCE
    give_up_after: int | None = None
    retries: int = 2

    def __post_init__(self) -> None:
        if not isinstance(self.backoff, Backoff):
            raise ConfigError(
                f"FailurePolicy backoff must be a Backoff, e.g. Backoff(1.0, 60.0), "
                f"not {self.backoff!r}")
        if self.retries < 0:
            raise ConfigError(f"FailurePolicy retries must not be negative, not {self.retries}")
        if self.give_up_after is not None and self.give_up_after < 1:
            raise ConfigError(
                f"FailurePolicy give_up_after must be at least 1 or None, "
                f"not {self.give_up_after}")


@dataclass(frozen=True, slots=True)
class Route:
    """Send updates whose ``seed(update)`` is not None to a ``handler`` per seed."""

    seed: SeedFunction
    handler: type[Handler]
    idle_timeout: float | None = 60.0
    """Seconds without updates before the handler is asked to close; None: never."""
    name: str = ""
    on_failure: FailurePolicy = field(default_factory=FailurePolicy)
    delivery: Delivery = "at_least_once"
    """``at_most_once``: this route never sees replays after a restart, nor retries."""

    def __post_init__(self) -> None:
        if self.delivery not in DELIVERIES:
            raise ConfigError(f"delivery must be one of {DELIVERIES}, not {self.delivery!r}")
        if not (isinstance(self.handler, type) and issubclass(self.handler, Handler)):
            raise TypeError(f"route handler must be a Handler subclass, not {self.handler!r}")
        if not callable(self.seed):
            raise TypeError(f"route seed must be callable, not {self.seed!r}")
        if inspect.iscoroutinefunction(self.seed):
            raise AsyncHookError(f"route seed {self.seed!r} is async def: the router calls it "
                                 f"for every update and cannot await; make it a plain def")
        check_hooks(self.handler)
        if self.idle_timeout is not None and self.idle_timeout <= 0:
            raise ConfigError("idle_timeout must be positive or None")
        if not self.name:
            object.__setattr__(self, "name", self.handler.__name__)


class _Entry:
    __slots__ = ("buffer", "failed", "last", "ref", "state")

    def __init__(self, ref: pykka.ActorRef[Any] | None, last: float) -> None:
        self.ref = ref
        self.state = _ACTIVE
        self.buffer: list[Deliver] | None = None
        self.last = last
        self.failed = False


@dataclass
class RouterStats:
    """Counters written only by the router thread; readers get a racy but consistent-enough
    snapshot (ints and a small dict, copied under the GIL)."""

    alive: int = 0
    alive_by_class: dict[str, int] = field(default_factory=dict)
    spawned: int = 0
    passivated: int = 0
    closed: int = 0
    failed: int = 0
    passivating: int = 0
    buffered: int = 0
    buffered_total: int = 0
    routed: int = 0
    skipped: int = 0
    malformed: int = 0
    dropped: int = 0
    banned: int = 0
    last_update_date: int | None = None


class _Anon:
    """Key of a handler spawned for an unhashable seed: unique, hashed by identity."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<anonymous seed {id(self):#x}>"


class Router(pykka.ThreadingActor):
    """Routes batches to handler actors; owns their lifecycle. See the module docstring."""

    def __init__(
        self,
        routes: list[Route],
        runtime: Runtime,
        clock: Clock,
        tracker: InFlight,
        sender: SenderHandle | None,
        *,
        tick: float | None = None,
        sweep_limit: int = 2000,
        journal: Journal | None = None,
        at_most_once_types: frozenset[str] = frozenset(),
        access: AccessList | None = None,
        bot_username: str | None = None,
        loop_runtime: Runtime | None = None,
        state: StateBook | None = None,
    ) -> None:
        super().__init__()
        if not routes:
            raise ConfigError("at least one route is needed")
        self.routes = routes
        self.runtime = runtime
        self._runtimes = [runtime if not async_hooks(r.handler) else loop_runtime
                          for r in routes]
        """Where each route's handlers run: those with ``async def`` hooks on the loop."""
        if None in self._runtimes:
            raise ConfigError("a route's handler has async def hooks, and this router has "
                              "no event loop runtime (loop_runtime=) to run them on")
        self.clock = clock
        self.tracker = tracker
        self.sender = sender
        timeouts = [r.idle_timeout for r in routes if r.idle_timeout is not None]
        self.tick = tick if tick is not None else min([1.0, *(t / 4 for t in timeouts)])
        self.tick = max(self.tick, 0.0005)
        self.sweep_limit = sweep_limit
        self.journal = journal
        self.at_most_once_types = at_most_once_types
        self.access = access
        self.bot_username = bot_username
        self.state = state  # declared handler state (docs/state.md)
        self._durable = [r.delivery == "at_least_once" for r in routes]
        self.stats = RouterStats()
        self._maps: list[OrderedDict[Any, _Entry]] = [OrderedDict() for _ in routes]
        self._services: list[RouteServices] = []
        self._anon: OrderedDict[Any, _Entry] = OrderedDict()
        self._anon_route: dict[Any, int] = {}
        self._seq = itertools.count(1)
        self._failures: dict[tuple[int, Any], int] = {}
        self._aliases: dict[tuple[int, Any], Any] = {}
        self._given_up: set[tuple[int, Any]] = set()
        self._shutdown: pykka.Future[bool] | None = None
        self._tick_timer: Any = None
        self._sweep_pending = False

    def on_start(self) -> None:
        self._services = [
            RouteServices(route=r.name, idle_timeout=r.idle_timeout, router=self.actor_ref,
                          sender=self.sender, clock=self.clock, tracker=self.tracker,
                          journal=self.journal, access=self.access,
                          bot_username=self.bot_username, state=self.state)
            for r in self.routes
        ]
        self._tick_timer = self.clock.call_later(self.tick, self._tell_tick)

    def _tell_tick(self) -> None:
        if self.actor_ref.is_alive():
            self.actor_ref.tell(Tick())

    def on_stop(self) -> None:
        if self._tick_timer is not None:
            self._tick_timer.cancel()

    def on_receive(self, message: Any) -> Any:
        kind = type(message)
        if kind is Batch:
            self._route_batch(message.updates, replay=message.replay)
        elif kind is Dispatch:
            self._dispatch(message.events)
        elif kind is Tick:
            self._sweep()
            self._tick_timer = self.clock.call_later(self.tick, self._tell_tick)
        elif kind is SweepMore:
            self._sweep_pending = False
            self._sweep()
        elif kind is HandlerIdle:
            self._on_idle_answer(message)
        elif kind is HandlerClosing:
            self._on_closing(message)
        elif kind is HandlerClosed:
            self._on_closed(message)
        elif kind is Respawn:
            self._on_respawn(message.key)
        elif kind is Shutdown:
            return self._begin_shutdown()
        elif kind is Ping:
            return None
        elif kind is ChatMoved or kind is Evict:
            self._on_moved(message)
        else:
            log.warning("router.unexpected_message", kind=kind.__name__)
        return None

    # -- routing ----------------------------------------------------------------------------

    def _route_batch(self, batch: list[Any], *, replay: bool = False) -> None:
        now = self.clock.now()
        stats = self.stats
        durable_routes = self._durable
        transient_types = self.at_most_once_types
        access = self.access
        for update in batch:
            seq = next(self._seq)
            key = updates.update_id(update)
            transient = bool(transient_types) and updates.update_type(update) in transient_types
            if transient:
                key = None  # at-most-once: the journal does not wait for it
            if access is not None and self._banned(access, update):
                self.tracker.begin(seq, 0, key)  # handled: there is nothing to do
                continue
            targets: list[tuple[int, Any]] = []
            for index, route in enumerate(self.routes):
                if replay and not durable_routes[index]:
                    continue
                try:
                    seed = route.seed(update)
                except Exception as exc:  # noqa: BLE001 - a bad update must not stop routing
                    log.warning("router.seed_failed", route=route.name,
                                update_id=updates.update_id(update), error=type(exc).__name__)
                    continue
                if seed is not None:
                    targets.append((index, seed))
            if self._shutdown is not None:
                stats.dropped += 1
                log.warning("router.dropped", reason="stopping", update_id=key)
                self.tracker.begin(seq, 1, key)
                self.tracker.abandon(seq)  # replayed at the next start
                continue
            if not targets:
                self._skipped(update)
            self.tracker.begin(seq, len(targets), key, update)
            for index, seed in targets:
                durable = not transient and durable_routes[index]
                retries = self.routes[index].on_failure.retries if durable else 0
                self._deliver(index, seed, Deliver(update, seq, retries, durable), now)
            stats.routed += 1
        if batch:  # the update lag: the newest update of the batch is enough
            inner = updates.payload(batch[-1])
            date = inner.get("date") if isinstance(inner, dict) else None
            if type(date) is int:
                stats.last_update_date = date

    def _dispatch(self, events: Any) -> None:
        """Events that are not updates, for given seeds: delivered as updates are, but
        neither journaled nor retried (a failure reaches ``event.failed``)."""
        if self._shutdown is not None:
            for _, event in events:
                self.stats.dropped += 1
                event.failed(NotRunning("the engine is stopping"))
            return
        tracker = self.tracker
        tracker.admit(len(events))  # stop() waits for them as for updates
        now = self.clock.now()
        for targets, event in events:
            seq = next(self._seq)
            tracker.begin(seq, len(targets))
            for index, seed in targets:
                self._deliver(index, seed, Deliver(event, seq), now)

    def _banned(self, access: AccessList, update: Any) -> bool:
        """Drop an update from a banned user or chat before any handler sees it."""
        banned = access.banned_sender(update)
        if banned is None:
            return False
        self.stats.banned += 1
        self.stats.routed += 1
        log.info("router.banned", user_id=banned, update_type=updates.update_type(update),
                 update_id=updates.update_id(update))
        return True

    def _skipped(self, update: Any) -> None:
        kind = updates.update_type(update)
        if not isinstance(update, dict) or type(update.get("update_id")) is not int:
            self.stats.malformed += 1
            log.warning("router.malformed_update", python_type=type(update).__name__,
                        update_type=kind, update_id=updates.update_id(update))
        else:
            self.stats.skipped += 1
            log.info("router.no_route", update_type=kind, update_id=update["update_id"])

    def _deliver(self, index: int, seed: Any, delivery: Deliver, now: float) -> None:
        route = self.routes[index]
        if not is_hashable(seed):
            anon = _Anon()
            entry = self._spawn(index, anon, seed, now, self._anon)
            if entry is None:
                self._give_up(delivery, index, "the handler could not be created")
                return
            self._anon_route[anon] = index
            self._send(entry, delivery)
            return
        handlers = self._maps[index]
        if self._aliases:
            seed = self._followed(index, seed, handlers)
        entry = handlers.get(seed)
        if entry is None:
            if (index, seed) in self._given_up:
                self.stats.dropped += 1
                log.warning("router.dropped", reason="seed stopped after failures",
                            route=route.name, seed=repr(seed),
                            update_id=updates.update_id(delivery.update))
                self._give_up(delivery, index, "seed stopped after failures")
                return
            entry = self._spawn(index, seed, seed, now, handlers)
            if entry is None:
                self._give_up(delivery, index, "the handler could not be created")
                return
        if entry.state == _ACTIVE:
            entry.last = now
            if route.idle_timeout is not None:
                handlers.move_to_end(seed)
            self._send(entry, delivery)
        else:
            if entry.buffer is None:
                entry.buffer = []
            entry.buffer.append(delivery)
            self.stats.buffered += 1
            self.stats.buffered_total += 1

    def _send(self, entry: _Entry, delivery: Deliver) -> None:
        assert entry.ref is not None
        entry.ref.tell(delivery)

    def _spawn(
        self, index: int, key: Any, seed: Any, now: float, handlers: OrderedDict[Any, _Entry]
    ) -> _Entry | None:
        route = self.routes[index]
        context = HandlerContext((index, key), seed, self._services[index])
        try:
            runtime = self._runtimes[index]
            assert runtime is not None  # __init__ checked it
            ref = runtime.spawn(route.handler, context)
        except Exception as exc:
            self.stats.failed += 1
            log.error("handler.failed", route=route.name, seed=repr(seed), stage="spawn",
                      handler=route.handler.__name__, error=f"{type(exc).__name__}: {exc}",
                      exc_info=exc)
            return None
        entry = _Entry(ref, now)
        handlers[key] = entry
        stats = self.stats
        stats.spawned += 1
        stats.alive += 1
        name = route.handler.__name__
        stats.alive_by_class[name] = stats.alive_by_class.get(name, 0) + 1
        log.debug("handler.spawned", route=route.name, seed=repr(seed), handler=name)
        return entry

    def _followed(self, index: int, seed: Any, handlers: OrderedDict[Any, _Entry]) -> Any:
        """The seed whose handler takes ``seed``'s updates: the old chat's, after a
        migration, while that handler lives (then the alias lapses)."""
        followed = self._aliases.get((index, seed))
        if followed is None:
            return seed
        if followed in handlers:
            return followed
        del self._aliases[(index, seed)]
        return seed

    def _follow(self, old: Any, new: Any) -> None:
        """After a chat migration, deliver the new chat's updates to the old chat's live
        handler (same conversation, same state) until that handler passivates."""
        for index, handlers in enumerate(self._maps):
            if old in handlers and new not in handlers:
                self._aliases[(index, new)] = old
                log.info("router.seed_followed", route=self.routes[index].name,
                         old_seed=repr(old), new_seed=repr(new))

    # -- idle sweep -------------------------------------------------------------------------

    def _sweep(self) -> None:
        now = self.clock.now()
        budget = self.sweep_limit
        for index, route in enumerate(self.routes):
            if route.idle_timeout is not None:
                budget = self._sweep_map(self._maps[index], _constant(route.idle_timeout),
                                         now, budget)
        routes = self.routes
        anon_route = self._anon_route
        budget = self._sweep_map(self._anon, lambda k: routes[anon_route[k]].idle_timeout,
                                 now, budget)
        if budget <= 0 and not self._sweep_pending:
            # More may be idle: continue behind the messages already queued, not a tick later.
            self._sweep_pending = True
            self.actor_ref.tell(SweepMore())

    def _sweep_map(
        self,
        handlers: OrderedDict[Any, _Entry],
        timeout_of: Callable[[Any], float | None],
        now: float,
        budget: int,
    ) -> int:
        """Ask the least recently used handlers that idled out to close, oldest first.

        Each entry is looked at once per sweep at most, and at most ``budget`` handlers are
        asked (stopping thousands in one router turn would stall routing).
        """
        for _ in range(len(handlers)):
            if budget <= 0:
                break
            key, entry = next(iter(handlers.items()))
            timeout = timeout_of(key)
            if entry.state == _ACTIVE and (timeout is None or entry.last + timeout > now):
                break
            budget = self._sweep_one(handlers, key, entry, budget)
        return budget

    def _sweep_one(self, handlers: OrderedDict[Any, _Entry], key: Any, entry: _Entry,
                   budget: int) -> int:
        handlers.move_to_end(key)  # entries not active wait at the end
        if entry.state != _ACTIVE:
            return budget
        entry.state = _PASSIVATING
        self.stats.passivating += 1
        assert entry.ref is not None
        entry.ref.tell(IdleCheck())
        return budget - 1

    # -- handshake answers ------------------------------------------------------------------

    def _map_for(self, key: tuple[int, Any]) -> OrderedDict[Any, _Entry]:
        return self._anon if type(key[1]) is _Anon else self._maps[key[0]]

    def _lookup(self, key: tuple[int, Any], ref: pykka.ActorRef[Any]) -> _Entry | None:
        entry = self._map_for(key).get(key[1])
        if entry is None or entry.ref is not ref:
            return None  # an answer from a handler the router already let go
        return entry

    def _on_idle_answer(self, msg: HandlerIdle) -> None:
        entry = self._lookup(msg.key, msg.ref)
        if entry is None or entry.state != _PASSIVATING:
            return
        self.stats.passivating -= 1
        if msg.closed:
            self._remove(msg.key, entry, passivated=True)
            self._failures.pop(msg.key, None)
            self._respawn_with(msg.key, self._take_buffer(entry))
            return
        entry.state = _ACTIVE
        entry.last = max(entry.last, msg.last_active)
        if self._shutdown is not None:
            self._close(entry)
            return
        self._flush(entry)

    def _on_closing(self, msg: HandlerClosing) -> None:
        entry = self._lookup(msg.key, msg.ref)
        if entry is None:
            return
        if msg.error is not None:
            entry.failed = True
            self.stats.failed += 1
            self._failures[msg.key] = self._failures.get(msg.key, 0) + 1
        if entry.state == _PASSIVATING:
            self.stats.passivating -= 1  # its IdleCheck will go unanswered
        if entry.state != _CLOSING:
            self._close(entry)

    def _close(self, entry: _Entry, reason: BaseException | None = None) -> None:
        entry.state = _CLOSING
        assert entry.ref is not None
        entry.ref.tell(Close(reason if reason is not None else EngineStopping()))

    def _on_moved(self, message: ChatMoved | Evict) -> None:
        """A chat migrated (its handlers follow the new id), or seeds moved to another
        process (their handlers here close)."""
        if isinstance(message, ChatMoved):
            self._follow(message.old, message.new)
        else:
            self._evict(message)

    def _evict(self, message: Evict) -> None:
        for index, seed in message.keys:
            entry = self._maps[index].get(seed) if 0 <= index < len(self._maps) else None
            if entry is None or entry.ref is None or entry.state not in (_ACTIVE, _PASSIVATING):
                continue
            if entry.state == _PASSIVATING:
                self.stats.passivating -= 1  # its IdleCheck answer is now ignored
            self._close(entry, message.reason)

    def _on_closed(self, msg: HandlerClosed) -> None:
        entry = self._lookup(msg.key, msg.ref)
        if entry is None:
            return
        self._remove(msg.key, entry, passivated=False)
        pending = [*msg.returned, *self._take_buffer(entry)]
        if not entry.failed:
            self._failures.pop(msg.key, None)
            self._respawn_with(msg.key, pending)
            return
        index, seed = msg.key
        route = self.routes[index]
        failures = self._failures.get(msg.key, 0)
        if route.on_failure.give_up_after is not None and (
            failures >= route.on_failure.give_up_after
        ):
            self._given_up.add(msg.key)
            log.error("handler.gave_up", route=route.name, seed=repr(seed), failures=failures)
            for delivery in pending:
                self.stats.dropped += 1
                log.warning("router.dropped", reason="seed stopped after failures",
                            route=route.name, update_id=updates.update_id(delivery.update))
                self._give_up(delivery, index, "seed stopped after failures")
            return
        delay = route.on_failure.backoff.delay(failures)
        if delay > 0 and self._shutdown is None and type(seed) is not _Anon:
            placeholder = _Entry(None, self.clock.now())
            placeholder.state = _BACKOFF
            placeholder.buffer = pending
            self.stats.buffered += len(pending)
            self._maps[index][seed] = placeholder
            self.clock.call_later(delay, self._tell_respawn, msg.key)
            return
        self._respawn_with(msg.key, pending)

    def _tell_respawn(self, key: Any) -> None:
        if self.actor_ref.is_alive():
            self.actor_ref.tell(Respawn(key))

    def _on_respawn(self, key: tuple[int, Any]) -> None:
        index, seed = key
        entry = self._maps[index].get(seed)
        if entry is None or entry.state != _BACKOFF:
            return
        del self._maps[index][seed]
        self._respawn_with(key, self._take_buffer(entry))

    def _remove(self, key: tuple[int, Any], entry: _Entry, *, passivated: bool) -> None:
        index, seed = key
        del self._map_for(key)[seed]
        if type(seed) is _Anon:
            del self._anon_route[seed]
        stats = self.stats
        stats.alive -= 1
        name = self.routes[index].handler.__name__
        stats.alive_by_class[name] -= 1
        if passivated:
            stats.passivated += 1
            log.debug("handler.passivated", route=self.routes[index].name, seed=repr(seed))
        else:
            stats.closed += 1
            log.debug("handler.closed", route=self.routes[index].name, seed=repr(seed),
                      failed=entry.failed)
        self._check_shutdown()

    def _respawn_with(self, key: tuple[int, Any], pending: list[Deliver]) -> None:
        """Hand what the old handler did not handle, in order, to a successor."""
        if not pending:
            return
        if self._shutdown is not None:
            self._drop(pending, "stopping")
            return
        index, seed = key
        if type(seed) is _Anon:
            seed = []  # an unhashable seed: each update gets a fresh handler again
        now = self.clock.now()
        for delivery in pending:
            self._deliver(index, seed, delivery, now)

    def _take_buffer(self, entry: _Entry) -> list[Deliver]:
        buffer, entry.buffer = entry.buffer or [], None
        self.stats.buffered -= len(buffer)
        return buffer

    def _flush(self, entry: _Entry) -> None:
        for delivery in self._take_buffer(entry):
            self._send(entry, delivery)

    def _drop(self, pending: list[Deliver], reason: str) -> None:
        """Not handled because the engine stops: the journal replays them at next start."""
        for delivery in pending:
            self.stats.dropped += 1
            log.warning("router.dropped", reason=reason,
                        update_id=updates.update_id(delivery.update))
            self.tracker.abandon(delivery.seq)
            if isinstance(delivery.update, Routed):
                delivery.update.failed(NotRunning(f"not delivered: {reason}"))

    def _give_up(self, delivery: Deliver, index: int, error: str) -> None:
        """This route will never handle ``delivery``: park it if it was owed at least once."""
        if delivery.durable and self.journal is not None:
            self.journal.park(delivery.update, self.routes[index].name, error)
        self.tracker.finish(delivery.seq)
        if isinstance(delivery.update, Routed):
            delivery.update.failed(StateError(f"not delivered: {error}"))

    # -- shutdown ---------------------------------------------------------------------------

    def _begin_shutdown(self) -> pykka.Future[bool]:
        if self._shutdown is None:
            self._shutdown = self._create_future()
            for handlers in (*self._maps, self._anon):
                for key, entry in list(handlers.items()):
                    if entry.state == _ACTIVE:
                        self._close(entry)
                    elif entry.state == _BACKOFF:
                        del handlers[key]
                        self._drop(self._take_buffer(entry), "stopping")
            self._check_shutdown()
        return self._shutdown

    def _check_shutdown(self) -> None:
        if self._shutdown is not None and self.stats.alive == 0:
            with contextlib.suppress(queue.Full):  # already set: a second set is harmless
                self._shutdown.set(True)


def _constant(value: float) -> Callable[[Any], float]:
    return lambda _key: value

