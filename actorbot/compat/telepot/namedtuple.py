"""telepot.namedtuple: every Bot API type as a namedtuple, generated from the spec.

``Message(**msg)`` converts a message and its nested objects (``from`` becomes
``from_``, a keyword in Python); outgoing types (``InlineKeyboardMarkup``,
``InlineQueryResultArticle`` ...) can be built and passed to any bot method. Fields a type
does not have are dropped with a warning, as telepot did; ``type`` fields that can take
one value only (``InlineQueryResultArticle.type == 'article'``) default to it. Union types
(``MessageOrigin``, ``ChatMember`` ...) pick their subtype by that field. ``XArray`` and
``XArrayArray`` convert lists, as telepot's ``PhotoSizeArray`` did.
"""

from __future__ import annotations

import collections
import functools
import threading
import warnings
from collections.abc import Callable
from typing import Any

from actorbot.compat.telepot._legacy import modern_fields
from actorbot.compat.telepot._types import API_VERSION, TYPES, UNIONS

__all__ = ["API_VERSION", "convert", "namedtuple"]

_ALIASES = {"ReplyKeyboardHide": "ReplyKeyboardRemove"}
_classes: dict[str, type[Any]] = {}
_lock = threading.Lock()


def convert(type_name: str, value: Any) -> Any:
    """``value`` (a dict, or a list for ``[T]``) as the namedtuple of ``type_name``."""
    if type_name.startswith("["):
        if not isinstance(value, list):
            return value
        return [convert(type_name[1:-1], v) for v in value]
    if not isinstance(value, dict):
        return value
    if type_name in UNIONS:
        sub = _subtype(type_name, value)
        return value if sub is None else _class(sub)(**value)
    if type_name in TYPES:
        return _class(type_name)(**value)
    return value


def namedtuple(data: Any, type: str) -> Any:
    """telepot 6.3's ``namedtuple(dict, 'Message')``: ``data`` as that type's namedtuple.

    ``'Update[]'`` (a list of that type) and ``'PhotoSize[][]'`` convert lists, as 6.3's
    list types did. An unknown type name raises ``ValueError``.
    """
    name, depth = type, 0
    while name.endswith("[]"):
        name, depth = name[:-2], depth + 1
    name = _ALIASES.get(name, name)
    if name not in TYPES and name not in UNIONS:
        raise ValueError(f"unknown Bot API type {type!r}")
    return convert("[" * depth + name + "]" * depth, data)


def _union(name: str, **fields: Any) -> Any:
    """A union type (``ChatMember(**d)``) builds the subtype ``d`` is."""
    return convert(name, fields)


def _subtype(union: str, value: dict[str, Any]) -> str | None:
    candidates = [s for s in UNIONS[union] if s in TYPES]
    for sub in candidates:
        constants = [(f, d) for f, _k, d in TYPES[sub] if isinstance(d, str)]
        if constants and all(value.get(f) == d for f, d in constants):
            return sub
    names = set(value)
    for sub in candidates:
        if names <= {f.rstrip("_") for f, _k, _d in TYPES[sub]}:
            return sub
    return None


def _class(name: str) -> type[Any]:
    cls = _classes.get(name)
    if cls is None:
        with _lock:
            cls = _classes.get(name)
            if cls is None:
                cls = _classes[name] = _build(name, TYPES[name])
    return cls


def _build(name: str, fields: tuple[tuple[str, str, Any], ...]) -> type[Any]:
    names = [f for f, _k, _d in fields]
    base = collections.namedtuple(name, names, defaults=[d for _f, _k, d in fields])  # type: ignore[misc]
    kinds = {f: k for f, k, _d in fields if k}
    known = frozenset(names)

    def __new__(cls: type[Any], **kwargs: Any) -> Any:  # noqa: N807
        if "from" in kwargs:
            kwargs["from_"] = kwargs.pop("from")
        kwargs = modern_fields(name, kwargs)
        unexpected = set(kwargs) - known
        if unexpected:
            warnings.warn(f"{name}: unexpected fields {', '.join(sorted(unexpected))} "
                          f"(newer than {API_VERSION}); read them from the dict",
                          UserWarning, stacklevel=2)
            for key in unexpected:
                del kwargs[key]
        for key, kind in kinds.items():
            if kwargs.get(key) is not None:
                kwargs[key] = convert(kind, kwargs[key])
        return base.__new__(cls, **kwargs)

    def _asdict(self: Any) -> dict[str, Any]:
        return dict(zip(self._fields, self, strict=True))

    return type(name, (base,), {"__new__": __new__, "_asdict": _asdict, "__slots__": (),
                                "__module__": __name__})


def _array(name: str, depth: int) -> Callable[[list[Any]], list[Any]]:
    kind = "[" * depth + name + "]" * depth

    def array(data: list[Any]) -> list[Any]:
        converted: list[Any] = convert(kind, data)
        return converted

    return array


def __getattr__(name: str) -> Any:
    target = _ALIASES.get(name, name)
    if target in TYPES:
        return _class(target)
    if target in UNIONS:
        return functools.partial(_union, target)
    for suffix, depth in (("ArrayArray", 2), ("Array", 1)):
        base = name.removesuffix(suffix)
        if base != name and (base in TYPES or base in UNIONS):
            return _array(base, depth)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *TYPES, *UNIONS, *_ALIASES})
