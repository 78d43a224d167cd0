"""What every phase shares: the run's Config, timing statistics, corpora and cached indexes,
and running a phase in a child process of its own (its own peak RSS, an optional deadline)."""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from trialqa.errors import IndexCorrupt, IndexMismatch, IndexNotFound
from trialqa.settings import Settings, get_settings

REPO = Path(__file__).resolve().parents[1]
EXTRA_TAR = "corpus/ctgov-xml-extra.tar.gz"
BUILD_TARGET_S = {"xml2000": 180.0, "all": 300.0}
#: Indexes under indexes/ that hold the same records as a bench corpus (used read only).
SHIPPED = {"xml2000": "corpus2000"}

Result = dict[str, Any]


def _default_cache() -> Path:
    """Indexes and the unpacked extra corpus: TRIALQA_BENCH_CACHE, else .bench/ in the repository
    (ignored by git), never the shipped indexes/."""
    return Path(os.environ.get("TRIALQA_BENCH_CACHE") or REPO / ".bench")


@dataclass(frozen=True)
class Config:
    """What to run and where; picklable, so phases can run in child processes."""

    out: Path = Path("reports/bench.json")
    phases: tuple[str, ...] = ()
    quick: bool = False
    repeats: int = 3
    ask_passes: int = 2
    ask_limit: int | None = None
    fakes: bool = False
    isolate: bool = True
    build_timeout_factor: float | None = 2.0
    repo: Path = REPO
    shared: Path = field(default_factory=lambda: Path(os.environ.get("TRIALQA_SHARED", REPO.parent / "shared")))
    cache: Path = field(default_factory=_default_cache)

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


class Skipped(Exception):
    """A phase that does not apply to this run (--quick, --fakes, too small a corpus)."""


# ---------------------------------------------------------------- statistics


def read_report(path: Path) -> Result:
    """The JSON report at `path` ({} when it is missing, unreadable or not an object)."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return report if isinstance(report, dict) else {}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def pct(values: list[float], p: float) -> float:
    """Linear-interpolated percentile, as `trialqa eval` computes its latency figures."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * p / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def runs(seconds: list[float]) -> Result:
    return {"runs": len(seconds), "runs_s": [round(s, 3) for s in seconds],
            "median_s": round(statistics.median(seconds), 3)}


def ms_summary(passes: list[list[float]]) -> Result:
    """p50/p95 in ms of each pass over a query set; the medians over passes are the figures."""
    p50 = [pct(p, 50) * 1000 for p in passes]
    p95 = [pct(p, 95) * 1000 for p in passes]
    return {"queries": len(passes[0]), "passes": len(passes),
            "p50_ms": round(statistics.median(p50), 2), "p95_ms": round(statistics.median(p95), 2),
            "p50_ms_per_pass": [round(v, 2) for v in p50]}


