"""The vendored Bot API reference data (``tests/data/botapi``, see tests/data/README.md):
the spec, the error responses, the updates corpus and its expected answers."""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import pytest

BOTAPI = Path(__file__).resolve().parent / "data" / "botapi"
#: The Bot API spec every generated table is made from (telegram-bot-api-spec's api.json).
API_SPEC = BOTAPI / "api.min.json"
#: aiogram's schema of the next Bot API version, cut to the types the tests compare.
AIOGRAM_EXCERPT = BOTAPI / "aiogram-schema-excerpt.json"
ERRORS = BOTAPI / "errors.json"
CORPUS = BOTAPI / "updates"


class Row(NamedTuple):
    """One row of updates/SOURCES.md: what the routing rules must yield for one file."""

    file: str
    update_type: str
    chat_id: int | None
    user_id: int | None


def _id_cell(cell: str) -> int | None:
    # "-" = none; otherwise an id, optionally labelled ("actor_chat -1009000000005").
    if cell == "-":
        return None
    match = re.fullmatch(r"(?:[a-z_]+ )?(-?\d+)", cell)
    if match is None:
        raise ValueError(f"SOURCES.md: cannot read an id from {cell!r}")
    return int(match.group(1))


def read_table() -> list[Row]:
    lines = (CORPUS / "SOURCES.md").read_text(encoding="utf-8").splitlines()
    table = [
        [c.strip() for c in ln.strip().strip("|").split("|")] for ln in lines if ln[:2] == "| "
    ]
    header, rows = table[0], [r for r in table[1:] if r[0].startswith("`")]
    col = {name: header.index(name) for name in ("file", "update type", "chat id", "user id")}
    return [
        Row(
            r[col["file"]].strip("`"),
            r[col["update type"]],
            _id_cell(r[col["chat id"]]),
            _id_cell(r[col["user id"]]),
        )
        for r in rows
    ]


ROWS = [pytest.param(row, id=row.file) for row in read_table()]


@cache
def _load(name: str) -> Any:
    return json.loads((CORPUS / name).read_text(encoding="utf-8"))


def load(name: str) -> Any:
    """A fresh copy of a corpus update (tests may modify it)."""
    return copy.deepcopy(_load(name))
