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
    steps = list(ui.answer_turn(a, question, chat, [], every=0))
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
    assert len(generating) == 4 and all(fn.concurrency_limit == 1 for fn in generating)  # ask, example, chip, API


@pytest.mark.parametrize(("backend", "slots", "workers", "model", "at_once"), [
    ("llama", 4, 16, 1, 16),   # in-process: one model answer at a time, computed ones go ahead
    ("openai", 4, 16, 4, 16),  # a server: its slots write, more questions are worked on
    ("openai", 24, 16, 24, 24),
])
def test_chat_works_on_more_questions_than_the_model_answers(backend, slots, workers, model, at_once):
    settings = Settings(backend=backend, base_url="http://127.0.0.1:9/v1", chat={"concurrency": slots, "workers": workers})
    assert ui.concurrency(settings) == model and ui.workers(settings) == at_once


# ------------------------------------------------------------------ corpus-scale fakes

PHASES = ["Phase 1", "Phase 2", "Phase 3", "Phase 4"]
CONDITIONS = ["Breast Cancer", "Asthma", "Psoriasis", "Diabetes"]
PWNED_TITLE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> =HYPERLINK("x")'
REDTEAM_PAGE = Path(__file__).resolve().parent.parent / "evals/redteam/pages/rt05_veeva_script_tags.txt"


