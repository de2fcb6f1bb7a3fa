"""The engine: wires the stages from settings objects and stops them in order."""

from actorbot.engine._engine import Engine
from actorbot.engine._settings import DEFAULT_WORKERS, Handling, Hooks, RuntimeName, Status
from actorbot.errors import EngineBusy

__all__ = ["DEFAULT_WORKERS", "Engine", "EngineBusy", "Handling", "Hooks", "RuntimeName", "Status"]
