"""End-to-end counter workload: N chats x M messages, each reply the chat's count.

The harness (this process) runs the fake Bot API server and injects the updates,
interleaved across chats: all up front (the default) or paced at a steady rate; the bot
runs in its own process, so its CPU time is its own. Reported per bot: updates/s (first
getUpdates, or the first paced injection, to the last reply), reply latency p50/p99 (from
the moment the update was both injected and being polled for, to the reply reaching the
server), bot CPU per reply (user + system CPU of the bot process from ready to the last
reply, divided by replies), peak RSS, peak threads, correctness (every chat's replies are
exactly 1..M in order), and how much CPU other processes used meanwhile.

    .venv/bin/python benchmarks/counter.py                       # 1,000 x 20, both runtimes
    .venv/bin/python benchmarks/counter.py --chats 100 --messages 5 --latency 0.05
    .venv/bin/python benchmarks/counter.py --rate 500            # paced: 500 updates/s

With everything up front, latency is mostly time in the backlog; pace the injection below
the bot's throughput to see the latency of a bot that keeps up.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from actorbot.testing import FakeBotApi

HERE = Path(__file__).parent
RESULTS = HERE / "results"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
FIRST_CHAT = 100_000


@dataclass
class Run:
    bot: str
    chats: int
    messages: int
    latency_ms: float
    replies: int
    seconds: float
    updates_per_s: float
    bot_cpu_ms_per_reply: float
    peak_rss_mib: float
    peak_threads: int
    ordered: bool
    other_cpu_s: float
    p50_ms: float | None = None
    p99_ms: float | None = None
    injection: str = "up front"
    broken_chats: int = 0  # chats whose replies were repeated or out of order
    responses_429: int = 0  # flood control's refusals (only with flood=True)
    complete: bool = True  # every update answered before the timeout
    exit_code: int = 0
    bot_stats: dict[str, Any] = field(default_factory=dict)  # what the bot printed at exit
    fake_stats: dict[str, int] = field(default_factory=dict)  # the fake server's counters
    switches_per_reply: float = 0.0  # the bot's threads' context switches (live threads)


@dataclass(frozen=True)
class Pacing:
    """When updates reach the fake server: all before the bot starts (the default), at a
    steady ``rate`` per second, or in waves of ``wave`` updates every ``gap`` seconds."""

    rate: float = 0.0
    wave: int = 0
    gap: float = 0.0

    @property
    def up_front(self) -> bool:
        return self.rate <= 0 and self.wave <= 0

    def due(self, elapsed: float) -> int:
        """How many updates should have been injected ``elapsed`` s after the start."""
        if self.wave > 0:
            return (int(elapsed / self.gap) + 1) * self.wave
        return int(elapsed * self.rate) + 1

    def __str__(self) -> str:
        if self.wave > 0:
            return f"waves of {self.wave} every {self.gap:g} s"
        return f"{self.rate:g}/s" if self.rate > 0 else "up front"


def machine_busy_seconds() -> float:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def threads_of(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def cpu_of(pid: int) -> float:
    """User + system CPU seconds of a live process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def switches_of(pid: int) -> int:
    """Context switches (voluntary + not) of every live thread of a process, from /proc:
    each is a sleep and a wake-up, so their count per update shows hand-offs."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            for line in (task / "status").read_text().splitlines():
                if "ctxt_switches:" in line:
                    total += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile; None when there is nothing to rank."""
    if not values:
        return None
    ranked = sorted(values)
    return ranked[min(len(ranked) - 1, max(0, round(p / 100 * len(ranked)) - 1))]


def workload(chats: int, messages: int, burst: int = 1) -> list[tuple[int, int, dict[str, Any]]]:
    """``(chat index, message index, update)`` in injection order: round after round over
    the chats, ``burst`` consecutive messages per chat each round. Text is ``str(k + 1)``,
    so an echo bot's replies are the same 1..M sequence as the counter's."""
    now = int(time.time())
    out = []
    for first in range(0, messages, burst):
        for c in range(chats):
            for k in range(first, min(first + burst, messages)):
                chat = {"id": FIRST_CHAT + c, "type": "private"}
                user = {"id": FIRST_CHAT + c, "is_bot": False, "first_name": "u"}
                msg = {"message_id": k + 1, "date": now, "text": str(k + 1), "chat": chat,
                       "from": user}
                out.append((c, k, {"message": msg}))
    return out


