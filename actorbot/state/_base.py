"""The state store interface: where handlers' declared state lives between activations.

A store maps ``(route, seed key)`` to a :class:`StateRecord`: the encoded state, the
version of the declaration that wrote it, and when it was last written. It knows nothing
of handlers or codecs; the engine's :class:`~actorbot.state.StateBook` decides when rows
are written and the handler's declaration decides what the bytes mean (docs/state.md).
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from actorbot.errors import ConfigError, StateCodecError


def seed_key(seed: Any) -> str:
    """How a seed is named in a store: its ``repr`` (stable for ints, strings, tuples and
    dataclasses such as ``BusinessChat``), so ``store.delete(seed)`` takes the seed itself."""
    return repr(seed)


@dataclass(frozen=True, slots=True)
class StateRecord:
    """One handler's saved state. ``data`` None only in a pending write: "delete"."""

    route: str
    seed: str
    data: bytes | None
    version: int = 1
    touched: float = 0.0

    def with_seed(self, seed: str) -> StateRecord:
        return StateRecord(self.route, seed, self.data, self.version, self.touched)


class Codec(Protocol):
    """Turns a JSON-like value (what a declaration's ``to_raw`` made) into bytes and back."""

    def encode(self, value: Any) -> bytes: ...

    def decode(self, data: bytes) -> Any: ...


class JsonCodec:
    """The default codec: compact ASCII JSON (a lone surrogate survives as its escape)."""

    def encode(self, value: Any) -> bytes:
        try:
            return json.dumps(value, separators=(",", ":")).encode("ascii")
        except (TypeError, ValueError, RecursionError) as exc:
            raise StateCodecError(f"state is not JSON-able: {type(exc).__name__}: {exc}") from exc

    def decode(self, data: bytes) -> Any:
        try:
            return json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise StateCodecError(f"stored state is not JSON: {type(exc).__name__}") from exc


JSON = JsonCodec()


class StateStore(ABC):
    """Where declared state is kept; see the module docstring. Thread-safe.

    ``expire_after`` (seconds, None: never) forgets state not written for that long; a
    store applies it natively (Redis) or at :meth:`open` and every ``sweep_every``
    seconds of writes (:meth:`expire` does it on demand).
    """

    def __init__(self, *, expire_after: float | None = None) -> None:
        if expire_after is not None and expire_after <= 0:
            raise ConfigError("expire_after must be positive seconds, or None (never)")
        self.expire_after = expire_after

    def open(self) -> None:  # noqa: B027 - optional for a store
        """Start of an engine run (connect, create tables). Stores work unopened too,
        for admin tools: each call then connects on its own."""

    def close(self) -> None:  # noqa: B027 - optional for a store
        """End of an engine run: release connections."""

    @abstractmethod
    def load(self, route: str, seed: str) -> StateRecord | None:
        """The saved state of ``(route, seed)``, or None."""

    @abstractmethod
    def write(self, records: Sequence[StateRecord]) -> None:
        """Upsert (``data`` None: delete) every record, in order, atomically if the store
        can; raises :class:`~actorbot.errors.StateStoreError` if it could not."""

    @abstractmethod
    def delete(self, seed: Any, route: str | None = None) -> int:
        """Forget ``seed``'s state in every route (or one): a user's "forget me". Takes
        the seed itself (a chat id, say); returns how many rows went."""

    def move(self, old: Any, new: Any) -> int:
        """Give ``old``'s state in every route to ``new`` (a chat that became a
        supergroup); ``new``'s own rows are replaced. Returns how many rows moved."""
        return self.move_keys(seed_key(old), seed_key(new))

    @abstractmethod
    def move_keys(self, old: str, new: str) -> int:
        """:meth:`move`, given seed keys (:func:`seed_key`)."""

    @abstractmethod
    def records(self, route: str | None = None) -> Iterator[StateRecord]:
        """Every saved state (of one route), for admin tools; order unspecified."""

    @abstractmethod
    def expire(self, now: float | None = None) -> int:
        """Forget rows not written for ``expire_after`` seconds; returns how many."""

    def horizon(self, now: float | None = None) -> float | None:
        """Rows written before this time are expired (None: nothing expires)."""
        if self.expire_after is None:
            return None
        return (time.time() if now is None else now) - self.expire_after
