"""How fast is the fake Bot API server? (It is on the hot path of every other benchmark.)

Measures, with the server in this process as the project's benchmarks use it:

- ``sendMessage`` requests/s from one keep-alive client: ``requests.Session`` and a raw
  ``http.client.HTTPConnection``; the same clients against a do-nothing HTTP server give
  the client's own ceiling, so the server's share is visible;
- ``inject_updates`` of 20k updates, and draining them with ``getUpdates`` (limit 100).

Prints a table and writes ``benchmarks/results/fake_server.json``.
Run: ``.venv/bin/python benchmarks/fake_server.py [--requests N]``
"""

from __future__ import annotations

import argparse
import http.client
import json
import platform
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from actorbot.testing import FakeBotApi

RESULTS = Path(__file__).parent / "results" / "fake_server.json"
_NULL_RESPONSE = (
    b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'
)


@contextmanager
def null_server() -> Iterator[int]:
    """A do-nothing keep-alive HTTP server: the client's ceiling on this machine."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                while len(buf) < length:
                    buf += conn.recv(65536)
                buf = buf[length:]
                conn.sendall(_NULL_RESPONSE)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        listener.close()
        thread.join(5)


def rate(n: int, fn: Callable[[int], None]) -> dict[str, float]:
    fn(0)  # warm up the connection
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    elapsed = time.perf_counter() - start
    return {"requests": n, "seconds": round(elapsed, 3), "per_s": round(n / elapsed, 1)}


def with_requests(port: int, path: str, n: int) -> dict[str, float]:
    with requests.Session() as s:
        url = f"http://127.0.0.1:{port}{path}"
        return rate(
            n, lambda i: s.post(url, json={"chat_id": i % 100 + 1, "text": "hi"}).raise_for_status()
        )


def with_http_client(port: int, path: str, n: int) -> dict[str, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Content-Type": "application/json"}

    def one(i: int) -> None:
        body = json.dumps({"chat_id": i % 100 + 1, "text": "hi"})
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200

    try:
        return rate(n, one)
    finally:
        conn.close()


def updates_drain(total: int) -> dict[str, float]:
    with FakeBotApi() as tg, requests.Session() as s:
        raws = [
            {"message": {"message_id": i, "chat": {"id": i % 100}, "text": "x"}}
            for i in range(total)
        ]
        start = time.perf_counter()
        tg.inject_updates(raws)
        injected = time.perf_counter() - start
        offset, got = 0, 0
        start = time.perf_counter()
        while got < total:
            batch = s.get(f"{tg.api_url}/getUpdates", params={"offset": offset}).json()["result"]
            got += len(batch)
            offset = batch[-1]["update_id"] + 1
        drained = time.perf_counter() - start
    return {
        "updates": total,
        "inject_s": round(injected, 3),
        "drain_s": round(drained, 3),
        "drain_updates_per_s": round(total / drained, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=3000, help="requests per measurement")
    parser.add_argument("--updates", type=int, default=20_000, help="updates to inject and drain")
    args = parser.parse_args()
    n = args.requests

    rows: dict[str, Any] = {}
    with FakeBotApi() as tg:
        path = f"/bot{tg.token}/sendMessage"
        rows["fake sendMessage, requests.Session"] = with_requests(tg.port, path, n)
        rows["fake sendMessage, http.client"] = with_http_client(tg.port, path, n)
    with null_server() as port:
        rows["null server, requests.Session (client ceiling)"] = with_requests(port, "/x", n)
    with null_server() as port:
        rows["null server, http.client (client ceiling)"] = with_http_client(port, "/x", n)
    drain = updates_drain(args.updates)

    width = max(len(k) for k in rows)
    print(f"{'measurement':<{width}}  {'req/s':>9}  {'requests':>8}")
    for name, row in rows.items():
        print(f"{name:<{width}}  {row['per_s']:>9.0f}  {row['requests']:>8}")
    print(
        f"inject_updates({drain['updates']}): {drain['inject_s']:.3f} s;"
        f" drained with getUpdates in {drain['drain_s']:.3f} s"
        f" ({drain['drain_updates_per_s']:.0f} updates/s)"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "fake_server",
                "python": platform.python_version(),
                "machine": platform.machine(),
                "requests_per_measurement": n,
                "send_message": rows,
                "get_updates": drain,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
