"""Retrieval benchmark: patient-to-trial nDCG@10 of the path users run, against whole-record bm25s.

    python benchmarks/retrieval.py [--index DIR] [--no-latency]

One run, per cohort of `shared/benchmarks/trec-patient-trials` (trec_2021, trec_2022, sigir):

- product: every judged patient note goes through the real command,
  `trialqa search --index IDX --trials --json -k 50 --batch FILE` (a subprocess; the same
  `Retriever.rank_trials` the assistant calls), and its trial order is scored;
- baseline: plain bm25s with English stop words over one text per trial (brief and official
  title, brief summary, detailed description, conditions, intervention names, eligibility
  criteria, keywords), built here over the same index's trials;
- nDCG@10 with linear gains (trec_eval's ndcg_cut) and exponential gains (2^grade - 1), and
  the product/baseline ratios; then warm latency p50/p95 in-process (short questions and
  notes, `search` and `rank_trials`) and recall@3 of `rank_trials` for the gold questions
  that describe a trial without its NCT number (evals/gold_ctgov.jsonl).

The index is `--index`, else $TRIALQA_BENCH_INDEX, else .bench/indexes/xml2000 (the bench
cache), built from `shared/corpus/ctgov-xml` with `trialqa index` (and timed) when missing or stale. `run()` returns the figures as a dict.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.2


def _trialqa() -> list[str]:
    exe = Path(sys.executable).with_name("trialqa")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "trialqa.cli"]


def shared_data() -> Path:
    for candidate in (os.environ.get("TRIALQA_SHARED"), REPO.parent / "shared", Path("../shared")):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    raise SystemExit("no shared data directory: set TRIALQA_SHARED")


def default_index() -> Path:
    """$TRIALQA_BENCH_INDEX, else the bench cache's 2,000-record index (see benchmarks/common.py)."""
    env = os.environ.get("TRIALQA_BENCH_INDEX")
    cache = Path(os.environ.get("TRIALQA_BENCH_CACHE") or REPO / ".bench")
    return Path(env) if env else cache / "indexes" / "xml2000"


def ensure_index(index: Path, shared: Path) -> float | None:
    """(Re)build `index` from the 2,000 XML records with `trialqa index` when it is missing or
    does not match this version and settings; the build's seconds, or None when it was usable."""
    from trialqa.errors import TrialQAError
    from trialqa.settings import get_settings
    from trialqa.store import check_manifest, read_manifest

    try:
        check_manifest(read_manifest(index), index, None, get_settings())
        return None
    except TrialQAError:
        pass
    index.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    subprocess.run([*_trialqa(), "index", str(shared / "corpus/ctgov-xml"), "--out", str(index)],
                   check=True, stdout=subprocess.DEVNULL)
    return round(time.perf_counter() - start, 1)


def product_runs(index: Path, cohorts: list[Any], depth: int = 50) -> tuple[dict[str, dict[str, list[str]]], float]:
    """Each cohort's query -> trial ids, as `trialqa search --trials --json --batch` prints them."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as fh:
        for cohort in cohorts:
            for qid, note in cohort.queries.items():
                fh.write(json.dumps({"id": f"{cohort.name}/{qid}", "query": note}) + "\n")
        batch = Path(fh.name)
    try:
        start = time.perf_counter()
        done = subprocess.run([*_trialqa(), "search", "--index", str(index), "--trials", "--json", "-k", str(depth),
                               "--batch", str(batch)], check=True, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    finally:
        batch.unlink(missing_ok=True)
    runs: dict[str, dict[str, list[str]]] = {}
    for line in done.stdout.splitlines():
        row = json.loads(line)
        if "error" in row:
            raise SystemExit(f"trialqa search failed on {row['id']}: {row['error']}")
        cohort, qid = row["id"].split("/", 1)
        runs.setdefault(cohort, {})[qid] = [t["trial_id"] for t in row["trials"]]
    return runs, seconds


def latency(retriever: Any, notes: list[str], repeats: int = 3) -> dict[str, Any]:
    """Warm per-query milliseconds (p50, p95) of `search` and `rank_trials` for short questions and notes."""
    short = [_describing_question(t) for t in list(retriever.index.trials.values())[:: max(1, len(retriever.index.trials) // 30)]]
    retriever.search(short[0]), retriever.rank_trials(short[0], 10)  # warm up
    out: dict[str, Any] = {}
    for kind, queries in (("short", short), ("note", notes)):
        for name, call in (("search", lambda q: retriever.search(q)), ("rank_trials", lambda q: retriever.rank_trials(q, 10))):
            times = []
            for _ in range(repeats):
                for query in queries:
                    start = time.perf_counter()
                    call(query)
                    times.append((time.perf_counter() - start) * 1000)
            times.sort()
            out[f"{name}_{kind}_ms"] = {"p50": round(statistics.median(times), 1),
                                        "p95": round(times[int(0.95 * (len(times) - 1))], 1), "n": len(queries)}
    return out


def _describing_question(trial: Any) -> str:
    """A short user question about a trial's topic (its first condition, else its title)."""
    topic = trial.fields.conditions[0] if trial.fields.conditions else trial.title
    return f"Are there trials for {topic}?"


