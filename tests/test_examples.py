"""Every example in examples/ runs, so none of them rots."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(name: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True, text=True, timeout=timeout, check=False,
    )


def test_hello_fake_telegram_answers_every_user() -> None:
    result = run("hello_fake_telegram.py")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "bot : You said: hello" in out
    assert "bot : You said: how are you?" in out
    assert "bot : You said: hi bot" in out
    assert "bot : You said: /start" in out
    assert "4 replies sent; updates left on the server: 0" in out