class BotProcess:
    """A bot under test in its own process: the ``ready <cpu s>`` handshake, its CPU and
    thread count while it runs, the lines it prints afterwards, its rusage at exit."""

    def __init__(self, name: str, command: list[str]) -> None:
        self.name = name
        self.child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.child.stdout is not None
        ready = self.child.stdout.readline().split()
        if not ready or ready[0] != "ready":
            self.child.kill()
            raise SystemExit(f"{name}: bot did not start")
        self.cpu_at_ready = float(ready[1])
        self.switches_at_ready = switches_of(self.child.pid)
        self.lines: list[str] = []
        self.peak_threads = threads_of(self.child.pid)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.child.stdout is not None
        for line in self.child.stdout:
            self.lines.append(line.strip())

    def line(self, word: str) -> list[str] | None:
        """The fields after ``word`` of the first line the bot printed starting with it."""
        for line in list(self.lines):
            head, _, rest = line.partition(" ")
            if head == word:
                return rest.split()
        return None

    def sample(self) -> None:
        self.peak_threads = max(self.peak_threads, threads_of(self.child.pid))

    def cpu(self) -> float:
        return cpu_of(self.child.pid)

    def stop(self, grace: float = 30.0) -> tuple[int, float]:
        """SIGTERM, wait (kill after ``grace`` s); returns (exit code, peak RSS in MiB)."""
        pid = self.child.pid
        self.child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while True:
            reaped, status, usage = os.wait4(pid, os.WNOHANG)
            if reaped:
                break
            if time.monotonic() > deadline:
                print(f"{self.name}: no exit {grace:g} s after SIGTERM, killing it",
                      file=sys.stderr)
                self.child.kill()
                _, status, usage = os.wait4(pid, 0)
                break
            time.sleep(0.02)
        self.child.returncode = code = os.waitstatus_to_exitcode(status)
        self._reader.join(5)
        return code, usage.ru_maxrss / 1024


def _inject(tg: FakeBotApi, updates: list[dict[str, Any]], pacing: Pacing,
            injected: list[float], stop: threading.Event) -> None:
    start, sent = time.monotonic(), 0
    while sent < len(updates) and not stop.is_set():
        due = min(pacing.due(time.monotonic() - start), len(updates))
        if due > sent:
            now = time.monotonic()
            tg.inject_updates(updates[sent:due])
            injected[sent:due] = [now] * (due - sent)
            sent = due
        stop.wait(0.002)


def run_bot(name: str, command: list[str], *, chats: int, messages: int, latency: float,
            timeout: float, pacing: Pacing | None = None, burst: int = 1,
            replies: bool = True, flood: bool = False) -> Run:
    """Run one bot on the workload. With ``replies=False`` (routing) the bot sends nothing
    and reports its own end: ``done <cpu s> <monotonic s> <handled> <chats out of order>``.
    ``flood``: the fake enforces Telegram's limits (strict sliding windows)."""
    pacing = pacing or Pacing()
    total = chats * messages
    items = workload(chats, messages, burst)
    updates = [update for _, _, update in items]
    injected = [0.0] * total
    stop = threading.Event()
    with FakeBotApi(latency=latency, flood_control=flood) as tg:
        if pacing.up_front:
            injected = [time.monotonic()] * total
            tg.inject_updates(updates)
        bot = BotProcess(name, [*command, tg.token, tg.base_url])
        busy0, own0 = machine_busy_seconds(), sum(os.times()[:2])
        pacer = threading.Thread(target=_inject, args=(tg, updates, pacing, injected, stop),
                                 daemon=True)
        if not pacing.up_front:
            pacer.start()

        def finished() -> bool:
            if replies:
                return sum(c.status == 200 for c in tg.calls_to("sendMessage")) >= total
            return bot.line("done") is not None

        deadline = time.monotonic() + timeout
        while not finished() and time.monotonic() < deadline:
            bot.sample()
            time.sleep(0.05)  # not tg.wait_for: its predicate would run on every call
        cpu_done = bot.cpu()
        switches = switches_of(bot.child.pid) - bot.switches_at_ready
        busy, own = machine_busy_seconds() - busy0, sum(os.times()[:2]) - own0
        stop.set()
        if pacer.is_alive():
            pacer.join()
        calls = tg.calls
        exit_code, peak_rss = bot.stop()
        polls = [c for c in calls if c.method == "getUpdates"]
        # A webhook bot never polls: its run starts with the injection.
        start = max(polls[0].time if polls else injected[0], injected[0])
        refused = tg.count_429
        fake_stats = tg.stats
        if replies:
            sends = [c for c in calls if c.method == "sendMessage" and c.status == 200]
            last, cpu_end, count = sends[-1].time if sends else start, cpu_done, len(sends)
            expected = [str(k) for k in range(1, messages + 1)]
            # Order is judged on what was answered: a run cut short by its timeout still
            # shows whether each chat's replies so far are 1, 2, 3 ... without a gap.
            broken = 0
            for c in range(chats):
                texts = tg.sent_texts(FIRST_CHAT + c)
                broken += texts != expected[:len(texts)]
            lags = _reply_lags(sends, items, injected, polls[0].time if polls else start)
        else:
            fields = bot.line("done") or [str(cpu_done), str(start), "0", "0"]
            cpu_end, last = float(fields[0]), float(fields[1])
            count, broken, lags = int(fields[2]), int(fields[3]), []
    seconds = last - start
    bot_cpu = cpu_end - bot.cpu_at_ready
    stats = bot.line("stats")
    p50, p99 = percentile(lags, 50), percentile(lags, 99)
    return Run(
        bot=name, chats=chats, messages=messages, latency_ms=latency * 1000,
        replies=count, seconds=round(seconds, 3),
        updates_per_s=round(count / seconds, 1) if seconds > 0 else 0.0,
        bot_cpu_ms_per_reply=round(bot_cpu / max(count, 1) * 1000, 3),
        peak_rss_mib=round(peak_rss, 1), peak_threads=bot.peak_threads,
        ordered=broken == 0,
        complete=count == total,
        other_cpu_s=round(max(busy - own - bot_cpu, 0.0), 2),
        p50_ms=None if p50 is None else round(p50 * 1000, 1),
        p99_ms=None if p99 is None else round(p99 * 1000, 1),
        injection=str(pacing), broken_chats=broken, exit_code=exit_code,
        bot_stats=json.loads(" ".join(stats)) if stats else {},
        responses_429=refused, fake_stats=fake_stats,
        switches_per_reply=round(switches / max(count, 1), 2),
    )


