"""Prometheus metrics for an engine, read from :meth:`Engine.stats` at each scrape.

Optional: it needs ``prometheus_client`` (``pip install 'actorbot[metrics]'``), imported
only when a collector or server is built, so ``import actorbot`` never requires it. A
custom collector (not gauges updated in the background) means no extra thread, and a
scrape always sees the numbers the periodic ``engine.stats`` log event would show.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final, Self, cast

from actorbot.intake import WSGIThreadServer

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric
    from prometheus_client.registry import CollectorRegistry

    from actorbot.engine import Engine

INSTALL_HINT: Final = "pip install 'actorbot[metrics]'"

# engine.stats() key -> (metric name without prefix, "counter" | "gauge", help text).
_METRICS: Final[dict[str, tuple[str, str, str]]] = {
    "spawned": ("handlers_spawned", "counter", "Handler actors started."),
    "passivated": ("handlers_passivated", "counter", "Handlers stopped after their idle timeout."),
    "closed": ("handlers_closed", "counter", "Handlers that closed themselves."),
    "failed": ("handlers_failed", "counter", "Handlers stopped by an exception."),
    "passivating": ("handlers_passivating", "gauge", "Handlers draining before they stop."),
    "in_flight": ("updates_in_flight", "gauge", "Updates fetched and not yet handled."),
    "buffered": ("updates_buffered", "gauge", "Updates held while their handler passivates."),
    "fetched": ("updates_fetched", "counter", "Updates received from getUpdates."),
    "handled": ("updates_handled", "counter", "Updates fully handled."),
    "skipped": ("updates_skipped", "counter", "Updates no route wanted."),
    "malformed": ("updates_malformed", "counter", "Updates that were not valid updates."),
    "dropped": ("updates_dropped", "counter", "Updates dropped (a seed that gave up)."),
    "sender_queue": ("sender_queue_depth", "gauge", "Outgoing calls waiting in the sender."),
    "sender_in_flight": ("sender_in_flight", "gauge", "Outgoing calls on the wire."),
    "sender_calls": ("sender_calls", "counter", "Outgoing calls completed."),
    "sender_failed": ("sender_failed", "counter", "Outgoing calls that ended in an error."),
    "sender_retries": ("sender_retries", "counter", "Outgoing call retries."),
    "sender_bucket_wait_s": ("sender_bucket_wait_seconds", "counter",
                             "Time calls waited for rate-limit buckets."),
    "polls": ("polls", "counter", "getUpdates requests that succeeded."),
    "poll_errors": ("poll_errors", "counter", "getUpdates requests that failed."),
    "update_lag_s": ("update_lag_seconds", "gauge",
                     "Seconds since the date of the newest routed update."),
    "hook_failures": ("hook_failures", "counter",
                      "Exceptions from tolerated hooks (callback and inline queries)."),
    "banned": ("updates_banned", "counter", "Updates dropped because the sender is banned."),
    "journal_pending": ("journal_pending", "gauge", "Updates recorded and not yet handled."),
    "duplicates": ("updates_duplicate", "counter", "Updates dropped as already seen."),
    "replayed": ("updates_replayed", "counter", "Pending updates replayed at a start."),
    "dead_letters": ("dead_letters", "gauge", "Parked updates the journal keeps."),
}
# Read by hand below: per-class gauge, 429s by component, status.
_SPECIAL: Final = frozenset({"handlers_alive", "handlers_by_class", "sender_rate_limited",
                             "poll_rate_limited", "status"})
_NOT_A_NAME: Final = re.compile(r"[^a-zA-Z0-9_]")


def _prometheus(module: str = "prometheus_client") -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"serve_metrics needs prometheus_client: {INSTALL_HINT}") from exc


class EngineCollector:
    """A Prometheus collector for one engine. ``prefix`` starts every metric name.

    Stats keys it does not know (added by newer engine parts) are exported as gauges
    named after the key, so nothing the engine counts is invisible.
    """

    def __init__(self, engine: Engine, prefix: str = "actorbot") -> None:
        self._core = _prometheus("prometheus_client.core")  # fails here, not at scrape time
        self.engine = engine
        self.prefix = prefix

    def describe(self) -> list[Metric]:
        return []  # names depend on the stats at scrape time; skip registration checks

    def collect(self) -> Iterator[Metric]:
        core, p = self._core, self.prefix
        stats = self.engine.stats()
        alive = core.GaugeMetricFamily(f"{p}_handlers_alive", "Live handler actors by class.",
                                       labels=["handler"])
        for name, count in sorted(stats.get("handlers_by_class", {}).items()):
            alive.add_metric([name], count)
        yield alive
        limited = core.CounterMetricFamily(
            f"{p}_rate_limited", "429 Too Many Requests answers from Telegram, by component.",
            labels=["component"])
        limited.add_metric(["sender"], stats.get("sender_rate_limited", 0))
        limited.add_metric(["poller"], stats.get("poll_rate_limited", 0))
        yield limited
        status = core.GaugeMetricFamily(f"{p}_engine_status", "1 for the engine's status.",
                                        labels=["status"])
        status.add_metric([str(stats.get("status", "unknown"))], 1)
        yield status
        for key, value in stats.items():
            if key in _SPECIAL or isinstance(value, bool) or not isinstance(value, int | float):
                continue  # None (no lag yet), strings, dicts
            name, kind, doc = _METRICS.get(
                key, (_NOT_A_NAME.sub("_", key), "gauge", f"engine.stats()[{key!r}]"))
            family = core.CounterMetricFamily if kind == "counter" else core.GaugeMetricFamily
            yield family(f"{p}_{name}", doc, value=value)


class MetricsServer:
    """``GET /metrics`` for one engine on ``host:port`` (0: a free port), on one thread.

    By default a registry of its own holds the engine collector plus the process collector
    (memory, CPU, open files); pass ``registry`` to add it to one you already serve.
    """

    def __init__(
        self,
        engine: Engine,
        port: int = 0,
        host: str = "127.0.0.1",
        *,
        registry: CollectorRegistry | None = None,
        prefix: str = "actorbot",
    ) -> None:
        prom = _prometheus()
        self.collector = EngineCollector(engine, prefix)
        if registry is None:
            registry = prom.CollectorRegistry()
            prom.ProcessCollector(registry=registry)
        self.registry = registry
        self.registry.register(cast(Any, self.collector))
        self._host, self._port = host, port
        self._server: WSGIThreadServer | None = None

    @property
    def port(self) -> int:
        return self._server.port if self._server is not None else self._port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}/metrics"

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("metrics server already started")
        app = _prometheus().make_wsgi_app(self.registry)
        self._server = WSGIThreadServer(app, self._host, self._port, name="actorbot-metrics")
        self._server.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, close the socket, join the threads (a scrape that hangs included)."""
        server = self._server
        if server is None:
            return
        server.stop(timeout)
        self._port = server.port
        self._server = None

    def __enter__(self) -> Self:
        """Starts it unless already started (``with serve_metrics(engine, port):`` works)."""
        return self if self._server is not None else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve_metrics(engine: Engine, port: int, host: str = "127.0.0.1") -> MetricsServer:
    """Start serving ``engine``'s metrics at ``http://host:port/metrics``; ``stop()`` it."""
    return MetricsServer(engine, port, host).start()
