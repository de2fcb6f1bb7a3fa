"""``actorbot demo``: simulated users chat with a bot on the engine, over an embedded fake
Telegram, so a newcomer sees actorbot work without a token or internet.

The fake enforces Telegram's flood control by default, so the demo also shows that the
sender keeps to the limits (no 429s) while every message is answered in per-chat order.
With ``rate_limits=False`` the sender does not pace itself: the 429s then show up in the
summary, and every message is still answered, because a 429 is retried.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from actorbot.cli._demo_settings import DemoSettings
from actorbot.cli._exit import ExitCode
from actorbot.cli._run import start_metrics
from actorbot.engine import Engine, Handling
from actorbot.handlers import ChatHandler
from actorbot.intake import Polling
from actorbot.routing import Route
from actorbot.seeds import per_chat_id
from actorbot.sending import RateLimits, Sending
from actorbot.testing import FakeBotApi

_TICK = 0.1  # how often the simulated users and the progress line wake up


class DemoBot(ChatHandler):
    """Answers each message with its place in the conversation: state per chat, in order."""

    def on_open(self, update: Any) -> None:
        self.count = 0

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.count += 1
        self.sender.send_message(f"#{self.count} re: {msg.get('text', '')}")


@dataclass
class _Tally:
    started: float = field(default_factory=time.monotonic)
    injected: int = 0
    replies: int = 0
    peak_alive: int = 0
    stats: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False
    timed_out: bool = False

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def user_text(number: int) -> str:
    return f"message {number}"


class _Progress:
    """One line rewritten in place on a terminal; a line per second otherwise (logs, CI)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = bool(getattr(out, "isatty", lambda: False)())
        self.every = _TICK if self.tty else 1.0
        self.last = 0.0
        self.phase = ""

    def show(self, tally: _Tally, total: int, phase: str) -> None:
        now = time.monotonic()
        if phase == self.phase and now - self.last < self.every:
            return
        self.last, self.phase = now, phase
        s = tally.stats
        line = (f"{tally.elapsed():5.1f} s  {phase:<11}  users sent {tally.injected}/{total}  "
                f"handled {s.get('handled', 0)}  handlers alive {s.get('handlers_alive', 0)}  "
                f"replies {tally.replies}  429s {s.get('sender_rate_limited', 0)}")
        self.out.write(f"\r{line:<100}" if self.tty else f"{line}\n")
        self.out.flush()

    def end(self) -> None:
        if self.tty:
            self.out.write("\n")


def _replies(tg: FakeBotApi) -> int:
    return sum(1 for c in tg.calls_to("sendMessage") if c.status == 200)


def _wait(until: float | None) -> None:
    """Sleep until the next message is due (None: none is), at most one tick."""
    pause = _TICK if until is None else until - time.monotonic()
    time.sleep(min(max(pause, 0.0), _TICK))


