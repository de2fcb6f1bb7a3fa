"""Every ```python block in README.md and docs/*.md runs, so the docs cannot rot.

The convention (documented in docs/index.md, "How the samples are tested"):

- a file's blocks run in order in one namespace, with ``__name__ == "__docs__"`` (so an
  ``if __name__ == "__main__":`` part does not run); then every ``test_*`` function the
  file defined is called, as pytest would, without fixtures;
- a block right after a line ``<!-- docs-test: skip (reason) -->`` is only compiled: for
  code that needs a real token or the internet, and for fragments.
"""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import logging_restored

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FILES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
SKIP = re.compile(r"^<!--\s*docs-test:\s*skip\b.*-->\s*$")
FENCE = re.compile(r"^(`{3,}|~{3,})\s*(\S*)")


@dataclass(frozen=True)
class Block:
    line: int
    """1-based line of the first line of code in the markdown file."""
    code: str
    skip: bool


def python_blocks(text: str) -> list[Block]:
    """The ```python blocks of a markdown text, with their line and skip marker."""
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, language = opening.groups()
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith(fence)),
                   len(lines))
        if language == "python":
            skip = i > 0 and bool(SKIP.match(lines[i - 1]))
            blocks.append(Block(i + 2, "\n".join(lines[i + 1:end]) + "\n", skip))
        i = end + 1
    return blocks


def run_blocks(path: Path, blocks: list[Block]) -> dict[str, Any]:
    """Run (or compile) each block with the markdown file's line numbers in tracebacks.

    The namespace is a module's, registered while the blocks run: ``@dataclass`` looks its
    class's module up in ``sys.modules``."""
    module = types.ModuleType("__docs__")
    namespace: dict[str, Any] = module.__dict__
    name = str(path.relative_to(ROOT))
    sys.modules["__docs__"] = module
    try:
        for block in blocks:
            code = compile("\n" * (block.line - 1) + block.code, name, "exec")
            if not block.skip:
                exec(code, namespace)  # running our own docs is the point
        for key, value in list(namespace.items()):
            if key.startswith("test_") and callable(value):
                value()
    finally:
        del sys.modules["__docs__"]
    return namespace


@pytest.fixture
def isolated() -> Iterator[None]:
    with logging_restored():  # a sample may call configure_logging()
        yield


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_code_samples_run(path: Path, isolated: None, no_thread_left: None) -> None:
    run_blocks(path, python_blocks(path.read_text(encoding="utf-8")))


def test_block_extraction_sees_markers_and_line_numbers() -> None:
    text = "\n".join([
        "# title",                                   # 1
        "```python",                                 # 2
        "a = 1",                                     # 3
        "```",                                       # 4
        "<!-- docs-test: skip (needs a token) -->",  # 5
        "```python",                                 # 6
        "run_forever()",                             # 7
        "```",                                       # 8
        "````",                                      # 9  a longer fence hides its content
        "```python",                                 # 10
        "not = python",                              # 11
        "````",                                      # 12
        "```bash",                                   # 13
        "echo hi",                                   # 14
        "```",                                       # 15
        "```python",                                 # 16
        "def test_x(): raise ValueError('x')",       # 17
        "```",                                       # 18
    ])
    blocks = python_blocks(text)
    assert blocks == [Block(3, "a = 1\n", False), Block(7, "run_forever()\n", True),
                      Block(17, "def test_x(): raise ValueError('x')\n", False)]
    namespace = run_blocks(ROOT / "x.md", blocks[:2])
    assert namespace["a"] == 1  # the skipped block was compiled, not run
    with pytest.raises(ValueError, match="x") as info:
        run_blocks(ROOT / "x.md", blocks)  # test_* functions are called
    assert info.traceback[-1].lineno + 1 == 17  # pytest counts from 0
    assert str(info.traceback[-1].path) == "x.md"


def test_every_guide_is_listed_in_the_index() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for guide in DOCS.glob("*.md"):
        if guide.name != "index.md":
            assert f"]({guide.name})" in index, guide.name


def test_the_readme_install_command_ends_by_running_the_demo() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- ci:install -->", 1)[1].split("<!-- /ci:install -->", 1)[0]
    command = [line for line in block.splitlines() if line and not line.startswith("```")]
    assert len(command) == 1
    assert command[0].endswith("&& .venv/bin/actorbot demo")


def test_citations_of_the_architecture_name_sections_it_has() -> None:
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", text, flags=re.MULTILINE))
    assert {"1", "2", "2.6", "8"} <= sections
    cited = re.compile(r"architecture\.md §(\d+(?:\.\d+)?)")
    wrong = []
    places = [ROOT / "README.md", ROOT / "CHANGELOG.md", *DOCS.glob("*.md"),
              *(ROOT / "actorbot").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]
    for path in places:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            wrong += [f"{path.relative_to(ROOT)}:{number}: §{m}" for m in cited.findall(line)
                      if m not in sections]
    assert not wrong, f"docs/architecture.md has no such section: {wrong}"
    old = "DESIGN" + " §"  # the design note's citations, before this document
    assert not [p.name for p in places if old in p.read_text(encoding="utf-8")]
