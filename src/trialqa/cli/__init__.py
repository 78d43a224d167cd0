"""The `trialqa` command: a thin layer over the library, one module per command.

Each command's module is imported only when that command runs (or when help lists them),
so `trialqa ask` does not pay for the parsers, the eval harness or the chat UI.
"""

from __future__ import annotations

import importlib

import click

from trialqa import __version__

#: command name -> module of trialqa.cli holding its `command`
COMMANDS = {"ingest": "ingest", "index": "index", "search": "search", "ask": "ask", "eval": "eval",
            "chat": "chat", "model": "model", "serve": "serve", "plan": "plan", "match": "match"}


class LazyGroup(click.Group):
    """A group whose commands are loaded from their modules on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.add_command(importlib.import_module(f"trialqa.cli.{COMMANDS[cmd_name]}").command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="trialqa")
def cli() -> None:
    """Ask cited questions of clinical-trial records, offline, on a laptop CPU."""


def main() -> None:
    cli(prog_name="trialqa")
