"""`make bench`: time every stage on this machine and write the figures as JSON.

    python -m trialqa.bench [--quick] [--out reports/bench.json] [--only ingest,index,...]

Phases, in this order, each in a fresh process so that its peak RSS is its own:

    ingest  parse the 2,000 XML records
    ask     first-token and total latency over the gold questions, cold and warm, with the
            prompt tokens sent to the model, the eval accuracy of the same answers, and a
            pyinstrument profile of one warm answer
    index   build the seeds, 2,000-record and 6,786-record indexes fresh, then re-index unchanged
    search  warm hybrid-search latency on the seeds and the largest index
    trec    nDCG@10 per TREC cohort beside the BM25 baseline (`trialqa.retrieval_eval`)
    ivf     IVF-PQ against exact search on the largest index: recall@10, memory, latency

Each figure is the median of several runs; the big index builds run once (the JSON says so).
Once an index is cached, a fresh build of it stopped at its deadline (twice its target) is
reported as a miss and the cached index is kept; "the largest index" is the 6,786-record
one when it exists, else the 2,000-record one. `--only` with some phases updates those
phases in an existing report and keeps the others (each phase says when it was measured). Indexes and the unpacked extra corpus live under
$TRIALQA_HOME/bench, never in the repository.
`--quick` uses the seeds only with fewer runs; `--fakes` swaps in HashingEmbedder and
ScriptedGenerator to check the plumbing (its figures mean nothing).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import click

from trialqa.errors import IndexCorrupt, IndexMismatch, IndexNotFound
from trialqa.generate import Generator, Messages
from trialqa.settings import Settings, get_settings

PHASES = ("ingest", "ask", "index", "search", "trec", "ivf")  # run in this order
REPO = Path(__file__).resolve().parents[2]
EXTRA_TAR = "corpus/ctgov-xml-extra.tar.gz"
BUILD_TARGET_S = {"xml2000": 180.0, "all": 300.0}
PQ_MIN_VECTORS = 256  # 8-bit product-quantiser codes train 256 centroids per sub-vector

Result = dict[str, Any]


@dataclass(frozen=True)
class Config:
    """What to run and where; picklable, so phases can run in child processes."""

    out: Path = Path("reports/bench.json")
    phases: tuple[str, ...] = PHASES
    quick: bool = False
    repeats: int = 3
    ask_passes: int = 2
    ask_limit: int | None = None
    fakes: bool = False
    isolate: bool = True
    build_timeout_factor: float | None = 2.0
    repo: Path = REPO
    shared: Path = field(default_factory=lambda: Path(os.environ.get("TRIALQA_SHARED", REPO.parent / "shared")))
    cache: Path = field(default_factory=lambda: get_settings().home / "bench")

    @classmethod
    def for_mode(cls, quick: bool, **overrides: Any) -> Config:
        base = cls(quick=True, repeats=2, ask_passes=1, ask_limit=12) if quick else cls()
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def corpora(self) -> tuple[str, ...]:
        return ("seeds",) if self.quick else ("seeds", "xml2000", "all")

    def build_timeout(self, name: str) -> float | None:
        """Seconds a fresh build of `name` may take before it is stopped (None = no limit)."""
        target = BUILD_TARGET_S.get(name)
        return target * self.build_timeout_factor if target and self.build_timeout_factor else None

    @property
    def profile_path(self) -> Path:
        return self.out.parent / "profile-ask.txt"


class Missing(Exception):
    """A piece the bench needs (module, corpus, API) does not exist yet."""


# ---------------------------------------------------------------- small helpers


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def _pct(values: list[float], pct: float) -> float:
    """Linear-interpolated percentile, as `trialqa eval` computes its latency figures."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * pct / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _runs(seconds: list[float]) -> Result:
    return {"runs": len(seconds), "runs_s": [round(s, 3) for s in seconds],
            "median_s": round(statistics.median(seconds), 3)}


def _ms_summary(passes: list[list[float]]) -> Result:
    """p50/p95 in ms of each pass over a query set; the medians over passes are the figures."""
    p50 = [_pct(p, 50) * 1000 for p in passes]
    p95 = [_pct(p, 95) * 1000 for p in passes]
    return {"queries": len(passes[0]), "passes": len(passes),
            "p50_ms": round(statistics.median(p50), 2), "p95_ms": round(statistics.median(p95), 2),
            "p50_ms_per_pass": [round(v, 2) for v in p50]}


def _peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _settings(kind: str = "flat") -> Settings:
    """Current settings with the dense index kind pinned (exact search unless told)."""
    settings = get_settings()
    return settings.model_copy(update={"retrieval": settings.retrieval.model_copy(update={"faiss_index": kind})})


def _embedder(cfg: Config, settings: Settings) -> Any:
    from trialqa.embed import HashingEmbedder, load_embedder

    return HashingEmbedder() if cfg.fakes else load_embedder(settings)


def _fake_reply(messages: Messages) -> str:
    return "NOT FOUND" if "Sources:\n\n" in messages[-1]["content"] else "The first source says so [S1]."


def _generator(cfg: Config, settings: Settings) -> Generator:
    from trialqa.generate import ScriptedGenerator, load_generator

    return ScriptedGenerator(_fake_reply) if cfg.fakes else load_generator(None, settings)


