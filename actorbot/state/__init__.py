"""Handler state that survives passivation, crashes and restarts (docs/state.md).

Stores behind one interface (:class:`StateStore`): :class:`MemoryStore` (the default),
:class:`SqliteStore` (standard library; given the journal's own file, effects on state
are exactly-once), :class:`RedisStore` (the ``redis`` extra). :class:`StateBook` orders
snapshots against acknowledgements for the engine.
"""

from actorbot.state._base import JSON, Codec, JsonCodec, StateRecord, StateStore, seed_key
from actorbot.state._book import StateBook
from actorbot.state._memory import MemoryStore
from actorbot.state._redis import RedisStore
from actorbot.state._sqlite import SqliteStore

__all__ = [
    "JSON",
    "Codec",
    "JsonCodec",
    "MemoryStore",
    "RedisStore",
    "SqliteStore",
    "StateBook",
    "StateRecord",
    "StateStore",
    "seed_key",
]