def run(index: Path | None = None, with_latency: bool = True, k: int = 10) -> dict[str, Any]:
    """Run the benchmark, print its table, return its figures."""
    from trialqa.embed import load_embedder
    from trialqa.retrieval_eval import BENCHMARK, BM25Baseline, compare, describe_recall, load_cohorts
    from trialqa.retrieve import Retriever
    from trialqa.settings import get_settings
    from trialqa.store import load_index

    shared = shared_data()
    index = Path(index) if index else default_index()
    build_s = ensure_index(index, shared)
    cohorts = load_cohorts(shared / BENCHMARK)
    product, search_s = product_runs(index, cohorts)
    settings = get_settings()
    embedder = load_embedder(settings)
    loaded = load_index(index, embedder, settings)
    baseline = BM25Baseline(loaded)
    base = {c.name: {q: baseline.rank(note, k) for q, note in c.queries.items()} for c in cohorts}
    report: dict[str, Any] = {
        "index": str(index), "trials": len(loaded.trials), "k": k,
        "product": "trialqa search --trials --json -k 50 --batch", "cohorts": compare(product, base, cohorts, k),
        "batch_search_s": round(search_s, 1), "build_s": build_s,
        "weights": {name: getattr(settings.retrieval, name) for name in type(settings.retrieval).model_fields
                    if name.startswith("trial_")},
    }
    report["meets_target"] = all((c["ratio"] or 0) >= TARGET_RATIO for c in report["cohorts"].values())
    retriever = Retriever(loaded, embedder, settings)
    for name, category in (("gold_ctgov", None), ("gold_corpus", "described")):
        gold = REPO / f"evals/{name}.jsonl"
        if gold.is_file():
            report.setdefault("describe_recall", {})[name] = describe_recall(gold, retriever, 3, category)
    if with_latency:
        notes = [note for c in cohorts for note in list(c.queries.values())[:10]]
        report["latency"] = latency(retriever, notes)
    print_table(report)
    return report


def print_table(report: dict[str, Any]) -> None:
    k = report["k"]
    print(f"patient-to-trial nDCG@{k}, {report['trials']} trials ({report['product']} vs whole-record bm25s)")
    print("| cohort | queries | trialqa lin | bm25s lin | ratio | trialqa exp | bm25s exp | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for name, c in report["cohorts"].items():
        print(f"| {name} | {c['queries']} | {c[f'ndcg@{k}']:.3f} | {c[f'bm25_ndcg@{k}']:.3f} | {c['ratio']} "
              f"| {c[f'ndcg@{k}_exp']:.3f} | {c[f'bm25_ndcg@{k}_exp']:.3f} | {c['ratio_exp']} |")
    print(f"target >= {TARGET_RATIO}x on every cohort: {'met' if report['meets_target'] else 'NOT met'}")
    if report.get("weights"):
        print("weights (settings, chosen on sigir alone by benchmarks/tune_ranking.py): "
              + ", ".join(f"{name}={value}" for name, value in report["weights"].items()))
    for name, d in report.get("describe_recall", {}).items():
        key = f"recall@{d['k']}"
        print(f"questions describing a trial ({name}, no NCT number): {key} {d[key]} over {d['cases']} cases"
              + (f", missed {', '.join(d['missed'])}" if d["missed"] else ""))
    for name, fig in report.get("latency", {}).items():
        print(f"{name}: p50 {fig['p50']} ms, p95 {fig['p95']} ms")
    if report.get("build_s") is not None:
        print(f"index build: {report['build_s']} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    report = run(args.index, with_latency=not args.no_latency)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