# ---------------------------------------------------------------- corpora and indexes


def _shared(cfg: Config, rel: str) -> Path:
    path = cfg.shared / rel
    if not path.exists():
        raise Missing(f"{path} not found: set TRIALQA_SHARED to the shared data directory")
    return path


def _extra_corpus(cfg: Config) -> Path:
    """The 4,786 extra XML records, unpacked once under the bench cache."""
    tar = _shared(cfg, EXTRA_TAR)
    dest = cfg.cache / "corpus"
    stamp = dest / f".unpacked-{tar.stat().st_size}"
    if not stamp.exists():
        _log(f"unpacking {tar} into {dest}")
        shutil.rmtree(dest, ignore_errors=True)
        tmp = cfg.cache / "corpus.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        with tarfile.open(tar) as fh:
            fh.extractall(tmp, filter="data")
        os.replace(tmp, dest)
        stamp.touch()
    return dest / "ctgov-xml-extra"


def corpus_paths(cfg: Config, name: str) -> list[Path]:
    if name == "seeds":
        return [cfg.repo / "seeds"]
    if name == "xml2000":
        return [_shared(cfg, "corpus/ctgov-xml")]
    if name == "all":
        return [_shared(cfg, "corpus/ctgov-xml"), _extra_corpus(cfg)]
    raise ValueError(f"unknown corpus {name}")


def _index_dir(cfg: Config, name: str) -> Path:
    return cfg.cache / ("indexes-fake" if cfg.fakes else "indexes") / name


def _ingest(cfg: Config, name: str) -> tuple[float, list[Any]]:
    from trialqa.parse import ingest

    seconds, result = _timed(lambda: ingest(corpus_paths(cfg, name)))
    return seconds, result.trials


def _ensure_index(cfg: Config, name: str, embedder: Any, settings: Settings) -> Any:
    """The cached index of corpus `name`, built first when missing or stale."""
    from trialqa.store import build_index, load_index

    path = _index_dir(cfg, name)
    try:
        return load_index(path, embedder, settings)
    except (IndexNotFound, IndexMismatch, IndexCorrupt):
        _log(f"building the {name} index at {path}")
        build_index(_ingest(cfg, name)[1], path, embedder, settings, progress=False)
        return load_index(path, embedder, settings)


def _queries(cfg: Config) -> list[str]:
    """Short questions: every gold prompt (questions and turns) and the ctgov gold questions."""
    from trialqa.evals import load_cases

    out: list[str] = []
    for name in ("gold.jsonl", "gold_ctgov.jsonl"):
        path = cfg.repo / "evals" / name
        if path.exists():
            out += [q for case in load_cases(path) for q in case.prompts]
    return list(dict.fromkeys(out))


