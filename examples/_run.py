"""What every example's ``main`` does: a real bot with a token, else a demo on the fake."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import structlog

from actorbot import Engine


def run(build: Callable[[str], Engine], demo: Callable[[], None]) -> None:
    """Run ``build(token).run_forever()`` if ``TELEGRAM_BOT_TOKEN`` is set, else ``demo()``."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    token = os.environ.get("TELEGRAM_BOT_TOKEN")
    if token:
        build(token).run_forever()
    else:
        demo()
