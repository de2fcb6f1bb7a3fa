"""SIGINT/SIGTERM as a graceful stop, for the ``run_forever`` of the engine and the cluster."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

import structlog

log = structlog.get_logger("actorbot.runtime")


@contextlib.contextmanager
def stop_on_signals(done: threading.Event, event: str) -> Iterator[None]:
    """While inside, SIGINT and SIGTERM set ``done`` (logged as ``event`` with the signal's
    name) instead of killing the process; the previous handlers come back on the way out.
    Only the main thread may install handlers: elsewhere this changes nothing."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info(event, signal=signal.Signals(signum).name)
        done.set()

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, on_signal)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
