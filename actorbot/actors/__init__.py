"""The engine's actors: poller, router, handler base classes, sender, clock, runtimes."""

from actorbot.actors._clock import Clock, ManualClock, Timer
from actorbot.actors._handler import (
    ChatHandler,
    CloseReason,
    CloseRequested,
    EngineStopping,
    Handler,
    HandlerContext,
    IdleTimeout,
    Monitor,
    UserHandler,
)
from actorbot.actors._poller import Poller, PollingStopped
from actorbot.actors._router import FailurePolicy, Route, Router
from actorbot.actors._runtime import ActorPool, Runtime, RuntimeActor, ThreadPerActor
from actorbot.actors._sender import Call, CallResult, ChatSender, Sender
from actorbot.actors._tracker import InFlight

__all__ = [
    "ActorPool",
    "Call",
    "CallResult",
    "ChatHandler",
    "ChatSender",
    "Clock",
    "CloseReason",
    "CloseRequested",
    "EngineStopping",
    "FailurePolicy",
    "Handler",
    "HandlerContext",
    "IdleTimeout",
    "InFlight",
    "ManualClock",
    "Monitor",
    "Poller",
    "PollingStopped",
    "Route",
    "Router",
    "Runtime",
    "RuntimeActor",
    "Sender",
    "ThreadPerActor",
    "Timer",
    "UserHandler",
]
