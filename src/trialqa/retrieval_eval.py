"""Retrieval scoring: TREC/SIGIR patient-to-trial nDCG@10 and gold-set recall, as library code.

The benchmark (`benchmarks/trec-patient-trials/<cohort>/queries.jsonl` + `qrels.tsv`) ranks
trials for long patient notes. trialqa ranks them with `Retriever.rank_trials`, the path
`trialqa search --trials` prints; the baseline, over the same trials in the same run, is plain
bm25s (its default tokenizer, English stop words) over one text per trial made of the brief
and official titles, brief summary, detailed description, conditions, intervention names,
eligibility criteria and keywords (`baseline_text`). Only queries with at least one positive
judgement count; unjudged trials are not relevant. nDCG@k is reported with linear gains
(trec_eval's `ndcg_cut`: gain = grade) and exponential gains (2^grade - 1).

The harness that runs the CLI and prints the table is `benchmarks/retrieval.py`;
`python -m trialqa.retrieval_eval [INDEX_DIR]` runs the in-process `evaluate` as JSON.
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from trialqa.embed import Embedder
from trialqa.errors import BadInput
from trialqa.retrieve import Retriever
from trialqa.settings import Settings, get_settings
from trialqa.store import Index
from trialqa.types import Trial

COHORTS = ("trec_2021", "trec_2022", "sigir")
_NCT = re.compile(r"\bNCT\d{8}\b")
BENCHMARK = Path("benchmarks/trec-patient-trials")
Gains = Literal["linear", "exponential"]


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


def load_cohorts(bench_dir: Path) -> list[Cohort]:
    """The cohorts present under `bench_dir`, in `COHORTS` order."""
    cohorts = [load_cohort(bench_dir / name) for name in COHORTS if (bench_dir / name).is_dir()]
    if not cohorts:
        raise BadInput(f"no benchmark cohorts under {bench_dir}: expected {', '.join(COHORTS)}")
    return cohorts


def ndcg_at_k(ranked: list[str], grades: Mapping[str, int], k: int = 10, gains: Gains = "linear") -> float:
    """nDCG@k; linear gains = trec_eval's ndcg_cut, exponential = 2^grade - 1; unjudged = 0."""
    gain = (lambda g: float(g)) if gains == "linear" else (lambda g: 2.0**g - 1.0)
    dcg = sum(gain(grades.get(doc, 0)) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
    idcg = sum(gain(g) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def mean_ndcg(runs: Mapping[str, list[str]], cohort: Cohort, k: int = 10, gains: Gains = "linear") -> float:
    """Mean nDCG@k over the cohort's judged queries (a query missing from `runs` scores 0)."""
    return _mean([ndcg_at_k(runs.get(q, []), cohort.qrels[q], k, gains) for q in cohort.queries])


def baseline_text(trial: Trial) -> str:
    """The baseline's text of one trial: brief and official title, brief summary, detailed
    description, conditions, intervention names, eligibility criteria and keywords."""
    f = trial.fields
    parts: list[str] = [trial.title, f.official_title or "", trial.section_text("Summary"),
                        trial.section_text("Description"), *f.conditions,
                        *(i.name or "" for i in f.interventions), trial.section_text("Eligibility"), *f.keywords]
    return "\n".join(p for p in parts if p)


class BM25Baseline:
    """Plain bm25s (default tokenizer and parameters, English stop words) over `baseline_text`."""

    def __init__(self, trials: Index | Iterable[Trial]) -> None:
        import bm25s

        self._bm25s = bm25s
        records = list(trials.trials.values()) if isinstance(trials, Index) else list(trials)
        self.ids = [t.trial_id for t in records]
        self.model = bm25s.BM25()
        texts = [baseline_text(t) for t in records]
        self.model.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)

    def rank(self, query: str, n: int) -> list[str]:
        tokens = self._bm25s.tokenize([query], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        docs, _ = self.model.retrieve(tokens, k=min(n, len(self.ids)), show_progress=False)
        return [self.ids[i] for i in docs[0]]


def compare(product: Mapping[str, Mapping[str, list[str]]], baseline: Mapping[str, Mapping[str, list[str]]],
            cohorts: list[Cohort], k: int = 10) -> dict[str, Any]:
    """Per cohort: nDCG@k of the product's and the baseline's runs, linear and exponential, and ratios."""
    out: dict[str, Any] = {}
    for cohort in cohorts:
        row: dict[str, Any] = {"queries": len(cohort.queries)}
        for gains, suffix in (("linear", ""), ("exponential", "_exp")):
            ours = mean_ndcg(product.get(cohort.name, {}), cohort, k, gains)
            base = mean_ndcg(baseline.get(cohort.name, {}), cohort, k, gains)
            row[f"ndcg@{k}{suffix}"] = round(ours, 4)
            row[f"bm25_ndcg@{k}{suffix}"] = round(base, 4)
            row[f"ratio{suffix}"] = round(ours / base, 3) if base else None
        out[cohort.name] = row
    return out


def evaluate(
    index: Index,
    embedder: Embedder,
    settings: Settings | None = None,
    bench_dir: Path | None = None,
    k: int = 10,
) -> dict[str, Any]:
    """Per-cohort nDCG@k of `Retriever.rank_trials` and of the BM25 baseline over `index`'s trials."""
    settings = settings or get_settings()
    cohorts = load_cohorts(bench_dir or shared_dir() / BENCHMARK)
    retriever = Retriever(index, embedder, settings)
    baseline = BM25Baseline(index)
    product = {c.name: {q: [t for t, _ in retriever.rank_trials(note, k)] for q, note in c.queries.items()}
               for c in cohorts}
    base = {c.name: {q: baseline.rank(note, k) for q, note in c.queries.items()} for c in cohorts}
    report = compare(product, base, cohorts, k)
    return {"k": k, "trials": len(index.trials), "chunks": len(index.chunks), "cohorts": report,
            "beats_bm25_everywhere": all(c[f"ndcg@{k}"] >= c[f"bm25_ndcg@{k}"] for c in report.values())}


def gold_recall(gold: Path, retriever: Retriever, k: int | None = None) -> dict[str, Any]:
    """Mean recall of each gold case's expected trials (expect_trials + expect_docs) among the
    trials of the top `k` trial-diverse hits, as the answering stage retrieves them.

    A multi-turn case is searched with all its user turns joined; a question naming NCT
    ids of indexed trials is scoped to them (the `trial_ids` contract of `search`).
    """
    k = k or retriever.settings.retrieval.k
    recalls: dict[str, float] = {}
    for case_id, query, expected in _gold_cases(gold, retriever.index):
        named = [t for t in dict.fromkeys(_NCT.findall(query)) if t in retriever.index.trials]
        hits = retriever.search(query, k, diverse=True, trial_ids=named or None)
        recalls[case_id] = len({h.chunk.trial_id for h in hits} & expected) / len(expected)
    return {"k": k, "cases": len(recalls), f"recall@{k}": round(_mean(list(recalls.values())), 4),
            "missed": sorted(c for c, r in recalls.items() if r < 1.0)}


def describe_recall(gold: Path, retriever: Retriever, k: int = 3, category: str | None = None) -> dict[str, Any]:
    """Questions that describe a trial without naming its NCT number: the share whose expected
    trial is among `rank_trials`' top `k` (how the assistant finds a described trial); only the
    cases of `category` when given (a corpus gold set also holds list questions)."""
    found: dict[str, float] = {}
    for case_id, query, expected in _gold_cases(gold, retriever.index, category):
        if _NCT.search(query):
            continue
        top = {t for t, _ in retriever.rank_trials(query, k)}
        found[case_id] = len(top & expected) / len(expected)
    return {"k": k, "cases": len(found), f"recall@{k}": round(_mean(list(found.values())), 4),
            "missed": sorted(c for c, r in found.items() if r < 1.0)}


def _gold_cases(gold: Path, index: Index, category: str | None = None) -> list[tuple[str, str, set[str]]]:
    """(id, query, expected trial ids) of the gold cases that expect trials (of `category` when given)."""
    by_doc = {t.doc_id: t.trial_id for t in index.trials.values()}
    cases = []
    with gold.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            case = json.loads(line)
            if category is not None and case.get("category") != category:
                continue
            expected = set(case.get("expect_trials", [])) | {by_doc.get(d, d) for d in case.get("expect_docs", [])}
            if expected:
                query = case.get("question") or " ".join(case.get("turns", []))
                cases.append((case.get("id", f"line {number}"), query, expected))
    return cases


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
