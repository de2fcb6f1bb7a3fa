"""Scale-out on Redis Streams: the counter workload with 1, 2 and 4 worker processes.

For each worker count: an ``actorbot intake`` and N ``actorbot worker`` processes on a
``redis-server`` started here, against the fake Bot API in this process. Measures

- **throughput**: all updates injected at once, updates/s from the first poll to the last
  answer, and CPU per update summed over intake, workers and redis-server;
- **the Redis hop**: a paced load well under capacity, reply latency p50/p99 (answer
  received - update injected), against the same bot as one ``actorbot run`` process;
- **takeover**: with 2 workers, SIGKILL one, then the seconds until its partitions are
  all held again, and until the first answer from one of them.

Run alone (the machine has 2 cores), e.g.:

    .venv/bin/python benchmarks/scaleout.py                            # the official figures
    .venv/bin/python benchmarks/scaleout.py --chats 50 --messages 10 --workers 1 2
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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from actorbot import ChatHandler  # noqa: E402
from actorbot.cluster import Cluster  # noqa: E402
from actorbot.testing import FakeBotApi  # noqa: E402
from tests.redisd import RedisServer  # noqa: E402

PARTITIONS = 16
LEASE_TTL = 5.0


class Counter(ChatHandler):
    """The counter workload: each chat's messages counted in an attribute, answered."""

    count = 0

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.count += 1
        self.sender.send_message(str(self.count))


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def spawn(tg: FakeBotApi, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": tg.token,
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])}
    return subprocess.Popen([sys.executable, "-m", "actorbot", *args, "--api-url", tg.base_url,
                             "--log-level", "warning", "--no-rate-limits"]
                            if args[0] != "intake" else
                            [sys.executable, "-m", "actorbot", *args, "--api-url", tg.base_url,
                             "--log-level", "warning"],
                            cwd=HERE, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def cluster_args() -> list[str]:
    return ["--partitions", str(PARTITIONS), "--lease-ttl", str(LEASE_TTL)]


def start_cluster(tg: FakeBotApi, url: str, workers: int) -> list[subprocess.Popen[bytes]]:
    procs = [spawn(tg, "intake", "--redis", url, "--poll-timeout", "1", *cluster_args())]
    procs += [spawn(tg, "worker", "scaleout:Counter", "--redis", url, "--stats-interval", "0",
                    *cluster_args()) for _ in range(workers)]
    client: Any = redis.Redis.from_url(url, decode_responses=True)
    keys = Cluster(partitions=PARTITIONS).keys(tg.token)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until every worker holds its share
        owners = [client.get(keys.lease(p)) for p in range(PARTITIONS)]
        if None not in owners and len(set(owners)) == workers:
            break
        time.sleep(0.05)
    client.close()
    return procs


def stop(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        proc.wait(60)


def messages(chats: int, per_chat: int) -> list[tuple[int, str]]:
    return [(1000 + c, f"m{i}") for i in range(per_chat) for c in range(chats)]


def wait_answers(tg: FakeBotApi, total: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(tg.calls_to("sendMessage")) >= total:
            return True
        time.sleep(0.05)
    return False


def throughput(server: RedisServer, workers: int, chats: int, per_chat: int,
               timeout: float) -> dict[str, Any]:
    with FakeBotApi(record_calls=True) as tg:
        client: Any = redis.Redis(port=server.port)
        client.flushall()
        procs = start_cluster(tg, server.url, workers)
        assert server.proc is not None
        pids = [p.pid for p in procs] + [server.proc.pid]
        cpu0 = sum(cpu_seconds(pid) for pid in pids)
        total = chats * per_chat
        tg.inject_updates([{"message": {"message_id": i, "date": 0, "text": text,
                                        "chat": {"id": chat, "type": "private"},
                                        "from": {"id": chat, "is_bot": False,
                                                 "first_name": "u"}}}
                           for i, (chat, text) in enumerate(messages(chats, per_chat))])
        start = time.monotonic()
        done = wait_answers(tg, total, timeout)
        cpu = sum(cpu_seconds(pid) for pid in pids) - cpu0
        sends = tg.calls_to("sendMessage")
        seconds = (sends[-1].time if sends else time.monotonic()) - start
        stop(procs)
        client.close()
    return {"workers": workers, "updates": total, "complete": done,
            "updates_per_s": round(len(sends) / seconds, 1) if seconds > 0 else 0.0,
            "cpu_ms_per_update": round(cpu / max(len(sends), 1) * 1000, 3)}


def latency(server: RedisServer, workers: int, rate: float, count: int,
            timeout: float) -> dict[str, Any]:
    """Paced at ``rate``/s: reply latency of ``count`` updates (one chat each, so the
    latency is the pipeline's, not a chat's queue). ``workers`` 0: one ``actorbot run``."""
    with FakeBotApi() as tg:
        client: Any = redis.Redis(port=server.port)
        client.flushall()
        if workers:
            procs = start_cluster(tg, server.url, workers)
        else:
            env = {**os.environ, "TELEGRAM_BOT_TOKEN": tg.token,
                   "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])}
            procs = [subprocess.Popen(
                [sys.executable, "-m", "actorbot", "run", "scaleout:Counter", "--api-url",
                 tg.base_url, "--poll-timeout", "1", "--log-level", "warning",
                 "--no-rate-limits", "--stats-interval", "0"],
                cwd=HERE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
            deadline = time.monotonic() + 30
            while not tg.long_poll_pending and time.monotonic() < deadline:
                time.sleep(0.02)
        injected: dict[int, float] = {}
        for i in range(count):
            injected[5000 + i] = time.monotonic()
            tg.inject_message(5000 + i, "m")
            time.sleep(1 / rate)  # pacing the load, not waiting for a result
        wait_answers(tg, count, timeout)
        lags = sorted(c.time - injected[c.params["chat_id"]] for c in tg.calls_to("sendMessage"))
        stop(procs)
        client.close()
    def pct(p: float) -> float | None:
        return round(lags[min(int(len(lags) * p / 100), len(lags) - 1)] * 1000, 1) if lags else None
    return {"workers": workers, "rate": rate, "answers": len(lags), "p50_ms": pct(50),
            "p99_ms": pct(99)}


def takeover(server: RedisServer, timeout: float) -> dict[str, Any]:
    with FakeBotApi() as tg:
        client: Any = redis.Redis.from_url(server.url, decode_responses=True)
        client.flushall()
        procs = start_cluster(tg, server.url, 2)
        keys = Cluster(partitions=PARTITIONS).keys(tg.token)
        victim = procs[1]
        mine = [p for p in range(PARTITIONS)
                if f"-{victim.pid}-" in (client.get(keys.lease(p)) or "")]
        chat = next(c for c in range(1, 10_000) if Cluster(partitions=PARTITIONS).partition_of(
            {"message": {"chat": {"id": c}}}) in mine)
        answered = threading.Event()
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        killed = time.monotonic()
        tg.inject_message(chat, "after the kill")
        held = None
        deadline = killed + timeout
        while time.monotonic() < deadline and not answered.is_set():
            owners = [client.get(keys.lease(p)) for p in mine]
            if held is None and all(o and f"-{victim.pid}-" not in o for o in owners):
                held = time.monotonic() - killed
            if tg.sent_texts(chat):
                answered.set()
            time.sleep(0.01)
        first = tg.calls_to("sendMessage")
        stop([procs[0], procs[2]])
        client.close()
    return {"lease_ttl_s": LEASE_TTL, "partitions_moved": len(mine),
            "held_again_s": None if held is None else round(held, 2),
            "first_answer_s": round(first[0].time - killed, 2) if first else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--rate", type=float, default=100.0, help="paced load, updates/s")
    parser.add_argument("--paced", type=int, default=1000, help="updates in the paced load")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    with RedisServer() as server:
        runs = [throughput(server, n, args.chats, args.messages, args.timeout)
                for n in args.workers]
        lat = [latency(server, n, args.rate, args.paced, args.timeout) for n in (0, 1)]
        take = takeover(server, 30.0)
    print(f"counter, {args.chats} chats x {args.messages}, {PARTITIONS} partitions")
    print("| workers | updates/s | CPU ms/update (all processes) | complete |")
    print("|---|---|---|---|")
    for run in runs:
        print(f"| {run['workers']} | {run['updates_per_s']} | {run['cpu_ms_per_update']} | "
              f"{run['complete']} |")
    print(f"\npaced {args.rate}/s, {args.paced} updates: reply latency")
    print("| setup | p50 ms | p99 ms |")
    print("|---|---|---|")
    for row in lat:
        name = "actorbot run (one process)" if row["workers"] == 0 else "intake + 1 worker"
        print(f"| {name} | {row['p50_ms']} | {row['p99_ms']} |")
    print(f"\ntakeover after SIGKILL (lease {LEASE_TTL} s): partitions held again after "
          f"{take['held_again_s']} s, first answer after {take['first_answer_s']} s")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"scaleout-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"args": vars(args), "throughput": runs, "latency": lat,
                               "takeover": take}, indent=2))
    print(f"\n{out}")


if __name__ == "__main__":
    main()
