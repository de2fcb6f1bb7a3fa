"""The engine: wires the stages from settings objects and stops them in order."""

from actorbot.engine._engine import Engine, RuntimeName
from actorbot.errors import EngineBusy

__all__ = ["Engine", "EngineBusy", "RuntimeName"]
