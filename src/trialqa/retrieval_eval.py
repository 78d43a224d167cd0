"""Retrieval evaluation: TREC/SIGIR patient-to-trial nDCG@10 and gold-set recall@k.

The benchmark (`benchmarks/trec-patient-trials/<cohort>/queries.jsonl` + `qrels.tsv`) ranks
trials for long patient notes. trialqa ranks trials by their best fused chunk
(`Retriever.rank_trials`); the baseline, computed in the same run over the same trials, is
plain bm25s over each trial's title and all its text. Only queries with at least one
positive judgement count; unjudged trials are not relevant; gains are the judged grades.

    python -m trialqa.retrieval_eval [INDEX_DIR]    # prints the figures as JSON
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trialqa.embed import Embedder
from trialqa.errors import BadInput
from trialqa.retrieve import Retriever
from trialqa.settings import Settings, get_settings
from trialqa.store import Index, trial_text

COHORTS = ("sigir", "trec_2021", "trec_2022")
_NCT = re.compile(r"\bNCT\d{8}\b")
BENCHMARK = Path("benchmarks/trec-patient-trials")


@dataclass
class Cohort:
    name: str
    queries: dict[str, str]  # query id -> patient note (only queries with a positive judgement)
    qrels: dict[str, dict[str, int]]  # query id -> trial id -> grade


def shared_dir() -> Path:
    """$TRIALQA_SHARED, else ../shared beside the working directory."""
    for candidate in (os.environ.get("TRIALQA_SHARED"), "../shared"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    raise BadInput("no shared data directory: set TRIALQA_SHARED or provide ../shared")


def load_cohort(directory: Path) -> Cohort:
    """One cohort's judged queries and graded qrels."""
    qrels: dict[str, dict[str, int]] = {}
    try:
        with (directory / "qrels.tsv").open(encoding="utf-8") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) != 3 or parts[0] == "query-id":
                    continue
                qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
        with (directory / "queries.jsonl").open(encoding="utf-8") as fh:
            notes = {row["_id"]: row["text"] for row in map(json.loads, fh) if row}
    except (OSError, ValueError, KeyError) as exc:
        raise BadInput(f"cannot read benchmark cohort {directory}: {type(exc).__name__}: {exc}") from exc
    judged = {q: t for q, t in notes.items() if any(g > 0 for g in qrels.get(q, {}).values())}
    return Cohort(directory.name, judged, {q: qrels[q] for q in judged})


def ndcg_at_k(ranked: list[str], grades: dict[str, int], k: int = 10) -> float:
    """nDCG@k with linear gains (trec_eval's ndcg_cut); unjudged = 0."""
    dcg = sum(grades.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


class BM25Baseline:
    """Plain bm25s (default tokenizer, English stopwords, no stemmer) over one text per trial."""

    def __init__(self, index: Index) -> None:
        import bm25s

        self._bm25s = bm25s
        self.ids = list(index.trials)
        texts = [trial_text(t) for t in index.trials.values()]
        self.model = bm25s.BM25()
        self.model.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)

    def rank(self, query: str, n: int) -> list[str]:
        tokens = self._bm25s.tokenize([query], stopwords="en", show_progress=False)
        docs, _ = self.model.retrieve(tokens, k=min(n, len(self.ids)), show_progress=False)
        return [self.ids[i] for i in docs[0]]


def evaluate(
    index: Index,
    embedder: Embedder,
    settings: Settings | None = None,
    bench_dir: Path | None = None,
    k: int = 10,
) -> dict[str, Any]:
    """Per-cohort nDCG@k of trialqa and of the BM25 baseline over `index`'s trials."""
    settings = settings or get_settings()
    bench_dir = bench_dir or shared_dir() / BENCHMARK
    retriever = Retriever(index, embedder, settings)
    baseline = BM25Baseline(index)
    cohorts: dict[str, Any] = {}
    for name in COHORTS:
        if not (bench_dir / name).is_dir():
            continue
        cohort = load_cohort(bench_dir / name)
        ours, base = [], []
        for qid, note in cohort.queries.items():
            ours.append(ndcg_at_k([t for t, _ in retriever.rank_trials(note, k)], cohort.qrels[qid], k))
            base.append(ndcg_at_k(baseline.rank(note, k), cohort.qrels[qid], k))
        mean_ours, mean_base = _mean(ours), _mean(base)
        cohorts[name] = {
            "queries": len(ours),
            f"ndcg@{k}": round(mean_ours, 4),
            f"bm25_ndcg@{k}": round(mean_base, 4),
            "ratio": round(mean_ours / mean_base, 3) if mean_base else None,
        }
    if not cohorts:
        raise BadInput(f"no benchmark cohorts under {bench_dir}: expected {', '.join(COHORTS)}")
    return {"k": k, "trials": len(index.trials), "chunks": len(index.chunks), "cohorts": cohorts,
            "beats_bm25_everywhere": all(c[f"ndcg@{k}"] >= c[f"bm25_ndcg@{k}"] for c in cohorts.values())}


def gold_recall(gold: Path, retriever: Retriever, k: int | None = None) -> dict[str, Any]:
    """Mean recall of each gold case's expected trials (expect_trials + expect_docs) among the
    trials of the top `k` trial-diverse hits, as the answering stage retrieves them.

    A multi-turn case is searched with all its user turns joined; a question naming NCT
    ids of indexed trials is scoped to them (the `trial_ids` contract of `search`).
    """
    k = k or retriever.settings.retrieval.k
    by_doc = {t.doc_id: t.trial_id for t in retriever.index.trials.values()}
    recalls: dict[str, float] = {}
    with gold.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            case = json.loads(line)
            expected = set(case.get("expect_trials", [])) | {by_doc.get(d, d) for d in case.get("expect_docs", [])}
            if not expected:
                continue
            query = case.get("question") or " ".join(case.get("turns", []))
            named = [t for t in dict.fromkeys(_NCT.findall(query)) if t in retriever.index.trials]
            hits = retriever.search(query, k, diverse=True, trial_ids=named or None)
            found = {h.chunk.trial_id for h in hits}
            recalls[case.get("id", f"line {number}")] = len(found & expected) / len(expected)
    return {"k": k, "cases": len(recalls), f"recall@{k}": round(_mean(list(recalls.values())), 4),
            "missed": sorted(c for c, r in recalls.items() if r < 1.0)}


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def main(argv: list[str] | None = None) -> None:
    from trialqa.embed import load_embedder
    from trialqa.store import load_index

    args = sys.argv[1:] if argv is None else argv
    settings = get_settings()
    embedder = load_embedder(settings)
    index = load_index(Path(args[0]) if args else settings.index, embedder, settings)
    print(json.dumps(evaluate(index, embedder, settings), indent=2))


if __name__ == "__main__":
    main()
