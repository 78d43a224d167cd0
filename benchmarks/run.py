"""The runner: `python -m benchmarks` (what `make bench` calls).

    python -m benchmarks [--quick] [--out reports/bench.json] [--only ingest,ask,...] [--fakes]

Runs the phases in PHASES order, each in a fresh process (its own peak RSS), and writes the
report as JSON after every phase. `--only` updates those phases in an existing report and
keeps the others (each phase says when it was measured). A phase that fails, or whose module
is not written yet, is reported with a status and the bench goes on.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import click

from benchmarks.common import Config, Result, Skipped, call, log, read_report
from benchmarks.report import EXTERNAL, render, targets

#: Run in this order. Each name is a module of this package with `phase(cfg) -> dict`,
#: except EXTERNAL ones, which offer `run() -> dict` (no arguments, their own corpora).
PHASES = ("ingest", "ask", "cold", "load", "baseline", "index", "search", "trec", "corpus_answers", "ivf", *EXTERNAL,
          "speculative")
#: Measured only when named in --only (an experiment, not a figure with a target).
OPTIONAL = ("speculative",)
DEFAULT = tuple(p for p in PHASES if p not in OPTIONAL)


def run_external(cfg: Config, name: str) -> Result:
    """Call `benchmarks.<name>.run()`, a phase module written elsewhere; in a child process."""
    if cfg.quick or cfg.fakes:
        raise Skipped("not in --quick or --fakes (it runs the real models over its own corpus)")
    module = importlib.import_module(f"benchmarks.{name}")
    result = module.run()
    if not isinstance(result, dict):
        raise TypeError(f"benchmarks.{name}.run() returned {type(result).__name__}, not a dict")
    return result


def runner(name: str) -> Callable[[Config], Result]:
    if name in EXTERNAL:
        return lambda cfg: call(cfg, run_external, name)
    return importlib.import_module(f"benchmarks.{name}").phase


def _meta(cfg: Config) -> Result:
    from trialqa.settings import get_settings

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=cfg.repo, capture_output=True,
                                text=True, timeout=5).stdout.strip() or None
    except OSError:
        commit = None
    return {
        "created_at": _now(), "commit": commit, "phases_run": list(cfg.phases),
        "quick": cfg.quick, "fakes": cfg.fakes, "repeats": cfg.repeats, "ask_passes": cfg.ask_passes,
        "cpus": os.cpu_count(), "load_avg_at_start": [round(v, 2) for v in os.getloadavg()],
        "python": platform.python_version(), "llm": get_settings().llm.model_dump(),
        "statistic": "median over runs; p50/p95 over queries or answers",
    }


def run(cfg: Config) -> Result:
    """Run the chosen phases in order and return the whole report (also written to cfg.out).

    With a subset of the phases, the other phases' figures are kept from the report at cfg.out.
    """
    phases = cfg.phases or DEFAULT
    report: Result = {} if set(DEFAULT) <= set(phases) else _previous(cfg.out)
    report["meta"] = _meta(cfg)
    t0 = time.perf_counter()
    for name in PHASES:
        if name not in phases:
            continue
        log(f"phase {name}")
        started = time.perf_counter()
        try:
            report[name] = runner(name)(cfg)
        except Exception as exc:  # noqa: BLE001 - a phase that cannot even start is a status
            report[name] = {"status": "error", "reason": f"{type(exc).__name__}: {exc}"}
        report[name].update(measured_at=_now(), commit=report["meta"]["commit"],
                            wall_s=round(time.perf_counter() - started, 1),
                            load_avg_after=[round(v, 2) for v in os.getloadavg()])  # shared cores: context
        if name in ("ask", "baseline") and isinstance(report.get("baseline"), dict) and "samples" in report["baseline"]:
            from benchmarks.baseline import ratios

            report["baseline"]["ratios"] = ratios(report)
        report["meta"]["total_s"] = round(time.perf_counter() - t0, 1)
        report["targets"] = targets(report)
        _write(cfg.out, report)
    return report


def _previous(path: Path) -> Result:
    """The phases of an earlier report at `path` (none when it is missing or unreadable)."""
    return {k: v for k, v in read_report(path).items() if k in PHASES and isinstance(v, dict)}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _write(path: Path, report: Result) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--quick", is_flag=True, help="Seeds only, fewer runs (development and smoke test).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("reports/bench.json"),
              show_default=True, help="Where the JSON report goes (profile-ask.txt goes beside it).")
@click.option("--only", default=",".join(DEFAULT), show_default=True,
              help="Comma-separated phases to run; the other phases' figures are kept from the report at --out.")
@click.option("--repeats", type=click.IntRange(1, 20), help="Runs per figure (default 3, or 2 with --quick).")
@click.option("--fakes", is_flag=True, help="HashingEmbedder and ScriptedGenerator: checks the plumbing only.")
def main(quick: bool, out: Path, only: str, repeats: int | None, fakes: bool) -> None:
    """Benchmark ingestion, indexing, search, answers (cold and warm, against a typical local
    RAG), corpus-scale answers, TREC retrieval and IVF-PQ; write JSON."""
    phases = tuple(p.strip() for p in only.split(",") if p.strip())
    if unknown := sorted(set(phases) - set(PHASES)):
        raise click.BadParameter(f"unknown phase(s) {', '.join(unknown)}; choose from {', '.join(PHASES)}", param_hint="--only")
    cfg = Config.for_mode(quick, out=out, phases=phases, repeats=repeats, fakes=fakes)
    # `kill`/`timeout` stop the bench like Ctrl-C does: the phases' finally blocks stop the
    # servers and chats they started, instead of leaving them to compete with the next run.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report = run(cfg)
    render(report, PHASES)
    click.echo(f"wrote {cfg.out}", err=True)
    if any(isinstance(v, dict) and v.get("status") == "error" for v in report.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
