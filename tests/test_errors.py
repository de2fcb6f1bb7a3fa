"""Everything actorbot raises on purpose is an ``ActorbotError`` (or a plain ``TypeError``
for an argument of the wrong type, as Python itself does)."""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import pytest

from actorbot import errors

PACKAGE = Path(errors.__file__).parent
#: The telepot layer raises telepot's own classes; the fake answers HTTP, not callers.
OWN_RULES = ("compat", "testing")
#: TypeError for a wrong argument type, ImportError for a missing optional extra, and the
#: protocol exceptions Python itself expects (IndexError from an empty inbox deque...).
ALLOWED_BUILTINS = frozenset({"TypeError", "ImportError", "IndexError", "NotImplementedError",
                              "AttributeError", "KeyError", "StopIteration"})


def raised_builtins() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in OWN_RULES:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Raise) or node.exc is None:
                continue
            call = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if not isinstance(call, ast.Name) or call.id in ALLOWED_BUILTINS:
                continue
            if call.id == "SystemExit" and node.col_offset <= 4:  # a script's entry point
                continue
            builtin = getattr(builtins, call.id, None)
            if isinstance(builtin, type) and issubclass(builtin, BaseException):
                found.append(f"{rel}:{node.lineno}: raise {call.id}")
    return found


def test_no_stage_raises_a_bare_builtin_error() -> None:
    assert raised_builtins() == []


@pytest.mark.parametrize("name", [n for n in dir(errors) if isinstance(getattr(errors, n), type)
                                  and issubclass(getattr(errors, n), BaseException)])
def test_every_class_in_errors_is_an_actorbot_error(name: str) -> None:
    assert issubclass(getattr(errors, name), errors.ActorbotError)


def test_misuse_errors_keep_their_builtin_bases() -> None:
    assert issubclass(errors.ConfigError, ValueError)
    assert issubclass(errors.StateError, RuntimeError)
    assert issubclass(errors.NotRunning, errors.StateError)
    assert issubclass(errors.AuthDataInvalid, ValueError)