def _patient_notes(cfg: Config, n: int) -> list[str]:
    """Long queries: the first `n` TREC/SIGIR patient notes (empty without the shared data)."""
    base = cfg.shared / "benchmarks/trec-patient-trials"
    notes: list[str] = []
    for cohort in sorted(base.glob("*/queries.jsonl")):
        with cohort.open(encoding="utf-8") as fh:
            notes += [json.loads(line)["text"] for line in fh if line.strip()][: max(1, n // 3)]
    return notes[:n]


# ---------------------------------------------------------------- phases


def phase_ingest(cfg: Config) -> Result:
    name = "seeds" if cfg.quick else "xml2000"
    seconds, trials = [], []
    for _ in range(cfg.repeats):
        s, trials = _ingest(cfg, name)
        seconds.append(s)
    from trialqa.parse import iter_files

    files = sum(1 for _ in iter_files(corpus_paths(cfg, name)))
    return {"corpus": name, "files": files, "trials": len(trials), **_runs(seconds),
            "target_s": 20.0 if name == "xml2000" else None}


def index_corpus(cfg: Config, name: str) -> Result:
    """Fresh builds (no vectors to reuse) and unchanged re-indexes of one corpus.

    The fresh build goes to a side directory and replaces the cached index only when it
    finished, so a build stopped at its deadline leaves the previous index usable.
    """
    from trialqa.store import build_index

    settings = _settings()
    embedder = _embedder(cfg, settings)
    runs = cfg.repeats if name == "seeds" else 1
    ingest_s, trials = _ingest(cfg, name)
    path, side = _index_dir(cfg, name), _fresh_dir(cfg, name)
    fresh, again, manifest, rebuilt = [], [], None, None
    for _ in range(runs):
        shutil.rmtree(side, ignore_errors=True)
        _log(f"index {name}: fresh build of {len(trials):,} trials")
        s, manifest = _timed(lambda: build_index(trials, side, embedder, settings, progress=False))
        fresh.append(s)
    shutil.rmtree(path, ignore_errors=True)
    os.replace(side, path)
    for _ in range(runs):
        _log(f"index {name}: re-index unchanged")
        s, rebuilt = _timed(lambda: build_index(trials, path, embedder, settings, progress=False))
        again.append(s)
    chunks = manifest.counts["chunks"]
    vectors = manifest.counts.get("vectors", chunks)
    build_s = statistics.median(fresh)
    return {
        "trials": manifest.counts["trials"], "chunks": chunks, "vectors": vectors, "ingest_s": round(ingest_s, 3),
        "fresh": {**_runs(fresh), "chunks_per_s": round(chunks / build_s, 1),
                  "vectors_per_embed_s": round(vectors / max(manifest.build.get("embed_s", build_s), 1e-9), 1),
                  "with_ingest_s": round(ingest_s + build_s, 3), "stages_s": manifest.build},
        "reindex": {**_runs(again), "reused": rebuilt.counts["reused"], "stages_s": rebuilt.build},
        "target_s": BUILD_TARGET_S.get(name),
        "note": "embedder load excluded; one run each" if runs == 1 else "embedder load excluded",
    }


def _fresh_dir(cfg: Config, name: str) -> Path:
    return _index_dir(cfg, f".fresh-{name}")


def _cached(cfg: Config, name: str) -> bool:
    return (_index_dir(cfg, name) / "manifest.json").is_file()


def _deadline(cfg: Config, name: str) -> float | None:
    """A fresh build's deadline, only when an earlier index of the corpus is cached: the
    first build must finish, since the search, TREC and IVF phases need it."""
    return cfg.build_timeout(name) if _cached(cfg, name) else None


def _largest(cfg: Config) -> str:
    """The corpus the scale figures use: the 6,786 records when indexed, else the 2,000."""
    if cfg.quick:
        return "seeds"
    return next((name for name in ("all", "xml2000") if _cached(cfg, name)), "all")


def phase_index(cfg: Config) -> Result:
    """Each corpus in its own process, each fresh build with its deadline."""
    out: Result = {}
    for name in cfg.corpora:
        out[name] = _call(cfg, index_corpus, name, timeout=_deadline(cfg, name))
        if out[name].get("status") == "timeout":
            shutil.rmtree(_fresh_dir(cfg, name), ignore_errors=True)
            for tmp in _index_dir(cfg, name).parent.glob(f".{_fresh_dir(cfg, name).name}.tmp-*"):
                shutil.rmtree(tmp, ignore_errors=True)
            out[name]["reason"] += f"; target {BUILD_TARGET_S[name]:g} s missed, the cached index is kept"
    out["peak_rss_mib"] = max(r.get("peak_rss_mib", 0.0) for r in out.values())
    return out


def _latencies(search: Callable[[str], Any], queries: list[str]) -> list[float]:
    out = []
    for q in queries:
        t0 = time.perf_counter()
        search(q)
        out.append(time.perf_counter() - t0)
    return out


def phase_search(cfg: Config) -> Result:
    from trialqa.retrieve import Retriever

    settings = _settings()
    embedder = _embedder(cfg, settings)
    queries, notes = _queries(cfg), _patient_notes(cfg, 15)
    out: Result = {}
    for name in dict.fromkeys(("seeds", _largest(cfg))):
        retriever = Retriever(_ensure_index(cfg, name, embedder, settings), embedder, settings)
        for q in queries[:5]:  # warm: caches, lazy imports, BLAS threads
            retriever.search(q)
        passes = max(2, cfg.repeats)
        out[name] = {
            "chunks": len(retriever.index.chunks),
            "short": _ms_summary([_latencies(retriever.search, queries) for _ in range(passes)]),
            "long": _ms_summary([_latencies(retriever.search, notes) for _ in range(passes)]) if notes else None,
        }
    return out


# ---------------------------------------------------------------- ask


class RecordingGenerator:
    """Wraps a Generator; records the tokens of every prompt actually sent and every reply."""

    def __init__(self, inner: Generator) -> None:
        self.inner = inner
        self.name = inner.name
        self.n_ctx = inner.n_ctx
        self.calls: list[dict[str, int]] = []

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def stream(self, messages: Messages, *, max_tokens: int, grammar: str | None = None,
               stop: list[str] | None = None) -> Iterator[str]:
        call = {"prompt_tokens": sum(self.inner.count_tokens(m["content"]) for m in messages),
                "completion_tokens": 0}
        self.calls.append(call)
        pieces: list[str] = []
        try:
            for piece in self.inner.stream(messages, max_tokens=max_tokens, grammar=grammar, stop=stop):
                pieces.append(piece)
                yield piece
        finally:
            call["completion_tokens"] = self.inner.count_tokens("".join(pieces))


def _assistant(cfg: Config) -> tuple[Any, RecordingGenerator, Result]:
    """An Assistant over the seeds index with a recording generator, its load times and
    whether the fixed prefix was restored or evaluated."""
    from trialqa.assistant import Assistant, prime_generator

    settings = _settings()
    load: dict[str, float] = {}
    load["embedder_s"], embedder = _timed(lambda: _embedder(cfg, settings))
    load["index_s"], index = _timed(lambda: _ensure_index(cfg, "seeds", embedder, settings))
    load["model_s"], generator = _timed(lambda: _generator(cfg, settings))
    load["prime_s"], primed = _timed(lambda: prime_generator(generator, settings))  # as `trialqa ask` does
    recorder = RecordingGenerator(generator)
    return (Assistant(index, embedder, recorder, settings=settings), recorder,
            {**{k: round(v, 3) for k, v in load.items()}, "prime": primed})


def _ask_sample(assistant: Any, recorder: RecordingGenerator, question: str, history: list[Any]) -> tuple[Any, Result]:
    before = len(recorder.calls)
    answer = assistant.ask(question, history)
    calls = recorder.calls[before:]
    t = answer.timings
    return answer, {
        "retrieve_s": t.retrieve_s, "first_token_s": t.first_token_s if t.first_token_s is not None else t.total_s,
        "total_s": t.total_s, "llm_calls": len(calls),
        "prompt_tokens": sum(c["prompt_tokens"] for c in calls),
        "completion_tokens": sum(c["completion_tokens"] for c in calls),
    }


def _ask_case(assistant: Any, recorder: RecordingGenerator, prompts: list[str]) -> tuple[Any, list[Result]]:
    """Answer a case's turns in order with history (as `Assistant.converse` does), timing each."""
    from trialqa.types import Turn

    history: list[Turn] = []
    samples, answer = [], None
    for turn, question in enumerate(prompts):
        answer, sample = _ask_sample(assistant, recorder, question, history)
        samples.append({"turn": turn, "question": question, **sample})
        history += [Turn(role="user", content=question),
                     Turn(role="assistant", content=answer.text, trials=answer.trials)]
    return answer, samples


def _latency_figures(samples: list[Result]) -> Result:
    if not samples:
        return {"answers": 0}
    first = [s["first_token_s"] for s in samples]
    total = [s["total_s"] for s in samples]
    return {"answers": len(samples),
            "first_token_p50_s": round(_pct(first, 50), 3), "first_token_p95_s": round(_pct(first, 95), 3),
            "total_p50_s": round(_pct(total, 50), 3), "total_p95_s": round(_pct(total, 95), 3)}


def _median_over_passes(passes: list[list[Result]]) -> list[Result]:
    """Per question, the median of each timing over the passes (token counts from pass 1)."""
    merged = []
    for rows in zip(*passes, strict=True):
        row = dict(rows[0])
        for key in ("retrieve_s", "first_token_s", "total_s"):
            row[key] = statistics.median(r[key] for r in rows)
        merged.append(row)
    return merged


def _warm_up(recorder: RecordingGenerator) -> None:
    """Put the fixed prompt prefix in llama.cpp's cache, as any earlier question would."""
    from trialqa import prompts

    for _ in recorder.inner.stream(prompts.answer_messages("", "warm-up"), max_tokens=1):
        pass


def ask_warm(cfg: Config) -> Result:
    """Every gold question, `ask_passes` times after a warm-up, scored like `trialqa eval`."""
    from trialqa.evals import KnownSources, aggregate, load_cases, score_case

    assistant, recorder, load = _assistant(cfg)
    cases = load_cases(cfg.repo / "evals/gold.jsonl")[: cfg.ask_limit]
    known = KnownSources.from_trials(assistant.index.trials)
    _warm_up(recorder)
    passes, results = [], []
    for n in range(cfg.ask_passes):
        _log(f"ask: warm pass {n + 1}/{cfg.ask_passes} over {len(cases)} gold cases")
        samples = []
        for case in cases:
            answer, rows = _ask_case(assistant, recorder, case.prompts)
            samples += [{"case": case.id, **r} for r in rows]
            if n == 0:
                results.append(score_case(case, answer, list(assistant.last_retrieved), known))
        passes.append(samples)
    samples = _median_over_passes(passes)
    llm = [s for s in samples if s["llm_calls"]]
    report = aggregate(results)
    profiled = _profile(cfg, assistant, recorder, llm)
    return {
        "load_s": load, "cases": len(cases), "passes": cfg.ask_passes,
        "all": _latency_figures(samples), "llm": _latency_figures(llm),
        "llm_share": round(len(llm) / len(samples), 3),
        "prompt_tokens": {**_token_figures([s["prompt_tokens"] for s in llm]),
                          "counted": "generator.count_tokens over each message sent (chat template excluded)"},
        "completion_tokens": _token_figures([s["completion_tokens"] for s in llm]),
        "breakdown_llm_mean_s": _breakdown(llm),
        "eval": {k: getattr(report, k) for k in ("answer_accuracy", "citation_precision",
                                                 "hallucinated_citations", "abstention_accuracy")},
        "profile": profiled, "samples": samples,
    }


def _token_figures(values: list[int]) -> Result:
    if not values:
        return {"answers": 0}
    return {"answers": len(values), "median": statistics.median(values), "mean": round(statistics.mean(values), 1),
            "max": max(values)}


def _breakdown(llm: list[Result]) -> Result:
    """Where an LLM answer's time goes: retrieval, prompt evaluation (to first token), generation."""
    if not llm:
        return {}
    gen_s = [s["total_s"] - s["first_token_s"] for s in llm]
    toks = sum(s["completion_tokens"] for s in llm)
    return {"retrieve": round(statistics.mean(s["retrieve_s"] for s in llm), 3),
            "to_first_token": round(statistics.mean(s["first_token_s"] - s["retrieve_s"] for s in llm), 3),
            "generation": round(statistics.mean(gen_s), 3),
            "generated_tokens_per_s": round(toks / sum(gen_s), 1) if sum(gen_s) > 0 else None}


def _profile(cfg: Config, assistant: Any, recorder: RecordingGenerator, llm: list[Result]) -> Result | None:
    """Profile one warm LLM answer with pyinstrument; the text goes next to the JSON.

    The prompt cache is reset to the fixed prefix first, so the question does not find
    its own whole prompt cached from the pass before.
    """
    try:
        from pyinstrument import Profiler
    except ImportError:
        return {"status": "missing", "reason": "pyinstrument is not installed"}
    first_turns = [s for s in llm if s["turn"] == 0]
    if not first_turns:
        return None
    question = first_turns[len(first_turns) // 2]["question"]
    _warm_up(recorder)
    profiler = Profiler(interval=0.002)
    with profiler:
        assistant.ask(question)
    cfg.profile_path.parent.mkdir(parents=True, exist_ok=True)
    cfg.profile_path.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    return {"question": question, "path": str(cfg.profile_path)}


def ask_cold(cfg: Config, question: str) -> Result:
    """Load everything as `trialqa ask` does (the fixed prefix restored from its state file
    when one exists), then time the first question."""
    assistant, recorder, load = _assistant(cfg)
    _, sample = _ask_sample(assistant, recorder, question, [])
    return {"load_s": load, **sample}


def phase_ask(cfg: Config) -> Result:
    warm = _call(cfg, ask_warm)
    if warm.get("status"):
        return warm
    llm_first = [s for s in warm["samples"] if s["llm_calls"] and s["turn"] == 0]
    probe = (llm_first or warm["samples"])[0]["question"]
    cold_runs = [_call(cfg, ask_cold, probe) for _ in range(cfg.repeats)]
    failed = [r for r in cold_runs if r.get("status")]
    cold: Result = failed[0] if failed else {
        "question": probe, "runs": len(cold_runs), "valid": cfg.isolate,
        **{key: round(statistics.median(r[key] for r in cold_runs), 3)
           for key in ("first_token_s", "total_s", "retrieve_s", "prompt_tokens")},
        "load_s": cold_runs[0]["load_s"],
    }
    rss = [warm["peak_rss_mib"], *(r.get("peak_rss_mib", 0.0) for r in cold_runs)]
    return {**warm, "cold": cold, "peak_rss_mib": max(rss)}


# ---------------------------------------------------------------- TREC and IVF-PQ


def phase_trec(cfg: Config) -> Result:
    """nDCG@10 per cohort beside BM25 over the 2,000-record index; gold recall@k on the seeds."""
    from trialqa.retrieval_eval import BENCHMARK, evaluate, gold_recall
    from trialqa.retrieve import Retriever

    settings = _settings()
    embedder = _embedder(cfg, settings)
    seeds = Retriever(_ensure_index(cfg, "seeds", embedder, settings), embedder, settings)
    out: Result = {"gold_recall_seeds": gold_recall(cfg.repo / "evals/gold.jsonl", seeds)}
    if cfg.quick:
        return {**out, "ndcg": {"status": "skipped", "reason": "not in --quick (needs the 2,000-record index)"}}
    index = _ensure_index(cfg, "xml2000", embedder, settings)
    bench_dir = _shared(cfg, str(BENCHMARK))
    seconds, report = _timed(lambda: evaluate(index, embedder, settings, bench_dir))
    return {**out, "ndcg": {**report, "seconds": round(seconds, 1)}}


def phase_ivf(cfg: Config) -> Result:
    """Build IVF-PQ from the exact index's stored vectors, then compare the two."""
    import faiss
    import numpy as np

    from trialqa.embed import embed_long
    from trialqa.retrieve import Retriever
    from trialqa.store import build_index, load_index

    flat_settings, ivf_settings = _settings("flat"), _settings("ivfpq")
    embedder = _embedder(cfg, flat_settings)
    corpus = _largest(cfg)
    flat = _ensure_index(cfg, corpus, embedder, flat_settings)
    if flat.dense.ntotal < PQ_MIN_VECTORS:
        return {"status": "skipped", "reason": f"{flat.dense.ntotal} vectors: IVF-PQ with 8-bit codes needs {PQ_MIN_VECTORS}+"}
    ivf_path = _index_dir(cfg, f"{corpus}-ivfpq")
    shutil.rmtree(ivf_path, ignore_errors=True)
    shutil.copytree(flat.path, ivf_path)  # the rebuild reuses these embeddings by content hash
    _log(f"ivf: building IVF-PQ over {flat.dense.ntotal:,} vectors")
    build_s, manifest = _timed(lambda: build_index(list(flat.trials.values()), ivf_path, embedder,
                                                   ivf_settings, progress=False))
    ivf = load_index(ivf_path, embedder, ivf_settings)
    queries = _queries(cfg) + _patient_notes(cfg, 15)
    vectors = np.stack([embed_long(embedder, q) for q in queries]).astype(np.float32)
    k = min(10, flat.dense.ntotal)
    exact_ids = flat.dense.search(vectors, k)[1]
    exact_ms = _per_query_ms(flat.dense, vectors, k)
    ivf_index = faiss.extract_index_ivf(ivf.dense)
    sweep = []
    for nprobe in sorted({min(n, ivf_index.nlist) for n in (1, 4, ivf_settings.retrieval.nprobe, 64)}):
        ivf_index.nprobe = nprobe
        ids = ivf.dense.search(vectors, k)[1]
        refine = ivf_settings.retrieval.refine
        refined = _refined(ivf, vectors, k, refine)
        sweep.append({"nprobe": ivf_index.nprobe, "recall_at_10": round(_recall(exact_ids, ids), 4),
                      "p50_ms": round(_pct(_per_query_ms(ivf.dense, vectors, k), 50), 3),
                      "refine": refine, "recall_at_10_refined": round(_recall(exact_ids, refined), 4),
                      "refined_p50_ms": round(_pct(_per_query_ms(ivf.dense, vectors, k * refine), 50), 3)})
    hybrid = _hybrid_overlap(Retriever(flat, embedder, flat_settings), Retriever(ivf, embedder, ivf_settings), queries)
    size = {name: (idx.path / "dense.faiss").stat().st_size for name, idx in (("flat", flat), ("ivfpq", ivf))}
    return {
        "corpus": corpus, "chunks": len(flat.chunks), "vectors": flat.dense.ntotal, "queries": len(queries), "params": manifest.dense,
        "build_s": round(build_s, 2), "build_stages_s": manifest.build, "note": "embeddings reused from the exact index",
        "dense_exact_p50_ms": round(_pct(exact_ms, 50), 3), "dense_ivfpq": sweep,
        "hybrid": hybrid,
        "memory_mib": {name: round(b / 2**20, 2) for name, b in size.items()},
        "bytes_per_vector": {name: round(b / flat.dense.ntotal, 1) for name, b in size.items()},
    }


def _refined(index: Any, vectors: Any, k: int, refine: int) -> Any:
    """IVF-PQ ids as the retriever returns them: k x refine candidates re-ranked with the exact vectors."""
    import numpy as np

    from trialqa.retrieve import rerank_exact

    out = np.full((len(vectors), k), -1, dtype=np.int64)
    for row, ids in enumerate(index.dense.search(vectors, k * refine)[1]):
        best = rerank_exact(ids, index.embeddings, vectors[row], k)
        out[row, : len(best)] = best
    return out


def _per_query_ms(index: Any, vectors: Any, k: int) -> list[float]:
    """Milliseconds of each single-query search (how the retriever calls FAISS)."""
    out = []
    for row in range(len(vectors)):
        t0 = time.perf_counter()
        index.search(vectors[row : row + 1], k)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _recall(exact: Any, approx: Any) -> float:
    hits = [len(set(e[e >= 0]) & set(a[a >= 0])) / max(1, int((e >= 0).sum())) for e, a in zip(exact, approx, strict=True)]
    return statistics.mean(hits)


def _hybrid_overlap(flat: Any, ivf: Any, queries: list[str]) -> Result:
    """End to end: how many of the exact index's top-10 fused hits the IVF-PQ index returns."""
    overlaps, flat_s, ivf_s = [], [], []
    for q in queries:
        t0 = time.perf_counter()
        a = {h.chunk.id for h in flat.search(q, 10)}
        t1 = time.perf_counter()
        b = {h.chunk.id for h in ivf.search(q, 10)}
        t2 = time.perf_counter()
        flat_s.append(t1 - t0)
        ivf_s.append(t2 - t1)
        overlaps.append(len(a & b) / max(1, len(a)))
    return {"overlap_at_10": round(statistics.mean(overlaps), 4),
            "search_p50_ms": {"flat": round(_pct(flat_s, 50) * 1000, 2), "ivfpq": round(_pct(ivf_s, 50) * 1000, 2)}}


# ---------------------------------------------------------------- running


def _guarded(fn: Callable[..., Result], cfg: Config, *args: Any) -> Result:
    """Run a phase; a missing piece or a failure becomes a status, never a lost bench."""
    try:
        result = fn(cfg, *args)
    except Missing as exc:
        result = {"status": "missing", "reason": str(exc)}
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("trialqa"):
            raise
        result = {"status": "missing", "reason": f"{exc.name} is not written yet"}
    except Exception as exc:  # noqa: BLE001 - one phase's bug must not lose the others
        where = traceback.extract_tb(exc.__traceback__)[-1]
        result = {"status": "error", "reason": f"{type(exc).__name__}: {exc}",
                  "at": f"{Path(where.filename).name}:{where.lineno}"}
    result.setdefault("peak_rss_mib", _peak_rss_mib())
    return result


def _call(cfg: Config, fn: Callable[..., Result], *args: Any, timeout: float | None = None) -> Result:
    """Run `fn(cfg, *args)` in a fresh process (its own peak RSS), or here when not isolating.

    A child still running after `timeout` seconds is stopped and reported as a timeout.
    """
    if not cfg.isolate:
        return _guarded(fn, cfg, *args)
    ctx = get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(send, fn, cfg, *args))
    started = time.perf_counter()
    child.start()
    send.close()
    try:
        if receive.poll(timeout):
            return receive.recv()
        elapsed = round(time.perf_counter() - started, 1)
        return {"status": "timeout", "after_s": elapsed, "reason": f"stopped after {elapsed:.0f} s"}
    except EOFError:  # the child died without an answer, e.g. killed for memory
        child.join()
        return {"status": "error", "reason": f"child process died (exit code {child.exitcode})"}
    finally:
        if child.is_alive():
            child.terminate()
        child.join()


def _child(send: Any, fn: Callable[..., Result], cfg: Config, *args: Any) -> None:
    try:  # tqdm (inside bm25s) would make a multiprocessing lock that spawn children "leak"
        from tqdm import tqdm

        tqdm.set_lock(threading.RLock())
    except ImportError:
        pass
    send.send(_guarded(fn, cfg, *args))
    send.close()


RUNNERS: dict[str, Callable[[Config], Result]] = {
    "ingest": lambda cfg: _call(cfg, phase_ingest),
    "index": phase_index,
    "search": lambda cfg: _call(cfg, phase_search),
    "ask": phase_ask,
    "trec": lambda cfg: _call(cfg, phase_trec),
    "ivf": lambda cfg: _call(cfg, phase_ivf),
}


def _meta(cfg: Config) -> Result:
    settings = get_settings()
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=cfg.repo, capture_output=True,
                                text=True, timeout=5).stdout.strip() or None
    except OSError:
        commit = None
    return {
        "created_at": _now(), "commit": commit, "phases_run": list(cfg.phases),
        "quick": cfg.quick, "fakes": cfg.fakes, "repeats": cfg.repeats, "ask_passes": cfg.ask_passes,
        "cpus": os.cpu_count(), "load_avg_at_start": [round(v, 2) for v in os.getloadavg()],
        "python": platform.python_version(), "llm": settings.llm.model_dump(),
        "statistic": "median over runs; p50/p95 over queries or answers",
    }


def run(cfg: Config) -> Result:
    """Run the chosen phases in order and return the whole report (also written to cfg.out).

    With a subset of the phases, the other phases' figures are kept from the report at cfg.out.
    """
    report: Result = _previous(cfg.out) if set(cfg.phases) < set(PHASES) else {}
    report["meta"] = _meta(cfg)
    t0 = time.perf_counter()
    for name in PHASES:
        if name not in cfg.phases:
            continue
        _log(f"phase {name}")
        started = time.perf_counter()
        report[name] = RUNNERS[name](cfg)
        report[name].update(measured_at=_now(), commit=report["meta"]["commit"],
                            wall_s=round(time.perf_counter() - started, 1),
                            load_avg_after=[round(v, 2) for v in os.getloadavg()])  # shared cores: context
        report["meta"]["total_s"] = round(time.perf_counter() - t0, 1)
        report["targets"] = targets(report)
        _write(cfg.out, report)
    return report


def _previous(path: Path) -> Result:
    """The phases of an earlier report at `path` (none when it is missing or unreadable)."""
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in old.items() if k in PHASES and isinstance(v, dict)} if isinstance(old, dict) else {}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _write(path: Path, report: Result) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


