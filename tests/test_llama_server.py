"""trialqa against llama.cpp's own `llama-server` (continuous batching, `-np 4` slots) running
the bundled GGUF: a streamed, cited model answer through the OpenAI backend, then the chat
with concurrency 4 answering several people at once through `gradio_client`, and /healthz.

The server is built by `make llama-server` from the llama.cpp that the llama-cpp-python sdist
vendors; without it these tests are skipped and say so.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from test_ui_client import ROOT, client, launched

from benchmarks.load import LLAMA_SERVER, MODEL, SLOTS, llama_server
from trialqa import ui
from trialqa.settings import Settings
from trialqa.types import Answer, SourcesReady

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not LLAMA_SERVER.is_file(), reason=f"no llama-server at {LLAMA_SERVER}: run 'make llama-server'"),
]

INSTANT = "What is the enrollment of NCT05106972?"


@pytest.fixture(scope="module")
def base_url(bundled_gguf: Path, tmp_path_factory) -> str:
    with llama_server(bundled_gguf, tmp_path_factory.mktemp("llama-server") / "server.log", SLOTS) as url:
        yield url


@pytest.fixture(scope="module")
def assistant(base_url: str, tmp_path_factory):
    from trialqa.assistant import Assistant

    settings = Settings(backend="openai", base_url=base_url, index=tmp_path_factory.mktemp("idx") / "seeds",
                        seeds=ROOT / "seeds", chat={"concurrency": SLOTS})
    return ui.warm(Assistant.from_settings(settings=settings))


def test_server_is_llama_cpp_with_four_slots(base_url):
    props = httpx.get(base_url.removesuffix("/v1") + "/props", timeout=10).json()
    assert props["total_slots"] == SLOTS


def test_streamed_model_answer_with_citations(assistant):
    assert assistant.generator.server == "llama.cpp"
    events = list(assistant.stream(MODEL[0]))
    answer = events[-1]
    assert isinstance(answer, Answer)
    assert any(isinstance(e, SourcesReady) for e in events), "not a model-written answer"
    pieces = [e for e in events if isinstance(e, str)]
    assert len(pieces) > 3 and answer.timings.first_token_s < answer.timings.total_s
    assert not answer.abstained and answer.citations and "NCT01728727" in answer.trials, answer.text


def test_chat_answers_several_people_at_once(assistant):
    slots = ui.concurrency(assistant.settings)
    assert slots == SLOTS
    questions = [MODEL[0], MODEL[1], INSTANT, MODEL[0], MODEL[1], INSTANT]
    results: dict[int, str | BaseException] = {}
    with launched(assistant, concurrency_limit=slots) as url:
        clients = [client(url) for _ in questions]

        def ask(i: int) -> None:
            try:
                results[i] = clients[i].submit(questions[i], api_name="/chat").result(timeout=300)
            except BaseException as exc:  # noqa: BLE001 - reported below
                results[i] = exc

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(questions))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(330)
    failed = {i: r for i, r in results.items() if not isinstance(r, str)}
    assert len(results) == len(questions) and not failed, failed
    for i, text in results.items():
        assert "Sources:" in text or text.startswith("The indexed trials don't say"), text
    assert "30" in results[2].split("\n")[0]  # the instant answer is computed, whatever the load
    assert results[2] == results[5]


def test_healthz_reports_the_server(assistant, base_url):
    from trialqa.ui.health import health

    status, body = health(assistant, SLOTS)
    assert status == 200 and body["backend"] == {"ready": True, "kind": "openai", "slots": SLOTS}
