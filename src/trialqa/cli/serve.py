"""`trialqa serve`: keep one assistant warm on a local unix socket; `trialqa ask` uses it.

A new `trialqa ask` process pays for Python imports, the embedder, the index and the model
before it answers; with a server running it pays only for its own small imports and a
round trip (protocol: trialqa/serve_client.py). Questions are answered one at a time, in
the order they arrive.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import socketserver
import sys
from pathlib import Path
from typing import Any

import click

from trialqa.cli.common import handle_errors


def _event(obj: Any) -> dict[str, Any]:
    from trialqa.types import Answer, SourcesReady

    if isinstance(obj, str):
        return {"event": "text", "text": obj}
    if isinstance(obj, SourcesReady):
        return {"event": "sources", "citations": [c.model_dump(mode="json") for c in obj.citations]}
    if isinstance(obj, Answer):
        return {"event": "answer", "answer": obj.model_dump(mode="json")}
    raise TypeError(f"unexpected event {type(obj).__name__}")


def make_handler(assistant: Any, wanted: dict[str, Any]) -> type[socketserver.StreamRequestHandler]:
    from trialqa.errors import TrialQAError
    from trialqa.serve_client import lines, send

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            sock: socket.socket = self.request
            replies = lines(sock)
            try:
                hello = next(replies, None)
                if hello != wanted:
                    send(sock, {"ok": False, "reason": f"this server answers {wanted}, not {hello}"})
                    return
                send(sock, {"ok": True})
                request = next(replies, None)
                if not request or not isinstance(request.get("question"), str):
                    return
                try:
                    for event in assistant.stream(request["question"]):
                        send(sock, _event(event))
                except TrialQAError as exc:
                    send(sock, {"event": "error", "type": type(exc).__name__, "message": str(exc)})
                except Exception as exc:  # noqa: BLE001 - one question's bug must not stop the server
                    send(sock, {"event": "error", "type": "TrialQAError",
                                "message": f"internal error: {type(exc).__name__}: {exc}"})
            except (OSError, ValueError):  # the client went away or sent garbage
                return

    return Handler


def _live(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(0.5)
        probe.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()


@click.command("serve")
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index directory (default indexes/seeds, as for ask).")
@click.option("--model", type=click.Path(path_type=Path), help="GGUF model file instead of the bundled one.")
@click.option("--lazy-model", is_flag=True, help="Load the model at the first question that needs it, not at start.")
@handle_errors
def command(index_dir: Path | None, model: Path | None, lazy_model: bool) -> None:
    """Keep an assistant warm on a local socket so that `trialqa ask` answers at once."""
    from trialqa.assistant import Assistant
    from trialqa.errors import BadInput
    from trialqa.serve_client import identity, socket_path
    from trialqa.settings import get_settings

    settings = get_settings()
    path = socket_path(settings)
    if path.exists():
        if _live(path):
            raise BadInput(f"a trialqa server is already listening on {path}")
        path.unlink()  # left by a server that died
    assistant = Assistant.from_settings(index_dir, model)
    assistant.embedder.embed(["warm-up"])
    if not lazy_model:
        assistant.generator  # noqa: B018 - loads and primes the model now
    path.parent.mkdir(parents=True, exist_ok=True)
    old_umask = os.umask(0o077)  # the socket is the user's alone
    try:
        server = socketserver.UnixStreamServer(str(path), make_handler(assistant, identity(index_dir, model, settings)))
    finally:
        os.umask(old_umask)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    click.echo(json.dumps({"listening": str(path), "index": str(assistant.index.path)}), err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        path.unlink(missing_ok=True)
