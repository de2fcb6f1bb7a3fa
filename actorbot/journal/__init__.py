"""Delivery guarantees: the update journal (docs/architecture.md §2.6).

``SqliteJournal(path)`` makes delivery at-least-once across crashes; ``MemoryJournal``
(the engine's default) dedupes, retries and parks poison updates within one process.
"""

from actorbot.journal._base import (
    DELIVERIES,
    DeadLetter,
    Delivery,
    Journal,
    JournalStats,
    Keep,
)
from actorbot.journal._memory import MemoryJournal
from actorbot.journal._sqlite import SqliteJournal

__all__ = [
    "DELIVERIES",
    "DeadLetter",
    "Delivery",
    "Journal",
    "JournalStats",
    "Keep",
    "MemoryJournal",
    "SqliteJournal",
]
