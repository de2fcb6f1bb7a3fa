"""Shared fixtures: the team's Bot API reference data."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import BOTAPI


@pytest.fixture(scope="session")
def botapi_dir() -> Path:
    if not BOTAPI.is_dir():
        pytest.skip(f"Bot API reference data not found at {BOTAPI}")
    return BOTAPI
