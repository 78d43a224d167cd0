"""`trialqa index [PATH...] [--out DIR]`: parse, chunk, embed and write an index."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import click

from trialqa.cli.common import handle_errors


@click.command("index")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Index directory (default: settings.index, indexes/seeds).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars or warnings.")
@handle_errors
def command(paths: tuple[Path, ...], out: Path | None, quiet: bool) -> None:
    """Index trial records in PATH... (files or directories; default: settings.seeds, seeds/)."""
    from trialqa.embed import load_embedder
    from trialqa.errors import BadInput
    from trialqa.index_build import build_index
    from trialqa.parse import ingest, iter_files
    from trialqa.settings import get_settings
    from trialqa.workers import build_processes

    settings = get_settings()
    sources = list(paths) or [settings.seeds]
    out = out or settings.index
    missing = [str(p) for p in sources if not p.exists()]
    if missing:
        raise BadInput(f"no such file or directory: {', '.join(missing)}")
    t0 = time.perf_counter()
    files = list(iter_files(sources))
    warn = None if quiet else (lambda message: click.echo(f"warning: {message}", err=True))
    result = ingest(_tracked(files, not quiet), on_warning=warn, workers=build_processes(settings.index_workers))
    if not result.trials:
        raise BadInput(f"no trial records found in {', '.join(map(str, sources))} ({result.skipped} files skipped)")
    embedder = load_embedder(settings, purpose="index")
    manifest = build_index(result.trials, out, embedder, settings, progress=not quiet)
    c = manifest.counts
    click.echo(
        f"indexed {c['trials']} trials ({result.skipped} files skipped) into {c['chunks']} chunks, "
        f"{c['embedded']} embedded, {c['reused']} reused, in {time.perf_counter() - t0:.1f} s -> {out}"
    )


def _tracked(files: list[Path], show: bool) -> Iterator[Path]:
    """Yield the files, advancing a 'parsing' progress bar."""
    if not show:
        yield from files
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True)) as bar:
        task = bar.add_task("parsing", total=len(files))
        for path in files:
            yield path
            bar.advance(task)
