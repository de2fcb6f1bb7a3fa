"""telepot's message matching, used by ``Listener.capture``.

Two spellings, both telepot's:

- keyword criteria (``capture(chat__id=42, text=str.isdigit, _=lambda msg: ...)``): a key
  selects a part of the message (``__`` goes down a level, ``_`` is the whole message),
  its value is a template; all keys must match;
- patterns (telepot 12: ``capture([{'chat': {'id': 42}}, lambda msg: ...])``): a list of
  templates, all of which must match; dict keys may be compiled regular expressions,
  matching any key of the message they fit.

A template is a plain value (equality), a callable (called with the part; a truthy result
matches), or a dict of templates for the part's own keys. A missing part never matches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["kmatch", "match", "match_all", "ok", "pick"]

_MISSING = object()


def pick(obj: Any, key: str) -> Any:
    """``obj[key]`` for dicts, ``getattr`` for anything else (namedtuples); KeyError if absent."""
    if isinstance(obj, Mapping):
        return obj[key]
    if key == "from" and hasattr(obj, "from_"):
        return obj.from_
    try:
        return getattr(obj, key)
    except AttributeError:
        raise KeyError(key) from None


def _get(obj: Any, key: str) -> Any:
    try:
        return pick(obj, key)
    except (KeyError, TypeError):
        return _MISSING


def match(part: Any, template: Any) -> bool:
    """Whether ``part`` fits ``template`` (see the module docstring)."""
    if isinstance(template, Mapping):
        for key, sub in template.items():
            if isinstance(key, re.Pattern):
                keys = [k for k in (part if isinstance(part, Mapping) else ()) if key.search(k)]
                if not any(match(part[k], sub) for k in keys):
                    return False
                continue
            value = _get(part, key)
            if value is _MISSING or not match(value, sub):
                return False
        return True
    if callable(template):
        return bool(template(part))
    return bool(part == template)


def kmatch(msg: Any, key: str, template: Any) -> bool:
    """One keyword criterion: ``key`` selects the part (``a__b`` is ``msg['a']['b']``)."""
    part = msg
    if key != "_":
        for level in key.split("__"):
            part = _get(part, level)
            if part is _MISSING:
                return False
    return match(part, template)


def ok(msg: Any, **criteria: Any) -> bool:
    """Whether ``msg`` meets every keyword criterion."""
    return all(kmatch(msg, key, template) for key, template in criteria.items())


def match_all(msg: Any, templates: Sequence[Any]) -> bool:
    """Whether ``msg`` fits every template of a telepot 12 pattern."""
    return all(match(msg, t) for t in templates)
