"""Phase `trec`: nDCG@10 per TREC cohort beside BM25 over the 2,000-record index
(`trialqa.retrieval_eval`), and gold recall@k on the seeds."""

from __future__ import annotations

from benchmarks.common import Config, Result, call, embedder_for, ensure_index, settings_for, shared, timed


def measure(cfg: Config) -> Result:
    from trialqa.retrieval_eval import BENCHMARK, evaluate, gold_recall
    from trialqa.retrieve import Retriever

    settings = settings_for()
    embedder = embedder_for(cfg, settings)
    seeds = Retriever(ensure_index(cfg, "seeds", embedder, settings), embedder, settings)
    out: Result = {"gold_recall_seeds": gold_recall(cfg.repo / "evals/gold.jsonl", seeds)}
    if cfg.quick:
        return {**out, "ndcg": {"status": "skipped", "reason": "not in --quick (needs the 2,000-record index)"}}
    index = ensure_index(cfg, "xml2000", embedder, settings)
    bench_dir = shared(cfg, str(BENCHMARK))
    seconds, report = timed(lambda: evaluate(index, embedder, settings, bench_dir))
    return {**out, "ndcg": {**report, "seconds": round(seconds, 1)}}


def phase(cfg: Config) -> Result:
    return call(cfg, measure)
