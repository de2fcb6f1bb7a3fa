"""Helpers for tests that run the engine: waiting on conditions, no thread left behind."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import structlog

from actorbot.engine._engine import Engine
from actorbot.handlers import ChatHandler, EngineStopping, IdleTimeout
from actorbot.intake import Polling
from actorbot.sending import RateLimits, Sending
from actorbot.testing import FakeBotApi

FAKE_THREADS = "fake-telegram"


def eventually(
    predicate: Callable[[], object], timeout: float = 30, what: str = "it",
    interval: float = 0.002,
) -> None:
    """Wait for ``predicate`` with a deadline (the engine offers no event for every state);
    a costly predicate gets a longer ``interval``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def engine_threads() -> set[str]:
    return {t.name for t in threading.enumerate()
            if not t.name.startswith(FAKE_THREADS) and t is not threading.main_thread()}


def make_engine(tg: FakeBotApi, routes: list[Any], **options: Any) -> Engine:
    options.setdefault("intake", Polling(timeout=1))
    options.setdefault("stats_interval", None)
    options.setdefault("sending", Sending(limits=RateLimits.unlimited()))  # no flood control
    return Engine(tg.token, routes, connection=tg.connection, **options)


class LivenessProbe(ChatHandler):
    """Checks by itself that no two handlers are live for one seed; each subclass gives
    itself fresh tables."""

    lock = threading.Lock()
    live: ClassVar[dict[Any, int]] = {}
    violations: ClassVar[list[Any]] = []
    received: ClassVar[defaultdict[Any, list[int]]] = defaultdict(list)
    opens: ClassVar[defaultdict[Any, int]] = defaultdict(int)

    def on_open(self, update: Any) -> None:
        with self.lock:
            if self.seed in self.live:
                self.violations.append(("two live handlers", self.seed))
            self.live[self.seed] = id(self)
            self.opens[self.seed] += 1

    def on_message(self, update: Any) -> None:
        self.received[self.seed].append(update["update_id"])

    def on_close(self, reason: BaseException) -> None:
        with self.lock:
            if self.live.get(self.seed) != id(self):
                self.violations.append(("closed while not live", self.seed))
            else:
                del self.live[self.seed]
            if not isinstance(reason, IdleTimeout | EngineStopping):
                self.violations.append(("unexpected close", repr(reason)))


def passivation_storm(
    tg: FakeBotApi, handler: type[Any], received: dict[Any, list[int]], *,
    seed: int, n_seeds: int = 100, bursts: int = 100, per_burst: int = 500,
) -> tuple[dict[int, list[int]], dict[str, Any]]:
    """Bursts of updates over ``n_seeds`` chats with a 3 ms idle timeout, so handlers idle
    out and come back mid-handshake; ``handler`` appends each update id it handles to
    ``received[seed]``. Returns the update ids sent per chat and the final stats."""
    import random

    from actorbot import seeds
    from actorbot.engine import Handling
    from actorbot.routing import Route

    rng = random.Random(seed)
    engine = make_engine(
        tg, [Route(seeds.per_chat_id(), handler, idle_timeout=0.003)],
        handling=Handling(max_in_flight=5000, sweep_limit=10_000),
    )
    expected: defaultdict[int, list[int]] = defaultdict(list)
    with engine:
        for _ in range(bursts):
            chats = [rng.randrange(n_seeds) for _ in range(per_burst)]
            ids = tg.inject_updates(
                {"message": {"message_id": 1, "date": 0, "chat": {"id": c, "type": "private"},
                             "text": "x"}} for c in chats)
            for c, update_id in zip(chats, ids, strict=True):
                expected[c].append(update_id)
            time.sleep(rng.uniform(0, 0.008))  # load shape: let handlers idle out meanwhile
        total = bursts * per_burst
        eventually(lambda: sum(map(len, received.values())) >= total, 120, "all updates")
        eventually(lambda: engine.stats()["handlers_alive"] == 0, 30, "handlers to passivate")
        stats = engine.stats()
    return dict(expected), stats


class BotProcess:
    """A bot from ``tests/bots`` in a subprocess (``python -m MODULE ARGS``, the token in
    ``ACTORBOT_TEST_TOKEN``), started once it prints ``ready``: for tests that kill it."""

    def __init__(self, tg: FakeBotApi, module: str, *args: str) -> None:
        import os
        import subprocess
        import sys
        from pathlib import Path

        root = Path(__file__).resolve().parents[1]
        env = {**os.environ, "ACTORBOT_TEST_TOKEN": tg.token, "PYTHONPATH": str(root)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.proc.kill()
            _, err = self.proc.communicate(timeout=30)
            raise AssertionError(f"the bot did not start: {line!r}\n{err}")

    def kill(self) -> None:
        import signal

        self.proc.send_signal(signal.SIGKILL)
        self.proc.communicate(timeout=30)

    def terminate(self) -> tuple[str, str]:
        """SIGTERM (a graceful stop); its stdout and stderr once it exited with 0."""
        import signal

        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=60)
        assert self.proc.returncode == 0, err
        return out, err


@contextlib.contextmanager
def logging_restored() -> Iterator[None]:
    """Undo what configure_logging() (or a docs sample calling it) does to global state."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        structlog.configure(**saved)
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)
