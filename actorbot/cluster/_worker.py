"""A worker: one engine fed from the partition streams this process holds by lease.

Two threads besides the engine's, whatever the number of partitions:

- the **reader** blocks on one ``XREADGROUP`` over every partition it reads (``BLOCK``
  bounded by :attr:`Cluster.block`) and feeds what arrives to the engine, in stream order.
  A partition it has just taken is first replayed: ``XAUTOCLAIM`` moves the entries its
  predecessor read but never acknowledged to this consumer, in id order, and they are
  fed before anything new of that partition is read;
- the **keeper** XACKs the entries the engine acknowledged (an entry is acknowledged only
  when its update is: every handler done, every call resolved), and every third of the
  lease TTL beats the worker's heartbeat, renews its leases, hands over partitions beyond
  its share (ceil(partitions / live workers)) once their updates are all acknowledged,
  takes free partitions up to its share, trims the streams below what is still pending,
  and reads each partition's lag.

A graceful :meth:`Worker.stop` stops reading, lets the engine drain, XACKs and releases
every lease at once, so another worker takes over without waiting for expiry; after a
kill the leases expire and the others take over, replaying what was in flight.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import queue
import random
import socket
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any, Final, Self

import structlog

from actorbot.cluster._journal import FIELD, Entry, StateCommit, StreamJournal
from actorbot.cluster._lease import Leases
from actorbot.cluster._limiter import RedisLimiter
from actorbot.cluster._settings import GROUP, Cluster
from actorbot.engine import Engine
from actorbot.errors import EngineBusy, NotRunning, StateError
from actorbot.handlers import CloseReason, declared_state
from actorbot.journal import DeadLetter
from actorbot.routing import Route
from actorbot.runtime import stop_on_signals
from actorbot.seeds import is_hashable
from actorbot.sending import Sending
from actorbot.state import RedisStore

log = structlog.get_logger("actorbot.cluster.worker")


class PartitionMoved(CloseReason):
    """A handler's partition went to another worker: it closes here, and its seed's next
    handler (on the new owner, or here if the partition comes back) loads its state."""

_STOP: Final = object()


def connect(url: str) -> Any:
    """A redis-py client for ``url`` (the ``redis`` extra), answers decoded as text."""
    try:
        import redis  # noqa: PLC0415 - an optional extra
    except ImportError as exc:
        raise ImportError("actorbot.cluster needs the redis extra: "
                          "pip install 'actorbot[redis]'") from exc
    return redis.Redis.from_url(url, decode_responses=True)


def worker_name() -> str:
    """A consumer name unique to this process: host, pid and a random part."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclasses.dataclass
class ClusterStats:
    """Figures of one worker (``Worker.stats()`` adds them to the engine's)."""

    fed: int = 0
    acked: int = 0
    replayed: int = 0
    """Entries fed after a takeover (the predecessor had read, not acknowledged them)."""
    takeovers: int = 0
    """Partitions taken from a worker that did not hand them over (it died)."""
    taken: int = 0
    handed_over: int = 0
    leases_lost: int = 0
    unreadable: int = 0
    redis_errors: int = 0
    lag: dict[int, int] = dataclasses.field(default_factory=dict)
    """Entries of each held partition not yet read by the group."""
    pending: dict[int, int] = dataclasses.field(default_factory=dict)
    """Entries of each held partition read but not acknowledged."""


