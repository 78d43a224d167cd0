"""`trialqa plan QUESTION`: how the assistant reads a question, and the SQL its filters run."""

from __future__ import annotations

from pathlib import Path

import click

from trialqa.cli.common import echo_json, handle_errors


@click.command("plan")
@click.argument("question")
@click.option("--index", "index_dir", type=click.Path(path_type=Path), default=None,
              help="Index directory (default: settings.index).")
@click.option("--dialect", type=click.Choice(["sqlite", "postgres"]), default="sqlite", show_default=True,
              help="SQL for the index's own database, or for an AACT PostgreSQL (docs/aact.md).")
@click.option("--json", "as_json", is_flag=True, help="The plan and SQL as JSON.")
@handle_errors
def command(question: str, index_dir: Path | None, dialect: str, as_json: bool) -> None:
    """Show the plan of QUESTION (scope, intent, filters) and the SQL selecting its trials."""
    from trialqa.answer.db import DB_FILE, TrialDB
    from trialqa.answer.plan import filter_label
    from trialqa.answer.sql import select_ids
    from trialqa.answer.understand import understand
    from trialqa.answer.vocab import Vocabulary
    from trialqa.errors import IndexNotFound
    from trialqa.settings import get_settings
    from trialqa.store import _read_trials

    path = Path(index_dir or get_settings().index)
    if not (path / DB_FILE).is_file():
        raise IndexNotFound(f"no {DB_FILE} in {path}: build the index with 'trialqa index ... --out {path}'")
    db = TrialDB(path / DB_FILE)
    trials = {t.trial_id: t for t in _read_trials(path / "trials.jsonl")}
    plan = understand(question, [], Vocabulary.load(db), trials)
    sql, params = select_ids(plan.filters, dialect)  # type: ignore[arg-type]
    if as_json:
        echo_json({"plan": plan.model_dump(mode="json", exclude_defaults=True), "labels": plan.labels(),
                   "sql": sql, "params": params})
        return
    click.echo(f"intent: {plan.intent}" + (f" ({plan.field})" if plan.field else ""))
    if plan.scope:
        click.echo(f"scope: {', '.join(plan.scope)} ({plan.scope_reason})")
    for f in plan.filters:
        click.echo(f"filter: {filter_label(f)}")
    for f in plan.share_of:
        click.echo(f"share of: {filter_label(f)}")
    for note in plan.notes:
        click.echo(f"note: {note}")
    click.echo(f"sql: {sql}")
    click.echo(f"params: {params}")
