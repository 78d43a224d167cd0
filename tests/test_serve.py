"""`trialqa serve` and `trialqa ask` through it, over a real unix socket with a scripted assistant."""

from __future__ import annotations

import socket
import socketserver
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from trialqa.cli import cli
from trialqa.cli.serve import make_handler
from trialqa.errors import BadInput
from trialqa.serve_client import connect, identity
from trialqa.settings import get_settings
from trialqa.types import Answer, Citation, SourcesReady

CITATION = Citation(trial_id="t1", nct_id="NCT05106972", doc_id="d1", section="Enrollment", quote="60 participants")


class ScriptedAssistant:
    """What the server calls: `stream(question)` yielding sources, text pieces, the Answer."""

    def __init__(self) -> None:
        self.questions: list[str] = []

    def stream(self, question: str, history=()):
        self.questions.append(question)
        if question == "bad":
            raise BadInput("that question is empty")
        yield SourcesReady(citations=[CITATION])
        yield "Sixty "
        yield "participants [S1]."
        yield Answer(text="Sixty participants [S1].", citations=[CITATION], trials=["t1"])


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A server on a socket under tmp_path for the default index, in a thread."""
    path = Path("/tmp") / f"tq-{tmp_path.name[-20:]}.sock"  # unix socket paths are short
    path.unlink(missing_ok=True)
    monkeypatch.setenv("TRIALQA_SERVE_SOCKET", str(path))
    assistant = ScriptedAssistant()
    srv = socketserver.UnixStreamServer(str(path), make_handler(assistant, identity(None, None, get_settings())))
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield assistant, path
    srv.shutdown()
    srv.server_close()
    path.unlink(missing_ok=True)


def test_a_question_streams_sources_text_and_answer_through_the_socket(server):
    assistant, _ = server
    remote = connect(None, None)
    assert remote is not None
    events = list(remote.stream("What is the enrollment of NCT05106972?"))
    assert isinstance(events[0], SourcesReady) and events[0].citations == [CITATION]
    assert events[1:3] == ["Sixty ", "participants [S1]."]
    assert isinstance(events[-1], Answer) and events[-1].citations == [CITATION]
    assert assistant.questions == ["What is the enrollment of NCT05106972?"]


def test_another_index_or_no_server_means_answering_in_process(server, tmp_path, monkeypatch):
    assert connect(tmp_path / "other-index", None) is None
    assert connect(None, tmp_path / "other.gguf") is None
    monkeypatch.setenv("TRIALQA_SERVE_SOCKET", str(tmp_path / "nobody.sock"))
    assert connect(None, None) is None
    stale = tmp_path / "stale.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(stale))
    s.close()  # a socket file with no server behind it
    monkeypatch.setenv("TRIALQA_SERVE_SOCKET", str(stale))
    assert connect(None, None) is None


def test_a_server_side_error_keeps_its_type(server):
    with pytest.raises(BadInput, match="empty"):
        connect(None, None).ask("bad")
    assert connect(None, None).ask("again").text == "Sixty participants [S1]."  # the server goes on


def test_ask_uses_the_server_and_shows_sources_before_the_answer(server, monkeypatch):
    from trialqa.assistant import Assistant

    def no_loading(*args, **kwargs):
        raise AssertionError("ask loaded an assistant although a server was running")

    monkeypatch.setattr(Assistant, "from_settings", no_loading)
    result = CliRunner().invoke(cli, ["ask", "What is the enrollment of NCT05106972?"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.index("sources: NCT05106972 \u00b7 Enrollment") < out.index("Sixty participants")
    result = CliRunner().invoke(cli, ["ask", "--json", "What is the enrollment?"])
    assert result.exit_code == 0 and '"answer": "Sixty participants [S1]."' in result.output


def test_serve_refuses_a_second_server_on_a_live_socket(server):
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code != 0 and "already listening" in result.output
    assert "Traceback" not in result.output
