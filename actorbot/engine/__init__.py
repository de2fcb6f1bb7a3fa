"""The engine: wires the stages from settings objects and stops them in order."""

from actorbot.engine._components import Component, Job, ServerTasks
from actorbot.engine._engine import Engine
from actorbot.engine._settings import DEFAULT_WORKERS, Handling, Hooks, RuntimeName, Status
from actorbot.engine._stats import STATS, Kind, Stat
from actorbot.errors import EngineBusy

__all__ = [
    "DEFAULT_WORKERS",
    "STATS",
    "Component",
    "Engine",
    "EngineBusy",
    "Handling",
    "Hooks",
    "Job",
    "Kind",
    "RuntimeName",
    "ServerTasks",
    "Stat",
    "Status",
]
