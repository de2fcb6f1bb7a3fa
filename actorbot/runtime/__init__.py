"""Where actors run and how time passes: the handler pool, the clock, in-flight tracking."""

from actorbot.runtime._backoff import Backoff
from actorbot.runtime._clock import Clock, ManualClock, Timer
from actorbot.runtime._loop import LoopRuntime
from actorbot.runtime._pool import (
    ActorPool,
    Runtime,
    RuntimeActor,
    ThreadPerActor,
    bound_class,
    unbind,
)
from actorbot.runtime._signals import stop_on_signals
from actorbot.runtime._tracker import Failure, InFlight, holding
from actorbot.runtime._wake import LoopWaker, waker_for

__all__ = [
    "ActorPool",
    "Backoff",
    "Clock",
    "Failure",
    "InFlight",
    "LoopRuntime",
    "LoopWaker",
    "ManualClock",
    "Runtime",
    "RuntimeActor",
    "ThreadPerActor",
    "Timer",
    "bound_class",
    "holding",
    "stop_on_signals",
    "unbind",
    "waker_for",
]
