"""`trialqa match NOTE.txt`: rank trials for a patient note and check eligibility for the top k."""

from __future__ import annotations

from pathlib import Path

import click

from trialqa.cli.common import echo_json, handle_errors
from trialqa.errors import BadInput


@click.command("match")
@click.argument("note_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--index", "index_dir", type=click.Path(path_type=Path), default=None,
              help="Index directory (default: settings.index).")
@click.option("-k", "k", type=click.IntRange(min=1, max=100), default=10, show_default=True,
              help="How many ranked trials to check.")
@click.option("--json", "as_json", is_flag=True, help='Print {"person", "rows": [...], "timings"} as JSON.')
@click.option("--model", "use_model", is_flag=True,
              help="Let the bundled model judge criteria the rules leave undecided (slower).")
@handle_errors
def command(note_file: Path, index_dir: Path | None, k: int, as_json: bool, use_model: bool) -> None:
    """Rank trials for the patient note in NOTE_FILE ('-' reads stdin) and check the top K:
    a table of trial, verdict and the deciding criteria, quoted from the trial."""
    from trialqa.answer.eligibility.match import match_report
    from trialqa.cli.search import _retriever

    note = _read_note(note_file)
    retriever = _retriever(index_dir)
    judge = None
    if use_model:
        from trialqa.answer.eligibility.judge import ModelJudge

        judge = ModelJudge.load()
    report = match_report(retriever.index, retriever.embedder, note, k, judge, retriever.settings)
    if as_json:
        echo_json({"person": report.person.model_dump(exclude={"note"}), "rows": [r.to_json() for r in report.rows],
                   "timings": {"rank_s": round(report.rank_s, 3), "check_s": round(report.check_s, 3)}})
        return
    p = report.person
    who = ", ".join(x for x in (f"{p.age:g} years" if p.age is not None else "", (p.sex or "").lower(),
                                "; ".join(p.facts[:8])) if x)
    click.echo(f"Patient: {who or 'no facts recognised'}")
    if not report.rows:
        click.echo("no trials ranked for this note")
    for row in report.rows:
        name = row.nct_id or row.trial_id
        click.echo(f"{row.rank:>2}. {name}  {row.verdict.replace('_', ' ').upper():<13} {row.title[:70]}")
        click.echo(f"    {row.result.text}")
        for sent in row.result.deciding[:3]:
            click.echo(f"    [{name} · {sent.section}] \u201c{' '.join(sent.text.split())[:160]}\u201d")
    click.echo(f"rank {report.rank_s:.2f}s · check {report.check_s:.2f}s")


def _read_note(path: Path) -> str:
    if str(path) == "-":
        text = click.get_text_stream("stdin").read()
    else:
        if not path.is_file():
            raise BadInput(f"{path}: no such note file")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise BadInput(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    if not text.strip():
        raise BadInput(f"{path}: the note is empty")
    return text
