"""Declared handler state: loaded on first use, saved by the engine (docs/state.md).

A handler class declares ``state = State(Factory)``; ``self.state`` is then loaded from
the engine's store the first time a hook reads it (Orleans' activation load, lazily: a
handler that never reads it never pays), and the engine stages a snapshot

- after every update that changed it (``save="update"``, the default), on the handler's
  own thread before the update is finished, so the update's acknowledgement and the state
  it left travel together (:class:`~actorbot.state.StateBook`);
- after a timer, an event or a call result that changed it;
- when the handler closes for any reason but a failure (idle, ``close()``, engine stop):
  a handler that raised keeps the state from before the failing update, which is what its
  successor, retrying that update, must start from.

With ``save="close"`` only closes and :meth:`Handler.checkpoint` save. "Changed" means
the encoding differs from the last one loaded or staged; a class without a declaration
never reaches this module (``Handler._persisted`` is None).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, TypeVar, overload

import structlog

from actorbot.errors import ConfigError, StateCodecError
from actorbot.state import JSON, Codec

if TYPE_CHECKING:
    from actorbot.handlers._handler import Handler
    from actorbot.handlers._messages import Deliver

log = structlog.get_logger("actorbot.state")

S = TypeVar("S")
SaveWhen = Literal["update", "close"]
_CELL: Final = "_actorbot_state"  # the instance-dict key of a handler's loaded state


class _Cell:
    """A handler's loaded state and the encoding last loaded or staged (for "changed")."""

    __slots__ = ("checkpoint", "data", "forget", "value")

    def __init__(self, value: Any, data: bytes | None) -> None:
        self.value = value
        self.data = data
        self.forget = False
        self.checkpoint = False


