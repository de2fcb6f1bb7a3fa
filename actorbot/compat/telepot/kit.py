"""The threaded layer's building blocks, by public names, for the asyncio flavour (``aio``).

``aio`` is a package of its own (``telepot.aio.helper``, ``.delegate``, ``.loop``), and a
package may not reach into its parent's private modules: what it shares with the
threaded flavour (the bot base, the loop and its handler actors, the rendezvous
outcome) is named here. Not for programs: telepot had no such module.
"""

from __future__ import annotations

from actorbot.compat.telepot._bot import BotBase, Handle, delegation, update_key
from actorbot.compat.telepot._listen import Outcome
from actorbot.compat.telepot._runtime import (
    JOIN_TIMEOUT,
    DelegateBot,
    Loop,
    callback_failed,
    dictify,
    message_of,
    reorderer,
)
from actorbot.compat.telepot._runtime import _CallbackShell as CallbackShell
from actorbot.compat.telepot._runtime import _DelegateShell as DelegateShell
from actorbot.compat.telepot._runtime import _Event as Event
from actorbot.compat.telepot._runtime import _MicShell as MicShell
from actorbot.compat.telepot._runtime import _tell as tell
from actorbot.compat.telepot.delegate import _Producer as Producer

__all__ = [
    "JOIN_TIMEOUT",
    "BotBase",
    "CallbackShell",
    "DelegateBot",
    "DelegateShell",
    "Event",
    "Handle",
    "Loop",
    "MicShell",
    "Outcome",
    "Producer",
    "callback_failed",
    "delegation",
    "dictify",
    "message_of",
    "reorderer",
    "tell",
    "update_key",
]
