"""`trialqa search QUERY` / `--batch FILE.jsonl`: hybrid retrieval without the model.

`--trials` ranks whole trials instead of chunks (`Retriever.rank_trials`, the path the
assistant and the retrieval benchmark use): `{"trials": [{"rank", "trial_id", "nct_id",
"title", "score"}]}`, or one `{"id", "trials"}` line per `--batch` line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from trialqa.cli.common import echo_json, handle_errors
from trialqa.errors import BadInput
from trialqa.types import Hit


def trial_json(retriever, rank: int, trial_id: str, score: float) -> dict[str, Any]:  # noqa: ANN001
    """The stable JSON shape of one ranked trial."""
    trial = retriever.index.trials[trial_id]
    return {"rank": rank, "trial_id": trial_id, "nct_id": trial.nct_id, "title": trial.title, "score": score}


def _results(retriever, query: str, k: int | None, diverse: bool, trials: bool) -> dict[str, Any]:  # noqa: ANN001
    """{"hits": [...]} or, with `trials`, {"trials": [...]} for one query."""
    if trials:
        n = k or retriever.settings.retrieval.k
        ranked = retriever.rank_trials(query, n)
        return {"trials": [trial_json(retriever, i, t, s) for i, (t, s) in enumerate(ranked, start=1)]}
    return {"hits": [hit_json(h) for h in retriever.search(query, k, diverse=diverse)]}


def hit_json(hit: Hit) -> dict[str, Any]:
    """The stable JSON shape of one hit."""
    c = hit.chunk
    return {"trial_id": c.trial_id, "nct_id": c.nct_id, "doc_id": c.doc_id, "section": c.section,
            "score": hit.score, "text": c.text}


@click.command("search")
@click.argument("query", required=False)
@click.option("--index", "index_dir", type=click.Path(path_type=Path), default=None,
              help="Index directory (default: settings.index, built from settings.seeds if missing).")
@click.option("-k", "k", type=click.IntRange(min=1), default=None, help="Number of hits (default: settings.retrieval.k).")
@click.option("--json", "as_json", is_flag=True, help='Print {"hits": [...]} as JSON.')
@click.option("--diverse", is_flag=True, help="Trial-diverse hits (round-robin over trials).")
@click.option("--trials", "trials", is_flag=True,
              help='Rank whole trials (every chunk, whole-record BM25 and vectors fused); JSON: {"trials": [...]}.')
@click.option("--batch", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help='JSONL file of {"id", "query"} lines; prints one {"id", "hits"} line per input line.')
@handle_errors
def command(query: str | None, index_dir: Path | None, k: int | None, as_json: bool, diverse: bool,
            trials: bool, batch: Path | None) -> None:
    """Show the chunks retrieval finds for QUERY, best first."""
    if (query is None) == (batch is None):
        raise BadInput("give either a QUERY or --batch FILE.jsonl")
    retriever = _retriever(index_dir)
    if batch is not None:
        _run_batch(retriever, batch, k, diverse, trials)
        return
    if trials:
        found = _results(retriever, query, k, diverse, trials)["trials"]
        if as_json:
            echo_json({"trials": found})
            return
        if not found:
            click.echo("no trials")
        for t in found:
            click.echo(f"{t['rank']:>2}. {t['nct_id'] or t['trial_id']} {t['score']:.4f}  {t['title']}")
        return
    hits = retriever.search(query, k, diverse=diverse)
    if as_json:
        echo_json({"hits": [hit_json(h) for h in hits]})
        return
    if not hits:
        click.echo("no hits")
    for hit in hits:
        c = hit.chunk
        click.echo(f"{hit.rank:>2}. {c.nct_id or c.doc_id} [{c.section}] {hit.score:.4f}  {c.title}")
        click.echo("    " + " ".join(c.text.split())[:300])


def _retriever(index_dir: Path | None):
    from trialqa.embed import load_embedder
    from trialqa.retrieve import Retriever
    from trialqa.settings import get_settings
    from trialqa.store import ensure_index, load_index

    settings = get_settings()
    embedder = load_embedder(settings)
    if index_dir is None:
        index = ensure_index(settings.index, settings.seeds, embedder, settings)
    else:
        index = load_index(index_dir, embedder, settings)
    return Retriever(index, embedder, settings)


def _run_batch(retriever, batch: Path, k: int | None, diverse: bool, trials: bool = False) -> None:
    """One output line per input line, in order; a bad line gives {"id", "error"} and the run goes on."""
    from trialqa.errors import TrialQAError

    with batch.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            id_: Any = None
            try:
                obj = _load_line(raw, lineno, batch)
                id_ = obj.get("id")
                query = obj.get("query")
                if not isinstance(query, str) or not query.strip():
                    raise BadInput(f"{batch}:{lineno}: needs a non-empty string 'query'")
                echo_json({"id": id_, **_results(retriever, query, k, diverse, trials)})
            except TrialQAError as exc:
                echo_json({"id": id_, "error": str(exc)})


def _load_line(raw: bytes, lineno: int, path: Path) -> dict[str, Any]:
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInput(f"{path}:{lineno}: not a JSON object ({type(exc).__name__})") from exc
    if not isinstance(obj, dict):
        raise BadInput(f"{path}:{lineno}: expected a JSON object")
    return obj
