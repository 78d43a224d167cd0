"""`trialqa chat`: the browser chat (Gradio), bound to 127.0.0.1 unless told otherwise;
`trialqa chat add-user NAME`: a login for it (required off loopback)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from trialqa.cli.common import handle_errors

AUTH_HELP = "Users file for the login page (default TRIALQA_CHAT__AUTH_FILE); required for any --host but loopback."


@click.group("chat", invoke_without_command=True)
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index directory (default indexes/seeds, built from seeds/ when missing).")
@click.option("--model", type=click.Path(path_type=Path), help="GGUF model file instead of the bundled one.")
@click.option("--port", type=int, envvar="GRADIO_SERVER_PORT", default=7860, show_default=True, help="Port to serve on (default from GRADIO_SERVER_PORT, else 7860).")
@click.option("--indexes", "indexes_dir", type=click.Path(path_type=Path), help="Directory whose indexes the page's picker lists (default: the one holding --index).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind; anything but loopback needs --auth-file (a login) and exposes the chat to your network.")
@click.option("--auth-file", type=click.Path(path_type=Path), help=AUTH_HELP)
@click.pass_context
@handle_errors
def command(ctx: click.Context, index_dir: Path | None, model: Path | None, port: int, host: str,
            indexes_dir: Path | None, auth_file: Path | None) -> None:
    """Serve the chat page at http://HOST:PORT: streamed, cited answers with follow-ups.

    Off loopback it asks for a login from the users file (see `trialqa chat add-user`);
    put it behind a TLS reverse proxy (docs/scale.md). GET /healthz says whether the
    index and the answer backend are ready."""
    if ctx.invoked_subcommand is not None:
        return
    from trialqa import ui

    ui.check_exposure(host, auth_file)  # refuse before loading anything
    click.echo(f"trialqa chat: loading the index and the model, then serving http://{host}:{port}", err=True)
    ui.run(index_dir, model, host, port, indexes_dir=indexes_dir, auth_file=auth_file)


@command.command("add-user")
@click.argument("name")
@click.option("--auth-file", type=click.Path(path_type=Path), help="Users file to write (default TRIALQA_CHAT__AUTH_FILE).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin (for scripts).")
@handle_errors
def add_user(name: str, auth_file: Path | None, password_stdin: bool) -> None:
    """Add a chat user NAME (or set a new password): its salted scrypt hash goes to the users file."""
    from trialqa.auth import UsersFile
    from trialqa.errors import BadInput, ConfigError
    from trialqa.settings import get_settings

    path = auth_file or get_settings().chat.auth_file
    if path is None:
        raise ConfigError("no users file: give --auth-file FILE or set TRIALQA_CHAT__AUTH_FILE")
    users = UsersFile(path)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise BadInput("--password-stdin: stdin gave no password")
    else:
        password = click.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)
    new = users.add(name, password)
    click.echo(f"{'added' if new else 'changed the password of'} {name} in {users.path} "
               f"({len(users)} user{'s' if len(users) != 1 else ''})", err=True)