class State(Generic[S]):
    """Declare a handler's persistent state: ``state = State(Count)`` in the class body.

    ``factory`` makes a fresh state: a dataclass (stored as its fields), or anything that
    returns a JSON-able value (``dict``, a TypedDict class, ``lambda: {"n": 0}``).
    ``version`` is stored with the state; a row written by an older version goes through
    ``migrate(raw, old_version)`` (raw: what the codec decoded) before it is used.
    ``codec`` turns the raw value into bytes (JSON by default). ``save``: see the module
    docstring. ``del self.state`` forgets the stored state and starts afresh.
    """

    def __init__(
        self,
        factory: Callable[[], S],
        *,
        version: int = 1,
        migrate: Callable[[Any, int], Any] | None = None,
        codec: Codec = JSON,
        save: SaveWhen = "update",
    ) -> None:
        if not callable(factory):
            raise ConfigError(f"State needs a factory (a class or a function), not {factory!r}")
        if type(version) is not int or version < 1:
            raise ConfigError(f"State version must be a positive int, not {version!r}")
        if save not in ("update", "close"):
            raise ConfigError(f"State save must be 'update' or 'close', not {save!r}")
        self.factory = factory
        self.version = version
        self.migrate = migrate
        self.codec = codec
        self.save = save
        self.name = "state"
        self._fields = dataclasses.is_dataclass(factory) and isinstance(factory, type)

    def __set_name__(self, owner: type[Any], name: str) -> None:
        if not hasattr(owner, "_persisted"):
            raise ConfigError(f"State is for Handler classes, not {owner.__name__}")
        if owner.__dict__.get("_persisted") is not None:
            raise ConfigError(f"{owner.__name__} declares State twice")
        self.name = name
        owner._persisted = Persisted(self)  # not a descriptor: Handler reads it per update

    @overload
    def __get__(self, obj: None, owner: type[Any] | None = None) -> State[S]: ...

    @overload
    def __get__(self, obj: Handler, owner: type[Any] | None = None) -> S: ...

    def __get__(self, obj: Handler | None, owner: type[Any] | None = None) -> S | State[S]:
        if obj is None:
            return self
        value: S = self._cell(obj).value
        return value

    def __set__(self, obj: Handler, value: S) -> None:
        self._cell(obj).value = value

    def __delete__(self, obj: Handler) -> None:
        fresh = self._fresh()
        fresh.forget = True
        obj.__dict__[_CELL] = fresh

    # -- loading ----------------------------------------------------------------------------

    def _cell(self, obj: Handler) -> _Cell:
        cell: _Cell | None = obj.__dict__.get(_CELL)
        if cell is None:
            cell = obj.__dict__[_CELL] = self._load(obj)
        return cell

    def _load(self, obj: Handler) -> _Cell:
        services = obj.context.services
        book = services.state
        record = None if book is None else book.load(services.route, obj.seed)
        if record is None or record.data is None:
            return self._fresh()
        try:
            return _Cell(self.decode(record.data, record.version), record.data)
        except StateCodecError as exc:
            log.error("state.corrupt", route=services.route, seed=repr(obj.seed),
                      handler=type(obj).__name__, version=record.version, error=str(exc))
            return _Cell(self.factory(), None)  # "changed": the bad row is overwritten

    def _fresh(self) -> _Cell:
        """A fresh state, "unchanged" until a hook changes it (no row for mere readers)."""
        value = self.factory()
        try:
            return _Cell(value, self.encode(value))
        except StateCodecError:
            return _Cell(value, None)

    def decode(self, data: bytes, version: int) -> S:
        """The state stored as ``data`` by ``version``; :class:`StateCodecError` if it
        cannot be read, migrated or built."""
        raw = self.codec.decode(data)
        if version > self.version:
            raise StateCodecError(f"stored by version {version}, newer than {self.version}")
        try:
            if version < self.version:
                if self.migrate is None:
                    raise StateCodecError(
                        f"stored by version {version}: declare migrate= to read it")
                raw = self.migrate(raw, version)
            if self._fields:
                if not isinstance(raw, dict):
                    raise StateCodecError(f"expected an object, got {type(raw).__name__}")
                made: S = self.factory(**raw)
                return made
        except StateCodecError:
            raise
        except Exception as exc:  # a user's migrate or __init__ refused it
            raise StateCodecError(f"{type(exc).__name__}: {exc}") from exc
        return raw  # type: ignore[no-any-return]

    def encode(self, value: S) -> bytes:
        raw = dataclasses.asdict(value) if self._fields else value  # type: ignore[call-overload]
        return self.codec.encode(raw)

    # -- saving: called from Handler (handlers/_handler.py) ---------------------------------

    def after_update(self, obj: Handler, delivery: Deliver, failed: bool) -> None:
        """End of an update, before the tracker may acknowledge it."""
        cell: _Cell | None = obj.__dict__.get(_CELL)
        if cell is None or failed or (self.save == "close" and not cell.checkpoint):
            return
        update = delivery.update
        update_id = update.get("update_id") if delivery.durable else None
        self._stage(obj, cell, update_id if type(update_id) is int else None)

    def after_event(self, obj: Handler) -> None:
        """After a timer, an event or a call result was handled without failing."""
        cell: _Cell | None = obj.__dict__.get(_CELL)
        if cell is not None and (self.save == "update" or cell.checkpoint):
            self._stage(obj, cell, None)

    def after_close(self, obj: Handler) -> None:
        """The handler closes (not because it failed): its last word."""
        cell: _Cell | None = obj.__dict__.get(_CELL)
        if cell is not None:
            self._stage(obj, cell, None)

    def checkpoint(self, obj: Handler) -> None:
        """Save at the end of the current hook even with ``save="close"``."""
        self._cell(obj).checkpoint = True

    def _stage(self, obj: Handler, cell: _Cell, update_id: int | None) -> None:
        cell.checkpoint = False
        services = obj.context.services
        book = services.state
        if book is None:
            return
        if cell.forget:
            cell.forget = False
            book.stage(services.route, obj.seed, None, self.version, update_id)
        try:
            data = self.encode(cell.value)
        except StateCodecError as exc:
            log.error("state.unencodable", route=services.route, seed=repr(obj.seed),
                      handler=type(obj).__name__, error=str(exc))
            return
        if data != cell.data:
            cell.data = data
            book.stage(services.route, obj.seed, data, self.version, update_id)


class Persisted:
    """What ``Handler._persisted`` holds for a class with declared state: the hooks
    :class:`Handler` calls (a plain object, so reading it off an instance is cheap)."""

    __slots__ = ("after_close", "after_event", "after_update", "checkpoint", "state")

    def __init__(self, state: State[Any]) -> None:
        self.state = state
        self.after_update = state.after_update
        self.after_event = state.after_event
        self.after_close = state.after_close
        self.checkpoint = state.checkpoint


def declared_state(handler: type[Any]) -> State[Any] | None:
    """The :class:`State` a handler class declares, if any (the engine asks, to know
    whether it needs a store at all)."""
    persisted: Persisted | None = getattr(handler, "_persisted", None)
    return None if persisted is None else persisted.state
