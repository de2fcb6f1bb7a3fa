"""telepot 12.7's ``telepot.aio.loop.MessageLoop``: ``await MessageLoop(bot, handle)
.run_forever()`` is ``await bot.message_loop(handle)``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from actorbot.compat.telepot.aio._bot import Bot
    from actorbot.compat.telepot.kit import Handle

__all__ = ["MessageLoop"]


class MessageLoop:
    """Polls ``getUpdates`` and hands every message to ``handle`` (default: ``bot.handle``;
    a dict routes by flavor), on the running event loop."""

    def __init__(self, bot: Bot, handle: Handle = None) -> None:
        self._bot = bot
        self._handle = handle

    async def run_forever(self, relax: float = 0.1, offset: int | None = None,
                          timeout: int = 20, allowed_updates: Any = None) -> None:
        """Until the bot is stopped (or the task cancelled), then stop gracefully."""
        await self._bot.message_loop(self._handle, relax, timeout, allowed_updates)
