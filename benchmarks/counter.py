"""End-to-end counter workload: N chats x M messages, each reply the chat's count.

The harness (this process) runs the fake Bot API server and injects every update up front,
interleaved across chats; the bot runs in its own process, so its CPU time is its own.
Reported per bot: updates/s (first getUpdates to last reply), bot CPU per reply (user +
system CPU of the bot process after it was ready, divided by replies), peak RSS, peak
threads, correctness (every chat's replies are exactly 1..M in order), and how much CPU
other processes used meanwhile.

    .venv/bin/python benchmarks/counter.py                       # 1,000 x 20, both runtimes
    .venv/bin/python benchmarks/counter.py --chats 100 --messages 5 --latency 0.05
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from actorbot.testing import FakeBotApi

HERE = Path(__file__).parent
RESULTS = HERE / "results"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


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


def run_bot(name: str, command: list[str], *, chats: int, messages: int, latency: float,
            timeout: float) -> Run:
    total = chats * messages
    with FakeBotApi(latency=latency) as tg:
        tg.inject_updates(
            {"message": {"message_id": i + 1, "date": int(time.time()), "text": f"m{i}",
                         "chat": {"id": 100_000 + c, "type": "private"},
                         "from": {"id": 100_000 + c, "is_bot": False, "first_name": "u"}}}
            for i in range(messages) for c in range(chats))
        child = subprocess.Popen([*command, tg.token, tg.base_url], stdout=subprocess.PIPE,
                                 text=True)
        assert child.stdout is not None
        ready = child.stdout.readline().split()
        if not ready or ready[0] != "ready":
            child.kill()
            raise SystemExit(f"{name}: bot did not start")
        cpu_at_ready = float(ready[1])
        busy0, own0 = machine_busy_seconds(), sum(os.times()[:2])
        peak_threads = threads_of(child.pid)
        deadline = time.monotonic() + timeout
        while len(tg.calls_to("sendMessage")) < total and time.monotonic() < deadline:
            peak_threads = max(peak_threads, threads_of(child.pid))
            tg.wait_for(lambda: len(tg.calls_to("sendMessage")) >= total, 0.05)
        calls = tg.calls
        child.send_signal(signal.SIGTERM)
        _, _, usage = os.wait4(child.pid, 0)
        child.wait()
        busy = machine_busy_seconds() - busy0
        own = sum(os.times()[:2]) - own0
        sends = [c for c in calls if c.method == "sendMessage"]
        polls = [c for c in calls if c.method == "getUpdates"]
        first, last = polls[0].time, sends[-1].time if sends else time.monotonic()
        ordered = all(tg.sent_texts(100_000 + c) == [str(i) for i in range(1, messages + 1)]
                      for c in range(chats))
    bot_cpu = usage.ru_utime + usage.ru_stime - cpu_at_ready
    seconds = last - first
    return Run(
        bot=name, chats=chats, messages=messages, latency_ms=latency * 1000,
        replies=len(sends), seconds=round(seconds, 3),
        updates_per_s=round(len(sends) / seconds, 1) if seconds > 0 else 0.0,
        bot_cpu_ms_per_reply=round(bot_cpu / max(len(sends), 1) * 1000, 3),
        peak_rss_mib=round(usage.ru_maxrss / 1024, 1), peak_threads=peak_threads,
        ordered=ordered and len(sends) == total,
        other_cpu_s=round(max(busy - own - (usage.ru_utime + usage.ru_stime), 0.0), 2),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.0, help="emulated API latency, s")
    parser.add_argument("--runtimes", nargs="+", default=["pool", "threads"])
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    bot = str(HERE / "bots" / "actorbot_counter.py")
    runs = [run_bot(f"actorbot ({rt})", [sys.executable, bot, rt], chats=args.chats,
                    messages=args.messages, latency=args.latency, timeout=args.timeout)
            for rt in args.runtimes]
    header = ("bot", "replies", "s", "updates/s", "CPU ms/reply", "peak RSS MiB",
              "peak threads", "order ok", "other CPU s")
    rows = [(r.bot, r.replies, r.seconds, r.updates_per_s, r.bot_cpu_ms_per_reply,
             r.peak_rss_mib, r.peak_threads, "yes" if r.ordered else "NO", r.other_cpu_s)
            for r in runs]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    print(f"{args.chats} chats x {args.messages} messages, API latency "
          f"{args.latency * 1000:g} ms")
    for row in (header, *rows):
        print("  ".join(str(x).rjust(w) for x, w in zip(row, widths, strict=True)))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"counter_{args.chats}x{args.messages}_{int(args.latency * 1000)}ms.json"
    out.write_text(json.dumps({"benchmark": "counter", "runs": [asdict(r) for r in runs]},
                              indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
