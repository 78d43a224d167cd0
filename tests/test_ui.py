"""The browser chat without a browser: rendering, escaping, sessions, the app's wiring.

`FakeAssistant` is shared with the other test_ui_* modules.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from trialqa import ui
from trialqa.errors import BadInput
from trialqa.settings import Settings
from trialqa.types import Answer, Citation, Timings, Turn

HOSTILE = '<img src=x onerror="alert(1)"> <script>alert(2)</script> ![p](http://evil.invalid/p.png)'


def cite(nct="NCT05106972", section="Enrollment", quote="Target Recruitment: 30", title="UC-MSC for HBV cirrhosis"):
    return Citation(trial_id=nct or "doc1", nct_id=nct, doc_id="doc1", section=section, quote=quote, title=title)


def answer(text="It enrolls 30 people. [NCT05106972 · Enrollment]", citations=None, **kw) -> Answer:
    return Answer(text=text, citations=[cite()] if citations is None else citations,
                  timings=Timings(first_token_s=0.2, total_s=1.5), **kw)


class FakeAssistant:
    """Stands in for `Assistant`: records (question, history) and streams a scripted Answer."""

    def __init__(self, reply: Callable[[str, list[Turn]], Answer] | None = None, delay: float = 0.0):
        self.settings = Settings()
        self.index = SimpleNamespace(path=Path("indexes/seeds"), manifest=SimpleNamespace(
            counts={"trials": 5, "chunks": 82}, embedder_id="hashing-256"))
        self._generator = SimpleNamespace(name="fake-model.gguf")
        self.model_label = "fake-model.gguf"
        self.reply = reply or (lambda q, h: answer())
        self.delay = delay
        self.calls: list[tuple[str, list[Turn]]] = []

    @property
    def generator(self):
        return self._generator

    def stream(self, question: str, history=()) -> Iterator[str | Answer]:
        history = list(history)
        self.calls.append((question, history))
        if not question.strip():
            raise BadInput("question is empty: ask something about the indexed trials")
        final = self.reply(question, history)
        for piece in re.findall(r"\S+\s*", final.text):
            time.sleep(self.delay)
            yield piece
        yield final


def echo(question: str, history: list[Turn]) -> Answer:
    """An answer that says what the assistant saw: the question and the earlier trials."""
    seen = sorted({t for turn in history for t in turn.trials})
    nct = re.search(r"NCT\d{8}", question)
    trials = [nct.group(0)] if nct else []
    return Answer(text=f"Q={question} | prior={','.join(seen) or 'none'}", trials=trials)


# ------------------------------------------------------------------ rendering


def test_citation_renders_as_chip_that_opens_the_section():
    html = ui.render_answer(answer())
    assert '<details class="tq-cite"><summary>NCT05106972 · Enrollment</summary>' in html
    assert '<a href="https://clinicaltrials.gov/study/NCT05106972" target="_blank" rel="noopener noreferrer">NCT05106972</a>' in html
    assert "UC-MSC for HBV cirrhosis" in html and "Target Recruitment: 30" in html
    assert "[NCT05106972 · Enrollment]" not in html  # the label became the chip
    assert "tq-abstain" not in html


def test_one_chip_gathers_every_quote_of_its_label():
    two = [cite(quote="First quote."), cite(quote="Second quote.")]
    html = ui.render_answer(answer(citations=two))
    assert html.count("<details") == 1 and html.count("<blockquote>") == 2


def test_label_without_citation_stays_an_inert_chip():
    html = ui.render_answer(answer(text="See [NCT00000001 · Design].", citations=[]))
    assert '<span class="tq-chip">NCT00000001 · Design</span>' in html and "<details" not in html


def test_trial_without_nct_number_gets_no_registry_link():
    html = ui.render_answer(answer(text="HPV [doc1 · Summary]", citations=[cite(nct=None, section="Summary")]))
    assert "<details" in html and "clinicaltrials.gov" not in html
    assert '<span class="tq-card-meta">doc1 · Summary</span>' in html


def test_abstention_looks_different():
    html = ui.render_answer(answer(text="The indexed trials don't say: no trial mentions 'mars'.",
                                   citations=[], abstained=True))
    assert 'class="tq-abstain"' in html and "No answer in the indexed trials" in html


def test_bullets_become_a_list():
    html = ui.render_answer(answer(text="2 trials match:\n- A [NCT05106972 · Enrollment]\n- B", citations=[cite()]))
    assert html.count("<li>") == 2 and "<ul>" in html


def test_model_and_page_text_is_escaped_everywhere():
    evil = cite(nct='NCT05106972" onclick="x', section="Enrollment <b>", quote=HOSTILE, title="<script>t()</script>")
    a = answer(text=f"{HOSTILE} [{evil.nct_id} · {evil.section}]", citations=[evil], notes=[HOSTILE])
    for html in (ui.render_answer(a), ui.render_partial(a.text), ui.render_question(HOSTILE), ui.render_notice(HOSTILE)):
        assert "<img" not in html and "<script" not in html and "<b>" not in html
        assert 'onclick="' not in html and "onerror=\"" not in html
        assert "\n" not in html  # one HTML block: markdown never parses inside it
    assert "clinicaltrials.gov" not in ui.render_answer(a)  # a malformed id is never put in a URL
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in ui.render_answer(a)


def test_partial_answer_shows_placeholder_then_text():
    assert ui.PENDING in ui.render_partial("")
    assert '<span class="tq-chip">NCT05106972 · Enrollment</span>' in ui.render_partial("30 [NCT05106972 · Enrollment]")


def test_api_text_lists_sources():
    text = ui.answer_text(answer())
    assert text.startswith("It enrolls 30 people. [NCT05106972 · Enrollment]\n\nSources:\n[1] NCT05106972 · Enrollment")
    assert "“Target Recruitment: 30”" in text and "https://clinicaltrials.gov/study/NCT05106972" in text


def test_footer_names_index_embedder_and_model():
    html = ui.footer_html(FakeAssistant())
    assert "seeds" in html and "5 trials" in html and "hashing-256" in html and "fake-model.gguf" in html


def test_model_label_does_not_load_the_model(tmp_path):
    from trialqa.assistant import Assistant

    a = Assistant.__new__(Assistant)  # no index or model needed for the label
    a.settings, a._generator, a._model = Settings(home=tmp_path), None, None
    assert ui.model_label(a) == "qwen2.5-coder-1.5b-instruct.gguf"
    assert not list(tmp_path.iterdir())  # nothing assembled


# ------------------------------------------------------------------ sessions


def run_turn(assistant, message, chat, turns):
    _, shown, chat, question = ui.accept(message, chat)
    assert shown == chat
    *_, (shown, chat, turns) = ui.answer_turn(assistant, question, chat, turns)
    return chat, turns


def test_turn_streams_then_finishes_with_chips():
    a = FakeAssistant()
    _, _, chat, question = ui.accept("  How many?  ", [])
    assert question == "How many?" and chat[-1]["content"] == ui.render_partial("")
    steps = list(ui.answer_turn(a, question, chat, []))
    assert len(steps) > 3  # token by token
    assert "<details" not in steps[0][0][-1]["content"] and "<details" in steps[-1][0][-1]["content"]
    assert [t.role for t in steps[-1][2]] == ["user", "assistant"]


def test_follow_ups_use_only_this_sessions_history():
    a = FakeAssistant(echo)
    chat_a, turns_a = run_turn(a, "Enrollment of NCT05106972?", [], [])
    chat_a, turns_a = run_turn(a, "And its sponsor?", chat_a, turns_a)
    chat_b, turns_b = run_turn(a, "And its sponsor?", [], [])
    assert a.calls[1][1][0].content == "Enrollment of NCT05106972?"
    assert "prior=NCT05106972" in chat_a[-1]["content"]
    assert a.calls[2][1] == [] and "prior=none" in chat_b[-1]["content"]
    assert len(chat_a) == 4 and len(chat_b) == 2


def test_empty_message_is_ignored():
    text, shown, chat, question = ui.accept("   ", [])
    assert (shown, chat, question) == ([], [], "")
    assert list(ui.answer_turn(FakeAssistant(), "", [], [])) == [([], [], [])]


@pytest.mark.parametrize("question, expect", [("  ", "question is empty"), ("boom?", "went wrong")])
def test_errors_become_one_line_bubbles_without_history(question, expect):
    def boom(q, h):
        raise RuntimeError("secret internals\nTraceback (most recent call last)")

    _, _, chat, _ = ui.accept("anything", [])
    *_, (shown, _, turns) = ui.answer_turn(FakeAssistant(boom), question, chat, [])
    bubble = shown[-1]["content"]
    assert expect in bubble and "tq-error" in bubble
    assert "Traceback" not in bubble and "secret" not in bubble and turns == []


def test_busy_gives_the_question_back():
    _, _, chat, question = ui.accept("What phase?", [])
    shown, state, box = ui.busy(question, chat)
    assert box == "What phase?" and len(shown) == 2
    assert shown[-1]["content"] == ui.render_notice(ui.BUSY, "busy")


def test_api_chat_streams_then_returns_sources_and_history():
    a = FakeAssistant()
    steps = list(ui.api_chat(a, "How many?", []))
    text, turns = steps[-1]
    assert "Sources:" in text and turns[-1].trials == answer().trials
    assert len(steps) > 2 and "Sources:" not in steps[0][0]


def test_api_chat_errors_are_gradio_errors():
    import gradio as gr

    with pytest.raises(gr.Error, match="question is empty"):
        list(ui.api_chat(FakeAssistant(), "", []))


# ------------------------------------------------------------------ the app


def test_app_has_no_upload_and_one_guarded_chat_endpoint():
    app = ui.build_app(FakeAssistant(), concurrency_limit=1, max_queue=7)
    config = app.get_config_file()
    kinds = {c["type"] for c in config["components"]}
    assert not kinds & {"file", "uploadbutton", "image", "audio", "video", "multimodaltextbox", "gallery", "model3d"}
    assert config["title"] == "trialqa"
    assert app._queue.max_size == 7
    named = {fn.api_name: fn for fn in app.fns.values() if fn.api_visibility == "public"}
    assert set(named) == {"chat"}
    generating = [fn for fn in app.fns.values() if fn.concurrency_id == ui.CONCURRENCY_ID]
    assert len(generating) == 3 and all(fn.concurrency_limit == 1 for fn in generating)
