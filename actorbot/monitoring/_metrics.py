"""Prometheus metrics for an engine, read from :meth:`Engine.stats` at each scrape.

Optional: it needs ``prometheus_client`` (``pip install 'actorbot[metrics]'``), imported
only when a collector or server is built, so ``import actorbot`` never requires it. A
custom collector (not gauges updated in the background) means no extra thread, and a
scrape always sees the numbers the periodic ``engine.stats`` log event would show.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final, Self, cast

from actorbot.engine import STATS, Stat
from actorbot.errors import StateError
from actorbot.intake import WSGIThreadServer

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric
    from prometheus_client.registry import CollectorRegistry

    from actorbot.engine import Engine

INSTALL_HINT: Final = "pip install 'actorbot[metrics]'"


def metric_name(stat: Stat, prefix: str = "actorbot") -> str:
    """The exported name: ``prefix_`` + the stats key, ``_s`` spelled ``_seconds`` (the
    Prometheus base unit), then ``_total`` for a counter, so each figure has one name.

    No exception for a key that already ends in ``_total``: a counter family ``x`` exposes
    ``x_total``, so ``buffered_total`` exported as ``..._buffered_total`` would share the
    family name ``..._buffered`` with the ``buffered`` gauge."""
    name = f"{prefix}_{stat.name}"
    if name.endswith("_s"):
        name = f"{name[:-2]}_seconds"
    return f"{name}_total" if stat.kind == "counter" else name


def _prometheus(module: str = "prometheus_client") -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"serve_metrics needs prometheus_client: {INSTALL_HINT}") from exc


class EngineCollector:
    """A Prometheus collector for one engine: one metric per figure of :data:`STATS`.

    Counters become counter families, gauges gauges, and ``info`` figures a gauge with
    one label (``{status="connected"} 1``, ``{handler="Echo"} 2``). A figure with no
    value yet (``update_lag_s`` before the first update) is left out of the scrape.
    """

    def __init__(self, engine: Engine, prefix: str = "actorbot") -> None:
        self._core = _prometheus("prometheus_client.core")  # fails here, not at scrape time
        self.engine = engine
        self.prefix = prefix
        self._names = tuple((stat, metric_name(stat, prefix)) for stat in STATS)

    def describe(self) -> Iterator[Metric]:
        """The families without samples: a registry can refuse a clashing prefix."""
        for stat, name in self._names:
            yield self._family(stat, name)

    def collect(self) -> Iterator[Metric]:
        stats = self.engine.stats()
        for stat, name in self._names:
            value = stats.get(stat.name)
            if value is None:
                continue
            family = self._family(stat, name)
            if stat.label is None:
                family.add_metric([], value)
            else:
                counts = value.items() if isinstance(value, Mapping) else [(str(value), 1)]
                for label, count in sorted(counts):
                    family.add_metric([label], count)
            yield family

    def _family(self, stat: Stat, name: str) -> Any:
        core = self._core
        labels = [] if stat.label is None else [stat.label]
        family = core.CounterMetricFamily if stat.kind == "counter" else core.GaugeMetricFamily
        return family(name, stat.help, labels=labels)


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
            raise StateError("metrics server already started")
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
