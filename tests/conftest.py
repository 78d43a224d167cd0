"""Fixtures shared by the test modules: where the shared data and the seed pages live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _shared_root() -> Path | None:
    for candidate in (os.environ.get("TRIALQA_SHARED"), ROOT.parent / "shared"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared data directory ($TRIALQA_SHARED, else ../shared); skips when missing."""
    root = _shared_root()
    if root is None:
        pytest.skip("no shared data: set TRIALQA_SHARED or provide ../shared next to the repo")
    return root


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The project's five seed pages."""
    return ROOT / "seeds"
