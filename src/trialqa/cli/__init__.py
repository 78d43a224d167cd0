"""The `trialqa` command: a thin layer over the library, one module per command."""

from __future__ import annotations

import click

from trialqa import __version__
from trialqa.cli import ask, chat, eval as eval_cmd, index, ingest, model, search, serve, plan


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="trialqa")
def cli() -> None:
    """Ask cited questions of clinical-trial records, offline, on a laptop CPU."""


for _module in (ingest, index, search, ask, eval_cmd, chat, model, serve, plan):
    cli.add_command(_module.command)
cli.add_command(__import__("trialqa.cli.match", fromlist=["command"]).command)  # trialqa match (eligibility)


def main() -> None:
    cli(prog_name="trialqa")