def stop(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """End a child server: terminate, then kill it if it has not exited after `timeout` s."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# ---------------------------------------------------------------- backends


def settings_for(kind: str = "flat") -> Settings:
    """Current settings with the dense index kind pinned (exact search unless told)."""
    settings = get_settings()
    return settings.model_copy(update={"retrieval": settings.retrieval.model_copy(update={"faiss_index": kind})})


def embedder_for(cfg: Config, settings: Settings, purpose: str = "query") -> Any:
    """The configured embedder for answering ("query") or building indexes ("index"), as
    `trialqa ask` and `trialqa index` load them; the hashing fake with --fakes."""
    from trialqa.embed import HashingEmbedder, load_embedder

    return HashingEmbedder() if cfg.fakes else load_embedder(settings, purpose=purpose)


def fake_reply(messages: list[dict[str, str]]) -> str:
    return "NOT FOUND" if "Sources:\n\n" in messages[-1]["content"] else "The first source says so [S1]."


def generator_for(cfg: Config, settings: Settings) -> Any:
    from trialqa.generate import ScriptedGenerator, load_generator

    return ScriptedGenerator(fake_reply) if cfg.fakes else load_generator(None, settings)


# ---------------------------------------------------------------- corpora and indexes


def shared(cfg: Config, rel: str) -> Path:
    path = cfg.shared / rel
    if not path.exists():
        raise Missing(f"{path} not found: set TRIALQA_SHARED to the shared data directory")
    return path


def _extra_corpus(cfg: Config) -> Path:
    """The 4,786 extra XML records, unpacked once under the bench cache."""
    tar = shared(cfg, EXTRA_TAR)
    dest = cfg.cache / "corpus"
    stamp = dest / f".unpacked-{tar.stat().st_size}"
    if not stamp.exists():
        log(f"unpacking {tar} into {dest}")
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
        return [shared(cfg, "corpus/ctgov-xml")]
    if name == "all":
        return [shared(cfg, "corpus/ctgov-xml"), _extra_corpus(cfg)]
    raise ValueError(f"unknown corpus {name}")


def index_dir(cfg: Config, name: str) -> Path:
    return cfg.cache / ("indexes-fake" if cfg.fakes else "indexes") / name


def ingest(cfg: Config, name: str) -> tuple[float, list[Any]]:
    from trialqa.parse import ingest as parse_all

    seconds, result = timed(lambda: parse_all(corpus_paths(cfg, name)))
    return seconds, result.trials


def ensure_index(cfg: Config, name: str, embedder: Any, settings: Settings) -> Any:
    """The cached index of corpus `name`, built first when missing or stale."""
    from trialqa.index_build import build_index
    from trialqa.store import load_index

    shipped = cfg.repo / "indexes" / SHIPPED.get(name, "-")
    if not cfg.fakes and (shipped / "manifest.json").is_file():
        try:  # the lead's `make` index of the same records, read only, when it fits this code
            return load_index(shipped, embedder, settings)
        except (IndexNotFound, IndexMismatch, IndexCorrupt):
            pass
    path = index_dir(cfg, name)
    try:
        return load_index(path, embedder, settings)
    except (IndexNotFound, IndexMismatch, IndexCorrupt):
        log(f"building the {name} index at {path}")
        builder = embedder if cfg.fakes else embedder_for(cfg, settings, "index")
        build_index(ingest(cfg, name)[1], path, builder, settings, progress=False)
        return load_index(path, embedder, settings)


def cached(cfg: Config, name: str) -> bool:
    return (index_dir(cfg, name) / "manifest.json").is_file()


def largest(cfg: Config) -> str:
    """The corpus the scale figures use: the 6,786 records when indexed, else the 2,000."""
    if cfg.quick:
        return "seeds"
    return next((name for name in ("all", "xml2000") if cached(cfg, name)), "all")


def queries(cfg: Config) -> list[str]:
    """Short questions: every gold prompt (questions and turns) and the ctgov gold questions."""
    from trialqa.evals import load_cases

    out: list[str] = []
    for name in ("gold.jsonl", "gold_ctgov.jsonl"):
        path = cfg.repo / "evals" / name
        if path.exists():
            out += [q for case in load_cases(path) for q in case.prompts]
    return list(dict.fromkeys(out))


def patient_notes(cfg: Config, n: int) -> list[str]:
    """Long queries: the first `n` TREC/SIGIR patient notes (empty without the shared data)."""
    base = cfg.shared / "benchmarks/trec-patient-trials"
    notes: list[str] = []
    for cohort in sorted(base.glob("*/queries.jsonl")):
        with cohort.open(encoding="utf-8") as fh:
            notes += [json.loads(line)["text"] for line in fh if line.strip()][: max(1, n // 3)]
    return notes[:n]


def latency_figures(samples: list[Result], first: str = "first_token_s", total: str = "total_s") -> Result:
    """p50/p95 of first-token and total seconds over answer samples."""
    if not samples:
        return {"answers": 0}
    a = [s[first] for s in samples]
    b = [s[total] for s in samples]
    return {"answers": len(samples),
            "first_token_p50_s": round(pct(a, 50), 3), "first_token_p95_s": round(pct(a, 95), 3),
            "total_p50_s": round(pct(b, 50), 3), "total_p95_s": round(pct(b, 95), 3)}


# ---------------------------------------------------------------- isolation


def guarded(fn: Callable[..., Result], cfg: Config, *args: Any) -> Result:
    """Run a phase; a missing piece or a failure becomes a status, never a lost bench."""
    try:
        result = fn(cfg, *args)
    except Missing as exc:
        result = {"status": "missing", "reason": str(exc)}
    except Skipped as exc:
        result = {"status": "skipped", "reason": str(exc)}
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith(("trialqa", "benchmarks")):
            raise
        result = {"status": "missing", "reason": f"{exc.name} is not written yet"}
    except Exception as exc:  # noqa: BLE001 - one phase's bug must not lose the others
        where = traceback.extract_tb(exc.__traceback__)[-1]
        result = {"status": "error", "reason": f"{type(exc).__name__}: {exc}",
                  "at": f"{Path(where.filename).name}:{where.lineno}"}
    result.setdefault("peak_rss_mib", peak_rss_mib())
    return result


def call(cfg: Config, fn: Callable[..., Result], *args: Any, timeout: float | None = None) -> Result:
    """Run `fn(cfg, *args)` in a fresh process (its own peak RSS), or here when not isolating.

    A child still running after `timeout` seconds is stopped and reported as a timeout.
    """
    if not cfg.isolate:
        return guarded(fn, cfg, *args)
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
    send.send(guarded(fn, cfg, *args))
    send.close()
