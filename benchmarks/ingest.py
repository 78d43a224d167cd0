"""Phase `ingest`: parse the 2,000 XML records (the seeds with --quick)."""

from __future__ import annotations

from benchmarks.common import Config, Result, call, corpus_paths, ingest, runs


def measure(cfg: Config) -> Result:
    from trialqa.parse import iter_files

    name = "seeds" if cfg.quick else "xml2000"
    seconds, trials = [], []
    for _ in range(cfg.repeats):
        s, trials = ingest(cfg, name)
        seconds.append(s)
    files = sum(1 for _ in iter_files(corpus_paths(cfg, name)))
    return {"corpus": name, "files": files, "trials": len(trials), **runs(seconds),
            "target_s": 20.0 if name == "xml2000" else None}


def phase(cfg: Config) -> Result:
    return call(cfg, measure)