# ---------------------------------------------------------------- targets and table


def _get(report: Result, *keys: str) -> Any:
    value: Any = report
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _build_seconds(report: Result, name: str) -> float | None:
    """A fresh build's time with parsing; for a build stopped at its deadline, the deadline."""
    return _get(report, "index", name, "fresh", "with_ingest_s") or _get(report, "index", name, "after_s")


CORPUS_LABEL = {"seeds": "seeds", "xml2000": "2,000", "all": "6,786"}


def _search_rows(report: Result) -> list[tuple[str, Any, float | None, str]]:
    rows: list[tuple[str, Any, float | None, str]] = []
    for name, fig in (report.get("search") or {}).items():
        if name in CORPUS_LABEL and isinstance(fig, dict):
            label = CORPUS_LABEL[name]
            rows += [(f"search p50 {label} (ms)", _get(fig, "short", "p50_ms"), 30.0 if name == "all" else 50.0, "max"),
                     (f"search p95 {label} (ms)", _get(fig, "short", "p95_ms"), None, ""),
                     (f"search p50 {label}, patient notes (ms)", _get(fig, "long", "p50_ms"), None, "")]
    return rows


def targets(report: Result) -> list[Result]:
    """The headline figures, each with its target from issues 4, 5, 6, 10 and 11 where one
    exists (target None = reported for context). `ok` is None when not measured."""
    rows: list[tuple[str, Any, float | None, str]] = [
        ("ingest 2,000 XML (s)", _get(report, "ingest", "median_s") if _get(report, "ingest", "corpus") == "xml2000" else None, 20.0, "max"),
        ("index 2,000 XML incl. parse (s)", _build_seconds(report, "xml2000"), BUILD_TARGET_S["xml2000"], "max"),
        ("index 6,786 XML incl. parse (s)", _build_seconds(report, "all"), BUILD_TARGET_S["all"], "max"),
        ("index 6,786 chunks/s (fresh)", _get(report, "index", "all", "fresh", "chunks_per_s"), None, ""),
        ("re-index 6,786 unchanged (s)", _get(report, "index", "all", "reindex", "median_s"), None, ""),
        *_search_rows(report),
        ("ask first token p50 warm (s)", _get(report, "ask", "all", "first_token_p50_s"), 3.0, "max"),
        ("ask total p50 warm (s)", _get(report, "ask", "all", "total_p50_s"), 6.0, "max"),
        ("ask first token p95 warm (s)", _get(report, "ask", "all", "first_token_p95_s"), None, ""),
        ("ask total p95 warm (s)", _get(report, "ask", "all", "total_p95_s"), None, ""),
        ("ask first token p50 warm, LLM answers (s)", _get(report, "ask", "llm", "first_token_p50_s"), 3.0, "max"),
        ("ask total p50 warm, LLM answers (s)", _get(report, "ask", "llm", "total_p50_s"), 6.0, "max"),
        ("ask first token cold (s)", _get(report, "ask", "cold", "first_token_s"), None, ""),
        ("ask total cold (s)", _get(report, "ask", "cold", "total_s"), None, ""),
        ("share of answers that call the LLM", _get(report, "ask", "llm_share"), None, ""),
        ("prompt tokens per LLM answer (median)", _get(report, "ask", "prompt_tokens", "median"), None, ""),
        ("gold answer accuracy (same answers)", _get(report, "ask", "eval", "answer_accuracy"), 0.9, "min"),
    ]
    rss = [v["peak_rss_mib"] for v in report.values() if isinstance(v, dict) and "peak_rss_mib" in v]
    rows.append(("peak RSS, worst phase (MiB)", max(rss) if rss else None, 2.5 * 1024, "max"))
    for cohort, fig in (_get(report, "trec", "ndcg", "cohorts") or {}).items():
        label = f"nDCG@10 {cohort} {fig.get('ndcg@10', 0):.3f} / BM25 {fig.get('bm25_ndcg@10', 0):.3f}"
        rows.append((label, fig.get("ratio"), 1.0, "min"))
    sweep = {row["nprobe"]: row for row in _get(report, "ivf", "dense_ivfpq") or []}
    default = sweep.get(get_settings().retrieval.nprobe)
    where = CORPUS_LABEL.get(_get(report, "ivf", "corpus") or "", "")
    rows.append((f"IVF-PQ recall@10 vs exact, {where}, nprobe {get_settings().retrieval.nprobe}",
                 default and default["recall_at_10"], None, ""))
    rows.append((f"IVF-PQ recall@10 re-ranked (x{get_settings().retrieval.refine} candidates), {where}",
                 default and default.get("recall_at_10_refined"), None, ""))
    rows.append(("IVF-PQ dense index (MiB)", _get(report, "ivf", "memory_mib", "ivfpq"), None, ""))
    rows.append(("exact (flat) dense index (MiB)", _get(report, "ivf", "memory_mib", "flat"), None, ""))
    return [{"figure": f, "value": v, "target": t, "kind": kind,
             "ok": None if v is None or t is None else (v <= t if kind == "max" else v >= t)}
            for f, v, t, kind in rows]


