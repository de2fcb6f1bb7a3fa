"""``MODULE:ATTR`` on the command line -> the routes ``actorbot run`` serves."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from actorbot.handlers import ChatHandler, Handler, Monitor, UserHandler
from actorbot.routing import Route
from actorbot.seeds import (
    SeedFunction,
    per_application,
    per_business_connection,
    per_callback_query_origin,
    per_chat_id,
    per_from_id,
    per_inline_from_id,
    per_message,
    per_topic,
)

ROUTES: Final[dict[str, Callable[[], SeedFunction]]] = {
    "per_chat": per_chat_id,
    "per_user": per_from_id,
    "per_inline_user": per_inline_from_id,
    "per_callback_query_origin": per_callback_query_origin,
    "per_topic": per_topic,
    "per_business_connection": per_business_connection,
    "per_application": per_application,
    "per_message": per_message,
}
AUTO: Final = "auto"


class TargetError(Exception):
    """The target could not be imported or is not something ``actorbot run`` can serve."""


def _make_importable(module: str) -> None:
    """Import from the current directory (as ``python -m`` does), and let the module import
    its siblings (as when it runs as a script: ``examples/`` files import ``_run``)."""
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return  # import_module below reports it
    if spec is not None and spec.origin and spec.has_location:
        folder = str(Path(spec.origin).parent)
        if folder not in sys.path:
            sys.path.append(folder)  # last: it must not shadow installed packages


def load(spec: str) -> Any:
    """The object named by ``MODULE:ATTR`` (``ATTR`` may be dotted)."""
    module_name, colon, attr = spec.partition(":")
    if not colon or not module_name or not attr:
        raise TargetError(f"expected MODULE:NAME (e.g. mybot:Greeter), got {spec!r}")
    _make_importable(module_name)
    try:
        obj: Any = importlib.import_module(module_name)
    except (Exception, SystemExit) as exc:  # its own code may raise anything, even exit
        raise TargetError(f"cannot import {module_name!r}: {type(exc).__name__}: {exc}") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise TargetError(f"{module_name!r} has no attribute {attr!r}") from None
    return obj


def default_route(handler: type[Handler]) -> str:
    if issubclass(handler, ChatHandler):
        return "per_chat"
    if issubclass(handler, UserHandler):
        return "per_user"
    if issubclass(handler, Monitor):
        return "per_application"
    raise TargetError(f"{handler.__name__} is neither a ChatHandler, a UserHandler nor a "
                      f"Monitor: choose its seed with --route (one of {', '.join(ROUTES)})")


def seed_for(route: str, handler: type[Handler]) -> SeedFunction:
    """A seed function by name (``per_chat``...), or any ``MODULE:FUNCTION`` seed function."""
    if route == AUTO:
        route = default_route(handler)
    if route in ROUTES:
        return ROUTES[route]()
    if ":" in route:
        seed = load(route)
        if not callable(seed):
            raise TargetError(f"--route {route!r} is not callable")
        return seed  # type: ignore[no-any-return]
    raise TargetError(f"unknown --route {route!r}: one of {', '.join(ROUTES)}, "
                      f"or MODULE:FUNCTION for your own seed function")


def idle_seconds(value: str, handler: type[Handler]) -> float | None:
    """``--idle-timeout``: seconds, ``none`` (never), or ``auto`` (60 s; never for a Monitor)."""
    if value == AUTO:
        return None if issubclass(handler, Monitor) else 60.0
    if value.lower() in ("none", "never", "0"):
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise TargetError(f"--idle-timeout: must be a positive number of seconds or 'none', "
                          f"not {value!r}")
    return seconds


def routes_for(target: Any, route: str, idle_timeout: str) -> list[Route]:
    """Routes for a handler class (with ``route`` and ``idle_timeout``), a :class:`Route`,
    or a list of routes (served as they are)."""
    if isinstance(target, Route):
        return [target]
    if isinstance(target, list | tuple) and target and all(isinstance(r, Route) for r in target):
        return list(target)
    if not (isinstance(target, type) and issubclass(target, Handler)):
        raise TargetError(f"{target!r} is not a Handler subclass, a Route or a list of routes")
    idle = idle_seconds(idle_timeout, target)
    return [Route(seed_for(route, target), target, idle_timeout=idle)]
