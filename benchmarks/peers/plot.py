"""Draw compare.py's sweep: updates/s against chats (one panel per API latency) and
against latency (at the most chats). Runs in the peers venv, where compare.py installs
matplotlib, so plotting never becomes a dependency of actorbot.

    python plot.py results/compare_sweep.json results/throughput.png
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")  # no display here
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

PLAIN = FuncFormatter(lambda value, _: f"{value:g}")  # 1000, not 10^3

Point = tuple[float, float, bool]  # x, updates/s, per-chat order held


def series(runs: list[dict[str, Any]], x: str, **fixed: float) -> dict[str, list[Point]]:
    """Per bot, the (x, updates/s, ordered) points of the runs matching ``fixed``."""
    out: dict[str, list[Point]] = defaultdict(list)
    for run in runs:
        if all(run[k] == v for k, v in fixed.items()):
            out[run["bot"]].append((run[x], run["updates_per_s"], run["ordered"]))
    return {bot: sorted(points) for bot, points in out.items()}


def draw(ax: Any, lines: dict[str, list[Point]], colors: dict[str, Any]) -> None:
    """One line per bot; a run whose per-chat order broke is a red-edged cross."""
    for bot, points in lines.items():
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        ax.plot(xs, ys, marker="o", color=colors[bot], label=bot)
        broken = [p for p in points if not p[2]]
        if broken:
            ax.scatter([p[0] for p in broken], [p[1] for p in broken], marker="X", s=120,
                       color=colors[bot], edgecolors="red", linewidths=1.5, zorder=3)
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(PLAIN)
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(sorted({p[0] for points in lines.values() for p in points}))
    ax.set_ylabel("updates/s")
    ax.grid(visible=True, which="both", alpha=0.3)


def main() -> None:
    source, target = map(Path, sys.argv[1:])
    runs: list[dict[str, Any]] = json.loads(source.read_text())["runs"]
    bots = list(dict.fromkeys(run["bot"] for run in runs))
    colors = {bot: plt.get_cmap("tab10")(i % 10) for i, bot in enumerate(bots)}
    latencies = sorted({run["latency_ms"] for run in runs})
    most = max(run["chats"] for run in runs)
    messages = runs[0]["messages"]
    fig, axes = plt.subplots(1, len(latencies) + 1, figsize=(5.5 * (len(latencies) + 1), 4.8),
                             squeeze=False)
    for ax, latency in zip(axes[0], latencies, strict=False):
        draw(ax, series(runs, "chats", latency_ms=latency), colors)
        ax.set_xscale("log")
        ax.set_xticks(sorted({run["chats"] for run in runs}))
        ax.xaxis.set_major_formatter(PLAIN)
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(f"chats ({messages} messages each)")
        ax.set_title(f"API latency {latency:g} ms")
    ax = axes[0][-1]
    draw(ax, series(runs, "latency_ms", chats=most), colors)
    ax.set_xlabel("emulated API latency, ms")
    ax.set_title(f"{most} chats x {messages} messages")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), frameon=False)
    fig.suptitle("Counter bot throughput (X: per-chat order broke)")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(target, dpi=110)


if __name__ == "__main__":
    main()
