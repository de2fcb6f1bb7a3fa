"""Refresh the vendored Bot API data from a checkout of the team's reference folder.

    python tests/data/refresh_botapi.py path/to/shared/botapi

Copies what the tests read into ``tests/data/botapi/`` (and the routing table into
``actorbot/_data/``, where the package ships it), and cuts aiogram's 2 MB schema down to
the two types the tests compare against. Then regenerate the tables made from the spec
and run the tests (see tests/data/README.md).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VENDORED = HERE / "botapi"
PACKAGE_DATA = HERE.parents[1] / "actorbot" / "_data"

COPIED = ("api.min.json", "errors.json", "LICENSE.aiogram", "LICENSE.telegram-bot-api-spec")
#: aiogram's schema, only the types tests/test_updates.py checks against the newer version.
AIOGRAM_TYPES = frozenset({"Update", "Message"})
#: The same text as ``description`` in other markups: not read, 70% of the excerpt's size.
DROPPED_KEYS = frozenset({"html_description", "rst_description"})


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in DROPPED_KEYS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def aiogram_excerpt(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with only the sections and items named in :data:`AIOGRAM_TYPES`."""
    sections = []
    for section in schema["items"]:
        children = [c for c in section["children"] if c["name"] in AIOGRAM_TYPES]
        if children:
            sections.append({**section, "children": children})
    return _strip({"api": schema["api"], "items": sections})


def refresh(source: Path) -> None:
    VENDORED.mkdir(exist_ok=True)
    for name in COPIED:
        shutil.copyfile(source / name, VENDORED / name)
    shutil.rmtree(VENDORED / "updates", ignore_errors=True)
    (VENDORED / "updates").mkdir()
    for path in sorted((source / "updates").iterdir()):
        shutil.copyfile(path, VENDORED / "updates" / path.name)  # contents only, not modes
    schema = json.loads((source / "aiogram-butcher-schema.json").read_text(encoding="utf-8"))
    excerpt = json.dumps(aiogram_excerpt(schema), ensure_ascii=False, separators=(",", ":"))
    (VENDORED / "aiogram-schema-excerpt.json").write_text(excerpt + "\n", encoding="utf-8")
    shutil.copyfile(source / "update_routing.json", PACKAGE_DATA / "update_routing.json")


if __name__ == "__main__":
    if len(sys.argv) != 2 or not Path(sys.argv[1], "api.min.json").is_file():
        sys.exit(f"usage: python {sys.argv[0]} path/to/shared/botapi")
    refresh(Path(sys.argv[1]))
