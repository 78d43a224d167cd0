"""Choose the trial-ranking settings (`retrieval.trial_*`) on ONE TREC cohort; report all three.

    python -m benchmarks.tune_ranking --cohort sigir [--index DIR] [--json FILE]

The product's own ranker (`TrialRanker`, what `trialqa search --trials` and the assistant
call) is run with candidate settings: coordinate ascent over `SPACE`, one setting at a time,
taking a value only when it raises the tuning cohort's mean nDCG@10 (linear gains) beside
whole-record bm25s, until a full round moves nothing. It starts twice, from the current
defaults and from the same with feedback off, and keeps the better end point on the tuning
cohort. Only then are the other cohorts scored: they are held out, and the printed table
says which is which. The defaults in settings.py are what `--cohort sigir` chose on the
2,000 XML records; `benchmarks/retrieval.py` then measures them through the real CLI.

Query vectors are memoised per text (the embedder is the real one; only repeated calls are
saved), so a candidate costs a few milliseconds a note.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

#: The candidate values of each setting.
SPACE: dict[str, list[float]] = {
    "trial_key_boost": [0.0, 0.25, 0.5, 1.0, 2.0],
    "trial_negated_weight": [0.0, 0.3, 0.6, 1.0],
    "trial_query_weight_cap": [0.0, 1.0, 1.5, 2.0, 3.0],
    "trial_dense_weight": [0.5, 1.0, 1.5, 2.0, 3.0],
    "trial_key_vector_weight": [0.0, 0.25, 0.5, 1.0],
    "trial_demographic_penalty": [0.0, 1.5, 3.0, 6.0],
    "trial_chunk_weight": [0.0, 0.25, 0.5],
    "trial_feedback_docs": [0, 3, 5, 10, 20],
    "trial_feedback_terms": [3, 5, 10, 20],
    "trial_feedback_weight": [0.25, 0.5, 0.75, 1.0],
}
ROUNDS = 5


class MemoEmbedder:
    """The real embedder with its vectors remembered per text (the tuner asks for the same notes often)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.memo = inner, {}
        self.id, self.dim, self.max_tokens = inner.id, inner.dim, inner.max_tokens

    def embed(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if missing:
            self.memo.update(zip(missing, self.inner.embed(missing), strict=True))
        return np.stack([self.memo[t] for t in texts]) if texts else np.zeros((0, self.dim), dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def windows(self, text: str, size: int) -> list[str]:
        return self.inner.windows(text, size)


def ascend(score: Any, start: dict[str, Any], space: dict[str, list[Any]], rounds: int = ROUNDS) -> tuple[dict, float]:
    """Coordinate ascent of `score(settings) -> float` from `start` over `space`; ties keep the current value."""
    current, best = dict(start), score(start)
    for _ in range(rounds):
        moved = False
        for name, values in space.items():
            for value in values:
                if value == current[name]:
                    continue
                candidate = {**current, name: value}
                value_score = score(candidate)
                if value_score > best + 1e-9:
                    current, best, moved = candidate, value_score, True
        if not moved:
            break
    return current, best


def run(cohort: str, index_dir: Path | None = None) -> dict[str, Any]:
    from benchmarks.retrieval import default_index, ensure_index, shared_data
    from trialqa.embed import load_embedder
    from trialqa.retrieval_eval import BENCHMARK, BM25Baseline, load_cohorts, mean_ndcg
    from trialqa.settings import get_settings
    from trialqa.store import load_index
    from trialqa.trial_rank import TrialRanker

    shared = shared_data()
    index_dir = Path(index_dir) if index_dir else default_index()
    ensure_index(index_dir, shared)
    settings = get_settings()
    embedder = MemoEmbedder(load_embedder(settings))
    index = load_index(index_dir, embedder, settings)
    ranker = TrialRanker(index, embedder, settings)
    cohorts = {c.name: c for c in load_cohorts(shared / BENCHMARK)}
    if cohort not in cohorts:
        raise SystemExit(f"no cohort {cohort!r}: the cohorts are {', '.join(cohorts)}")
    baseline = BM25Baseline(index)
    base = {name: mean_ndcg({q: baseline.rank(n, 10) for q, n in c.queries.items()}, c) for name, c in cohorts.items()}

    def ratio(values: dict[str, Any], name: str) -> float:
        ranker.settings = settings.model_copy(update={"retrieval": settings.retrieval.model_copy(update=values)})
        c = cohorts[name]
        runs = {q: [t for t, _ in ranker.rank(note, 10)] for q, note in c.queries.items()}
        return mean_ndcg(runs, c) / base[name]

    defaults = {name: getattr(settings.retrieval, name) for name in SPACE}
    ends = [ascend(lambda v: ratio(v, cohort), start, SPACE)
            for start in (defaults, {**defaults, "trial_feedback_docs": 0})]
    chosen, _ = max(ends, key=lambda end: end[1])
    report = {"tuned_on": cohort, "index": str(index_dir), "defaults": defaults, "chosen": chosen,
              "ends": [{"settings": s, "ratio": round(r, 3)} for s, r in ends],
              "ratio": {name: round(ratio(chosen, name), 3) for name in cohorts},
              "defaults_ratio": {name: round(ratio(defaults, name), 3) for name in cohorts}}
    print(f"chosen on {cohort} (coordinate ascent, 2 starts), nDCG@10 / whole-record bm25s:")
    for name in cohorts:
        role = "tuning" if name == cohort else "held out"
        print(f"  {name} ({role}): {report['ratio'][name]} (current defaults: {report['defaults_ratio'][name]})")
    for name, value in chosen.items():
        print(f"  {name} = {value}" + ("" if value == defaults[name] else f"  (default {defaults[name]})"))
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohort", required=True, help="the one cohort the settings are chosen on")
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    report = run(args.cohort, args.index)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
