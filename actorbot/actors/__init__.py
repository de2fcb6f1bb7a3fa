"""The engine's actors: poller, router, handler base classes, sender, clock, runtimes."""

from actorbot.actors._clock import Clock, ManualClock, Timer
from actorbot.actors._facade import ChatSender
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
from actorbot.actors._sender import (
    Call,
    CallOptions,
    CallResult,
    RateLimits,
    Sender,
    SenderError,
    SenderHandle,
    SenderQueueFull,
    SenderStopped,
    TooLate,
)
from actorbot.actors._tracker import InFlight

__all__ = [
    "ActorPool",
    "Call",
    "CallOptions",
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
    "RateLimits",
    "Route",
    "Router",
    "Runtime",
    "RuntimeActor",
    "Sender",
    "SenderError",
    "SenderHandle",
    "SenderQueueFull",
    "SenderStopped",
    "ThreadPerActor",
    "Timer",
    "TooLate",
    "UserHandler",
]
