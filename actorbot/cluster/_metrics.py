"""Prometheus metrics of a worker: the engine's, plus partition ownership, lag and
pending per partition, and the cluster counters (``takeovers``...), read from
:meth:`Worker.stats` at each scrape (no thread of its own, as the engine collector)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final, cast

from actorbot.monitoring import MetricsServer

if TYPE_CHECKING:
    from actorbot.cluster._worker import Worker

_COUNTERS: Final = (
    ("fed", "entries fed to the engine"),
    ("acked", "entries acknowledged (XACK)"),
    ("replayed", "entries replayed after taking a partition over"),
    ("takeovers", "partitions taken from a worker that died"),
    ("taken", "partitions taken (free, handed over or taken over)"),
    ("handed_over", "partitions handed over gracefully"),
    ("leases_lost", "leases found lost at renewal (a stall longer than the TTL)"),
    ("unreadable", "stream entries that were not an update's JSON"),
    ("redis_errors", "Redis commands that failed (retried)"),
)


def _core() -> Any:
    try:
        return importlib.import_module("prometheus_client.core")
    except ImportError as exc:
        raise ImportError("worker metrics need prometheus_client: "
                          "pip install 'actorbot[metrics]'") from exc


class ClusterCollector:
    """``actorbot_cluster_*`` for one worker (labelled by ``worker``)."""

    def __init__(self, worker: Worker, prefix: str = "actorbot_cluster") -> None:
        self._core = _core()
        self.worker = worker
        self.prefix = prefix

    def describe(self) -> Iterator[Any]:
        return iter(self._families({}))

    def collect(self) -> Iterator[Any]:
        return iter(self._families(self.worker.stats()))

    def _families(self, stats: dict[str, Any]) -> list[Any]:
        core, p, name = self._core, self.prefix, self.worker.name
        held = core.GaugeMetricFamily(f"{p}_partition_held", "1 for each partition this "
                                      "worker holds", labels=["worker", "partition"])
        lag = core.GaugeMetricFamily(f"{p}_partition_lag", "entries not yet read, per held "
                                     "partition", labels=["partition"])
        pending = core.GaugeMetricFamily(f"{p}_partition_pending", "entries read and not "
                                         "acknowledged, per held partition",
                                         labels=["partition"])
        families = [held, lag, pending]
        for partition in stats.get("cluster_partitions", ()):
            held.add_metric([name, str(partition)], 1)
        for partition, value in sorted(stats.get("cluster_lag", {}).items()):
            lag.add_metric([str(partition)], value)
        for partition, value in sorted(stats.get("cluster_pending", {}).items()):
            pending.add_metric([str(partition)], value)
        for key, help_text in _COUNTERS:
            family = core.CounterMetricFamily(f"{p}_{key}", help_text, labels=[])
            if f"cluster_{key}" in stats:
                family.add_metric([], stats[f"cluster_{key}"])
            families.append(family)
        return families


def serve_worker_metrics(worker: Worker, port: int, host: str = "127.0.0.1") -> MetricsServer:
    """Start serving the worker's engine and cluster metrics at ``http://host:port/metrics``."""
    prom = importlib.import_module("prometheus_client")
    registry = prom.CollectorRegistry()
    prom.ProcessCollector(registry=registry)
    registry.register(cast(Any, ClusterCollector(worker)))
    return MetricsServer(worker.engine, port, host, registry=registry).start()
