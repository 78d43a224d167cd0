"""The answering stage with a scripted generator and a hashing embedder (fast, no models)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from trialqa.assistant import Assistant
from trialqa.embed import HashingEmbedder
from trialqa.errors import BadInput
from trialqa.generate import ScriptedGenerator
from trialqa.index_build import build_index
from trialqa.store import load_index
from trialqa.types import Section, Source, Trial, TrialFields


def _trial(nct, title, sections, **fields):
    return Trial(
        trial_id=nct, nct_id=nct, doc_id=f"doc_{nct}", title=title,
        source=Source(path=f"{nct}.xml", format="ctgov-xml"),
        sections=[Section(name="Title", heading="Title", text=title)]
        + [Section(name=n, heading=n, text=t) for n, t in sections],
        fields=TrialFields(**fields),
    )


TRIALS = [
    _trial("NCT00000001", "Stem cells for knee arthritis",
           [("Arms", "Group A: 2x10E6 cells/kg injected intravenously every 2 weeks."),
            ("Eligibility", "Ages: 18 to 65 years\nSex: All"),
            ("Enrollment", "40 participants"),
            ("Locations", "Lyon University Hospital, Lyon, France")],
           min_age="18 Years", max_age="65 Years", sex="All", enrollment=40,
           conditions=["Knee Arthritis"]),
    _trial("NCT00000002", "Cord blood cells for liver failure",
           [("Interventions", "1x10E6 cells/kg given via hepatic artery."),
            ("Eligibility", "Ages: 20 to 60 years\nSex: All"),
            ("Eligibility: Inclusion", "- No hepatic encephalopathy\n- Decompensated liver failure"),
            ("Eligibility: Exclusion", "- Pregnant or lactating women\n- Active infection"),
            ("Enrollment", "30 participants")],
           min_age="20 Years", max_age="60 Years", sex="All", enrollment=30),
    _trial("NCT00000003", "Fixed dose infusion for uterine scarring",
           [("Interventions", "A fixed dose of 1x10E8 cells infused intravenously."),
            ("Eligibility", "Ages: 18 to 38 years\nSex: Female"),
            ("Enrollment", "32 participants")],
           min_age="18 Years", max_age="38 Years", sex="Female", enrollment=32),
]


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    out = tmp_path_factory.mktemp("idx") / "seeds"
    embedder = HashingEmbedder()
    build_index(TRIALS, out, embedder, progress=False)
    return load_index(out, embedder), embedder


def _assistant(index, replies):
    idx, embedder = index
    return Assistant(idx, embedder, ScriptedGenerator(replies))


def test_keys_are_mapped_and_unknown_keys_dropped(index):
    a = _assistant(index, ["Patients in Lyon are treated [S1] [S9]."])
    ans = a.ask("How often is the arthritis treatment repeated in Lyon?")
    assert not ans.abstained
    assert "[S" not in ans.text and "S9" not in ans.text
    assert ans.citations and all(c.trial_id in a.index.trials for c in ans.citations)
    for c in ans.citations:
        assert c.quote in a.index.trials[c.trial_id].section_text(c.section.split(":")[0]) or c.section == "Title"


def test_not_found_is_an_abstention(index):
    a = _assistant(index, ["NOT FOUND"])
    ans = a.ask("What adverse events were reported for the arthritis cells?")
    assert ans.abstained and not ans.citations


def test_unknown_nct_abstains_without_the_model(index):
    gen = ScriptedGenerator(["should not be called"])
    idx, emb = index
    ans = Assistant(idx, emb, gen).ask("What is the enrollment of NCT09999999?")
    assert ans.abstained and "NCT09999999" in ans.text and not gen.calls


def test_condition_nobody_studies_abstains(index):
    gen = ScriptedGenerator(["should not be called"])
    idx, emb = index
    ans = Assistant(idx, emb, gen).ask("Which trials study diabetes?")
    assert ans.abstained and not ans.citations and not gen.calls


def test_field_question_is_answered_from_fields(index):
    gen = ScriptedGenerator(["unused"])
    idx, emb = index
    ans = Assistant(idx, emb, gen).ask("What is the upper age limit of NCT00000003?")
    assert "38" in ans.text and not gen.calls
    assert ans.citations[0].trial_id == "NCT00000003" and ans.citations[0].section == "Eligibility"


def test_which_trials_accept_age_lists_exactly_the_matches(index):
    ans = _assistant(index, ["unused"]).ask("Which trials would accept a 62-year-old?")
    cited = {c.trial_id for c in ans.citations}
    assert cited == {"NCT00000001"}
    assert "1 of the 3" in ans.text


def test_which_trials_needs_terms_in_one_sentence(index):
    ans = _assistant(index, ["unused"]).ask("Which trials dose per kg intravenously?")
    assert {c.trial_id for c in ans.citations} == {"NCT00000001"}


def echo_first_source(messages):
    """A fake model that restates its first source, citing it."""
    import re

    m = re.search(r"^\[S1\] [A-Z][\w ]*?: (.*)$", messages[-1]["content"], re.M)
    return f"{m.group(1)} [S1]" if m else "NOT FOUND"


def test_follow_up_resolves_to_previous_trial(index):
    a = _assistant(index, echo_first_source)
    ans = a.converse(["Tell me about the liver failure trial", "What is its upper age limit?"])
    assert "60" in ans.text
    assert {c.trial_id for c in ans.citations} == {"NCT00000002"}


def test_empty_question_is_bad_input(index):
    with pytest.raises(BadInput):
        _assistant(index, ["x"]).ask("  \x00 ")


def test_long_question_is_trimmed_with_a_note(index):
    a = _assistant(index, ["Lyon [S1]."])
    ans = a.ask("Where is the arthritis trial run? " + "please " * 3000)
    assert any("trimmed" in n for n in ans.notes)


def test_prompt_fits_a_small_context(index):
    idx, emb = index
    gen = ScriptedGenerator(["Lyon [S1]."], n_ctx=1024)
    Assistant(idx, emb, gen).ask("How and how often are the stem cells for the arthritis trial injected?")
    sent = " ".join(m["content"] for m in gen.calls[0])
    assert gen.count_tokens(sent) + 200 <= 1024


def test_evidence_far_below_the_best_sentence_is_left_out(index):
    from trialqa.settings import Settings

    idx, emb = index
    question = "How and how often are the stem cells for the arthritis trial injected?"

    def sources(margin: float) -> list[str]:
        gen = ScriptedGenerator(["NOT FOUND"])
        settings = Settings(llm={"evidence_margin": margin})
        Assistant(idx, emb, gen, settings=settings).ask(question)
        return [line for line in gen.calls[0][-1]["content"].splitlines() if line.startswith("[S")]

    wide, tight = sources(9.0), sources(0.0)
    assert len(wide) > len(tight) >= 2  # the best sentences stay, however tight the margin
    assert any("every 2 weeks" in line for line in tight)
    assert set(tight) <= set(wide)


def test_batch_reports_bad_lines_and_goes_on(index, tmp_path, monkeypatch):
    from trialqa.cli import cli

    a = _assistant(index, ["Lyon [S1]."])
    monkeypatch.setattr(Assistant, "from_settings", classmethod(lambda cls, *args, **kw: a))
    batch = tmp_path / "b.jsonl"
    batch.write_bytes(
        b'{"id": 1, "question": "Where is the arthritis trial run?"}\n'
        b'{"id": 2, "question": ""}\n'
        b'not json\n'
        b'{"id": 4, "question": "caf\xe9 \xff"}\n'
        b'{"id": 5, "turns": ["Tell me about the liver failure trial", "What is its upper age limit?"]}\n'
    )
    result = CliRunner().invoke(cli, ["ask", "--batch", str(batch)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert len(rows) == 5
    assert rows[0]["id"] == 1 and rows[0]["citations"]
    assert rows[1]["id"] == 2 and "empty" in rows[1]["error"]
    assert "error" in rows[2] and "error" in rows[3] and "UTF-8" in rows[3]["error"]
    assert rows[4]["id"] == 5 and "60" in rows[4]["answer"]


def test_negated_list_keeps_trials_without_the_clause(index):
    ans = _assistant(index, ["unused"]).ask("Which trials do not give the cells intravenously?")
    assert {c.trial_id for c in ans.citations} == {"NCT00000002"}
    assert "hepatic artery" in ans.text  # what it does instead, quoted


def test_or_joins_alternatives(index):
    ans = _assistant(index, ["unused"]).ask("Which trials study arthritis or scarring?")
    assert {c.trial_id for c in ans.citations} == {"NCT00000001", "NCT00000003"}


def test_model_answer_naming_an_unindexed_trial_is_withheld(index):
    a = _assistant(index, ["Cells every 2 weeks, like NCT05555555 [S1]."])
    ans = a.ask("How often are the arthritis cells injected?")
    assert ans.abstained and "NCT05555555" not in ans.text


def test_eligibility_questions_quote_the_criterion(index):
    gen = ScriptedGenerator(["unused"])
    idx, emb = index
    a = Assistant(idx, emb, gen)
    ans = a.ask("Are pregnant women allowed in the liver failure trial?")
    assert ans.text.startswith("Excluded by") and ans.citations[0].section == "Eligibility: Exclusion"
    ans = a.ask("Can a patient with hepatic encephalopathy join NCT00000002?")
    # the inclusion list forbids it ("No hepatic encephalopathy"): never a yes
    # (the rules answer "Cannot tell" here today; "Not eligible" is the better answer)
    assert ans.text.startswith(("Not eligible", "Cannot tell")) and ans.citations[0].section == "Eligibility: Inclusion"
    ans = a.ask("Can someone with decompensated liver failure join NCT00000002?")
    assert ans.text.startswith(("Eligible as far as stated", "Cannot tell"))
    assert not ans.text.startswith(("Excluded", "Not eligible"))
    assert not gen.calls


@pytest.mark.parametrize("question", [
    "Could a 62 year old take part in any of these trials? Which ones?",
    "Is there any trial that would take a 62 year old patient?",
])
def test_age_questions_over_any_trial_are_list_questions(index, question):
    gen = ScriptedGenerator(["should not be called"])
    idx, emb = index
    ans = Assistant(idx, emb, gen).ask(question)
    assert {c.trial_id for c in ans.citations} == {"NCT00000001"} and not gen.calls


def test_results_question_about_a_trial_without_results_abstains(index):
    gen = ScriptedGenerator(["The cells cured everyone [S1]."])
    idx, emb = index
    ans = Assistant(idx, emb, gen).ask("What results has the knee arthritis stem cell study reported?")
    assert ans.abstained and "NCT00000001" in ans.text and "no results" in ans.text and not gen.calls


def test_follow_up_with_a_definite_noun_stays_on_the_conversation_trial(index):
    a = _assistant(index, echo_first_source)
    for trial in ("NCT00000001", "NCT00000002"):  # both give cells per kg: the conversation decides
        ans = a.converse([f"Tell me about {trial}", "How many cells per kg are given?"])
        assert {c.trial_id for c in ans.citations} == {trial}
    moved = a.converse(["Tell me about NCT00000002", "How are the cells given in the uterine scarring trial?"])
    assert {c.trial_id for c in moved.citations} == {"NCT00000003"}


class PiecesEmbedder(HashingEmbedder):
    """Counts a word of more than five letters as two word pieces, like a general vocabulary."""

    def count_tokens(self, text: str) -> int:
        return sum(1 + (len(w) > 5) for w in self._tokens(text)) + 2


def test_answer_using_a_specialised_term_no_trial_contains_is_withheld(index):
    idx, _ = index
    script = ["Knee arthritis cells also cure scurvy [S1].", "Knee arthritis cells goes pain [S1]."]
    a = Assistant(idx, PiecesEmbedder(), ScriptedGenerator(script))
    ans = a.ask("Do the knee arthritis cells help against scurvy or arthritis pain?")
    assert ans.abstained and "scurvy" in ans.text and not ans.citations
    everyday = a.ask("Where does the knee arthritis treatment goes for the pain?")
    assert "mentions 'goes'" not in everyday.text


def test_a_question_on_a_specialised_term_no_trial_contains_is_not_sent_to_the_model(index):
    # an answer need not repeat the term to rest on outside knowledge: "Which cells treat scurvy?"
    # answered "the knee arthritis cells [S1]" links them to scurvy, which no record does
    idx, _ = index
    gen = ScriptedGenerator(["The knee arthritis cells [S1]."])
    ans = Assistant(idx, PiecesEmbedder(), gen).ask("Which stem cells treat scurvy?")
    assert ans.abstained and "'scurvy'" in ans.text and not ans.citations and not gen.calls


def test_which_of_them_narrows_the_previous_list(index):
    a = _assistant(index, ["should not be called"])
    ans = a.converse(["Which trials give cells per kg?", "Which of them also treat liver failure?"])
    assert {c.trial_id for c in ans.citations} == {"NCT00000002"} and not a.generator.calls


def test_contacts_of_a_trial_without_a_contacts_section_abstain(index):
    gen = ScriptedGenerator(["Call Lyon [S1]."])
    idx, emb = index
    ans = Assistant(idx, emb, gen).converse(["What is NCT00000003 about?", "Who can I contact about it?"])
    assert ans.abstained and "Contacts" in ans.text and len(gen.calls) <= 1


def test_where_a_trial_runs_abstains_when_the_record_lists_no_place(index):
    gen = ScriptedGenerator(["It runs in the uterus [S1]."])
    idx, emb = index
    ans = Assistant(idx, emb, gen).ask("Where is the uterine scarring trial being run?")
    assert ans.abstained and "NCT00000003" in ans.text and "locations" in ans.text and not gen.calls
    located = Assistant(idx, emb, ScriptedGenerator(["unused"])).ask("Where is the knee arthritis trial being run?")
    assert not located.abstained and "Lyon" in located.text


def test_past_side_effects_of_a_trial_without_results_abstain(index):
    gen = ScriptedGenerator(["Patients had knee arthritis [S1]."])
    idx, emb = index
    ans = Assistant(idx, emb, gen).ask("What side effects did patients have in the knee arthritis study?")
    assert ans.abstained and "no results" in ans.text and not gen.calls


def test_intervention_question_is_answered_from_the_fields(tmp_path):
    from trialqa.types import Intervention

    trial = _trial("NCT00000007", "Shingles Prevention Study",
                   [("Interventions", "Biological: Varicella-zoster vaccine\nBiological: Placebo")],
                   interventions=[Intervention(type="Biological", name="Varicella-zoster vaccine"),
                                  Intervention(type="Biological", name="Placebo")])
    embedder = HashingEmbedder()
    build_index([*TRIALS, trial], tmp_path / "ix", embedder, progress=False)
    gen = ScriptedGenerator(["should not be called"])
    a = Assistant(load_index(tmp_path / "ix", embedder), embedder, gen)
    ans = a.ask("What intervention is tested in the study 'Shingles Prevention Study'?")
    assert "Varicella-zoster vaccine" in ans.text and not gen.calls
    assert {(c.trial_id, c.section) for c in ans.citations} == {("NCT00000007", "Interventions")}


def test_model_loads_in_the_background_once_and_a_failed_load_is_retried(index, monkeypatch):
    import threading

    import trialqa.generate as generate

    idx, emb = index
    calls: list[int] = []
    release = threading.Event()

    def load(model, settings):
        calls.append(1)
        if len(calls) == 1:
            raise generate.ModelUnavailable("cannot load GGUF model x.gguf")
        release.wait(5)
        return ScriptedGenerator(["The cells are injected every 2 weeks [S1]."])

    monkeypatch.setattr(generate, "load_generator", load)
    a = Assistant(idx, emb)
    with pytest.raises(generate.ModelUnavailable, match="x.gguf"):
        a.generator  # noqa: B018 - the first load fails and says why
    first, second = a.load_generator_soon(), a.load_generator_soon()
    assert first is second and not first.done()  # one load in flight, however often it is asked for
    release.set()
    answer = a.ask("How often are the stem cells for the arthritis trial injected?")
    assert not answer.abstained and "every 2 weeks" in answer.text
    assert len(calls) == 2 and a.generator is first.result()


def test_a_term_the_retrieved_text_abbreviates_is_not_missing():
    from trialqa.guards import abbreviated

    texts = ["Exclusion: PT prolongation > 3 seconds; INR above 1.5"]
    question = "How long a prothrombin time prolongation excludes someone?"
    assert abbreviated("prothrombin", question, texts)
    assert not abbreviated("prolongation", question, texts)  # "PE" is not written
    assert not abbreviated("scurvy", "Which vitamin deficiency causes scurvy?", texts)  # nothing follows it
    assert not abbreviated("prothrombin", question, ["the pt was seen"])  # an abbreviation is written in capitals