def _converse(tg: FakeBotApi, engine: Engine, s: DemoSettings, tally: _Tally,
              progress: _Progress) -> None:
    """Users write (round robin over the chats, ``rate`` per second) until all are answered,
    then everyone falls silent until the idle timeout has passivated every handler."""
    chats = s.chat_ids()
    deadline = tally.started + s.timeout
    while True:
        due = min(s.total, int(tally.elapsed() * s.rate) + 1)
        while tally.injected < due:
            chat = chats[tally.injected % s.chats]
            tg.inject_message(chat, user_text(tally.injected // s.chats + 1))
            tally.injected += 1
        tally.stats = engine.stats()
        tally.replies = _replies(tg)
        tally.peak_alive = max(tally.peak_alive, tally.stats["handlers_alive"])
        done = tally.injected == s.total and tally.replies >= s.total
        if done and tally.stats["handlers_alive"] == 0:
            progress.show(tally, s.total, "done")
            return
        progress.show(tally, s.total, "passivating" if done else "chatting")
        if time.monotonic() > deadline:
            tally.timed_out = True
            return
        _wait(tally.started + tally.injected / s.rate if tally.injected < s.total else None)


def _transcripts(tg: FakeBotApi, s: DemoSettings) -> tuple[int, int]:
    """(replies received, chats whose replies answer every message once and in order)."""
    received = in_order = 0
    expected = [user_text(n) for n in range(1, s.messages + 1)]
    for chat in s.chat_ids():
        texts = tg.sent_texts(chat)
        received += len(texts)
        in_order += [t.partition(" re: ")[2] for t in texts] == expected
    return received, in_order


def _summary(tg: FakeBotApi, s: DemoSettings, tally: _Tally, out: TextIO) -> bool:
    received, in_order = _transcripts(tg, s)
    st = tally.stats
    rows = [
        ("messages from simulated users", f"{tally.injected}"),
        ("updates handled", f"{st.get('handled', 0)}"),
        ("replies received", f"{received}"),
        ("chats answered fully, in order", f"{in_order}/{s.chats}"),
        ("handlers spawned", f"{st.get('spawned', 0)}"),
        ("handlers passivated (idle)", f"{st.get('passivated', 0)}"),
        ("peak handlers alive", f"{tally.peak_alive}"),
        ("handlers failed", f"{st.get('failed', 0)}"),
        ("429s from Telegram", f"{tg.count_429}"),
        ("sender retries", f"{st.get('sender_retries', 0)}"),
        ("time", f"{tally.elapsed():.1f} s"),
    ]
    width = max(len(label) for label, _ in rows)
    values = max(len(value) for _, value in rows)
    out.write("\nsummary\n")
    for label, value in rows:
        out.write(f"  {label:<{width}}  {value:>{values}}\n")
    ok = (received == s.total and in_order == s.chats and tally.injected == s.total
          and not tally.timed_out and not tally.interrupted)
    if ok:
        out.write(f"\nevery simulated message was answered ({s.total}/{s.total}), "
                  f"in order in every chat\n")
    elif tally.interrupted:
        out.write("\ninterrupted\n")
    else:
        reason = f" within {s.timeout:g} s" if tally.timed_out else ""
        out.write(f"\nNOT every message was answered{reason}: {received}/{s.total} replies\n")
    out.flush()
    return ok


def run_demo(s: DemoSettings, out: TextIO) -> int:
    """Run the demo, writing progress and the summary to ``out``; returns an exit code."""
    limits = "on" if s.flood_control else "off"
    pacing = "paced to Telegram's limits" if s.rate_limits else "NOT paced (expect 429s)"
    out.write(f"actorbot demo: {s.chats} chats x {s.messages} messages at {s.rate:g} msg/s, "
              f"on a fake Telegram (flood control {limits}); the bot's replies are "
              f"{pacing}; handlers idle out after {s.idle_timeout:g} s\n\n")
    tally = _Tally()
    progress = _Progress(out)
    with FakeBotApi(flood_control=s.flood_control, latency=s.latency) as tg:
        engine = Engine(
            tg.token, [Route(per_chat_id(), DemoBot, idle_timeout=s.idle_timeout)],
            intake=Polling(timeout=1),
            handling=Handling(runtime=s.runtime,
                              workers=s.workers if s.runtime == "pool" else None),
            sending=Sending() if s.rate_limits else Sending(limits=RateLimits.unlimited()),
            connection=tg.connection, stats_interval=s.stats_interval,
        )
        metrics = start_metrics(engine, s.metrics_port, s.metrics_host)
        try:
            with engine:
                tally.started = time.monotonic()
                try:
                    _converse(tg, engine, s, tally, progress)
                except KeyboardInterrupt:
                    tally.interrupted = True
                progress.end()
            tally.stats = engine.stats()
        finally:
            if metrics is not None:
                metrics.stop()
        ok = _summary(tg, s, tally, out)
    if tally.interrupted:
        return ExitCode.INTERRUPTED
    return ExitCode.OK if ok else ExitCode.FAILED
