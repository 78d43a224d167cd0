"""Fixtures shared by the test modules: where the shared data, the seed pages and the bundled model live."""

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


@pytest.fixture(scope="session")
def bundled_gguf() -> Path:
    """The assembled bundled GGUF; skips when the model packages are not installed."""
    from trialqa.errors import ModelUnavailable
    from trialqa.models import ensure_bundled_gguf

    try:
        return ensure_bundled_gguf()
    except ModelUnavailable as exc:
        pytest.skip(f"bundled GGUF unavailable: {exc}")
