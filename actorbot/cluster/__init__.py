"""One bot across many worker processes, on Redis Streams (docs/scale-out.md).

An :class:`Intake` (one poller per token, by leader lease) appends every update to one
of :attr:`Cluster.partitions` streams by partition key; each :class:`Worker` runs an
engine fed from the partitions it holds by lease, and acknowledges an entry only when
the engine acknowledged its update. :class:`RedisLimiter` shares the bot-wide rate
budget. Needs the ``redis`` extra.
"""

from actorbot.cluster._intake import Intake
from actorbot.cluster._journal import Appender, StreamJournal
from actorbot.cluster._limiter import RedisLimiter
from actorbot.cluster._metrics import ClusterCollector, serve_worker_metrics
from actorbot.cluster._settings import GROUP, Cluster, Keys, PartitionBy
from actorbot.cluster._worker import ClusterStats, PartitionMoved, Worker, connect

__all__ = [
    "GROUP",
    "Appender",
    "Cluster",
    "ClusterCollector",
    "ClusterStats",
    "Intake",
    "Keys",
    "PartitionBy",
    "PartitionMoved",
    "RedisLimiter",
    "StreamJournal",
    "Worker",
    "connect",
    "serve_worker_metrics",
]
