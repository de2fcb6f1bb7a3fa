"""The Mini App demo in a real headless browser: the distribution's Chromium, driven by
Playwright. The page logs in with initData signed for the fake server's token, changes
the per-user actor's state, shows its answers, and the chat sees what the page changed.

Run alone: ``.venv/bin/python -m pytest tests/webapp/test_browser.py -q -p no:cacheprovider``.
Outside CI a missing Chromium or Playwright skips it; in CI (``CI=true``) that fails.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from actorbot import Polling
from actorbot.testing import FakeBotApi

CHROMIUM = os.environ.get("ACTORBOT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mini_app" / "mini_app_bot.py"


def _unavailable(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the browser test cannot run in CI: {why}")
    pytest.skip(why)


@pytest.fixture
def playwright_available() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("playwright is not installed (pip install playwright)")
    if not (os.path.isfile(CHROMIUM) or shutil.which(CHROMIUM)):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")


@contextlib.contextmanager
def headless_chromium() -> Iterator[Any]:
    """Playwright's sync API runs an event loop on this thread while it is open: start
    the engine before it (or the engine would take that loop for the application's)."""
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        except Error as exc:
            _unavailable(f"Chromium did not start: {str(exc).splitlines()[0]}")
        try:
            yield chromium
        finally:
            chromium.close()


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mini_app_bot", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["mini_app_bot"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.usefixtures("playwright_available")
def test_the_page_and_the_chat_change_one_actors_state() -> None:
    from playwright.sync_api import expect

    bot = _example()
    with FakeBotApi() as tg:
        engine, app = bot.build(tg.token, port=0, connection=tg.connection,
                                intake=Polling(timeout=1), stats_interval=None)
        with engine, headless_chromium() as browser:
            page = browser.new_page()
            page.goto(bot.page_url(app, tg.token))
            expect(page.locator("#status")).to_have_text("connected", timeout=20_000)
            expect(page.locator("#user")).to_have_text("Ada")
            expect(page.locator("#counter")).to_have_text("0")
            page.click("#inc")
            page.click("#inc")
            expect(page.locator("#counter")).to_have_text("2")
            expect(page.locator("#last")).to_have_text("the bot says: counter is 2")
            page.fill("#note-input", "hi from chromium")
            page.click("#save")
            expect(page.locator("#note")).to_have_text("hi from chromium")

            tg.inject_message(bot.USER, "what do you know?")  # the chat sees the page's state
            tg.wait_for(lambda: len(tg.sent_texts(bot.USER)) == 1, 20)
            assert tg.sent_texts(bot.USER) == ["counter: 2, note: 'hi from chromium'"]

            tg.inject_message(bot.USER, "/inc")  # ... and the page sees the chat's change
            expect(page.locator("#counter")).to_have_text("3", timeout=20_000)
            page.close()
