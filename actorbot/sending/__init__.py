"""The sender stage: every outgoing Bot API call, rate-limited, retried, in per-chat order."""

from actorbot.errors import SenderError, SenderQueueFull, SenderStopped, TooLate
from actorbot.sending._answers import AnswerWatch, watch_answer
from actorbot.sending._facade import ChatSender
from actorbot.sending._future import CallFuture
from actorbot.sending._limiter import AnsweredWindow, Lane, Limiter, LocalLimiter
from actorbot.sending._ratelimit import (
    Rate,
    SlidingWindow,
    TokenBucket,
    is_charged,
    is_private_chat,
)
from actorbot.sending._sender import (
    Call,
    CallOptions,
    CallResult,
    Sender,
    SenderHandle,
    SenderStats,
    is_idempotent,
)
from actorbot.sending._settings import RateLimits, Sending

__all__ = [
    "AnswerWatch",
    "AnsweredWindow",
    "Call",
    "CallFuture",
    "CallOptions",
    "CallResult",
    "ChatSender",
    "Lane",
    "Limiter",
    "LocalLimiter",
    "Rate",
    "RateLimits",
    "Sender",
    "SenderError",
    "SenderHandle",
    "SenderQueueFull",
    "SenderStats",
    "SenderStopped",
    "Sending",
    "SlidingWindow",
    "TokenBucket",
    "TooLate",
    "is_charged",
    "is_idempotent",
    "is_private_chat",
    "watch_answer",
]
