"""telepot 6.3's asyncio flavour (``telepot.async``, which telepot 12 renamed ``telepot.aio``:
``async`` has been a keyword since Python 3.7), on the engine's async handlers.

``import telepot.async`` becomes ``import actorbot.compat.telepot.aio`` (with
``from actorbot.compat import telepot``), and ``telepot.async.X`` becomes
``telepot.aio.X``. Bot API methods are coroutines; ``await bot.messageLoop(handler)``
(or ``loop.create_task(bot.messageLoop(...))`` and ``loop.run_forever()``, as 6.3's
examples do) starts the engine on the running loop and returns once the bot is stopped
(``bot.stop()`` from another thread, ``await bot.stop_async()``, or cancelling the task).
Delegates are tasks on that loop. Submodules: ``helper``, ``delegate``, ``loop``.
"""

from __future__ import annotations

from actorbot.compat.telepot.aio import delegate, helper, loop
from actorbot.compat.telepot.aio._bot import Bot, DelegatorBot, SpeakerBot

__all__ = ["Bot", "DelegatorBot", "SpeakerBot", "delegate", "helper", "loop"]
