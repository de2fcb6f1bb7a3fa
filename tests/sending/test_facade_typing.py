"""``self.sender`` is typed: mypy accepts right calls and reports wrong ones.

One in-process mypy run over two small handlers, a right one and a wrong one; the wrong
one must give exactly the expected errors, the right one none.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

import actorbot

mypy_api = pytest.importorskip("mypy.api")

ROOT = Path(actorbot.__file__).resolve().parents[1]  # where mypy finds actorbot

RIGHT = '''
from typing import Any, assert_type

from actorbot import ChatHandler
from actorbot.sending import CallFuture


class Right(ChatHandler):
    def on_chat_message(self, msg: dict[str, Any]) -> None:
        future = self.sender.send_message(msg["text"], parse_mode="HTML")
        assert_type(future, CallFuture[dict[str, Any]])
        message: dict[str, Any] = future.get(timeout=10)
        deleted: bool = self.sender.delete_message(message["message_id"]).get()
        assert_type(self.sender.get_updates().get(), list[dict[str, Any]])
        assert_type(self.sender.edit_message_text(text="x", message_id=1).get(),
                    dict[str, Any] | bool)
        self.sender.send_photo(b"...", caption="a cat", chat_id="@channel")
        self.sender.notify("tag").options(coalesce=True).send_chat_action("typing")
        self.sender.call("someNewerMethod", anything=deleted)
'''

WRONG = '''
from typing import Any

from actorbot import ChatHandler


class Wrong(ChatHandler):
    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.sender.send_message(123)  # expect: arg-type
        self.sender.send_mesage("hi")  # expect: attr-defined
        self.sender.send_message("hi", bogus=1)  # expect: call-arg
        self.sender.send_message("hi", chat_id=1.5)  # expect: arg-type
        self.sender.send_message()  # expect: call-arg
        text: str = self.sender.delete_message(1).get()  # expect: assignment
'''

_ERROR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[\w-]+)\]$")


def test_mypy_accepts_right_calls_and_reports_wrong_ones(tmp_path: Path) -> None:
    (tmp_path / "right.py").write_text(textwrap.dedent(RIGHT).lstrip(), encoding="utf-8")
    wrong = textwrap.dedent(WRONG).lstrip()
    (tmp_path / "wrong.py").write_text(wrong, encoding="utf-8")
    expected = {n: line.split("# expect: ")[1]
                for n, line in enumerate(wrong.splitlines(), 1) if "# expect: " in line}
    config = tmp_path / "mypy.ini"
    config.write_text(f"[mypy]\nstrict = True\nmypy_path = {ROOT}\n", encoding="utf-8")
    out, err, _ = mypy_api.run([
        "--config-file", str(config), "--cache-dir", str(tmp_path / "cache"),
        "--show-error-codes", "--no-pretty", "--no-error-summary",
        str(tmp_path / "right.py"), str(tmp_path / "wrong.py"),
    ])
    assert err == ""
    errors = [m for m in map(_ERROR.match, out.splitlines()) if m]
    assert len(errors) == len([ln for ln in out.splitlines() if ": error: " in ln]), out
    assert [m["file"] for m in errors if not m["file"].endswith("wrong.py")] == [], out
    assert {int(m["line"]): m["code"] for m in errors} == expected, out
    assert len(errors) == len(expected) == 6, out
