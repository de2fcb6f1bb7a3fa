"""The router stage: routes, the failure policy, the access list, one handler per seed."""

from actorbot.routing._access import AccessList
from actorbot.routing._messages import (
    Ask,
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
from actorbot.routing._router import FailurePolicy, Route, Router, RouterStats

__all__ = [
    "AccessList",
    "Ask",
    "Batch",
    "ChatMoved",
    "Dispatch",
    "Evict",
    "FailurePolicy",
    "Ping",
    "Respawn",
    "Route",
    "Router",
    "RouterStats",
    "Shutdown",
    "SweepMore",
    "Tick",
]
