"""Phase `index`: build the seeds, 2,000-record and 6,786-record indexes fresh, then re-index
them unchanged. Once an index is cached, a fresh build stopped at its deadline (twice its
target) is reported as a miss and the cached index is kept."""

from __future__ import annotations

import os
import shutil
import statistics

from benchmarks.common import (
    BUILD_TARGET_S, Config, Result, cached, call, embedder_for, index_dir, ingest, log, runs, settings_for, timed,
)


def index_corpus(cfg: Config, name: str) -> Result:
    """Fresh builds (no vectors to reuse) and unchanged re-indexes of one corpus.

    The fresh build goes to a side directory and replaces the cached index only when it
    finished, so a build stopped at its deadline leaves the previous index usable.
    """
    from trialqa.index_build import build_index

    settings = settings_for()
    embedder = embedder_for(cfg, settings, "index")
    n = cfg.repeats if name == "seeds" else 1
    ingest_s, trials = ingest(cfg, name)
    path, side = index_dir(cfg, name), _fresh_dir(cfg, name)
    fresh, again, manifest, rebuilt = [], [], None, None
    for _ in range(n):
        shutil.rmtree(side, ignore_errors=True)
        log(f"index {name}: fresh build of {len(trials):,} trials")
        s, manifest = timed(lambda: build_index(trials, side, embedder, settings, progress=False))
        fresh.append(s)
    shutil.rmtree(path, ignore_errors=True)
    os.replace(side, path)
    for _ in range(n):
        log(f"index {name}: re-index unchanged")
        s, rebuilt = timed(lambda: build_index(trials, path, embedder, settings, progress=False))
        again.append(s)
    chunks = manifest.counts["chunks"]
    vectors = manifest.counts.get("vectors", chunks)
    build_s = statistics.median(fresh)
    return {
        "trials": manifest.counts["trials"], "chunks": chunks, "vectors": vectors, "ingest_s": round(ingest_s, 3),
        "fresh": {**runs(fresh), "chunks_per_s": round(chunks / build_s, 1),
                  "vectors_per_embed_s": round(vectors / max(manifest.build.get("embed_s", build_s), 1e-9), 1),
                  "with_ingest_s": round(ingest_s + build_s, 3), "stages_s": manifest.build},
        "reindex": {**runs(again), "reused": rebuilt.counts["reused"], "stages_s": rebuilt.build},
        "target_s": BUILD_TARGET_S.get(name),
        "note": "embedder load excluded; one run each" if n == 1 else "embedder load excluded",
    }


def _fresh_dir(cfg: Config, name: str):
    return index_dir(cfg, f".fresh-{name}")


def _deadline(cfg: Config, name: str) -> float | None:
    """A fresh build's deadline, only when an earlier index of the corpus is cached: the
    first build must finish, since the search, TREC and IVF phases need it."""
    return cfg.build_timeout(name) if cached(cfg, name) else None


def phase(cfg: Config) -> Result:
    """Each corpus in its own process, each fresh build with its deadline."""
    out: Result = {}
    for name in cfg.corpora:
        out[name] = call(cfg, index_corpus, name, timeout=_deadline(cfg, name))
        if out[name].get("status") == "timeout":
            shutil.rmtree(_fresh_dir(cfg, name), ignore_errors=True)
            for tmp in index_dir(cfg, name).parent.glob(f".{_fresh_dir(cfg, name).name}.tmp-*"):
                shutil.rmtree(tmp, ignore_errors=True)
            out[name]["reason"] += f"; target {BUILD_TARGET_S[name]:g} s missed, the cached index is kept"
    out["peak_rss_mib"] = max(r.get("peak_rss_mib", 0.0) for r in out.values())
    return out
