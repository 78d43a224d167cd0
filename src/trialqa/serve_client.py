"""`trialqa ask` through a running `trialqa serve`: the protocol and the client side.

The server listens on a unix socket (mode 0600) at $TRIALQA_SERVE_SOCKET, by default
$TRIALQA_HOME/serve.sock. One connection carries one question, as JSON lines:

    client: {"v": 1, "index": "/abs/index", "model": null}    which assistant it wants
    server: {"ok": true} | {"ok": false, "reason": "..."}      a different index or model: refused
    client: {"question": "..."}
    server: {"event": "sources", "citations": [...]}           as soon as retrieval ends (when any)
            {"event": "text", "text": "..."}                   answer pieces as generated
            {"event": "answer", "answer": {...}}               the final Answer
            {"event": "error", "type": "BadInput", "message": "..."}

`connect` returns None whenever the server cannot serve this command (none running, a stale
socket, another index or model), and the command answers in-process as before.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from trialqa import errors
from trialqa.settings import Settings, get_settings
from trialqa.types import Answer, SourcesReady, Turn

PROTOCOL = 1
CONNECT_TIMEOUT_S = 0.5


def socket_path(settings: Settings | None = None) -> Path:
    explicit = os.environ.get("TRIALQA_SERVE_SOCKET")
    if explicit:
        return Path(explicit).expanduser()
    return Path((settings or get_settings()).home).expanduser() / "serve.sock"


def identity(index_dir: Path | None, model: str | Path | None, settings: Settings) -> dict[str, Any]:
    """What makes two assistants answer alike: the index folder and the model file."""
    index = Path(index_dir) if index_dir is not None else Path(settings.index)
    chosen = model or settings.model
    return {"v": PROTOCOL, "index": str(index.expanduser().resolve()),
            "model": str(Path(chosen).expanduser().resolve()) if chosen else None, "backend": settings.backend}


def send(sock: socket.socket, obj: dict[str, Any]) -> None:
    sock.sendall((json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8"))


def lines(sock: socket.socket) -> Iterator[dict[str, Any]]:
    """JSON objects, one per line, until the peer closes."""
    buffer = b""
    while True:
        block = sock.recv(65536)
        if not block:
            return
        buffer += block
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line.strip():
                yield json.loads(line)


class RemoteAssistant:
    """The part of `Assistant` that `trialqa ask` uses (`stream`, `ask`), answered by the server.
    One question per connection, so an instance answers once."""

    def __init__(self, sock: socket.socket, replies: Iterator[dict[str, Any]]) -> None:
        self._sock = sock
        self._replies = replies

    def stream(self, question: str, history: Iterable[Turn] = ()) -> Iterator[str | SourcesReady | Answer]:
        if list(history):
            raise errors.BadInput("the trialqa server answers single questions")
        try:
            send(self._sock, {"question": question})
            for event in self._replies:
                kind = event.get("event")
                if kind == "text":
                    yield event["text"]
                elif kind == "sources":
                    yield SourcesReady.model_validate({"citations": event["citations"]})
                elif kind == "answer":
                    yield Answer.model_validate(event["answer"])
                    return
                elif kind == "error":
                    cls = getattr(errors, str(event.get("type")), None)
                    if not (isinstance(cls, type) and issubclass(cls, errors.TrialQAError)):
                        cls = errors.TrialQAError
                    raise cls(event.get("message", "the trialqa server failed"))
            raise errors.TrialQAError("the trialqa server closed the connection before answering")
        finally:
            self._sock.close()

    def ask(self, question: str, history: Iterable[Turn] = ()) -> Answer:
        answer = None
        for event in self.stream(question, history):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer


def connect(index_dir: Path | None, model: str | Path | None, settings: Settings | None = None) -> RemoteAssistant | None:
    """A connection to a running server that holds this index and model, else None."""
    settings = settings or get_settings()
    path = socket_path(settings)
    if not path.exists():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(CONNECT_TIMEOUT_S)
        sock.connect(str(path))
        send(sock, identity(index_dir, model, settings))
        sock.settimeout(None)  # the server may be answering someone else: wait for our turn
        replies = lines(sock)
        hello = next(replies, None)
        if not hello or not hello.get("ok"):
            sock.close()
            return None
        return RemoteAssistant(sock, replies)
    except (OSError, ValueError):  # no server behind a stale socket, or a garbled reply
        sock.close()
        return None