def render(report: Result) -> None:
    """Print the figures against their targets, then any phase that did not run, as rich text."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="trialqa bench (medians; see the JSON for every run)")
    for col, justify in (("figure", "left"), ("measured", "right"), ("target", "right"), ("", "left")):
        table.add_column(col, justify=justify)
    for row in report.get("targets", []):
        mark = "" if row["target"] is None else {True: "[green]ok[/]", False: "[red]MISS[/]", None: "[dim]n/a[/]"}[row["ok"]]
        target = "" if row["target"] is None else f"{'≤' if row['kind'] == 'max' else '≥'} {row['target']:g}"
        table.add_row(row["figure"], _fmt(row["value"]), target, mark)
    console.print(table)
    for name in PHASES:
        section = report.get(name)
        if isinstance(section, dict) and section.get("status"):
            console.print(f"[yellow]{name}: {section['status']}[/] {section.get('reason', '')}")


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:,.3g}" if abs(value) < 10 else f"{value:,.1f}"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--quick", is_flag=True, help="Seeds only, fewer runs (development and smoke test).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("reports/bench.json"),
              show_default=True, help="Where the JSON report goes (profile-ask.txt goes beside it).")
@click.option("--only", default=",".join(PHASES), show_default=True,
              help="Comma-separated phases to run; the other phases' figures are kept from the report at --out.")
@click.option("--repeats", type=click.IntRange(1, 20), help="Runs per figure (default 3, or 2 with --quick).")
@click.option("--fakes", is_flag=True, help="HashingEmbedder and ScriptedGenerator: checks the plumbing only.")
def main(quick: bool, out: Path, only: str, repeats: int | None, fakes: bool) -> None:
    """Benchmark ingestion, indexing, search, answers, TREC retrieval and IVF-PQ; write JSON."""
    phases = tuple(p.strip() for p in only.split(",") if p.strip())
    if unknown := sorted(set(phases) - set(PHASES)):
        raise click.BadParameter(f"unknown phase(s) {', '.join(unknown)}; choose from {', '.join(PHASES)}", param_hint="--only")
    cfg = Config.for_mode(quick, out=out, phases=phases, repeats=repeats, fakes=fakes)
    report = run(cfg)
    render(report)
    click.echo(f"wrote {cfg.out}", err=True)
    if any(isinstance(v, dict) and v.get("status") == "error" for v in report.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
