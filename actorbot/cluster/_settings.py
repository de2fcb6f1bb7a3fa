"""One bot's layout in Redis: names of its streams and leases, and the partition key.

Every process of one bot (the intake, each worker) is built from the same
:class:`Cluster`, so they agree on the number of partitions, the key names and the lease
timings. Keys share one prefix per bot (``actorbot:{bot_id}`` by default), so several bots
can use one Redis.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, Literal

from actorbot import updates
from actorbot.errors import ConfigError
from actorbot.routing import Route
from actorbot.seeds import derivation

PartitionBy = Literal["chat", "user"]
GROUP: Final = "workers"
"""The consumer group every partition stream is read with."""

_ACCEPTED: Final[dict[str, frozenset[str]]] = {
    "chat": frozenset({"chat", "chatless_user", "none"}),
    "user": frozenset({"user", "chatless_user", "none"}),
}


@dataclass(frozen=True, slots=True)
class Cluster:
    """How one bot is spread over processes (the same object for intake and workers).

    ``partitions``: streams the updates are spread over (more than workers will ever run:
    a partition is the unit that moves); ``partition_by``: ``"chat"`` (the update's chat
    id, else its user id) or ``"user"`` (the user id, else the chat id); ``lease_ttl``:
    seconds a lease lasts unless renewed (the takeover time after a kill), renewed every
    third of it; ``block``: longest XREADGROUP wait, which bounds how late a worker notices
    a partition it took or was told to give up; ``batch``: entries read at once;
    ``seen_ttl``: seconds the intake remembers an ``update_id`` (a webhook retry or a
    re-fetched batch is not appended twice); ``prefix``: the key prefix (default
    ``actorbot:{bot_id}``).
    """

    partitions: int = 16
    partition_by: PartitionBy = "chat"
    lease_ttl: float = 5.0
    block: float = 0.5
    batch: int = 200
    seen_ttl: float = 24 * 3600.0
    prefix: str = ""

    def __post_init__(self) -> None:
        if self.partitions < 1 or self.batch < 1:
            raise ConfigError("Cluster: partitions and batch must be at least 1")
        if self.partition_by not in _ACCEPTED:
            raise ConfigError(f"Cluster.partition_by must be 'chat' or 'user', "
                              f"not {self.partition_by!r}")
        if self.lease_ttl <= 0 or self.block <= 0 or self.block >= self.lease_ttl / 3:
            raise ConfigError("Cluster: lease_ttl > 0 and 0 < block < lease_ttl / 3 (a read "
                              "must end before the lease needs renewing)")

    def keys(self, token: str) -> Keys:
        """The key names for the bot of ``token`` (only its numeric id is used)."""
        bot_id = token.partition(":")[0]
        return Keys(self.prefix or f"actorbot:{bot_id}", self.partitions)

    def key_of(self, update: Any) -> int | None:
        """The partition key of ``update`` (None: it has neither a chat nor a user)."""
        first, second = ((updates.chat_id, updates.user_id) if self.partition_by == "chat"
                         else (updates.user_id, updates.chat_id))
        key = first(update)
        return key if key is not None else second(update)

    def partition_of(self, update: Any) -> int:
        """Which partition ``update`` goes to: a stable hash of its key (0 without one)."""
        key = self.key_of(update)
        if key is None:
            return 0
        return zlib.crc32(str(key).encode()) % self.partitions

    def check_routes(self, routes: Iterable[Route]) -> None:
        """Refuse routes whose seeds are not a function of the partition key: their
        updates would be spread over workers, and their order could not be kept."""
        accepted = _ACCEPTED[self.partition_by]
        for route in routes:
            kind = derivation(route.seed)
            if kind not in accepted:
                said = "declares nothing" if kind is None else f"follows the {kind}"
                raise ConfigError(
                    f"route {route.name!r}: its seed {said}, but updates are partitioned by "
                    f"{self.partition_by} id, so its updates could reach several workers "
                    f"out of order. Use a seed of the {self.partition_by} id, or declare "
                    f"yours with actorbot.seeds.derives_from(fn, {self.partition_by!r})")


@dataclass(frozen=True, slots=True)
class Keys:
    """Redis key names of one bot."""

    prefix: str
    partitions: int

    def stream(self, partition: int) -> str:
        return f"{self.prefix}:p:{partition}"

    def lease(self, partition: int) -> str:
        return f"{self.prefix}:lease:{partition}"

    def last_owner(self, partition: int) -> str:
        """Who held the partition last; deleted by a graceful hand-over (takeover if not)."""
        return f"{self.prefix}:owner:{partition}"

    @property
    def leader(self) -> str:
        return f"{self.prefix}:intake"

    @property
    def offset(self) -> str:
        return f"{self.prefix}:offset"

    def seen(self, update_id: int) -> str:
        return f"{self.prefix}:seen:{update_id}"

    @property
    def workers(self) -> str:
        """Sorted set: worker id -> last heartbeat (Redis server time, ms)."""
        return f"{self.prefix}:workers"

    @property
    def takeovers(self) -> str:
        return f"{self.prefix}:takeovers"

    @property
    def dead_letters(self) -> str:
        return f"{self.prefix}:dead"

    def limiter(self, lane: str) -> str:
        return f"{self.prefix}:rate:{lane}"
