"""`trialqa ask`: one question (streamed), or a batch of questions and conversations."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from trialqa.cli.common import echo_json, handle_errors
from trialqa.errors import TrialQAError
from trialqa.types import Answer


def answer_json(answer: Answer, id_: object = None) -> dict:
    """The stable --json shape of an answer."""
    out: dict = {} if id_ is None else {"id": id_}
    out.update(
        answer=answer.text,
        abstained=answer.abstained,
        citations=[c.model_dump(include={"trial_id", "nct_id", "doc_id", "section", "quote"}) for c in answer.citations],
        timings=answer.timings.model_dump(),
    )
    if answer.plan is not None:
        out["plan"] = answer.plan.model_dump(mode="json", exclude_defaults=True) | {"labels": answer.plan.labels()}
    if answer.table is not None:
        out["table"] = answer.table.model_dump(mode="json")
    if answer.notes:
        out["notes"] = answer.notes
    if answer.error:
        out["error"] = answer.error
    return out


def error_json(message: str, id_: object = None) -> dict:
    out: dict = {} if id_ is None else {"id": id_}
    out["error"] = " ".join(str(message).split())
    return out


def parse_batch_line(raw: bytes, lineno: int, path: Path) -> tuple[object, list[str]]:
    """(id, turns) from one batch line; raises TrialQAError with a one-line reason."""
    from trialqa.errors import BadInput

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path}:{lineno}: not valid UTF-8 (byte {exc.start})") from exc
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path}:{lineno}: not a JSON object ({exc.msg})") from exc
    if not isinstance(obj, dict):
        raise BadInput(f"{path}:{lineno}: expected a JSON object")
    if "turns" in obj:
        turns = obj["turns"]
        if not isinstance(turns, list) or not turns or not all(isinstance(t, str) for t in turns):
            raise BadInput(f"{path}:{lineno}: 'turns' must be a non-empty list of strings")
        return obj.get("id"), turns
    if not isinstance(obj.get("question"), str):
        raise BadInput(f"{path}:{lineno}: needs a string 'question' or a list 'turns'")
    return obj.get("id"), [obj["question"]]


def run_batch(assistant, path: Path) -> None:
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        from trialqa.errors import BadInput

        raise BadInput(f"cannot read batch file {path}: {exc.strerror}") from exc
    for lineno, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        id_ = None
        try:
            id_ = json.loads(raw).get("id") if raw.strip().startswith(b"{") else None
        except (ValueError, UnicodeDecodeError):
            pass
        try:
            id_, turns = parse_batch_line(raw, lineno, path)
            echo_json(answer_json(assistant.converse(turns), id_))
        except TrialQAError as exc:
            echo_json(error_json(str(exc), id_))
        except Exception as exc:  # one line's failure never ends the batch
            echo_json(error_json(f"internal error: {type(exc).__name__}: {exc}", id_))
        sys.stdout.flush()


def render_human(assistant, question: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False)
    answer, streamed = None, ""
    for event in assistant.stream(question):
        if isinstance(event, Answer):
            answer = event
        elif isinstance(event, str):
            streamed += event
            click.echo(event, nl=False)
            sys.stdout.flush()
    click.echo()
    assert answer is not None
    if answer.text.strip() != streamed.strip():  # checked after streaming: the checked text replaces it
        if streamed.strip() and sys.stdout.isatty():  # strike the streamed draft through where a terminal can
            console.print(f"[strike dim]{escape(streamed.strip())}[/strike dim]")
        console.print("[bold]\u2500\u2500 (checked answer) \u2500\u2500[/bold] [dim]the streamed text above is replaced by:[/dim]")
        click.echo(answer.text)
    style = "yellow" if answer.abstained else "green"
    if answer.notes:
        for note in answer.notes:
            console.print(f"[dim]note: {escape(note)}[/dim]")
    if answer.citations:
        console.print(f"\n[bold {style}]Sources[/bold {style}]")
        for i, c in enumerate(answer.citations, 1):
            console.print(f"[bold]{i}. {escape(c.nct_id or c.doc_id)}[/bold] · {escape(c.section)} — {escape(c.title)}")
            console.print(f"   [dim]\u201c{escape(c.quote)}\u201d[/dim]")
    t = answer.timings
    console.print(f"[dim]retrieve {t.retrieve_s:.2f}s · first token {t.first_token_s or 0:.2f}s · total {t.total_s:.2f}s[/dim]")


class _SourcesFirst:
    """Passes an assistant's stream through, printing its `SourcesReady` event (the sources,
    as soon as retrieval ends) on one dim line before the answer is written, and keeping it
    from the renderer."""

    def __init__(self, assistant) -> None:
        self._assistant = assistant

    def stream(self, question: str, history=()):
        from trialqa.types import SourcesReady

        for event in self._assistant.stream(question, history):
            if isinstance(event, SourcesReady):
                if event.citations:
                    click.secho(sources_line(event), dim=True)
                    sys.stdout.flush()
                continue
            yield event


def sources_line(event) -> str:
    """`sources: NCT01 · Eligibility; NCT02 · Summary` (each trial and section once)."""
    seen = dict.fromkeys(f"{c.nct_id or c.doc_id} · {c.section}" for c in event.citations)
    return "sources: " + "; ".join(seen)


@click.command("ask")
@click.argument("question", required=False)
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index directory (default indexes/seeds, built from seeds/ when missing).")
@click.option("--model", type=click.Path(path_type=Path), help="GGUF model file instead of the bundled one.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of streaming text.")
@click.option("--batch", type=click.Path(path_type=Path), help="JSONL file of {id, question} or {id, turns}; one output line each.")
@handle_errors
def command(question: str | None, index_dir: Path | None, model: Path | None, as_json: bool, batch: Path | None) -> None:
    """Answer QUESTION from the indexed trials, citing trial and section.

    When `trialqa serve` runs with the same index and model, it answers the question
    (nothing to load); otherwise this process loads the assistant itself."""
    if (question is None) == (batch is None):
        raise click.UsageError("give a QUESTION or --batch FILE (one of them)")
    assistant = None
    if batch is None:
        from trialqa.serve_client import connect

        assistant = connect(index_dir, model)
    if assistant is None:
        from trialqa.assistant import Assistant

        assistant = Assistant.from_settings(index_dir, model)
    if batch is not None:
        run_batch(assistant, batch)
        return
    if as_json:
        try:
            echo_json(answer_json(assistant.ask(question)))
        except TrialQAError as exc:
            echo_json(error_json(str(exc)))
            sys.exit(exc.exit_code)
        return
    render_human(_SourcesFirst(assistant), question)
