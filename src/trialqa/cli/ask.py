"""`trialqa ask` (placeholder, being written)."""

from __future__ import annotations

import click


@click.command("ask")
def command() -> None:
    """Not written yet."""
    raise click.ClickException("not implemented yet")
