"""Every example in examples/ runs, so none of them rots."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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


def test_counter_starts_over_after_the_idle_timeout() -> None:
    result = run("counter.py")
    assert result.returncode == 0, result.stderr
    assert "chat 1001: bot answered ['1', '2', '3', '1']" in result.stdout
    assert "chat 1002: bot answered ['1']" in result.stdout
    assert "idle for 0.3 s: 2 handlers passivated" in result.stdout


def test_guessing_game_is_won_by_bisection_and_says_goodbye_on_idle() -> None:
    result = run("guess_a_number.py")
    assert result.returncode == 0, result.stderr
    chat1, chat2 = result.stdout.split("chat 2:")
    assert "bot : Correct!" in chat1
    assert "Game expired" not in chat1  # a finished game closes, it does not time out
    assert chat2.strip().splitlines()[-1].strip() == "bot : Game expired. Bye!"


def test_monitor_logs_every_update_without_text() -> None:
    result = run("monitor.py")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for kind in ("type=message", "type=callback_query", "type=inline_query", "type=unknown"):
        assert kind in out
    assert "logged 5 updates with one monitor" in out
    assert "hello" not in out  # the monitor logs what an update is, not what it says
    assert "TEST-token" not in out + result.stderr


def test_telepot_counter_runs_unchanged_telepot_code() -> None:
    result = run("telepot_counter.py")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "chat 1001: bot answered ['1', '2', '3', '1']" in out
    assert "chat 1002: bot answered ['1']" in out
    assert "idle for 0.3 s: 2 delegates closed" in out
    assert "stopped cleanly: True" in out
    assert "TEST-token" not in out + result.stderr


def test_async_bot_awaits_replies_a_service_and_a_thread_on_the_programs_loop() -> None:
    result = run("async_bot.py")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    chat1 = next(line for line in out.splitlines() if line.startswith("chat 1001:"))
    assert chat1.startswith("chat 1001: bot answered ['done in 0.")  # /slow, in a thread
    assert chat1.endswith(", 'message 1 in this chat']")  # in order after it, not before
    assert ("chat 1002: bot answered ['message 1 in this chat', 'message 2 in this chat', "
            "'sunny in Oslo']") in out
    assert "never awaited" not in result.stderr
    assert "TEST-token" not in out + result.stderr


@pytest.mark.parametrize("example", ["webhook_wsgi.py", "webhook_asgi.py"])
def test_webhook_bot_mounted_in_a_site(example: str) -> None:
    result = run(example)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "chat 1001: bot answered ['You said: hello', 'You said: how are you?']" in out
    assert "chat 1002: bot answered ['You said: hi bot']" in out
    assert "a POST without the secret: 401" in out
    assert "GET /: the site is up" in out
    assert ("webhook requests: {'accepted': 3, 'unauthorized': 1}; "
            "updates left on the server: 0") in out
    assert "demo-secret" not in out + result.stderr
    assert "TEST-token" not in out + result.stderr


def test_state_counter_counts_on_across_passivation_and_restart() -> None:
    result = run("state_counter.py")
    assert result.returncode == 0, result.stderr
    assert "chat 1001: bot answered ['1', '2', '3', '4', '5', '6']" in result.stdout
    assert "run 2: idle for 0.3 s, 1 handler passivated" in result.stdout


def test_mini_app_page_and_chat_share_one_actor() -> None:
    result = run("mini_app/mini_app_bot.py")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "page : saw [0, 1, 2, 2], last {'counter': 2, 'note': 'from the page'}" in out
    assert "chat : bot answered [\"counter: 2, note: 'from the page'\"]" in out
    assert "ask  : {'counter': 2, 'note': 'from the page'}" in out
    assert "TEST-token" not in out + result.stderr
