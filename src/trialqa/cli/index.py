"""`trialqa index` (placeholder, being written)."""

from __future__ import annotations

import click


@click.command("index")
def command() -> None:
    """Not written yet."""
    raise click.ClickException("not implemented yet")
