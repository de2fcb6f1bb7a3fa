"""actorbot: Telegram bots on the actor model.

The names here are what a bot is made of; everything else lives one level down, each in
the namespace of its stage: :mod:`actorbot.seeds`, :mod:`actorbot.updates`,
:mod:`actorbot.intake`, :mod:`actorbot.routing`, :mod:`actorbot.handlers`,
:mod:`actorbot.sending`, :mod:`actorbot.runtime`, :mod:`actorbot.journal`,
:mod:`actorbot.engine`, :mod:`actorbot.api`, :mod:`actorbot.webapp`,
:mod:`actorbot.monitoring`, :mod:`actorbot.errors`, and the fake Bot API for tests in
:mod:`actorbot.testing`.
"""

from importlib.metadata import PackageNotFoundError, version

from actorbot.api import Client
from actorbot.engine import Engine, Handling, Hooks
from actorbot.errors import ActorbotError, ApiError, TelegramError
from actorbot.handlers import (
    ChatHandler,
    CloseReason,
    Handler,
    IdleTimeout,
    Monitor,
    UserHandler,
    command,
    command_of,
)
from actorbot.intake import Polling, Webhook, WebhookApp
from actorbot.monitoring import configure_logging
from actorbot.routing import AccessList, FailurePolicy, Route
from actorbot.seeds import (
    per_callback_query_origin,
    per_chat_id,
    per_from_id,
    per_inline_from_id,
    per_topic,
)
from actorbot.sending import CallResult, RateLimits, Sending

try:
    __version__ = version("actorbot")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "AccessList",
    "ActorbotError",
    "ApiError",
    "CallResult",
    "ChatHandler",
    "Client",
    "CloseReason",
    "Engine",
    "FailurePolicy",
    "Handler",
    "Handling",
    "Hooks",
    "IdleTimeout",
    "Monitor",
    "Polling",
    "RateLimits",
    "Route",
    "Sending",
    "TelegramError",
    "UserHandler",
    "Webhook",
    "WebhookApp",
    "__version__",
    "command",
    "command_of",
    "configure_logging",
    "per_callback_query_origin",
    "per_chat_id",
    "per_from_id",
    "per_inline_from_id",
    "per_topic",
]
