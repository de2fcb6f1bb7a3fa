"""Where updates come from: the long-polling poller, the webhook, any other source."""

from actorbot.errors import PollingStopped
from actorbot.intake._asgi import WebhookASGIApp
from actorbot.intake._poller import Poller, PollerStats, confirm_offset
from actorbot.intake._reorder import Reorderer, ReorderStats
from actorbot.intake._settings import Polling
from actorbot.intake._source import QueueSource
from actorbot.intake._webhook import (
    SECRET_HEADER,
    Feed,
    Webhook,
    WebhookApp,
    close_intake,
    open_intake,
)
from actorbot.intake._wsgiserver import WSGIThreadServer

__all__ = [
    "SECRET_HEADER",
    "Feed",
    "Poller",
    "PollerStats",
    "Polling",
    "PollingStopped",
    "QueueSource",
    "ReorderStats",
    "Reorderer",
    "WSGIThreadServer",
    "Webhook",
    "WebhookASGIApp",
    "WebhookApp",
    "close_intake",
    "confirm_offset",
    "open_intake",
]
