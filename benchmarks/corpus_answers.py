"""Phase `corpus_answers`: warm answer time of the list, count and aggregate cases of
evals/gold_corpus.jsonl over the 2,000-record index (target: p50 under 1 s).

The cases are read as raw JSON, so this phase does not depend on the eval schema: a case is
timed when its `kind` or `category` names a list, count, aggregate, total, share, extreme or
comparison. Single questions only (conversations are left to `trialqa eval`).
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

from benchmarks.common import Config, Result, Skipped, call, latency_figures, log

GOLD = "evals/gold_corpus.jsonl"
KIND_RE = re.compile(r"list|count|aggregate|total|share|extreme|compar|numeric|superlative", re.I)


def select_cases(path: Path) -> list[dict]:
    """{id, kind, question} of the list/count/aggregate single-question cases in `path`."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        case = json.loads(line)
        kind = " ".join(str(case.get(k, "")) for k in ("kind", "category"))
        if KIND_RE.search(kind) and isinstance(case.get("question"), str):
            out.append({"id": case.get("id"), "kind": kind.strip(), "question": case["question"]})
    return out


def measure(cfg: Config) -> Result:
    from benchmarks.ask import ask_sample, make_assistant

    path = cfg.repo / GOLD
    if not path.is_file():
        raise Skipped(f"{GOLD} not found (written with the corpus-scale answers)")
    if cfg.quick:
        raise Skipped("not in --quick (needs the 2,000-record index)")
    cases = select_cases(path)
    if not cases:
        raise Skipped(f"{GOLD} has no list, count or aggregate cases")
    assistant, recorder, load = make_assistant(cfg, "xml2000")
    ask_sample(assistant, recorder, cases[0]["question"], [])  # warm: lazy imports, the database
    passes = max(1, cfg.ask_passes)
    log(f"corpus_answers: {len(cases)} cases x {passes} passes")
    rows = []
    for case in cases:
        samples = [ask_sample(assistant, recorder, case["question"], [])[1] for _ in range(passes)]
        rows.append({**case, "total_s": statistics.median(s["total_s"] for s in samples),
                     "first_token_s": statistics.median(s["first_token_s"] for s in samples),
                     "llm_calls": samples[0]["llm_calls"]})
    kinds = sorted({r["kind"] for r in rows})
    return {
        "index": "xml2000", "load_s": load, "cases": len(rows), "passes": passes,
        "all": latency_figures(rows), "model_answers": sum(1 for r in rows if r["llm_calls"]),
        "per_kind": {k: latency_figures([r for r in rows if r["kind"] == k]) for k in kinds},
        "slowest": sorted(rows, key=lambda r: -r["total_s"])[:5],
    }


def phase(cfg: Config) -> Result:
    return call(cfg, measure)
