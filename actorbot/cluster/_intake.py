"""The intake: the one process per token that polls Telegram and appends to partitions.

It holds the leader lease (``{prefix}:intake``) while it polls, renewing it every third of
the TTL; a second intake waits, and takes over when the leader stops or dies (its lease
expires). Polling is the engine's own poller (409, 429, backoff, backpressure), whose
journal is an :class:`Appender`: each batch is appended, deduplicated and the next offset
stored in one script, fenced by the lease, before the next ``getUpdates`` confirms it to
Telegram. A new leader resumes from the stored offset, so nothing is lost or appended
twice. Its engine routes nothing: the workers handle the updates.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Self

import structlog

from actorbot.api import Connection
from actorbot.cluster._journal import Appender
from actorbot.cluster._lease import Leases
from actorbot.cluster._settings import GROUP, Cluster
from actorbot.cluster._worker import connect, worker_name
from actorbot.engine import Engine, Handling
from actorbot.errors import StateError
from actorbot.handlers import Handler
from actorbot.intake import Polling, Webhook
from actorbot.routing import Route
from actorbot.runtime import stop_on_signals

log = structlog.get_logger("actorbot.cluster.intake")


class _Nobody(Handler):
    """Never spawned: the intake's engine routes nothing."""


def _no_seed(update: Any) -> None:
    return None


class Intake:
    """Polls (``intake=Polling(...)``) while it holds the leader lease, or takes webhook
    updates through :meth:`feed` (``intake=Webhook(...)``: any number of webhook
    processes may append, no lease); see the module docstring."""

    def __init__(
        self,
        token: str,
        *,
        redis: str,
        cluster: Cluster | None = None,
        intake: Polling | Webhook | None = None,
        connection: Connection | None = None,
        max_in_flight: int = 1000,
        name: str | None = None,
        on_leader: Callable[[bool], None] | None = None,
    ) -> None:
        self.cluster = cluster = cluster or Cluster()
        self.keys = cluster.keys(token)
        self.name = name or worker_name()
        self.intake = intake if intake is not None else Polling()
        self.polling = isinstance(self.intake, Polling)
        self.connection = connection or Connection()
        self.max_in_flight = max_in_flight
        self.on_leader = on_leader
        self._token = token
        self._redis = connect(redis)
        self._leases = Leases(self._redis)
        self.journal = Appender(self._redis, cluster, self.keys,
                                self.name if self.polling else None)
        self.engine: Engine | None = None
        self.terms = 0
        """Leadership terms so far (each one a fresh engine)."""
        self.error: BaseException | None = None
        """Why polling stopped for good (a refused token, a webhook set...), if it did."""
        self._stopping = threading.Event()
        self._signalled = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Intake(name={self.name!r}, leader={self.leader})"

    @property
    def leader(self) -> bool:
        engine = self.engine
        return engine is not None and engine.running

    def _new_engine(self) -> Engine:
        return Engine(self._token, [Route(_no_seed, _Nobody, idle_timeout=None)],
                      intake=self.intake, connection=self.connection, journal=self.journal,
                      handling=Handling(max_in_flight=self.max_in_flight), commands=False,
                      stats_interval=None)

    def _create_groups(self) -> None:
        """The partitions' consumer groups, from their first entry. Only a head start:
        each worker creates its partitions' group too, so with Redis away this warns and
        the intake goes on (as it does when the lease cannot be asked for)."""
        for partition in range(self.cluster.partitions):
            try:
                self._redis.xgroup_create(self.keys.stream(partition), GROUP, id="0",
                                          mkstream=True)
            except Exception as exc:  # noqa: BLE001 - BUSYGROUP: it exists; else retried
                if "BUSYGROUP" not in str(exc):
                    log.warning("cluster.redis_error", during="create groups",
                                error=type(exc).__name__)
                    return

    def start(self) -> Self:
        """Webhook: start the engine now. Polling: start the thread that polls whenever
        this intake holds the lease (it may wait for another intake's to expire)."""
        if self._thread is not None or self.engine is not None:
            raise StateError("an Intake runs once: build a new one")
        if not self.polling:
            self._create_groups()
            self.engine = self._new_engine().start()
            return self
        self._thread = threading.Thread(target=self._lead, name="actorbot-cluster-intake")
        self._thread.start()
        return self

    def feed(self, updates: Any, *, timeout: float | None = None) -> None:
        """Append updates from a webhook (``WebhookApp(intake.feed)``): when it returns,
        Redis has them, so the 200 may go."""
        engine = self.engine
        if engine is None:
            raise StateError("start() the intake before feeding it")
        engine.feed(updates, timeout=timeout)

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
        elif self.engine is not None:
            self.engine.stop(timeout)
        self._redis.close()

    def run_forever(self) -> None:
        """Run until SIGINT/SIGTERM (from the main thread) or until polling stops for good,
        then :meth:`stop`; raises that :class:`~actorbot.errors.PollingStopped` if so."""
        if self._thread is None and self.engine is None:
            self.start()
        try:
            with stop_on_signals(self._signalled, "cluster.signal"):
                self._signalled.wait()
        finally:
            self.stop()
        if self.error is not None:
            raise self.error

    def _lead(self) -> None:
        keys, ttl = self.keys, self.cluster.lease_ttl
        ttl_ms, period = int(ttl * 1000), ttl / 3
        while not self._stopping.is_set():
            try:
                got = int(self._leases.acquire(keys=[keys.leader, keys.leader + ":last"],
                                               args=[self.name, ttl_ms]))
            except Exception as exc:  # noqa: BLE001 - Redis away: try again
                log.warning("cluster.redis_error", during="acquire", error=type(exc).__name__)
                got = 0
            if not got:
                self._stopping.wait(period)
                continue
            self.terms += 1
            log.info("cluster.intake_leader", intake=self.name, takeover=got == 2)
            self._create_groups()
            self._term(ttl_ms, period)
        log.info("cluster.intake_stopped", intake=self.name)

    def _term(self, ttl_ms: int, period: float) -> None:
        """Poll while the lease holds; stop polling as soon as it is lost or on stop."""
        keys = self.keys
        engine = self.engine = self._new_engine()
        try:
            engine.start()
        except Exception as exc:  # noqa: BLE001 - e.g. the API is away: retried next term
            log.error("cluster.intake_failed", error=type(exc).__name__)
            self._release(keys)
            self._stopping.wait(period)
            return
        if self.on_leader is not None:
            self.on_leader(True)
        try:
            while not self._stopping.wait(period):
                if engine.error is not None:  # the poller gave up: so does the intake
                    log.error("cluster.intake_failed", error=type(engine.error).__name__)
                    self.error = engine.error
                    self._stopping.set()
                    self._signalled.set()
                    break
                try:
                    still: Any = self._leases.renew(keys=[keys.leader],
                                                    args=[self.name, ttl_ms])
                except Exception as exc:  # noqa: BLE001 - cannot renew: stop polling
                    log.warning("cluster.redis_error", during="renew",
                                error=type(exc).__name__)
                    break
                if not int(still[0]):
                    log.warning("cluster.lease_lost", intake=self.name)
                    break
        finally:
            engine.stop()
            self._release(keys)
            if self.on_leader is not None:
                self.on_leader(False)

    def _release(self, keys: Any) -> None:
        try:
            self._leases.release(keys=[keys.leader, keys.leader + ":last"], args=[self.name])
        except Exception as exc:  # noqa: BLE001 - it expires by itself
            log.warning("cluster.redis_error", during="release", error=type(exc).__name__)
