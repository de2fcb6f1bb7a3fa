"""The generated parameter-kind table matches the Bot API spec it came from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actorbot.api._methods import METHODS
from actorbot.testing import _param_kinds
from actorbot.testing._paramgen import kind_of, render
from tests.corpus import API_SPEC


def test_generated_table_is_up_to_date() -> None:
    spec = json.loads(API_SPEC.read_text(encoding="utf-8"))
    source = Path(_param_kinds.__file__).read_text(encoding="utf-8")
    assert render(spec) == source, f"run: python -m actorbot.testing._paramgen {API_SPEC}"


def test_table_covers_every_client_method() -> None:
    assert set(_param_kinds.PARAM_KINDS) == set(METHODS)


@pytest.mark.parametrize(
    ("types", "kind"),
    [
        (["Integer"], "int"),
        (["Integer", "String"], "int_or_str"),
        (["Boolean"], "bool"),
        (["Float"], "float"),
        (["String"], "str"),
        (["InputFile", "String"], "str"),
        (["InlineKeyboardMarkup", "ReplyKeyboardMarkup"], "json"),
        (["Array of String"], "json"),
    ],
)
def test_kind_of(types: list[str], kind: str) -> None:
    assert kind_of(types) == kind
