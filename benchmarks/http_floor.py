"""What an HTTP server alone costs per webhook request: a do-nothing app, no engine.

The server (uvicorn or granian with a bare ASGI app, or cheroot with a bare WSGI app, 40
threads, keep-alive unlimited) runs in its own process; 40 keep-alive clients in this process POST
an update-sized body like the fake Telegram does. Reported: requests/s and the server
process's CPU per request (user and system, from ``/proc``). This is the floor under any
webhook intake on that server, to set against polling's whole CPU per update
(``webhook.py``).

    .venv/bin/python benchmarks/http_floor.py                  # both, 10,000 requests
    .venv/bin/python benchmarks/http_floor.py --servers uvicorn --requests 40000
    .venv/bin/python benchmarks/http_floor.py --servers granian   # after pip install granian
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from typing import Any

BODY = (b'{"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "1", '
        b'"chat": {"id": 1, "type": "private"}}}')
TICK = os.sysconf("SC_CLK_TCK")


async def app(scope: Any, receive: Any, send: Any) -> None:
    """The do-nothing ASGI app: read the body, answer 200."""
    if scope["type"] != "http":
        return
    await receive()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


def serve(kind: str, port: int) -> None:
    if kind == "uvicorn":
        import uvicorn

        print("ready", flush=True)
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                    backlog=128, lifespan="off")
    elif kind == "granian":  # compiled (Rust) HTTP, embedded on this loop: pip install granian
        import asyncio

        from granian.constants import Interfaces
        from granian.server.embed import Server as Granian

        async def run() -> None:
            server = Granian(app, port=port, interface=Interfaces.ASGI, log_enabled=False)
            print("ready", flush=True)
            await server.serve()

        asyncio.run(run())
    else:
        from cheroot.wsgi import Server

        def wsgi(environ: Any, start_response: Any) -> list[bytes]:
            environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            start_response("200 OK", [("Content-Length", "0")])
            return [b""]

        server = Server(("127.0.0.1", port), wsgi, numthreads=40)
        server.keep_alive_conn_limit = None
        server.request_queue_size = 128
        print("ready", flush=True)
        server.safe_start()


def cpu(pid: int) -> tuple[int, int]:
    fields = open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()  # noqa: SIM115
    return int(fields[11]), int(fields[12])


def measure(kind: str, requests: int) -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    child = subprocess.Popen([sys.executable, __file__, "serve", kind, str(port)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    child.stdout.readline()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # listening?
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(n):
            conn.request("POST", "/hook", body=BODY, headers={
                "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "x"})
            conn.getresponse().read()
        conn.close()

    user0, sys0 = cpu(child.pid)
    start = time.monotonic()
    clients = [threading.Thread(target=client, args=(requests // 40,)) for _ in range(40)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    user1, sys1 = cpu(child.pid)
    seconds = time.monotonic() - start
    child.terminate()
    child.wait()
    done = requests // 40 * 40
    per = 1e6 / TICK / done
    return (f"{kind}: {done / seconds:,.0f} requests/s, server CPU "
            f"{(user1 - user0 + sys1 - sys0) * per:.0f} us/request "
            f"(user {(user1 - user0) * per:.0f}, system {(sys1 - sys0) * per:.0f})")


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", nargs="+", default=["uvicorn", "cheroot"])
    parser.add_argument("--requests", type=int, default=10_000)
    args = parser.parse_args()
    for kind in args.servers:
        print(measure(kind, args.requests))


if __name__ == "__main__":
    main()
