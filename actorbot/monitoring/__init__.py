"""What operators watch: log configuration for applications, Prometheus metrics."""

from actorbot.monitoring._logging import LOG_FORMATS, RedactSecrets, configure_logging
from actorbot.monitoring._metrics import EngineCollector, MetricsServer, serve_metrics

__all__ = [
    "LOG_FORMATS",
    "EngineCollector",
    "MetricsServer",
    "RedactSecrets",
    "configure_logging",
    "serve_metrics",
]
