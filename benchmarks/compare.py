"""actorbot and its peers side by side on the counter workload, at each API latency.

The peers (python-telegram-bot, aiogram) are never dependencies of actorbot: this script
creates ``benchmarks/.peers-venv`` and pip-installs pinned versions there (reused on later
runs; ``--no-install`` skips pip). Each bot runs in its own process against the fake
server on the same workload as ``counter.py``; one table per latency marks every bot whose
per-chat order broke, and the last line compares actorbot with the fastest peer whose order
held. ``--plot`` also sweeps the number of chats and draws updates/s against chats and
against latency (matplotlib, installed in the peers venv) to results/throughput.png.

    .venv/bin/python benchmarks/compare.py                        # 1,000 x 20 at 0 and 50 ms
    .venv/bin/python benchmarks/compare.py --chats 20 --messages 5 --plot --plot-chats 5 20
    .venv/bin/python benchmarks/compare.py --bots actorbot aiogram-isolated --latencies 0.05
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from counter import HERE, RESULTS, Pacing, Run, order_cell, run_bot, table, write_results

PEERS_VENV = HERE / ".peers-venv"
PEERS = ("python-telegram-bot==22.8", "aiogram==3.31.0")
PLOTTING = ("matplotlib==3.11.2",)
PEER_DIR = HERE / "peers"
#: key -> (table name, script or None for actorbot, variant)
BOTS: dict[str, tuple[str, str | None, str]] = {
    "actorbot": ("actorbot (pool)", None, "pool"),
    "actorbot-async": ("actorbot (async hooks)", None, "async"),
    "ptb-default": ("PTB default", "ptb_counter.py", "default"),
    "ptb-concurrent": ("PTB concurrent_updates", "ptb_counter.py", "concurrent"),
    "aiogram-default": ("aiogram default", "aiogram_counter.py", "default"),
    "aiogram-isolated": ("aiogram event isolation", "aiogram_counter.py", "isolated"),
    "aiogram-sequential": ("aiogram sequential", "aiogram_counter.py", "sequential"),
}


def peers_python(*, install: bool, plot: bool) -> Path:
    """The peers venv's interpreter, creating the venv and installing the pins if asked."""
    python = PEERS_VENV / "bin" / "python"
    if not python.exists():
        if not install:
            raise SystemExit(f"{PEERS_VENV} does not exist: run once without --no-install")
        print(f"creating {PEERS_VENV}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
    if not install and plot and subprocess.run([str(python), "-c", "import matplotlib"],
                                               check=False).returncode:
        raise SystemExit(f"no matplotlib in {PEERS_VENV}: run --plot without --no-install")
    if install:
        pins = [*PEERS, *(PLOTTING if plot else ())]
        print(f"installing {' '.join(pins)} into {PEERS_VENV}", flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", *pins], check=True)
    return python


def command(key: str, python: Path) -> list[str]:
    _, script, variant = BOTS[key]
    if script is None:
        return [sys.executable, str(HERE / "bots" / "actorbot_counter.py"), variant]
    return [str(python), str(PEER_DIR / script), variant]


def default_timeout(chats: int, messages: int, latency: float) -> float:
    """Room for a peer handling one update per round trip (20/s at 50 ms), and then some."""
    return 120 + chats * messages * (latency + 0.005) * 1.5


def compare_runs(keys: list[str], python: Path, *, chats: int, messages: int, latency: float,
                 pacing: Pacing, timeout: float | None) -> list[Run]:
    runs = []
    for key in keys:
        print(f"  {BOTS[key][0]}: {chats} x {messages}, {latency * 1000:g} ms ...", flush=True)
        runs.append(run_bot(BOTS[key][0], command(key, python), chats=chats,
                            messages=messages, latency=latency, pacing=pacing,
                            timeout=timeout or default_timeout(chats, messages, latency)))
    return runs


def report(runs: list[Run]) -> str:
    """The side-by-side table for one latency, and actorbot against the best ordered peer."""
    first = runs[0]
    header = ("bot", "updates/s", "p50 ms", "p99 ms", "CPU ms/reply", "peak RSS MiB",
              "peak threads", "order ok", "other CPU s")
    rows = [(r.bot, r.updates_per_s, r.p50_ms, r.p99_ms, r.bot_cpu_ms_per_reply,
             r.peak_rss_mib, r.peak_threads, order_cell(r), r.other_cpu_s) for r in runs]
    lines = [table(f"{first.chats} chats x {first.messages} messages, API latency "
                   f"{first.latency_ms:g} ms, injection {first.injection}", header, rows)]
    if broken := [r.bot for r in runs if not r.ordered]:
        lines.append(f"!! per-chat order BROKEN: {', '.join(broken)}")
    if cut := [r.bot for r in runs if not r.complete]:
        lines.append(f"timed out (updates/s measured over the replies sent): {', '.join(cut)}")
    if failed := [f"{r.bot} ({r.exit_code})" for r in runs if r.exit_code]:
        lines.append(f"!! exit code after SIGTERM: {', '.join(failed)}")
    ours = next((r for r in runs if r.bot == BOTS["actorbot"][0]), None)
    peers = [r for r in runs if not r.bot.startswith("actorbot") and r.ordered]
    if ours is not None and peers:
        best = max(peers, key=lambda r: r.updates_per_s)
        ratio = ours.updates_per_s / best.updates_per_s if best.updates_per_s else 0.0
        lines.append(f"{ours.bot} / fastest peer with correct order ({best.bot}): "
                     f"{ours.updates_per_s:g} / {best.updates_per_s:g} = {ratio:.2f}x")
    elif ours is not None:
        lines.append("no peer kept per-chat order: no ratio")
    return "\n".join(lines)


def machine() -> dict[str, object]:
    return {"cpus": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "peers": [*PEERS]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--latencies", type=float, nargs="+", default=[0.0, 0.05],
                        help="emulated API latencies, s")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="inject at this many updates/s (default: all up front)")
    parser.add_argument("--bots", nargs="+", choices=list(BOTS), default=list(BOTS))
    parser.add_argument("--timeout", type=float, default=None,
                        help="per bot run, s (default: scaled to the workload and latency)")
    parser.add_argument("--no-install", action="store_true",
                        help="reuse benchmarks/.peers-venv as it is")
    parser.add_argument("--plot", action="store_true",
                        help="also sweep --plot-chats and write results/throughput.png")
    parser.add_argument("--plot-chats", type=int, nargs="+", default=[10, 100, 1000])
    args = parser.parse_args()
    python = peers_python(install=not args.no_install, plot=args.plot)
    pacing = Pacing(rate=args.rate)
    grid: dict[tuple[int, float], list[Run]] = {}
    for latency in args.latencies:
        grid[args.chats, latency] = runs = compare_runs(
            args.bots, python, chats=args.chats, messages=args.messages, latency=latency,
            pacing=pacing, timeout=args.timeout)
        print(report(runs), "\n", flush=True)
    write_results(f"compare_{args.chats}x{args.messages}",
                  {"benchmark": "compare", "machine": machine(),
                   "runs": [asdict(r) for (c, _), rs in grid.items() for r in rs
                            if c == args.chats]})
    if not args.plot:
        return
    for chats in sorted(set(args.plot_chats) - {args.chats}):
        for latency in args.latencies:
            grid[chats, latency] = compare_runs(
                args.bots, python, chats=chats, messages=args.messages, latency=latency,
                pacing=pacing, timeout=args.timeout)
    sweep = write_results("compare_sweep", {
        "benchmark": "compare_sweep", "machine": machine(),
        "runs": [asdict(r) for _, rs in sorted(grid.items()) for r in rs]})
    png = RESULTS / "throughput.png"
    subprocess.run([str(python), str(PEER_DIR / "plot.py"), str(sweep), str(png)], check=True)
    print(f"wrote {png}")


if __name__ == "__main__":
    main()
