"""The index picker: the indexes under a directory (each holds a manifest.json) and one
assistant per index, loaded on first use and sharing the embedder and the model."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trialqa.errors import BadInput

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexInfo:
    name: str
    path: Path
    trials: int = 0
    chunks: int = 0

    @property
    def label(self) -> str:
        return f"{self.name} ({self.trials:,} trials)"


def list_indexes(root: Path | None) -> list[IndexInfo]:
    """Every directory directly under `root` that holds a readable manifest.json."""
    out = []
    if root is None or not Path(root).is_dir():
        return out
    for d in sorted(Path(root).iterdir()):
        m = d / "manifest.json"
        if not m.is_file():
            continue
        try:
            counts = json.loads(m.read_text(encoding="utf-8")).get("counts", {})
        except (OSError, ValueError, AttributeError):
            continue
        out.append(IndexInfo(d.name, d, int(counts.get("trials", 0)), int(counts.get("chunks", 0))))
    return out


def load_sibling(base: Any, path: Path) -> Any:
    """An assistant over the index at `path` with `base`'s embedder, model and settings."""
    from trialqa.assistant import Assistant
    from trialqa.store import load_index

    index = load_index(path, base.embedder, base.settings)
    return Assistant(index, base.embedder, base._generator, model=base._model, settings=base.settings)


class Library:
    """The assistants a chat page can switch between, by index name (thread-safe)."""

    def __init__(self, base: Any, root: Path | None = None,
                 load: Callable[[Any, Path], Any] | None = None) -> None:
        self.base = base
        self.default = Path(base.index.path).name
        self.root = Path(root) if root is not None else Path(base.index.path).parent
        self._load = load or load_sibling
        self._cache: dict[str, Any] = {self.default: base}
        self._lock = threading.Lock()

    def infos(self) -> list[IndexInfo]:
        found = list_indexes(self.root)
        if not any(i.name == self.default for i in found):
            c = self.base.index.manifest.counts
            found.insert(0, IndexInfo(self.default, Path(self.base.index.path),
                                      int(c.get("trials", 0)), int(c.get("chunks", 0))))
        return found

    def choices(self) -> list[tuple[str, str]]:
        """(label, name) pairs for a dropdown."""
        return [(i.label, i.name) for i in self.infos()]

    def get(self, name: str | None) -> Any:
        """The assistant of index `name` (the default for None/empty); BadInput if unknown."""
        name = name or self.default
        with self._lock:
            if name in self._cache:
                return self._cache[name]
            info = next((i for i in list_indexes(self.root) if i.name == name), None)
            if info is None:  # only names found on disk, never a path from the page
                raise BadInput(f"no index named {name!r} under {self.root}")
            log.info("loading index %s", info.path)
            assistant = self._load(self.base, info.path)
            self._cache[name] = assistant
            return assistant
