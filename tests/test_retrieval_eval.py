"""Retrieval evaluation: nDCG arithmetic, cohort loading, the evaluate() report, gold recall."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from test_retrieve import tiny_corpus

from trialqa.embed import HashingEmbedder
from trialqa.index_build import build_index
from trialqa.retrieval_eval import BM25Baseline, describe_recall, evaluate, gold_recall, load_cohort, ndcg_at_k
from trialqa.retrieve import Retriever
from trialqa.settings import Settings
from trialqa.store import Index, load_index

EMBEDDER = HashingEmbedder()


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    out = tmp_path_factory.mktemp("idx") / "tiny"
    build_index(tiny_corpus(), out, EMBEDDER, Settings(), progress=False)
    return load_index(out, EMBEDDER, Settings())


def write_cohort(directory: Path, queries: dict[str, str], qrels: list[tuple[str, str, int]]) -> None:
    directory.mkdir(parents=True)
    (directory / "queries.jsonl").write_text("".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in queries.items()))
    (directory / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in qrels))


def test_ndcg_matches_hand_computation() -> None:
    grades = {"a": 2, "b": 1, "c": 0}
    assert ndcg_at_k(["a", "b", "x"], grades) == pytest.approx(1.0)
    dcg = 1 / math.log2(2) + 2 / math.log2(3)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at_k(["b", "a"], grades) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(["x", "y"], grades) == 0.0
    assert ndcg_at_k(["x"] * 10 + ["a"], grades, k=10) == 0.0
    assert ndcg_at_k(["a"], {"c": 0}) == 0.0


def test_load_cohort_keeps_queries_with_a_positive_judgement(tmp_path: Path) -> None:
    write_cohort(tmp_path / "sigir", {"q1": "note one", "q2": "note two", "q3": "unjudged"},
                 [("q1", "NCT1", 2), ("q1", "NCT2", 0), ("q2", "NCT3", 0)])
    cohort = load_cohort(tmp_path / "sigir")
    assert cohort.queries == {"q1": "note one"} and cohort.qrels == {"q1": {"NCT1": 2, "NCT2": 0}}


def test_evaluate_reports_each_cohort_against_bm25(index: Index, tmp_path: Path) -> None:
    write_cohort(tmp_path / "sigir", {"s1": "A woman with severe asthma and frequent exacerbations on inhalers."},
                 [("s1", "NCT00000001", 2), ("s1", "NCT00000004", 0)])
    write_cohort(tmp_path / "trec_2021", {"t1": "A man with type 2 diabetes on insulin, HbA1c 9%.",
                                           "t2": "no positives here"},
                 [("t1", "NCT00000002", 2), ("t1", "NCT00000003", 1), ("t2", "NCT00000001", 0)])
    report = evaluate(index, EMBEDDER, Settings(), bench_dir=tmp_path)
    assert set(report["cohorts"]) == {"sigir", "trec_2021"}
    sigir, trec = report["cohorts"]["sigir"], report["cohorts"]["trec_2021"]
    assert sigir["queries"] == 1 and trec["queries"] == 1
    assert sigir["ndcg@10"] == pytest.approx(1.0) and sigir["bm25_ndcg@10"] == pytest.approx(1.0)
    assert 0.0 < trec["ndcg@10"] <= 1.0 and report["beats_bm25_everywhere"] in (True, False)


def test_bm25_baseline_ranks_whole_trials(index: Index) -> None:
    baseline = BM25Baseline(index)
    assert baseline.rank("docetaxel breast cancer", 2)[0] == "NCT00000003"
    assert len(baseline.rank("knee", 10)) == 4


def test_gold_recall(index: Index, tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps(case) for case in [
        {"id": "a", "question": "weekly insulin glargine", "expect_trials": ["NCT00000002"]},
        {"id": "b", "turns": ["Tell me about the knee exercise study", "Who runs it?"], "expect_trials": ["NCT00000004"]},
        {"id": "c", "question": "no expectation", "expect_trials": []},
        {"id": "d", "question": "asthma", "expect_docs": ["NCT00000001"], "expect_trials": ["NCT99999999"]},
        {"id": "e", "question": "Does NCT00000003 use insulin glargine weekly?", "expect_trials": ["NCT00000003"]},
    ]) + "\n")
    report = gold_recall(gold, Retriever(index, EMBEDDER, Settings()), k=1)
    assert report["cases"] == 4 and report["recall@1"] == pytest.approx((1 + 1 + 0.5 + 1) / 4, abs=1e-4)
    assert report["missed"] == ["d"]


def test_describe_recall_skips_named_trials_and_keeps_only_the_category(index: Index, tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps(case) for case in [
        {"id": "a", "question": "the weekly insulin glargine study", "category": "described", "expect_trials": ["NCT00000002"]},
        {"id": "b", "question": "the knee exercise study", "category": "described", "expect_trials": ["NCT00000001"]},
        {"id": "c", "question": "Does NCT00000003 use docetaxel?", "category": "described", "expect_trials": ["NCT00000003"]},
        {"id": "d", "question": "trials of insulin", "category": "list", "expect_trials": ["NCT00000002", "NCT00000004"]},
    ]) + "\n")
    retriever = Retriever(index, EMBEDDER, Settings())
    described = describe_recall(gold, retriever, k=1, category="described")
    assert described["cases"] == 2 and described["recall@1"] == pytest.approx(0.5) and described["missed"] == ["b"]
    assert describe_recall(gold, retriever, k=1)["cases"] == 3