def _reply_lags(sends: Iterable[Any], items: list[tuple[int, int, dict[str, Any]]],
                injected: list[float], first_poll: float) -> list[float]:
    """Seconds from an update being available to a polling bot to the reply that answers
    it (the reply ``k`` in a chat answers the chat's ``k``-th message)."""
    index = {(c, k): i for i, (c, k, _) in enumerate(items)}
    lags = []
    for call in sends:
        try:
            key = (int(call.params["chat_id"]) - FIRST_CHAT, int(call.params["text"]) - 1)
        except (KeyError, TypeError, ValueError):
            continue
        if key in index:
            lags.append(call.time - max(injected[index[key]], first_poll))
    return lags


def table(title: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A right-aligned plain-text table under its title."""
    cells = [[str("-" if x is None else x) for x in row] for row in (header, *rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(x.rjust(w) for x, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join([title, *lines])


def order_cell(run: Run) -> str:
    """'yes', or a loud NO saying how many chats broke; and what was missing at the timeout."""
    missing = run.chats * run.messages - run.replies
    if run.ordered:
        return "yes" if run.complete else f"yes ({missing} unanswered at the timeout)"
    return f"NO ({run.broken_chats} chats" + (f", {missing} missing)" if missing else ")")


def write_results(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {out}")
    return out


def main_or_bot(main: Callable[[], None], bot: Callable[..., None]) -> None:
    """A script that is both the harness and, as ``SCRIPT bot ARGS...``, its bot process."""
    if sys.argv[1:2] == ["bot"]:
        bot(*sys.argv[2:])
    else:
        main()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.0, help="emulated API latency, s")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="inject at this many updates/s (default: all up front)")
    parser.add_argument("--runtimes", nargs="+", default=["pool", "threads"])
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    bot = str(HERE / "bots" / "actorbot_counter.py")
    runs = [run_bot(f"actorbot ({rt})", [sys.executable, bot, rt], chats=args.chats,
                    messages=args.messages, latency=args.latency, timeout=args.timeout,
                    pacing=Pacing(rate=args.rate))
            for rt in args.runtimes]
    header = ("bot", "replies", "s", "updates/s", "p50 ms", "p99 ms", "CPU ms/reply",
              "peak RSS MiB", "peak threads", "order ok", "other CPU s")
    rows = [(r.bot, r.replies, r.seconds, r.updates_per_s, r.p50_ms, r.p99_ms,
             r.bot_cpu_ms_per_reply, r.peak_rss_mib, r.peak_threads, order_cell(r),
             r.other_cpu_s) for r in runs]
    print(table(f"{args.chats} chats x {args.messages} messages, API latency "
                f"{args.latency * 1000:g} ms, injection {runs[0].injection}", header, rows))
    paced = f"_{args.rate:g}ps" if args.rate > 0 else ""
    write_results(f"counter_{args.chats}x{args.messages}_{int(args.latency * 1000)}ms{paced}",
                  {"benchmark": "counter", "runs": [asdict(r) for r in runs]})


if __name__ == "__main__":
    main()
