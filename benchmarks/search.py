"""Phase `search`: warm hybrid-search latency on the seeds and the largest index, with short
questions (the gold prompts) and long ones (TREC patient notes)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from benchmarks.common import (
    Config, Result, call, embedder_for, ensure_index, largest, ms_summary, patient_notes, queries, settings_for,
)


def latencies(search: Callable[[str], Any], texts: list[str]) -> list[float]:
    out = []
    for q in texts:
        t0 = time.perf_counter()
        search(q)
        out.append(time.perf_counter() - t0)
    return out


def measure(cfg: Config) -> Result:
    from trialqa.retrieve import Retriever

    settings = settings_for()
    embedder = embedder_for(cfg, settings)
    short, notes = queries(cfg), patient_notes(cfg, 15)
    out: Result = {}
    for name in dict.fromkeys(("seeds", largest(cfg))):
        retriever = Retriever(ensure_index(cfg, name, embedder, settings), embedder, settings)
        for q in short[:5]:  # warm: caches, lazy imports, BLAS threads
            retriever.search(q)
        passes = max(2, cfg.repeats)
        out[name] = {
            "chunks": len(retriever.index.chunks),
            "short": ms_summary([latencies(retriever.search, short) for _ in range(passes)]),
            "long": ms_summary([latencies(retriever.search, notes) for _ in range(passes)]) if notes else None,
        }
    return out


def phase(cfg: Config) -> Result:
    return call(cfg, measure)
