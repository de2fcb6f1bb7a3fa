"""The actorbot command: the demo, running a bot, and every way it fails cleanly."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from actorbot import Client
from actorbot.cli import DemoSettings, ExitCode, build_parser, main
from actorbot.cli._demo import run_demo
from actorbot.cli._run import _build, run_command
from actorbot.cli._webhook import WebhookServer
from actorbot.testing import FakeBotApi
from tests.helpers import eventually, logging_restored

ROOT = Path(__file__).resolve().parents[2]


def actorbot(*args: str, env: dict[str, str] | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "actorbot", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def summary(out: str) -> dict[str, str]:
    rows = out.split("\nsummary\n", 1)[1].split("\n\n", 1)[0].splitlines()
    return {m[1]: m[2] for m in (re.match(r"  (.+?)\s{2,}(\S.*)$", r) for r in rows) if m}


@pytest.fixture
def restored() -> Iterator[None]:
    path = list(sys.path)
    with logging_restored():
        yield
    sys.path[:] = path


# -- demo ------------------------------------------------------------------------------------


def test_demo_answers_every_simulated_message_in_order() -> None:
    result = actorbot("demo", "--chats", "4", "--messages", "3", "--rate", "50",
                      "--idle-timeout", "0.3")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("actorbot demo: 4 chats x 3 messages at 50 msg/s")
    assert "users sent 12/12" in out  # the live progress
    table = summary(out)
    assert table["messages from simulated users"] == "12"
    assert table["updates handled"] == "12"
    assert table["replies received"] == "12"
    assert table["chats answered fully, in order"] == "4/4"
    assert table["handlers spawned"] == "4"
    assert table["handlers passivated (idle)"] == "4"
    assert table["peak handlers alive"] == "4"
    assert table["handlers failed"] == "0"
    assert table["429s from Telegram"] == "0"  # the sender keeps to the limits
    assert "every simulated message was answered (12/12), in order in every chat" in out
    assert result.stderr == ""  # nothing worth a warning happened


def test_demo_without_pacing_gets_429s_and_still_answers_everything(
    no_thread_left: None,
) -> None:
    out = io.StringIO()
    settings = DemoSettings(chats=2, messages=4, rate=500, idle_timeout=0.3, rate_limits=False)
    with logging_restored():  # keep the expected sender.rate_limited warnings quiet
        code = run_demo(settings, out)
    table = summary(out.getvalue())
    assert code == ExitCode.OK, out.getvalue()
    assert int(table["429s from Telegram"]) > 0
    assert table["sender retries"] == table["429s from Telegram"]
    assert table["chats answered fully, in order"] == "2/2"


def test_demo_that_cannot_finish_in_time_says_so(no_thread_left: None) -> None:
    out = io.StringIO()
    settings = DemoSettings(chats=1, messages=3, rate=1, idle_timeout=5, timeout=0.2)
    assert run_demo(settings, out) == ExitCode.FAILED
    assert "NOT every message was answered within 0.2 s" in out.getvalue()


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("actorbot")
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0
    assert result.stdout.startswith("actorbot ")


# -- run -------------------------------------------------------------------------------------


class Bot:
    """``actorbot run`` in a subprocess, its stderr (the logs) read line by line."""

    def __init__(self, tg: FakeBotApi, *args: str, **env_extra: str) -> None:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": tg.token, **env_extra}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "actorbot", "run", *args, "--api-url", tg.base_url,
             "--poll-timeout", "1"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, name="test-cli-reader")
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    def events(self, name: str) -> list[dict[str, Any]]:
        found = []
        for line in list(self.lines):
            if line.startswith("{"):
                record = json.loads(line)
                if record["event"] == name:
                    found.append(record)
        return found

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout)
        self._reader.join(timeout)
        return code


def test_run_serves_an_example_and_stops_on_sigint(tg: FakeBotApi) -> None:
    bot = Bot(tg, "examples.counter:MessageCounter", "--log-format", "json",
              "--stats-interval", "0.1", "--metrics-port", "0")
    try:
        for chat in (1001, 1002, 1003, 1001):
            tg.inject_message(chat, "hi")
        tg.wait_for_calls("sendMessage", 4, timeout=30)
        eventually(lambda: any(e["handled"] == 4 for e in bot.events("engine.stats")),
                   what="a stats event after the 4 updates")
        metrics = requests.get(bot.events("cli.metrics")[0]["url"], timeout=10).text
    finally:
        code = bot.stop()
    assert code == 0, "".join(bot.lines)
    assert tg.sent_texts(1001) == ["1", "2"]
    assert tg.sent_texts(1002) == tg.sent_texts(1003) == ["1"]
    stats = [e for e in bot.events("engine.stats") if e["handled"] == 4]
    assert stats[-1]["handlers_alive"] == 3
    assert stats[-1]["handlers_by_class"] == {"MessageCounter": 3}
    assert stats[-1]["spawned"] == 3
    assert 'actorbot_handlers_by_class{handler="MessageCounter"} 3.0' in metrics
    assert [e["username"] for e in bot.events("cli.bot")] == ["test_bot"]
    assert bot.events("engine.signal")[0]["signal"] == "SIGINT"
    assert bot.events("engine.stopped")[0]["drained"] is True
    assert tg.token not in "".join(bot.lines)
    assert tg.pending_update_count == 0  # the offset was confirmed on the way out


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_run_in_webhook_mode(tg: FakeBotApi) -> None:
    port = free_port()
    bot = Bot(tg, "examples.counter:MessageCounter", "--log-format", "json",
              "--webhook-url", f"http://127.0.0.1:{port}/hook",
              "--webhook-listen", f"127.0.0.1:{port}",
              TELEGRAM_WEBHOOK_SECRET="webhook-Secret_42")
    try:
        tg.inject_message(1001, "hi")
        tg.inject_message(1001, "again")
        tg.wait_for_calls("sendMessage", 2, timeout=30)
    finally:
        code = bot.stop()
    assert code == 0, "".join(bot.lines)
    assert tg.sent_texts(1001) == ["1", "2"]
    assert tg.webhook_secret() == "webhook-Secret_42"
    assert tg.calls_to("getUpdates") == []  # no polling in webhook mode
    assert bot.events("cli.webhook")[0]["listen"] == f"127.0.0.1:{port}"
    logs = "".join(bot.lines)
    assert "webhook-Secret_42" not in logs
    assert tg.token not in logs


def run(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """``actorbot run ...`` in this process with ``env``; returns (exit code, its message)."""
    err = io.StringIO()
    code = run_command(build_parser().parse_args(["run", *args]), environ=env, err=err)
    return code, err.getvalue()


def test_no_token_in_the_environment(restored: None) -> None:
    code, err = run("examples.counter:MessageCounter", env={})
    assert code == ExitCode.USAGE == 2
    assert "set the bot token in the environment variable TELEGRAM_BOT_TOKEN" in err
    code, err = run("examples.counter:MessageCounter", "--token-env", "MY_BOT", env={})
    assert "MY_BOT" in err


@pytest.mark.parametrize(("target", "extra", "says"), [
    ("no_such_module_here:Bot", (), "cannot import 'no_such_module_here': ModuleNotFoundError"),
    ("examples.counter:Nope", (), "'examples.counter' has no attribute 'Nope'"),
    ("examples.counter:build", (), "is not a Handler subclass, a Route or a list of routes"),
    ("examples.counter", (), "expected MODULE:NAME"),
    ("actorbot:Handler", (), "choose its seed with --route"),
    ("examples.counter:MessageCounter", ("--route", "per_moon"), "unknown --route 'per_moon'"),
])
def test_targets_that_cannot_be_served(
    restored: None, tg: FakeBotApi, target: str, extra: tuple[str, ...], says: str
) -> None:
    code, err = run(target, *extra, "--api-url", tg.base_url,
                    env={"TELEGRAM_BOT_TOKEN": tg.token})
    assert code == ExitCode.IMPORT_ERROR == 3
    assert says in err
    assert tg.calls == []  # nothing reached Telegram


def test_a_refused_token(restored: None, tg: FakeBotApi) -> None:
    wrong = "123456:WRONG-token"
    code, err = run("examples.counter:MessageCounter", "--api-url", tg.base_url,
                    env={"TELEGRAM_BOT_TOKEN": wrong})
    assert code == ExitCode.BAD_TOKEN == 4
    assert "refused the token in TELEGRAM_BOT_TOKEN" in err
    assert wrong not in err


def test_webhook_and_delete_webhook_contradict(restored: None) -> None:
    code, err = run("examples.counter:MessageCounter", "--webhook-url",
                    "https://bot.example/hook", "--delete-webhook",
                    env={"TELEGRAM_BOT_TOKEN": "1:x"})
    assert code == ExitCode.USAGE
    assert "--delete-webhook is for polling; --webhook-url sets a webhook" in err


def test_a_webhook_in_the_way(restored: None, tg: FakeBotApi, no_thread_left: None) -> None:
    with Client(tg.token, base_url=tg.base_url) as client:
        client.set_webhook("https://example.invalid/hook")
    code, err = run("examples.counter:MessageCounter", "--api-url", tg.base_url,
                    "--poll-timeout", "1", "--log-level", "error",
                    env={"TELEGRAM_BOT_TOKEN": tg.token})
    assert code == ExitCode.CONFLICT == 5
    assert "a webhook is set for this bot" in err
    assert "deleteWebhook" in err
    assert "--delete-webhook" in err


def test_delete_webhook_then_poll(restored: None, tg: FakeBotApi, no_thread_left: None) -> None:
    with Client(tg.token, base_url=tg.base_url) as client:
        client.set_webhook("https://example.invalid/hook")
        args = build_parser().parse_args(["run", "examples.counter:MessageCounter",
                                          "--api-url", tg.base_url, "--delete-webhook"])
        engine, secret = _build(args, {"TELEGRAM_BOT_TOKEN": tg.token})
        assert secret is None
        with engine:
            tg.inject_message(1001, "hi")
            tg.wait_for_calls("sendMessage", 1, timeout=10)
        assert client.get_webhook_info()["url"] == ""


def test_metrics_without_the_extra(
    restored: None, tg: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # not installed
    code, err = run("examples.counter:MessageCounter", "--api-url", tg.base_url,
                    "--metrics-port", "0", env={"TELEGRAM_BOT_TOKEN": tg.token})
    assert code == ExitCode.USAGE
    assert "pip install 'actorbot[metrics]'" in err


def test_usage_errors_return_two_without_exiting(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == ExitCode.USAGE
    assert main(["demo", "--chats", "0"]) == ExitCode.USAGE
    assert main(["run", "x:Y", "--idle-timeout", "-1"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "--chats: must be a positive number, not '0'" in err
    assert "--idle-timeout: must be a positive number of seconds or 'none', not '-1'" in err
    assert main(["--version"]) == ExitCode.OK


def stops_within(stop: Any, seconds: float) -> bool:
    """Run ``stop()`` on a helper thread: before the fix it hung, and the test must fail, not
    hang."""
    thread = threading.Thread(target=stop, name="test-stopper", daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive()


def test_the_webhook_server_stops_despite_a_silent_client(no_thread_left: None) -> None:
    fed: list[Any] = []
    server = WebhookServer(fed.append, "s3cret", "127.0.0.1", 0).start()
    silent = socket.create_connection(("127.0.0.1", server.port))  # connects, sends nothing
    try:
        answer = requests.post(f"http://127.0.0.1:{server.port}/", json={"update_id": 1},
                               headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"},
                               timeout=10)
        assert answer.status_code == 200
        assert fed == [{"update_id": 1}]
        assert stops_within(lambda: server.stop(2.0), 10)
    finally:
        silent.close()


def test_a_target_that_exits_while_importing(
    restored: None, tg: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "exits_on_import.py").write_text("import sys\nsys.exit(0)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    code, err = run("exits_on_import:Bot", "--api-url", tg.base_url,
                    env={"TELEGRAM_BOT_TOKEN": tg.token})
    assert code == ExitCode.IMPORT_ERROR  # not 0, as if the bot had run and stopped
    assert "cannot import 'exits_on_import': SystemExit" in err


# -- what `actorbot run` loads ---------------------------------------------------------------

_LOADED_MARK = "loaded-fake-telegram:"
_REPORT = f"import sys; print({_LOADED_MARK!r}, 'actorbot.testing' in sys.modules)"


def loads_the_fake_telegram(code: str) -> bool:
    """Run ``code`` in a fresh interpreter; whether ``actorbot.testing`` was imported."""
    result = subprocess.run([sys.executable, "-c", f"{code}\n{_REPORT}"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    marks = [ln for ln in result.stdout.splitlines() if ln.startswith(_LOADED_MARK)]
    assert len(marks) == 1, result.stdout
    return {"True": True, "False": False}[marks[0].split()[-1]]


def test_run_builds_its_engine_without_importing_the_fake_telegram() -> None:
    assert not loads_the_fake_telegram(
        "from actorbot.cli import build_parser\n"
        "from actorbot.cli._run import _build\n"
        "args = build_parser().parse_args(['run', 'actorbot:ChatHandler'])\n"
        "engine, _ = _build(args, {'TELEGRAM_BOT_TOKEN': '123:abc'})\n"
        "engine.client.close()"
    )


def test_run_help_does_not_import_the_fake_telegram() -> None:
    # What `python -m actorbot run --help` does, with sys.modules readable afterwards.
    assert not loads_the_fake_telegram(
        "import runpy, sys\n"
        "sys.argv = ['actorbot', 'run', '--help']\n"
        "try:\n"
        "    runpy.run_module('actorbot', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code"
    )


def test_the_demo_does_import_it() -> None:  # so the two tests above can fail
    assert loads_the_fake_telegram(
        "from actorbot.cli import main\n"
        "assert main(['demo', '--chats', '1', '--messages', '1', '--idle-timeout', '0.1',"
        " '--log-level', 'error']) == 0"
    )
