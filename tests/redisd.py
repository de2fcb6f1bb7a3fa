"""A throwaway ``redis-server`` for tests: 127.0.0.1, a free port, no persistence.

``RedisServer`` starts the distribution's binary in a temporary directory, waits (with a
deadline, by PING, never by sleeping and hoping) until it answers, and stops it. In CI
(``CI=true``) a missing binary is a failure; elsewhere the fixture skips with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from types import TracebackType

BINARY = "redis-server"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def find_binary() -> str | None:
    return shutil.which(BINARY) or next(
        (p for p in ("/usr/bin/redis-server", "/usr/local/bin/redis-server")
         if os.access(p, os.X_OK)), None)


def missing_reason() -> str | None:
    """Why the Redis tests cannot run here (None: they can). The caller fails with it in
    CI, where ``.ci/run`` installs the server, and skips with it elsewhere."""
    if find_binary() is None:
        return f"{BINARY} is not installed (apt-get install redis-server)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """``with RedisServer() as server: redis.Redis(port=server.port)``."""

    def __init__(self, binary: str | None = None, *, start_timeout: float = 10.0) -> None:
        found = binary or find_binary()
        if found is None:
            raise FileNotFoundError(f"{BINARY} is not installed (apt-get install redis-server)")
        self.binary = found
        self.start_timeout = start_timeout
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self._dir = tempfile.TemporaryDirectory(prefix="redisd-")
        for _ in range(5):  # the free port can be taken between probe and bind: retry
            self.port = free_port()
            self.proc = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--dir", self._dir.name,
                 "--protected-mode", "yes", "--loglevel", "warning"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if self._wait_ready():
                return self
            self._kill()
        raise RuntimeError(f"{BINARY} did not answer PING within {self.start_timeout} s")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                return False  # exited: the port was taken, or a bad option
            if self.ping():
                return True
            time.sleep(0.01)  # polling a condition with a deadline, not a guess
        return False

    def ping(self) -> bool:
        """One RESP PING over a plain socket (no client library needed)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"*1\r\n$4\r\nPING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()
        self.proc = None

    def stop(self) -> None:
        self._kill()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
