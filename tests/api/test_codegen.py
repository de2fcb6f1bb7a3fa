"""The generated method table matches the spec, and every method is callable as specified."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import pytest

from actorbot.api import METHODS, Client, codegen
from tests.corpus import API_SPEC


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(API_SPEC.read_text(encoding="utf-8"))
    return loaded


def test_committed_table_is_current() -> None:
    assert codegen.main([str(API_SPEC), "--check"]) == 0


def test_check_reports_stale_table(tmp_path: Path) -> None:
    out = tmp_path / "_methods.py"
    out.write_text("# stale\n")
    assert codegen.main([str(API_SPEC), "-o", str(out), "--check"]) == 1
    assert codegen.main([str(API_SPEC), "-o", str(out)]) == 0
    assert codegen.main([str(API_SPEC), "-o", str(out), "--check"]) == 0


def test_snake_case() -> None:
    assert codegen.snake_case("sendMessage") == "send_message"
    assert codegen.snake_case("getUpdates") == "get_updates"
    assert codegen.snake_case("setMyCommands") == "set_my_commands"
    assert codegen.snake_case("close") == "close_bot"  # Client.close() releases connections


def test_every_spec_method_has_a_matching_signature(spec: dict[str, Any]) -> None:
    assert set(METHODS) == set(spec["methods"])
    for name, method in spec["methods"].items():
        fields = method.get("fields") or []
        fn = getattr(Client, codegen.snake_case(name))
        params = list(inspect.signature(fn).parameters.values())[1:]
        assert [p.name for p in params] == [f["name"] for f in fields if f["required"]] + [
            f["name"] for f in fields if not f["required"]
        ], name
        for p in params:
            field = next(f for f in fields if f["name"] == p.name)
            if field["required"]:
                assert (p.kind, p.default) == (p.POSITIONAL_OR_KEYWORD, p.empty), (name, p)
            else:
                assert (p.kind, p.default) == (p.KEYWORD_ONLY, None), (name, p)
        assert METHODS[name].required == tuple(f["name"] for f in fields if f["required"])


def test_client_close_is_not_the_bot_api_close() -> None:
    assert Client.close.__doc__ is None or "bot instance" not in Client.close.__doc__
    assert "close" in (Client.close_bot.__doc__ or "").lower()