def synthetic_trials(n: int = 120) -> dict:
    """`n` small records (phase, condition, sex vary with the number), one with a hostile
    title, plus the red-team page with script tags in its sections."""
    from trialqa.parse import parse_file
    from trialqa.types import Section, Source, Trial, TrialFields

    trials = {}
    for k in range(n):
        nct = f"NCT{10000000 + k:08d}"
        phase, cond = PHASES[k % 4], CONDITIONS[(k // 4) % 4]
        sex = "Female" if k % 5 == 0 else "All"
        title = PWNED_TITLE if k == 2 else f"Study {k} of {cond.lower()}"
        sections = [Section(name="Title", text=title), Section(name="Conditions", text=cond),
                    Section(name="Design", text=f"This is a {phase} study. Sex: {sex}. Enrollment: {10 + k}."),
                    Section(name="Eligibility: Inclusion", text=f"Adults with {cond.lower()}.")]
        trials[nct] = Trial(trial_id=nct, nct_id=nct, doc_id=nct, title=title, sections=sections,
                            source=Source(path=f"{nct}.xml", format="ctgov-xml"),
                            fields=TrialFields(phase=phase, conditions=[cond], sex=sex, enrollment=10 + k))
    red = parse_file(REDTEAM_PAGE)
    trials[red.trial_id] = red
    return trials


class PlanAssistant(FakeAssistant):
    """A fake with the corpus-scale contract: a plan per question (phase, condition, 'women',
    'per phase'), every matching trial in a table, SourcesReady before the text, and
    `stream(..., plan=)` answering an edited plan. It really filters its records, so
    removing a filter changes the answer."""

    def __init__(self, n: int = 120, delay: float = 0.0, draft: str | None = None):
        super().__init__(delay=delay)
        self.trials = synthetic_trials(n)
        self.index = SimpleNamespace(path=Path(f"indexes/synthetic{n}"), trials=self.trials,
                                     manifest=SimpleNamespace(counts={"trials": len(self.trials), "chunks": 4 * n},
                                                              embedder_id="hashing-256"))
        self.embedder = None
        self.draft = draft  # streamed instead of the final text, to test the replacement
        self.plans: list = []

    @staticmethod
    def understand(question: str):
        from trialqa.answer.plan import Cond, Plan

        q = question.lower()
        filters = []
        if m := re.search(r"phase (\d)", q):
            filters.append(Cond(field="phase", op="eq", value=f"Phase {m.group(1)}", label=f"phase {m.group(1)}"))
        for c in CONDITIONS:
            if c.lower() in q:
                filters.append(Cond(field="condition", op="contains", value=c, label=f"condition: {c.lower()}"))
        if re.search(r"\bwomen\b", q):
            filters.append(Cond(field="sex", op="is", value="Female", label="sex: women only"))
        group = "phase" if re.search(r"\b(per|by) phase\b", q) else None
        intent = "count" if q.startswith("how many") else "list"
        return Plan(question=question, intent=intent, filters=filters, group_by=group)

    def _matches(self, trial, cond) -> bool:
        f = trial.fields
        if cond.field == "phase":
            return f.phase == cond.value
        if cond.field == "condition":
            return any(cond.value.lower() in c.lower() for c in f.conditions)
        if cond.field == "sex":
            return f.sex == cond.value
        return False

    def stream(self, question: str, history=(), plan=None):
        from trialqa.answer.plan import Row, Table
        from trialqa.types import SourcesReady

        history = list(history)
        self.calls.append((question, history))
        plan = plan or self.understand(question)
        self.plans.append(plan)
        hits = [t for t in self.trials.values() if all(self._matches(t, c) for c in plan.filters)]
        cites = [Citation(trial_id=t.trial_id, nct_id=t.nct_id, doc_id=t.doc_id, section="Conditions",
                          quote=", ".join(t.fields.conditions), title=t.title) for t in hits]
        rows = [Row(trial_id=t.trial_id, title=t.title, cite=i,
                    values={"phase": t.fields.phase or "", "condition": ", ".join(t.fields.conditions),
                            "enrollment": str(t.fields.enrollment or "")})
                for i, t in enumerate(hits)]
        groups = {}
        if plan.group_by:
            for t in hits:
                groups[t.fields.phase or ""] = groups.get(t.fields.phase or "", 0) + 1
        table = Table(columns=["phase", "condition", "enrollment"], rows=rows, total=len(rows),
                      of=len(self.trials), groups=groups)
        what = " and ".join(c.label for c in plan.filters) or "any trial"
        text = f"{len(rows)} of the {len(self.trials)} indexed trials match ({what})."
        yield SourcesReady(citations=cites[:5])
        for piece in re.findall(r"\S+\s*", self.draft or text):
            time.sleep(self.delay)
            yield piece
        yield Answer(text=text, citations=cites, plan=plan, table=table, trials=[t.trial_id for t in hits],
                     timings=Timings(first_token_s=0.01, total_s=0.02))


def finished(assistant, question, chat=None, turns=None, views=None, plan=None):
    """Run one turn through the session logic; returns (chat, turns, views)."""
    _, _, chat, q = ui.accept(question, chat or [])
    *_, last = ui.run_turn(assistant, q, chat, turns or [], views or [], plan)
    return last


def action(kind, view=0, arg=""):
    import json

    return json.dumps({"a": kind, "v": view, "x": arg})


# ------------------------------------------------------------------ plans, tables, charts


def test_list_answer_shows_plan_chips_and_a_paged_table():
    a = PlanAssistant()
    chat, turns, views = finished(a, "Which phase 3 breast cancer trials are there?")
    html = chat[-1]["content"]
    assert "As understood:" in html and "phase 3" in html and "condition: breast cancer" in html
    assert html.count('value="drop|') == 2  # one removable chip per filter
    n = sum(1 for t in a.trials.values() if t.fields.phase == "Phase 3" and "Breast Cancer" in t.fields.conditions)
    assert f"{n} of the {len(a.trials)} indexed trials" in html
    assert html.count('<tr class="tq-row">') == min(n, ui.PAGE)
    assert "\n" not in html and turns[-1].trials and views[0].at == len(chat) - 1


def test_sort_and_page_rerender_the_same_bubble():
    a = PlanAssistant(n=200)
    chat, _, views = finished(a, "Which asthma trials are there?")
    n = sum(1 for t in a.trials.values() if t.fields.conditions == ["Asthma"])
    assert n == 52 and len(views[0].answer.table.rows) == n
    ids = lambda html: re.findall(r'<button class="tq-trial"[^>]*>([^<]+)</button>', html)  # noqa: E731
    first = ids(chat[-1]["content"])
    out = ui.act(a, action("sort", 0, "enrollment"), chat, views)
    out = ui.act(a, action("sort", 0, "enrollment"), out.chat, out.views)  # second click: descending
    desc = ids(out.chat[-1]["content"])
    enrol = {r.trial_id: int(r.values["enrollment"]) for r in views[0].answer.table.rows}
    assert [enrol[i] for i in desc] == sorted(enrol.values(), reverse=True)[:20] and desc != first
    assert "enrollment \u25bc" in out.chat[-1]["content"]
    paged = ui.act(a, action("page", 0, "2"), out.chat, out.views)
    assert "41\u201352 of 52" in paged.chat[-1]["content"] and len(ids(paged.chat[-1]["content"])) == 12
    assert len(paged.chat) == len(chat)  # the same bubble, re-rendered
    stale = ui.act(a, action("sort", 7, "title"), chat, views)
    assert stale.chat == chat and stale.views == views


def test_csv_holds_every_matching_trial_and_defuses_formulas():
    import csv
    import io

    a = PlanAssistant(n=200)
    chat, _, views = finished(a, "Which trials are there?")  # no filter: every record
    out = ui.act(a, action("csv", 0), chat, views)
    import json

    payload = json.loads(out.download)
    assert payload["name"].endswith(".csv") and payload["type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(payload["text"])))
    assert rows[0][:2] == ["nct_id", "title"] and len(rows) - 1 == len(a.trials)
    assert {r[0] for r in rows[1:]} == set(a.trials)
    hostile = next(r for r in rows if r[0] == "NCT10000002")
    assert hostile[1] == PWNED_TITLE  # data, not HTML: kept verbatim ...
    assert ui.table_csv(Answer(text="", table=views[0].answer.table.model_copy(
        update={"rows": [views[0].answer.table.rows[0].model_copy(update={"title": "=cmd()"})]}))).splitlines()[1].split(",")[1] == "'=cmd()"


def test_grouped_count_gets_a_bar_chart():
    a = PlanAssistant()
    chat, _, _ = finished(a, "How many breast cancer trials per phase?")
    html = chat[-1]["content"]
    assert 'class="tq-chart"' in html and html.count('class="tq-bar-row"') == 4
    assert "by phase" in html and html.count('value="drop|') == 2


def test_removing_a_chip_re_answers_without_that_filter():
    a = PlanAssistant()
    chat, turns, views = finished(a, "Which phase 3 breast cancer trials are there?")
    chat2, question, plan = ui.reask(action("drop", 0, "0"), chat, views)
    assert [f.label for f in plan.filters] == ["condition: breast cancer"]
    assert "without \u201cphase 3\u201d" in chat2[-2]["content"] and question == views[0].answer.plan.question
    *_, (chat3, _, views3) = ui.run_turn(a, question, chat2, turns, views, plan)
    assert a.plans[-1] == plan  # the edited plan was answered, not the question re-read
    before, after = views3[0].answer.table.total, views3[1].answer.table.total
    assert after > before and f"{after} of the" in chat3[-1]["content"]
    assert ui.reask(action("drop", 0, "9"), chat, views)[2] is None  # a stale chip does nothing


def test_edited_plan_needs_an_assistant_that_takes_one():
    _, _, views = finished(PlanAssistant(), "Which phase 3 trials?")
    _, _, chat, q = ui.accept("x", [])
    *_, (chat, _, _) = ui.run_turn(FakeAssistant(), q, chat, [], [], views[0].answer.plan)
    assert "tq-error" in chat[-1]["content"] and "edited plan" in chat[-1]["content"]


def test_hostile_record_text_is_escaped_in_chips_tables_charts_and_panel():
    from trialqa.answer.plan import Cond, Plan, Row, Table

    a = PlanAssistant()
    chat, _, views = finished(a, "Which phase 3 trials are there?")
    html = chat[-1]["content"]
    assert "NCT10000002" in html and "<script" not in html and "<img" not in html
    assert "&lt;script&gt;window.__pwned=2&lt;/script&gt;" in html
    evil = Plan(question="q", intent="count", filters=[Cond(field="topic", value=1, label=PWNED_TITLE)])
    table = Table(rows=[Row(trial_id='NCT1" onclick="x', title=PWNED_TITLE, values={PWNED_TITLE: PWNED_TITLE})],
                  groups={PWNED_TITLE: 3})
    view = ui.View(question=PWNED_TITLE, answer=Answer(text=PWNED_TITLE, plan=evil, table=table))
    for block in (ui.render_view(view, 0), ui.plan_chips(evil, 0), ui.chart_html(table.groups)):
        assert "<script" not in block and "<img" not in block and 'onclick="' not in block
    red = next(t for t in a.trials.values() if t.doc_id.startswith("rt05"))
    panel = ui.trial_html(red)
    assert "<script" not in panel and "<iframe" not in panel and 'href="javascript' not in panel
    assert "&lt;script&gt;document.location" in panel


def test_trial_panel_highlights_the_cited_sentence():
    a = PlanAssistant()
    chat, _, views = finished(a, "Which psoriasis trials are there?")
    row = views[0].answer.table.rows[0]
    out = ui.act(a, action("trial", 0, f"{row.trial_id}|{row.cite}"), chat, views)
    assert out.panel and f'data-trial="{row.trial_id}"' in out.panel
    assert '<mark class="tq-hl">Psoriasis</mark>' in out.panel and "cited: Conditions" in out.panel
    missing = ui.act(a, action("trial", 0, "NCT99999999|"), chat, views)
    assert "not in this index" in missing.panel


def test_highlight_finds_a_clipped_quote_with_other_spacing():
    from trialqa.types import Section, Source, Trial

    t = Trial(trial_id="X", doc_id="X", source=Source(path="x", format="veeva-page"),
              sections=[Section(name="Arms", text="Group A gets 1.5x10E6/kg\nintravenously at baseline and every 2 weeks.")])
    cite = Citation(trial_id="X", doc_id="X", section="Arms", quote="1.5x10E6/kg intravenously at baseline and every…")
    assert '<mark class="tq-hl">1.5x10E6/kg<br>intravenously at baseline and every</mark>' in ui.trial_html(t, cite)


def test_fast_pieces_are_coalesced_into_few_page_updates():
    a = PlanAssistant()  # a computed answer: every piece at once
    _, _, chat, q = ui.accept("Which phase 3 trials?", [])
    steps = list(ui.run_turn(a, q, chat, [], []))
    assert len(steps) == 2 and "tq-result" in steps[-1][0][-1]["content"]  # first words, then the answer
    slow = FakeAssistant(delay=0.06)
    steps = list(ui.run_turn(slow, "How many?", chat, [], [], every=0.1))
    pieces = len(re.findall(r"\S+\s*", answer().text))
    assert 2 < len(steps) < pieces + 1 and "<details" in steps[-1][0][-1]["content"]


def test_sources_show_before_the_text_and_the_checked_answer_replaces_the_draft():
    a = PlanAssistant(draft="Some unchecked draft text")
    _, _, chat, q = ui.accept("Which asthma trials?", [])
    steps = list(ui.run_turn(a, q, chat, [], [], every=0))
    assert "Sources found:" in steps[0][0][-1]["content"] and "unchecked draft" not in steps[0][0][-1]["content"]
    final = steps[-1][0][-1]["content"]
    assert "unchecked draft" not in final and "replaced by the checked answer" in final
    _, _, views = finished(PlanAssistant(), "Which asthma trials?")
    assert "replaced by the checked answer" not in ui.render_view(views[0], 0)


def test_export_markdown_has_questions_plans_tables_and_citations():
    import json

    a = PlanAssistant()
    chat, turns, views = finished(a, "Which phase 3 psoriasis trials are there?")
    chat, turns, views = finished(a, "How many asthma trials per phase?", chat, turns, views)
    md = json.loads(ui.act(a, action("export", -1), chat, views).download)["text"]
    assert md.startswith("# trialqa conversation\n\nIndex: synthetic120 (121 trials)")
    assert "## 1. Which phase 3 psoriasis trials are there?" in md and "## 2. How many asthma" in md
    assert "As understood: intent: list \u00b7 phase 3 \u00b7 condition: psoriasis" in md
    assert "| NCT id | Title | phase | condition | enrollment |" in md
    assert "Sources:\n1. NCT1000" in md and "https://clinicaltrials.gov/study/NCT1000" in md


# ------------------------------------------------------------------ patient notes, indexes


NOTE = ("A 58-year-old woman presents with a two-week history of cough and wheeze. Past medical "
        "history of asthma since childhood, hypertension treated with amlodipine, no smoking. "
        "On examination she is afebrile with scattered wheeze; vital signs are stable. Spirometry "
        "shows an FEV1 of 65% predicted with reversibility. She has no history of cancer and is "
        "not pregnant. She is interested in a clinical trial of a new inhaled treatment.")


def test_patient_notes_are_told_from_questions():
    assert ui.looks_like_note(NOTE)
    assert ui.looks_like_note("58 yo man, history of asthma, presents with wheeze and cough for two weeks, on salbutamol, "
                              "no other illness, non smoker")
    assert not ui.looks_like_note("Could a 58-year-old woman with diabetes join NCT05106972?")
    assert not ui.looks_like_note("Which phase 3 breast cancer trials are recruiting women?")


def test_patient_note_without_matching_says_so_in_one_line(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "trialqa.answer.eligibility", None)  # imports fail
    monkeypatch.setitem(sys.modules, "trialqa.answer.eligibility.match", None)
    chat, _, views = finished(PlanAssistant(), NOTE)
    assert "tq-error" in chat[-1]["content"] and "match_note is missing" in chat[-1]["content"]
    assert views == [] and "patient note of" in chat[-2]["content"]


def test_patient_note_gives_a_ranked_table_of_verdicts(monkeypatch):
    import sys

    calls = []

    from trialqa.answer.eligibility.check import EligibilityResult
    from trialqa.answer.eligibility.match import MatchRow
    from trialqa.evidence import Sentence

    def match_note(index, embedder, note, k):
        calls.append((note, k))
        said = Sentence(trial_id="NCT10000004", section="Eligibility: Inclusion", text="Adults with asthma.", index=0)
        ok = EligibilityResult(verdict="eligible", text="Eligible as far as stated.", deciding=[said])
        return [MatchRow(1, "NCT10000004", "NCT10000004", "Study 4 of asthma", 0.9, ok),
                {"trial_id": "NCT10000005", "verdict": "excluded", "deciding": [PWNED_TITLE]}]

    monkeypatch.setitem(sys.modules, "trialqa.answer.eligibility.match", SimpleNamespace(match_note=match_note))
    a = PlanAssistant()
    chat, turns, views = finished(a, NOTE)
    html = chat[-1]["content"]
    assert calls == [(NOTE, 10)] and a.calls == []  # the note went to matching, not to the question path
    assert html.count('<tr class="tq-row">') == 2 and ">eligible<" in html and ">excluded<" in html
    assert "Eligibility: Inclusion: Adults with asthma." in html and "<script" not in html
    assert views[0].answer.table.rows[0].title == "Study 4 of asthma" and turns[-1].trials == ["NCT10000004", "NCT10000005"]
    out = ui.act(a, action("trial", 0, "NCT10000004|0"), chat, views)  # the deciding criterion, highlighted
    assert '<mark class="tq-hl">Adults with asthma.</mark>' in out.panel


def test_index_picker_lists_indexes_and_loads_each_once(tmp_path):
    import json

    for name, n in (("seeds", 5), ("corpus2000", 2000)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text(json.dumps({"counts": {"trials": n, "chunks": 3 * n}}))
    (tmp_path / "notes").mkdir()  # no manifest: not an index
    base = FakeAssistant()
    loaded = []
    lib = ui.Library(base, tmp_path, load=lambda b, p: loaded.append(p) or PlanAssistant(n=8))
    assert lib.choices() == [("corpus2000 (2,000 trials)", "corpus2000"), ("seeds (5 trials)", "seeds")]
    assert lib.get("seeds") is base and lib.get("") is base
    other = lib.get("corpus2000")
    assert lib.get("corpus2000") is other and loaded == [tmp_path / "corpus2000"]
    with pytest.raises(BadInput, match="no index named"):
        lib.get("../../etc")


def test_table_answers_keep_their_text_short_and_rows_find_their_citation():
    from trialqa.answer.plan import Row, Table

    text = "2 of the 5 indexed trials match phase 3:\n- NCT05106972: A [NCT05106972 · Design]\n- NCT03765957: B"
    cites = [cite(section="Design", quote="Phase 3")]
    table = Table(columns=["trial", "title", "phase"], total=2, of=5,
                  rows=[Row(trial_id="NCT05106972", title="A", values={"phase": "Phase 3"}),
                        Row(trial_id="NCT03765957", title="B", values={"phase": "Phase 3"})])
    html = ui.render_view(ui.View(question="q", answer=answer(text=text, citations=cites, table=table)), 0)
    head, _, folded = html.partition('<details class="tq-more">')
    assert "2 of the 5 indexed trials" in head and "<li>" not in head and folded.count("<li>") == 2
    first, second = html.split('<tr class="tq-row">')[1:3]
    assert first.count('value="trial|0|NCT05106972|0"') == 2 and 'title="Phase 3" name="tq" value="trial|0|NCT05106972|0">Design</button>' in first
    assert 'value="trial|0|NCT03765957|"' in second and "tq-row-cite" not in second
    assert "<th class=\"tq-col-phase\">" in html


def test_long_matched_values_are_clipped_with_the_whole_value_in_the_tooltip():
    from trialqa.answer.plan import Row, Table

    long = "Brief title: " + "word " * 60 + '<script>x()</script>'
    table = Table(rows=[Row(trial_id="NCT05106972", title="A", values={"topic": long, "phase": "Phase 3"})], total=1)
    html = ui.table_html(ui.View(question="q", answer=answer(table=table)), 0)
    assert '<td class="tq-short">Phase 3</td>' in html and "\u2026</td>" in html
    assert f'title="{" ".join(long.split()).replace("<", "&lt;").replace(">", "&gt;")}"' in html and "<script" not in html
