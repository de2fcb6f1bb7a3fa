"""The generated parameter-kind table matches the Bot API spec it came from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actorbot.api._methods import METHODS
from actorbot.testing import _param_kinds
from actorbot.testing._paramgen import kind_of, render
from tests.testing.fake_helpers import SHARED_BOTAPI


def test_generated_table_is_up_to_date() -> None:
    spec_file = SHARED_BOTAPI / "api.json"
    if not spec_file.exists():
        pytest.skip("shared/botapi/api.json not beside the repository")
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    source = Path(_param_kinds.__file__).read_text(encoding="utf-8")
    assert render(spec) == source, "run: python -m actorbot.testing._paramgen <api.json>"


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
