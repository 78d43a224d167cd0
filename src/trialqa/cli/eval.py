"""`trialqa eval FILE`: run a gold file through the assistant, score it, gate on thresholds."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from trialqa.cli.common import echo_json, handle_errors
from trialqa.errors import BadInput
from trialqa.evals import (
    CATEGORIES,
    METRICS,
    CaseResult,
    Conversational,
    EvalReport,
    KnownSources,
    assistant_answer_fn,
    check,
    load_cases,
    load_thresholds,
    run_eval,
)


def load_assistant(index_dir: Path | None, model: str | None) -> Conversational:
    """The same assistant `trialqa ask` uses (imported here: it loads the heavy backends)."""
    from trialqa.assistant import Assistant

    return Assistant.from_settings(index_dir=index_dir, model=model)


@click.command("eval")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--index", "index_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Index directory (default: the settings' index, built from seeds/ when missing).")
@click.option("--model", help="GGUF file to use instead of the bundled model.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the metrics as one JSON object on the last line of stdout.")
@click.option("--report", "report_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Per-case report file (default: reports/eval-<FILE stem>.json).")
@click.option("--thresholds", "thresholds_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Thresholds TOML with a table per gold file (default: thresholds.toml beside FILE).")
@click.option("--limit", type=click.IntRange(min=1), help="Only run the first N cases.")
@handle_errors
def command(file: Path, index_dir: Path | None, model: str | None, as_json: bool,
            report_path: Path | None, thresholds_path: Path | None, limit: int | None) -> None:
    """Score the assistant on a gold FILE (JSONL); exit 1 when a metric misses its threshold."""
    cases = load_cases(file)[:limit]
    thresholds = load_thresholds(thresholds_path or file.parent / "thresholds.toml", file.name)
    assistant = load_assistant(index_dir, model)
    report = run_eval(cases, assistant_answer_fn(assistant),
                      KnownSources.from_trials(assistant.index.trials), on_result=_progress)
    gate = check(report, thresholds)
    path = report_path or Path("reports") / f"eval-{file.stem}.json"
    _write_report(path, report, thresholds.source, gate)

    console = Console(file=sys.stderr if as_json else sys.stdout)
    console.print(_category_table(report))
    console.print(_metrics_table(report))
    console.print(f"per-case report: {path}")
    for line in gate:
        click.echo(f"trialqa: gate failed: {line} ({thresholds.source})", err=True)
    if as_json:
        echo_json(report.summary())
    if gate:
        sys.exit(1)


def _progress(i: int, n: int, result: CaseResult) -> None:
    status = "pass" if result.passed else "FAIL"
    line = f"[{i}/{n}] {result.id} {status} {result.timings.total_s:.1f}s"
    if not result.passed:
        line += " - " + "; ".join(result.reasons)
    click.echo(line, err=True)


def _category_table(report: EvalReport) -> Table:
    table = Table(title="Accuracy by category")
    for col in ("category", "cases", "passed", "accuracy"):
        table.add_column(col, justify="left" if col == "category" else "right")
    for cat in CATEGORIES:
        score = report.per_category.get(cat)
        if score is None:
            table.add_row(cat, "0", "-", "-")
        else:
            table.add_row(cat, str(score.cases), str(score.passed), f"{score.accuracy:.1%}")
    table.add_row("all", str(report.cases), str(report.passed), f"{report.answer_accuracy:.1%}", style="bold")
    return table


def _metrics_table(report: EvalReport) -> Table:
    table = Table(title="Metrics")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for metric in METRICS:
        value = getattr(report, metric)
        shown = "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)
        table.add_row(metric, shown)
    return table


def _write_report(path: Path, report: EvalReport, thresholds: str, gate: list[str]) -> None:
    """Write the full per-case report atomically (temp file beside it, then rename)."""
    payload = {"metrics": report.summary(), "thresholds": thresholds, "gate_failures": gate,
               "results": [r.model_dump(mode="json") for r in report.results]}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise BadInput(f"{path}: cannot write the report ({exc.strerror}); pass --report PATH") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, ensure_ascii=False, indent=2)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
