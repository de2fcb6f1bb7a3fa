"""The generated method table matches the spec, and every method is callable as specified."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import pytest

from actorbot.api import METHODS, Client, codegen
from actorbot.sending import ChatSender
from tests.corpus import API_SPEC


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(API_SPEC.read_text(encoding="utf-8"))
    return loaded


def test_committed_files_are_current() -> None:
    assert codegen.main([str(API_SPEC), "--check"]) == 0


def test_committed_files_are_exactly_what_the_generator_writes(spec: dict[str, Any]) -> None:
    assert codegen.OUTPUT.read_text(encoding="utf-8") == codegen.generate(spec)
    assert codegen.CHAT_OUTPUT.read_text(encoding="utf-8") == codegen.generate_chat_methods(spec)


@pytest.mark.parametrize("stale", ["_methods.py", "_chat_methods.py"])
def test_check_reports_either_stale_file(
    tmp_path: Path, stale: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out, chat_out = tmp_path / "_methods.py", tmp_path / "_chat_methods.py"
    argv = [str(API_SPEC), "-o", str(out), "--chat-output", str(chat_out)]
    assert codegen.main(argv) == 0
    (tmp_path / stale).write_text("# stale\n")
    capsys.readouterr()
    assert codegen.main([*argv, "--check"]) == 1
    assert capsys.readouterr().out == (
        f"{tmp_path / stale} is out of date; run without --check to regenerate\n"
    )
    assert codegen.main(argv) == 0
    assert codegen.main([*argv, "--check"]) == 0


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


def test_every_spec_method_is_on_the_chat_sender_chat_id_keyword_only(
    spec: dict[str, Any],
) -> None:
    """Client's names, parameters, types and docstrings; ``chat_id`` first after ``*``."""
    for name, method in spec["methods"].items():
        fields = method.get("fields") or []
        client = inspect.signature(getattr(Client, codegen.snake_case(name)))
        bound_fn = getattr(ChatSender, codegen.snake_case(name))
        bound = inspect.signature(bound_fn)
        assert bound_fn.__doc__ == getattr(Client, codegen.snake_case(name)).__doc__
        required = [f["name"] for f in fields if f["required"] and f["name"] != "chat_id"]
        optional = [f["name"] for f in fields if not f["required"] and f["name"] != "chat_id"]
        chat = ["chat_id"] if any(f["name"] == "chat_id" for f in fields) else []
        params = list(bound.parameters.values())[1:]
        assert [p.name for p in params] == required + chat + optional, name
        for p in params:
            if p.name in required:
                assert (p.kind, p.default) == (p.POSITIONAL_OR_KEYWORD, p.empty), (name, p)
                assert p.annotation == client.parameters[p.name].annotation, (name, p)
            else:
                assert (p.kind, p.default) == (p.KEYWORD_ONLY, None), (name, p)
        if chat:
            assert bound.parameters["chat_id"].annotation == "int | str | None"
        assert bound.return_annotation == f"CallFuture[{client.return_annotation}]", name


def test_chat_sender_results_are_typed_like_the_client_s() -> None:
    """Annotations are strings (``from __future__ import annotations``): spot-check them."""
    assert inspect.signature(ChatSender.send_message).return_annotation == (
        "CallFuture[dict[str, Any]]")
    assert inspect.signature(ChatSender.delete_message).return_annotation == "CallFuture[bool]"
    assert inspect.signature(ChatSender.get_updates).return_annotation == (
        "CallFuture[list[dict[str, Any]]]")
    assert inspect.signature(Client.get_updates).return_annotation == "list[dict[str, Any]]"


def test_chat_sender_names_do_not_shadow_its_own_api() -> None:
    generated = {codegen.snake_case(n) for n in METHODS}
    assert generated.isdisjoint({"call", "notify", "options", "chat_id"})


def test_client_close_is_not_the_bot_api_close() -> None:
    assert Client.close.__doc__ is None or "bot instance" not in Client.close.__doc__
    assert "close" in (Client.close_bot.__doc__ or "").lower()
