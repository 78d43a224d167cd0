"""`trialqa chat`: the browser chat (Gradio), bound to 127.0.0.1 unless told otherwise."""

from __future__ import annotations

from pathlib import Path

import click

from trialqa.cli.common import handle_errors


@click.command("chat")
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index directory (default indexes/seeds, built from seeds/ when missing).")
@click.option("--model", type=click.Path(path_type=Path), help="GGUF model file instead of the bundled one.")
@click.option("--port", type=int, envvar="GRADIO_SERVER_PORT", default=7860, show_default=True, help="Port to serve on (default from GRADIO_SERVER_PORT, else 7860).")
@click.option("--indexes", "indexes_dir", type=click.Path(path_type=Path), help="Directory whose indexes the page's picker lists (default: the one holding --index).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind; anything but 127.0.0.1 exposes the chat to your network.")
@handle_errors
def command(index_dir: Path | None, model: Path | None, port: int, host: str,
            indexes_dir: Path | None) -> None:
    """Serve the chat page at http://HOST:PORT: streamed, cited answers with follow-ups."""
    from trialqa import ui

    click.echo(f"trialqa chat: loading the index and the model, then serving http://{host}:{port}", err=True)
    ui.run(index_dir, model, host, port, indexes_dir=indexes_dir)
