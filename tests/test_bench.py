"""The bench plumbing, with HashingEmbedder and ScriptedGenerator on tiny corpora (no real models)."""

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

from trialqa import bench
from trialqa.evals import load_cases
from trialqa.generate import ScriptedGenerator

ROOT = Path(__file__).resolve().parent.parent


def _config(tmp_path: Path, **overrides) -> bench.Config:
    return bench.Config.for_mode(True, out=tmp_path / "reports/bench.json", cache=tmp_path / "cache",
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
    for name in ("ingest", "index", "search", "ask", "trec"):
        assert "status" not in report[name], report[name]
        assert report[name]["peak_rss_mib"] > 0


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


def test_targets_mark_hits_and_misses():
    report = {"index": {"all": {"status": "timeout", "after_s": 600.0}},
              "search": {"all": {"short": {"p50_ms": 40.0}}, "seeds": {"short": {"p50_ms": 10.0}}},
              "ask": {"eval": {"answer_accuracy": 0.95}, "peak_rss_mib": 3000.0},
              "trec": {"ndcg": {"cohorts": {"sigir": {"ratio": 1.2}, "trec_2021": {"ratio": 0.9}}}}}
    rows = {r["figure"]: r["ok"] for r in bench.targets(report)}
    assert rows["index 6,786 XML incl. parse (s)"] is False
    assert rows["search p50 6,786 (ms)"] is False
    assert rows["search p50 seeds (ms)"] is True
    assert rows["gold answer accuracy (same answers)"] is True
    assert rows["peak RSS, worst phase (MiB)"] is False
    assert rows["ask total p50 warm (s)"] is None
    ndcg = {figure.split()[1]: ok for figure, ok in rows.items() if figure.startswith("nDCG@10")}
    assert ndcg == {"sigir": True, "trec_2021": False}


def test_recording_generator_counts_sent_and_generated_tokens():
    inner = ScriptedGenerator(["Twelve participants [S1]."])
    recorder = bench.RecordingGenerator(inner)
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
    cfg.out.write_text(json.dumps({"ask": {"all": {"total_p50_s": 4.2}}, "meta": {"commit": "old"}}))
    report = bench.run(cfg)
    assert report["ask"] == {"all": {"total_p50_s": 4.2}}
    assert report["ingest"]["trials"] == 5 and report["ingest"]["measured_at"]
    assert report["meta"]["phases_run"] == ["ingest"]
    assert {r["figure"]: r["value"] for r in report["targets"]}["ask total p50 warm (s)"] == 4.2


def test_unknown_phase_is_a_usage_error():
    result = CliRunner().invoke(bench.main, ["--only", "ingest,nope"])
    assert result.exit_code == 2 and "nope" in result.output


def _sleep(cfg, seconds):
    import time

    time.sleep(seconds)
    return {"slept": seconds}


def test_a_child_past_its_deadline_is_stopped(tmp_path):
    cfg = dataclasses.replace(_config(tmp_path), isolate=True)
    assert bench._call(cfg, _sleep, 0.0, timeout=60)["slept"] == 0.0
    stopped = bench._call(cfg, _sleep, 60.0, timeout=1.0)
    assert stopped["status"] == "timeout" and 1.0 <= stopped["after_s"] < 30


def test_cli_runs_a_phase_in_its_own_process(tmp_path):
    env = {**os.environ, "TRIALQA_HOME": str(tmp_path / "home")}
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "trialqa.bench", "--quick", "--fakes", "--only", "search",
                           "--repeats", "1", "--out", str(out)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    search = json.loads(out.read_text())["search"]
    assert search["seeds"]["short"]["p50_ms"] > 0 and search["peak_rss_mib"] > 0
    assert (tmp_path / "home/bench/indexes-fake/seeds/manifest.json").is_file()


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
    assert result["vectors"] >= bench.PQ_MIN_VECTORS
    assert result["memory_mib"]["ivfpq"] < result["memory_mib"]["flat"]
    assert all(0 <= row["recall_at_10"] <= 1 for row in result["dense_ivfpq"])
    assert max(row["recall_at_10"] for row in result["dense_ivfpq"]) > 0.5