class Worker:
    """Runs ``routes`` on an :class:`~actorbot.Engine` fed from Redis partitions.

    ``redis``: the URL every process of the bot shares; ``cluster``: the layout (the same
    for the intake and every worker). Routes whose seeds do not follow the partition key
    are refused (:class:`~actorbot.errors.ConfigError`). The sender's bot-wide budget is
    a :class:`RedisLimiter` shared by all workers unless ``sending`` brings a limiter.
    Handlers' declared state lives in a :class:`~actorbot.state.RedisStore` on the same
    Redis unless ``state=`` says otherwise, so a chat moved to another worker keeps it.
    Every other keyword goes to the :class:`~actorbot.Engine` (``handling``,
    ``connection``, ``hooks``...); its intake is always None.
    """

    def __init__(
        self,
        token: str,
        routes: Iterable[Route | tuple[Any, Any]],
        *,
        redis: str,
        cluster: Cluster | None = None,
        sending: Sending | None = None,
        name: str | None = None,
        **engine_options: Any,
    ) -> None:
        self.cluster = cluster = cluster or Cluster()
        checked = [r if isinstance(r, Route) else Route(*r) for r in routes]
        cluster.check_routes(checked)
        self.name = name or worker_name()
        self.keys = keys = cluster.keys(token)
        self._redis = connect(redis)
        self._reader_redis = connect(redis)  # its own connection: it blocks
        self._leases = Leases(self._redis)
        sending = sending or Sending()
        if sending.limiter is None:
            sending = dataclasses.replace(
                sending, limiter=RedisLimiter(self._redis, keys, sending.limits))
        self._acks: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.journal = StreamJournal(self._acks.put, self._acks.put)
        if "state" not in engine_options and any(
                declared_state(r.handler) is not None for r in checked):
            # State follows the seed: any worker that takes the chat over finds it here.
            engine_options["state"] = RedisStore(redis, prefix=f"{keys.prefix}:state:")
        store = engine_options.get("state")
        if isinstance(store, RedisStore):  # committed with the XACKs: exactly-once state
            self.journal.state_store = store
        self.engine = Engine(token, checked, intake=None, journal=self.journal,
                             sending=sending, **engine_options)
        self.stats_ = ClusterStats()
        self._lock = threading.Lock()
        self._held: set[int] = set()
        self._active: set[int] = set()
        self._draining: set[int] = set()
        self._fresh: list[tuple[int, bool, int]] = []
        """Partitions to claim pending entries of: (partition, takeover, min idle ms)."""
        self._reading: frozenset[int] = frozenset()
        """Partitions of the XREADGROUP under way: none is handed over meanwhile."""
        self._outstanding: dict[int, int] = {}
        self._seeds: OrderedDict[tuple[int, Any], tuple[int, float]] = OrderedDict()
        """(route index, seed) -> (partition, last seen), least recently seen first, for
        seeds whose handler idles out; forgotten well after their handler passivated."""
        self._lasting: dict[tuple[int, Any], int] = {}
        """The same for routes without an idle timeout (their handlers live on)."""
        idles = [r.idle_timeout for r in checked]
        self._forget_after = (2 * max(t for t in idles if t is not None) + 1.0
                              if any(t is not None for t in idles) else math.inf)
        self._lasts = [r.idle_timeout is None for r in checked]
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._signalled = threading.Event()
        self._reader: threading.Thread | None = None
        self._keeper: threading.Thread | None = None
        self._unacked: list[Entry] = []
        self._uncommitted: list[StateCommit] = []
        self._started = False

    def __repr__(self) -> str:
        return f"Worker(name={self.name!r}, partitions={sorted(self._held)})"

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> Self:
        if self._started:
            raise StateError("a Worker runs once: build a new one")
        self._started = True
        self.engine.start()
        self._keeper = threading.Thread(target=self._keep, name="actorbot-cluster-keeper")
        self._reader = threading.Thread(target=self._read, name="actorbot-cluster-reader")
        self._keeper.start()
        self._reader.start()
        log.info("cluster.worker_started", worker=self.name, partitions=self.cluster.partitions)
        return self

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop reading, drain the engine, XACK, hand every partition over; True if the
        engine drained within ``timeout`` (what it did not is replayed by the next owner)."""
        if self._stopping.is_set():
            return True
        if not self._started:  # built, never started: only the connections to close
            self._stopping.set()
            for client in (self._redis, self._reader_redis):
                client.close()
            return True
        deadline = time.monotonic() + timeout
        self._stopping.set()
        self._wake.set()
        if self._reader is not None:
            self._reader.join(max(deadline - time.monotonic(), 0.1))
        drained = self.engine.stop(max(deadline - time.monotonic(), 0.1))
        self._acks.put(_STOP)
        if self._keeper is not None:
            self._keeper.join(max(deadline - time.monotonic(), 1.0))
        for client in (self._redis, self._reader_redis):
            client.close()
        log.info("cluster.worker_stopped", worker=self.name, drained=drained)
        return drained

    def run_forever(self) -> None:
        """Run until SIGINT/SIGTERM (from the main thread), then :meth:`stop`."""
        if not self._started:
            self.start()
        try:
            with stop_on_signals(self._signalled, "cluster.signal"):
                self._signalled.wait()
        finally:
            self.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def partitions(self) -> list[int]:
        """The partitions this worker holds now."""
        with self._lock:
            return sorted(self._held)

    def stats(self) -> dict[str, Any]:
        """The engine's figures plus ``cluster_*``: ownership, lag, takeovers."""
        figures = self.engine.stats()
        cs = self.stats_
        with self._lock:
            figures.update(
                cluster_worker=self.name, cluster_partitions=sorted(self._held),
                cluster_fed=cs.fed, cluster_acked=cs.acked, cluster_replayed=cs.replayed,
                cluster_takeovers=cs.takeovers, cluster_taken=cs.taken,
                cluster_handed_over=cs.handed_over, cluster_leases_lost=cs.leases_lost,
                cluster_unreadable=cs.unreadable, cluster_redis_errors=cs.redis_errors,
                cluster_lag=dict(cs.lag), cluster_pending=dict(cs.pending))
        return figures

    # -- the reader -------------------------------------------------------------------------

    def _read(self) -> None:
        cluster, keys = self.cluster, self.keys
        block_ms = max(int(cluster.block * 1000), 1)
        while not self._stopping.is_set():
            with self._lock:
                fresh, self._fresh = self._fresh, []
            for partition, takeover, idle in fresh:
                self._claim(partition, takeover, idle)
            with self._lock:
                streams = {keys.stream(p): ">" for p in sorted(self._active)}
                self._reading = frozenset(self._active)
            if not streams:
                self._wake.wait(cluster.block)
                self._wake.clear()
                continue
            try:
                answer: Any = self._reader_redis.xreadgroup(
                    GROUP, self.name, streams, count=cluster.batch, block=block_ms)
            except Exception as exc:  # noqa: BLE001 - Redis away: retry, never spin
                self._redis_error("read", exc)
                self._stopping.wait(cluster.block)
                continue
            for stream, entries in answer or ():
                self._feed(int(stream.rpartition(":")[2]), entries)
            with self._lock:
                self._reading = frozenset()

    def _claim(self, partition: int, takeover: bool, idle: int = 0) -> None:
        """Replay the entries a predecessor (or this worker, earlier) read but did not
        acknowledge, in id order, before reading anything new of ``partition`` (``idle``:
        only entries unacknowledged that many ms, the safety net for a stalled worker's)."""
        stream = self.keys.stream(partition)
        start = "0-0"
        replayed = 0
        try:
            self._redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
        except Exception as exc:  # noqa: BLE001 - BUSYGROUP: it exists
            if "BUSYGROUP" not in str(exc):
                self._redis_error("create group", exc)
        while not self._stopping.is_set():
            try:
                answer: Any = self._redis.xautoclaim(
                    stream, GROUP, self.name, min_idle_time=idle, start_id=start,
                    count=self.cluster.batch)
            except Exception as exc:  # noqa: BLE001 - give the lease up: retried later
                self._redis_error("claim", exc)
                with self._lock:
                    self._draining.add(partition)
                return
            start, entries = answer[0], answer[1]
            replayed += self._feed(partition, entries)
            if start in ("0-0", b"0-0"):
                break
        with self._lock:
            self.stats_.replayed += replayed
            if partition in self._held and partition not in self._draining:
                self._active.add(partition)
        if takeover or replayed:
            log.info("cluster.partition_replayed", worker=self.name, partition=partition,
                     entries=replayed, takeover=takeover)

    def _feed(self, partition: int, entries: Sequence[Any]) -> int:
        """Feed ``entries`` of ``partition`` in order; returns how many were fed."""
        parsed: list[tuple[str, Any]] = []
        bad: list[Entry] = []
        for entry in entries:
            if entry is None:
                continue
            entry_id, fields = entry
            try:
                parsed.append((entry_id, json.loads(fields[FIELD])))
            except (KeyError, TypeError, ValueError):
                bad.append((partition, entry_id))
        with self._lock:
            if partition not in self._held:
                return 0  # lost meanwhile: pending, for the owner's safety net
            self._outstanding[partition] = (
                self._outstanding.get(partition, 0) + len(parsed) + len(bad))
            self.stats_.unreadable += len(bad)
        if bad:
            log.error("cluster.unreadable_entries", partition=partition, entries=len(bad))
        orphans = self.journal.expect(partition, parsed)
        if bad or orphans:
            self._acks.put(bad + orphans)
        updates = [update for _, update in parsed]
        while updates:
            try:
                self.engine.feed(updates, timeout=self.cluster.block)
                break
            except EngineBusy:
                if not self._stopping.is_set():
                    continue
            except NotRunning:
                pass
            taken = self.journal.forget(updates)  # not fed: pending, for the next owner
            with self._lock:
                self._outstanding[partition] -= len(taken)
            return 0
        self._note_seeds(partition, updates)
        return len(updates)

    def _note_seeds(self, partition: int, updates: list[Any]) -> None:
        """Remember which handlers these updates reached, for :meth:`_evict`."""
        keys = self._seeds_of(updates)
        now = time.monotonic()
        with self._lock:
            self.stats_.fed += len(updates)
            seeds, lasting = self._seeds, self._lasting
            for key in keys:
                if self._lasts[key[0]]:
                    lasting[key] = partition
                else:
                    seeds[key] = (partition, now)
                    seeds.move_to_end(key)

    def _seeds_of(self, updates: list[Any]) -> set[tuple[int, Any]]:
        keys: set[tuple[int, Any]] = set()
        for index, route in enumerate(self.engine.routes):
            for update in updates:
                try:
                    seed = route.seed(update)
                except Exception:  # noqa: BLE001, S112 - the router logs it
                    continue
                if seed is not None and is_hashable(seed):
                    keys.add((index, seed))
        return keys

    def _evict(self, partition: int) -> None:
        """Close the handlers of a partition that left: one that stayed alive here would
        hold stale state if the partition came back."""
        with self._lock:
            keys = [k for k, (p, _) in self._seeds.items() if p == partition]
            keys += [k for k, p in self._lasting.items() if p == partition]
            for key in keys:
                self._seeds.pop(key, None)
                self._lasting.pop(key, None)
        self.engine.evict(keys, PartitionMoved(f"partition {partition} moved"))

    def _forget_seeds(self) -> None:
        """Drop seeds not seen for twice the longest idle timeout: their handlers are gone
        (memory stays proportional to live handlers, not to every chat ever seen)."""
        horizon = time.monotonic() - self._forget_after
        with self._lock:
            seeds = self._seeds
            while seeds:
                key, (_, seen) = next(iter(seeds.items()))
                if seen >= horizon:
                    break
                del seeds[key]

    # -- the keeper -------------------------------------------------------------------------

    def _keep(self) -> None:
        period = self.cluster.lease_ttl / 3
        stats_every = self.engine.stats_interval
        next_tick = time.monotonic()
        next_stats = next_tick + (stats_every or math.inf)
        while True:
            try:
                item = self._acks.get(timeout=max(next_tick - time.monotonic(), 0.0))
            except queue.Empty:
                item = None
            finished, commits, dead, stop = self._gather(item)
            self._xack(finished, commits)
            if dead:
                self._park(dead)
            if stop:
                self._release_all()
                return
            now = time.monotonic()
            if now >= next_tick:
                try:
                    self._tick()
                except Exception as exc:  # noqa: BLE001 - Redis away: next tick retries
                    self._redis_error("tick", exc)
                next_tick = time.monotonic() + period
            if now >= next_stats:
                log.info("cluster.stats", **{k: v for k, v in self.stats().items()
                                             if k.startswith("cluster_")})
                next_stats = now + (stats_every or math.inf)

    def _gather(self, item: Any) -> tuple[list[Entry], list[StateCommit], list[DeadLetter],
                                          bool]:
        """``item`` and everything queued behind it, by kind (and whether to stop)."""
        finished: list[Entry] = []
        commits: list[StateCommit] = []
        dead: list[DeadLetter] = []
        stop = False
        while item is not None:
            if item is _STOP:
                stop = True
            elif isinstance(item, DeadLetter):
                dead.append(item)
            elif isinstance(item, StateCommit):
                commits.append(item)
            else:
                finished += item
            try:
                item = self._acks.get_nowait()
            except queue.Empty:
                item = None
        return finished, commits, dead, stop

    def _xack(self, finished: list[Entry], commits: list[StateCommit]) -> None:
        """XACK ``finished``, and write the state of ``commits`` with their XACKs in the
        same transaction (all or nothing: a kill leaves state and pending list agreeing)."""
        entries = self._unacked + finished
        commits = self._uncommitted + commits
        for commit in commits:
            entries += commit.entries
        if not entries and not commits:
            return
        by_partition: dict[int, list[str]] = {}
        for partition, entry_id in entries:
            by_partition.setdefault(partition, []).append(entry_id)
        store = self.journal.state_store
        try:
            pipe = self._redis.pipeline(transaction=bool(commits))
            if commits:
                assert isinstance(store, RedisStore)
                store.queue_writes(pipe, [row for c in commits for row in c.rows])
            for partition, ids in by_partition.items():
                pipe.xack(self.keys.stream(partition), GROUP, *ids)
            pipe.execute()
        except Exception as exc:  # noqa: BLE001 - kept, written at the next try
            self._unacked = self._unacked + finished
            self._uncommitted = commits
            self._redis_error("ack", exc)
            return
        self._unacked, self._uncommitted = [], []
        for commit in commits:
            commit.done()
        with self._lock:
            for partition, ids in by_partition.items():
                self._outstanding[partition] = self._outstanding.get(partition, 0) - len(ids)
            self.stats_.acked += len(entries)

    def _park(self, dead: list[DeadLetter]) -> None:
        """Dead letters go to one stream per bot, for an operator (never retried)."""
        try:
            pipe = self._redis.pipeline(transaction=False)
            for letter in dead:
                pipe.xadd(self.keys.dead_letters, {
                    "update_id": letter.update_id, "route": letter.route,
                    "error": letter.error, "worker": self.name,
                    FIELD: json.dumps(letter.update, separators=(",", ":"))},
                    maxlen=10_000, approximate=True)
            pipe.execute()
        except Exception as exc:  # noqa: BLE001 - the worker's own list still has them
            self._redis_error("park", exc)

    def _tick(self) -> None:
        cluster, keys, leases = self.cluster, self.keys, self._leases
        ttl_ms = int(cluster.lease_ttl * 1000)
        live = int(leases.heartbeat(keys=[keys.workers], args=[self.name, ttl_ms]))
        with self._lock:
            held = sorted(self._held)
        if held:
            still: Any = leases.renew(keys=[keys.lease(p) for p in held],
                                      args=[self.name, ttl_ms])
            for partition, ok in zip(held, still, strict=True):
                if not int(ok):
                    self._lost(partition)
        share = math.ceil(cluster.partitions / max(live, 1))
        with self._lock:
            serving = sorted(self._held - self._draining)
            extra = serving[share:] if len(serving) > share else []
            for partition in extra:  # beyond our share: hand over once acknowledged
                self._draining.add(partition)
                self._active.discard(partition)
            ready = [p for p in self._draining
                     if self._outstanding.get(p, 0) <= 0 and p not in self._reading]
            for partition in ready:
                self._held.discard(partition)
                self._draining.discard(partition)
        for partition in ready:
            self._release(partition)
        self._acquire(share)
        self._observe()
        self._forget_seeds()

    def _lost(self, partition: int) -> None:
        with self._lock:
            self._held.discard(partition)
            self._active.discard(partition)
            self._draining.discard(partition)
            self.stats_.leases_lost += 1
        self._evict(partition)
        log.warning("cluster.lease_lost", worker=self.name, partition=partition)

    def _acquire(self, share: int) -> None:
        cluster, keys = self.cluster, self.keys
        ttl_ms = int(cluster.lease_ttl * 1000)
        with self._lock:
            room = share - len(self._held - self._draining)
            held = set(self._held)
        if room <= 0 or self._stopping.is_set():
            return
        first = random.randrange(cluster.partitions)  # noqa: S311 - spreads, not secret
        for step in range(cluster.partitions):
            partition = (first + step) % cluster.partitions
            if partition in held:
                continue
            got = int(self._leases.acquire(
                keys=[keys.lease(partition), keys.last_owner(partition)],
                args=[self.name, ttl_ms]))
            if not got:
                continue
            takeover = got == 2
            with self._lock:
                self._held.add(partition)
                self._fresh.append((partition, takeover, 0))
                self.stats_.taken += 1
                self.stats_.takeovers += takeover
            if takeover:
                self._redis.incr(keys.takeovers)
            log.info("cluster.partition_taken", worker=self.name, partition=partition,
                     takeover=takeover)
            room -= 1
            if room <= 0:
                break
        self._wake.set()

    def _release(self, partition: int) -> None:
        keys = self.keys
        self._evict(partition)
        self._leases.release(keys=[keys.lease(partition), keys.last_owner(partition)],
                             args=[self.name])
        with self._lock:
            self.stats_.handed_over += 1
            self.stats_.lag.pop(partition, None)
            self.stats_.pending.pop(partition, None)
        log.info("cluster.partition_handed_over", worker=self.name, partition=partition)

    def _release_all(self) -> None:
        with self._lock:
            held = sorted(self._held)
            self._held.clear()
            self._active.clear()
            self._draining.clear()
        try:
            for partition in held:
                self._release(partition)
            self._redis.zrem(self.keys.workers, self.name)
        except Exception as exc:  # noqa: BLE001 - the leases expire by themselves
            self._redis_error("release", exc)

    def _observe(self) -> None:
        """Lag and pending per held partition; trim each stream below what is pending."""
        with self._lock:
            held = sorted(self._held)
        if not held:
            return
        pipe = self._redis.pipeline(transaction=False)
        for partition in held:
            pipe.xinfo_groups(self.keys.stream(partition))
            pipe.xpending(self.keys.stream(partition), GROUP)
        answers: list[Any] = pipe.execute(raise_on_error=False)
        trims: list[tuple[str, str]] = []
        lag: dict[int, int] = {}
        pending: dict[int, int] = {}
        orphans: list[int] = []
        for i, partition in enumerate(held):
            groups, summary = answers[2 * i], answers[2 * i + 1]
            if isinstance(groups, Exception) or isinstance(summary, Exception):
                continue
            group = next((g for g in groups if g.get("name") == GROUP), None)
            if group is None:
                continue
            lag[partition] = int(group.get("lag") or 0)
            pending[partition] = int(summary.get("pending") or 0)
            if any(c.get("name") != self.name for c in summary.get("consumers") or ()):
                orphans.append(partition)  # a stalled worker's, read after it lost the lease
            low = summary.get("min") if pending[partition] else group.get("last-delivered-id")
            if low and low != "0-0":
                trims.append((self.keys.stream(partition), low))
        with self._lock:
            self.stats_.lag, self.stats_.pending = lag, pending
            idle = int(self.cluster.lease_ttl * 2000)
            self._fresh += [(p, False, idle) for p in orphans
                            if p in self._active and (p, False, idle) not in self._fresh]
        if trims:
            pipe = self._redis.pipeline(transaction=False)
            for stream, low in trims:
                pipe.xtrim(stream, minid=low, approximate=True)
            pipe.execute(raise_on_error=False)

    def _redis_error(self, what: str, exc: BaseException) -> None:
        with self._lock:
            self.stats_.redis_errors += 1
        log.warning("cluster.redis_error", worker=self.name, during=what,
                    error=type(exc).__name__)
