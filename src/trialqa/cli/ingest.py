"""`trialqa ingest PATH... [--json] [--strict]`: read trial files into canonical records."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from trialqa.cli.common import echo_json, handle_errors
from trialqa.errors import BadInput
from trialqa.parse import IngestResult, ingest

_TABLE_ROWS = 20


def _warn(message: str) -> None:
    click.echo(f"trialqa: warning: {message}", err=True)


def _summary(result: IngestResult) -> str:
    text = f"ingested {result.ingested:,}, skipped {result.skipped:,}"
    if result.duplicates:
        text += f", {result.duplicates:,} duplicate{'s' if result.duplicates != 1 else ''} merged"
    return text


def _show_table(result: IngestResult) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if result.ingested <= _TABLE_ROWS:
        table = Table("trial", "format", "sections", "title")
        widths = [max(len(t.trial_id) for t in result.trials), max(len(t.source.format) for t in result.trials), 8]
        room = max(10, console.width - sum(widths) - 13)
        for t in result.trials:
            title = t.title if len(t.title) <= room else t.title[: room - 1] + "…"
            table.add_row(t.trial_id, t.source.format, str(len(t.sections)), title)
    else:
        table = Table("format", "trials", "sections")
        counts = Counter(t.source.format for t in result.trials)
        sections: Counter[str] = Counter()
        for t in result.trials:
            sections[t.source.format] += len(t.sections)
        for fmt, n in sorted(counts.items()):
            table.add_row(fmt, f"{n:,}", f"{sections[fmt]:,}")
    console.print(table)


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON record per trial, one per line.")
@click.option("--strict", is_flag=True, help="Exit non-zero when any file is skipped.")
@handle_errors
def command(paths: tuple[Path, ...], as_json: bool, strict: bool) -> None:
    """Read trial records from files or directories (recursively).

    Formats are detected from content: ClinicalTrials.gov XML and JSON (API v2 and
    classic), and scraped ClinicalTrials.Veeva, MedPath and ClinicalTrials.gov pages.
    Bad files are skipped with a warning on stderr; the summary goes to stderr too.
    """
    result = ingest(list(paths), on_warning=_warn)
    if not result.trials and not result.skipped:
        raise BadInput(f"no files found under {', '.join(map(str, paths))}")
    if as_json:
        for trial in result.trials:
            echo_json(trial.model_dump(mode="json"))
    elif result.trials:
        _show_table(result)
    click.echo(_summary(result), err=True)
    if strict and result.skipped:
        raise BadInput(f"{result.skipped:,} file(s) skipped and --strict is set; fix or remove them")
