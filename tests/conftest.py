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


@pytest.fixture(scope="session")
def corpus2000_index(tmp_path_factory, shared_dir) -> Path:
    """A 2,000-record index for the real embedder: $TRIALQA_CORPUS2000 or indexes/corpus2000 when
    it loads with the current code and embedder (read only), else built once per session from
    the shared ctgov-xml records into a temporary directory (a few minutes; a clean clone).
    TRIALQA_CORPUS2000=build forces the build."""
    from trialqa.embed import load_embedder
    from trialqa.errors import TrialQAError
    from trialqa.parse import ingest
    from trialqa.settings import get_settings
    from trialqa.index_build import build_index
    from trialqa.store import load_index

    settings = get_settings()
    embedder = load_embedder(settings)
    chosen = os.environ.get("TRIALQA_CORPUS2000", "")
    for candidate in ([] if chosen == "build" else [chosen, ROOT / "indexes" / "corpus2000"]):
        if candidate and (Path(candidate) / "manifest.json").is_file():
            try:
                load_index(Path(candidate), embedder)
                return Path(candidate)
            except TrialQAError:
                pass  # another format or embedder: build a private copy below
    records = shared_dir / "corpus" / "ctgov-xml"
    if not records.is_dir():
        pytest.skip(f"no ctgov-xml records under {shared_dir}")
    out = tmp_path_factory.mktemp("corpus2000") / "corpus2000"
    build_index(ingest([records]).trials, out, load_embedder(settings, purpose="index"), settings, progress=False)
    return out
