"""The bench plumbing (benchmarks/), with HashingEmbedder and ScriptedGenerator on tiny corpora (no real models)."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks import baseline, common, corpus_answers, run as bench
from benchmarks import report as report_mod
from benchmarks.ask import RecordingGenerator
from benchmarks.ivf import PQ_MIN_VECTORS
from trialqa.evals import load_cases
from trialqa.generate import ScriptedGenerator

ROOT = Path(__file__).resolve().parent.parent


def _config(tmp_path: Path, **overrides) -> common.Config:
    return common.Config.for_mode(True, out=tmp_path / "reports/bench.json", cache=tmp_path / "cache",
                                 fakes=True, isolate=False, **overrides)


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    cfg = _config(tmp, phases=bench.PHASES)
    return cfg, bench.run(cfg)


def test_quick_run_reports_every_phase_and_writes_json(quick_report):
    cfg, report = quick_report
    assert json.loads(cfg.out.read_text()) == json.loads(json.dumps(report, default=str))
    assert report["ingest"]["trials"] == 5 and report["ingest"]["runs"] == 2
    seeds = report["index"]["seeds"]
    assert seeds["chunks"] > 5 and seeds["fresh"]["chunks_per_s"] > 0
    assert seeds["reindex"]["reused"] == seeds["vectors"] > 0  # re-indexing unchanged reuses every vector
    short = report["search"]["seeds"]["short"]
    assert short["queries"] > 50 and 0 < short["p50_ms"] <= short["p95_ms"]
    assert report["ivf"]["status"] == "skipped"  # the seeds have too few chunks for PQ codes
    assert report["trec"]["ndcg"]["status"] == "skipped"
    assert report["trec"]["gold_recall_seeds"]["cases"] > 0
    for name in ("ingest", "index", "search", "ask", "trec", "baseline"):
        assert "status" not in report[name], report[name]
        assert report[name]["peak_rss_mib"] > 0
    assert report["cold"]["status"] == "skipped"  # a new `trialqa ask` process cannot use the fakes
    for name in ("corpus_answers", "retrieval", "eligibility"):
        assert report[name]["status"] in {"skipped", "missing"}, report[name]


def test_ask_times_every_turn_and_counts_prompt_tokens(quick_report):
    cfg, report = quick_report
    ask = report["ask"]
    cases = load_cases(ROOT / "evals/gold.jsonl")[: cfg.ask_limit]
    assert ask["all"]["answers"] == sum(len(c.prompts) for c in cases)
    assert 0 < ask["llm"]["answers"] <= ask["all"]["answers"]
    assert ask["prompt_tokens"]["median"] > 50  # system prefix + sources + question
    assert 0 <= ask["eval"]["answer_accuracy"] <= 1
    assert ask["cold"]["question"] in {s["question"] for s in ask["samples"] if s["llm_calls"]}
    assert "Assistant.ask" in cfg.profile_path.read_text()
    assert 0 < ask["instant"]["answers"] < ask["all"]["answers"]
    llm = ask["llm"]
    assert llm["sources_p50_s"] <= llm["first_token_p50_s"] <= llm["total_p50_s"]


def test_baseline_answers_the_same_questions_and_gives_ratios(quick_report):
    cfg, report = quick_report
    base = report["baseline"]
    asked = {s["question"] for s in report["ask"]["samples"] if s["llm_calls"]}
    assert 0 < base["answers"] == len({s["question"] for s in base["samples"]}) <= baseline.MAX_QUESTIONS
    assert {s["question"] for s in base["samples"]} <= asked  # questions trialqa's model answered, once each
    assert base["chunk_chars"] > 0 and base["top_k"] == 4
    assert base["prompt_tokens"]["median"] > 0
    assert set(base["ratios"]) >= {"first_token_p50", "total_p50", "first_token_p50_all"}


def test_an_external_phase_that_fails_is_reported_and_the_bench_goes_on(tmp_path, monkeypatch):
    import sys
    import types

    broken = types.ModuleType("benchmarks.retrieval")
    broken.run = lambda: 1 / 0
    fine = types.ModuleType("benchmarks.eligibility")
    fine.run = lambda: {"accuracy": 0.75}
    monkeypatch.setitem(sys.modules, "benchmarks.retrieval", broken)
    monkeypatch.setitem(sys.modules, "benchmarks.eligibility", fine)
    cfg = dataclasses.replace(_config(tmp_path, phases=("retrieval", "eligibility")), quick=False, fakes=False)
    report = bench.run(cfg)
    assert report["retrieval"]["status"] == "error" and "ZeroDivisionError" in report["retrieval"]["reason"]
    assert report["eligibility"]["accuracy"] == 0.75


def test_corpus_answers_selects_list_count_and_aggregate_cases(tmp_path):
    gold = tmp_path / "gold_corpus.jsonl"
    rows = [{"id": "a", "kind": "list", "question": "Which trials recruit in Spain?"},
            {"id": "b", "category": "count", "question": "How many trials are phase 3?"},
            {"id": "c", "kind": "fact", "question": "Who sponsors NCT01?"},
            {"id": "d", "kind": "comparison", "turns": ["x", "y"]},
            {"id": "e", "kind": "aggregate", "question": "What is the median enrollment?"}]
    gold.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert [c["id"] for c in corpus_answers.select_cases(gold)] == ["a", "b", "e"]


def test_corpus_answers_is_skipped_without_its_gold_set(tmp_path):
    repo = tmp_path / "repo"
    (repo / "evals").mkdir(parents=True)
    result = bench.run(dataclasses.replace(_config(tmp_path, phases=("corpus_answers",), repo=repo), quick=False))
    assert result["corpus_answers"]["status"] == "skipped" and "gold_corpus.jsonl" in result["corpus_answers"]["reason"]


def test_targets_mark_hits_and_misses():
    report = {"index": {"all": {"status": "timeout", "after_s": 600.0}},
              "search": {"all": {"short": {"p50_ms": 40.0}}, "seeds": {"short": {"p50_ms": 10.0}}},
              "ask": {"eval": {"answer_accuracy": 0.95}, "peak_rss_mib": 3000.0,
                      "llm": {"sources_p50_s": 0.4, "first_token_p50_s": 2.5}},
              "cold": {"instant": {"median_s": 1.4}, "model": {"median_s": 7.0}},
              "baseline": {"ratios": {"first_token_p50": 3.4}},
              "trec": {"ndcg": {"cohorts": {"sigir": {"ratio": 1.2}, "trec_2021": {"ratio": 0.9}}}}}
    rows = {r["figure"]: r["ok"] for r in report_mod.targets(report, nprobe=16, refine=4)}
    assert rows["index 6,786 XML incl. parse (s)"] is False
    assert rows["search p50 6,786 (ms)"] is False
    assert rows["search p50 seeds (ms)"] is True
    assert rows["gold answer accuracy (same answers)"] is True
    assert rows["peak RSS, worst phase (MiB)"] is False
    assert rows["peak RSS while asking (MiB)"] is False
    assert rows["ask model answers: sources shown p50 warm (s)"] is True
    assert rows["ask model answers: first model token p50 warm (s)"] is False
    assert rows["ask model answers: total p50 warm (s)"] is None
    assert rows["`trialqa ask` cold, instant answer, whole command (s)"] is True
    assert rows["`trialqa ask` cold, model answer, whole command (s)"] is False
    assert rows["typical RAG first token p50 / trialqa model answers'"] is True
    ndcg = {figure.split()[1]: ok for figure, ok in rows.items() if figure.startswith("nDCG@10")}
    assert ndcg == {"sigir": True, "trec_2021": False}


def test_recording_generator_counts_sent_and_generated_tokens():
    inner = ScriptedGenerator(["Twelve participants [S1]."])
    recorder = RecordingGenerator(inner)
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "How many?"}]
    assert "".join(recorder.stream(messages, max_tokens=10)) == "Twelve participants [S1]."
    assert recorder.calls == [{"prompt_tokens": 3 + 3, "completion_tokens": inner.count_tokens("Twelve participants [S1].")}]


def test_missing_shared_data_is_a_status_not_a_crash(tmp_path):
    cfg = dataclasses.replace(_config(tmp_path, phases=("ingest",)), quick=False, shared=tmp_path / "nowhere")
    result = bench.run(cfg)["ingest"]
    assert result["status"] == "missing" and "TRIALQA_SHARED" in result["reason"]


def test_only_some_phases_updates_an_existing_report(tmp_path):
    cfg = _config(tmp_path, phases=("ingest",))
    cfg.out.parent.mkdir(parents=True)
    cfg.out.write_text(json.dumps({"ask": {"llm": {"total_p50_s": 4.2}}, "meta": {"commit": "old"}}))
    report = bench.run(cfg)
    assert report["ask"] == {"llm": {"total_p50_s": 4.2}}
    assert report["ingest"]["trials"] == 5 and report["ingest"]["measured_at"]
    assert report["meta"]["phases_run"] == ["ingest"]
    assert {r["figure"]: r["value"] for r in report["targets"]}["ask model answers: total p50 warm (s)"] == 4.2


def test_unknown_phase_is_a_usage_error():
    result = CliRunner().invoke(bench.main, ["--only", "ingest,nope"])
    assert result.exit_code == 2 and "nope" in result.output


def _sleep(cfg, seconds):
    import time

    time.sleep(seconds)
    return {"slept": seconds}


def test_a_child_past_its_deadline_is_stopped(tmp_path):
    cfg = dataclasses.replace(_config(tmp_path), isolate=True)
    assert common.call(cfg, _sleep, 0.0, timeout=60)["slept"] == 0.0
    stopped = common.call(cfg, _sleep, 60.0, timeout=1.0)
    assert stopped["status"] == "timeout" and 1.0 <= stopped["after_s"] < 30


def test_cli_runs_a_phase_in_its_own_process(tmp_path):
    env = {**os.environ, "TRIALQA_HOME": str(tmp_path / "home"), "TRIALQA_BENCH_CACHE": str(tmp_path / "cache")}
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--fakes", "--only", "search",
                           "--repeats", "1", "--out", str(out)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    search = json.loads(out.read_text())["search"]
    assert search["seeds"]["short"]["p50_ms"] > 0 and search["peak_rss_mib"] > 0
    assert (tmp_path / "cache/indexes-fake/seeds/manifest.json").is_file()


@pytest.fixture
def faiss_one_thread():
    """One OpenMP thread: on shared cores, spinning threads make PQ training 10x slower."""
    faiss = pytest.importorskip("faiss")
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(before)


def test_ivf_phase_compares_against_exact_search(tmp_path, shared_dir, faiss_one_thread):
    repo = tmp_path / "repo"
    (repo / "seeds").mkdir(parents=True)
    for path in sorted((shared_dir / "corpus/ctgov-xml").glob("*.xml"))[:40]:
        shutil.copy(path, repo / "seeds")
    shutil.copytree(ROOT / "evals", repo / "evals")
    result = bench.run(_config(tmp_path, phases=("ivf",), repo=repo, shared=shared_dir))["ivf"]
    assert "status" not in result, result
    assert result["vectors"] >= PQ_MIN_VECTORS
    assert result["memory_mib"]["ivfpq"] < result["memory_mib"]["flat"]
    assert all(0 <= row["recall_at_10"] <= 1 for row in result["dense_ivfpq"])
    assert max(row["recall_at_10"] for row in result["dense_ivfpq"]) > 0.5
