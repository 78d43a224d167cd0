"""Claim-level verification (trialqa.answer.verify): table tests with fake sources and the
hashing embedder; an integration test runs the bundled model on a few bait questions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trialqa.answer.verify import question_phrases, split_claims, verify, what_records_hold
from trialqa.embed import HashingEmbedder
from trialqa.evidence import Sentence
from trialqa.types import Section, Source, Trial, TrialFields

ROOT = Path(__file__).resolve().parent.parent


def _trial(nct, title, sections, **fields):
    return Trial(trial_id=nct, nct_id=nct, doc_id=f"doc_{nct}", title=title,
                 source=Source(path=f"{nct}.xml", format="ctgov-xml"),
                 sections=[Section(name=n, heading=n, text=t) for n, t in sections],
                 fields=TrialFields(**fields))


TRIALS = {
    "NCT00000001": _trial("NCT00000001", "Cord Stem Cells for Psoriasis", [
        ("Summary", "To evaluate the safety of umbilical cord mesenchymal stem cells in psoriasis."),
        ("Arms", "Group A receives 1.5x10E6 cells/kg intravenously every 2 weeks for 12 weeks."),
        ("Eligibility", "Ages: 18 to 65 years. Sex: Female."),
        ("Outcomes", "Incidence of adverse events [Time Frame: 24 weeks]"),
    ]),
}
SOURCES = [
    Sentence("NCT00000001", "Summary", "To evaluate the safety of umbilical cord mesenchymal stem cells in psoriasis.", 0),
    Sentence("NCT00000001", "Arms", "Group A receives 1.5x10E6 cells/kg intravenously every 2 weeks for 12 weeks.", 1),
    Sentence("NCT00000001", "Eligibility", "Ages: 18 to 65 years. Sex: Female.", 2),
    Sentence("NCT00000001", "Outcomes", "Incidence of adverse events [Time Frame: 24 weeks]", 3),
]


@pytest.mark.parametrize("question, answer, stands, reason", [
    ("How are the cells given?", "Group A receives 1.5x10E6 cells/kg intravenously every 2 weeks [S2].", True, ""),
    ("How long is treatment?", "The cells are given every 2 weeks for 16 weeks [S2].", False, "'16 week'"),
    ("How long is treatment?", "The cells are given every 2 months [S2].", False, "'2 month'"),
    ("What is the dose?", "Group A receives 1.5x10E8 cells/kg [S2].", False, "'1.5x10e8 cells'"),
    ("What is the dose?", "Patients receive 1.5x10E6 cells/kg of methotrexate [S2].", False, "'methotrexate'"),
    ("What are the side effects of the cord stem cells?",
     "Side effects of the cord stem cells include fever and infection [S1].", False, "'fever'"),
    ("What are the side effects of the cord stem cells?",
     "Side effects of the cord stem cells are common [S1].", False, "'common'"),
    ("Do the stem cells help psoriasis?", "The stem cells help psoriasis [S1].", False, "'help'"),
    ("Is the treatment safe?", "Yes, the treatment is safe [S1].", False, "not a finding"),
    ("What does the study look at?", "The study evaluates the safety of the cord cells [S1].", True, ""),
    ("Is the treatment safe?", "Yes, the treatment is safe and cures psoriasis [S1].", False, "'cures'"),
    ("Who can join?", "Women aged 18 to 65 years can join [S3].", True, ""),
    ("Who can join?", "Women aged 18 to 65 years can join.", False, "cites no source"),
    ("What does the trial measure?", "It measures the incidence of adverse events over 24 weeks [S4].", True, ""),
    ("What does the trial measure?", "About 12% of patients had adverse events [S4].", False, "'12 %'"),
    ("What does the trial measure?", "Adverse events are measured in NCT00000002 [S4].", False, "NCT00000002"),
])
def test_claim_rules(question, answer, stands, reason):
    (check,) = verify(answer, SOURCES, question, TRIALS)
    assert check.supported is stands, check.reason
    assert reason in check.reason


def test_question_words_frame_but_do_not_support():
    q = "What outcomes does the psoriasis stem cell trial measure for its cord cells?"
    kept = verify("For the psoriasis cord cells, the trial measures adverse events [S4].", SOURCES, q, TRIALS)
    assert kept[0].supported  # 'psoriasis', 'cord': framing words of the question, 'adverse events' from S4
    bare = verify("The psoriasis cord cells are measured [S4].", SOURCES, q, TRIALS)
    assert not bare[0].supported and "only frames" in bare[0].reason


def test_each_sentence_is_checked_on_its_own_and_keys_after_the_stop_belong_to_it():
    text = "Group A receives cells intravenously. [S2] They also cure baldness [S2]. Yes."
    checks = verify(text, SOURCES, "How are cells given?", TRIALS)
    assert [c.supported for c in checks] == [True, False, True]
    assert checks[0].claim.keys == (2,) and checks[2].framing


def test_keys_outside_the_prompt_do_not_count():
    (check,) = verify("Group A receives cells intravenously [S9].", SOURCES, "How?", TRIALS)
    assert not check.supported and check.reason == "cites no source"


def test_framing_alone_does_not_stand():
    checks = verify("Yes. It cures everything [S1].", SOURCES, "Does it work?", TRIALS)
    assert not any(c.supported for c in checks)


def test_similarity_is_a_second_signal():
    emb = HashingEmbedder()
    text = "Group A receives cells intravenously [S2]."
    assert verify(text, SOURCES, "How?", TRIALS, emb)[0].similarity > 0.3
    (far,) = verify(text, SOURCES, "How?", TRIALS, emb, min_similarity=0.99)
    assert not far.supported and "similarity" in far.reason
    (numeric,) = verify("Group A receives 1.5x10E6 cells/kg [S2].", SOURCES, "How?", TRIALS, emb, min_similarity=0.99)
    assert numeric.supported and numeric.similarity is None  # verbatim numbers anchor it instead


def test_split_claims_keeps_decimals_and_list_items():
    claims = split_claims("Dose is 1.5 mg/kg [S1]. Sites:\n- Lyon [S2]\n- Paris [S3]")
    assert [c.text for c in claims] == ["Dose is 1.5 mg/kg.", "Sites:", "Lyon", "Paris"]
    assert [c.keys for c in claims] == [(1,), (), (2,), (3,)]


def test_abstention_says_what_the_record_holds():
    q = "Which adverse events or fever did the psoriasis cells cause?"
    phrases = question_phrases(q, ["adverse", "events", "fever", "psoriasis", "cells", "cause"])
    assert phrases == ["adverse events", "fever", "psoriasis cells cause"]
    held = what_records_hold(phrases, ["NCT00000001"], TRIALS)
    assert held == ("NCT00000001 measures 'adverse events' as an outcome; does not mention 'fever', "
                    "'psoriasis cells cause' and posts no results in its indexed record.")
    assert what_records_hold(["psoriasis", "safety"], ["NCT00000001"], TRIALS) == \
        "NCT00000001 mentions 'safety' in its Summary but posts no results in its indexed record."


# -- through the assistant, with a scripted model ------------------------------------

@pytest.fixture(scope="module")
def assistant_index(tmp_path_factory):
    from trialqa.index_build import build_index
    from trialqa.store import load_index

    out = tmp_path_factory.mktemp("verify-idx") / "idx"
    emb = HashingEmbedder()
    build_index(list(TRIALS.values()), out, emb, progress=False)
    return load_index(out, emb), emb


def _ask(assistant_index, reply, question):
    from trialqa.assistant import Assistant
    from trialqa.generate import ScriptedGenerator
    from trialqa.types import Answer, SourcesReady

    from trialqa.settings import Settings

    idx, emb = assistant_index
    # every ranked sentence goes to the scripted model (the hashing embedder's scores are not
    # the real one's): these tests are about verifying what it writes, not about evidence cuts
    wide = Settings(llm={"evidence_margin": 10.0})
    events = list(Assistant(idx, emb, ScriptedGenerator(reply), settings=wide).stream(question))
    ready = [e for e in events if isinstance(e, SourcesReady)]
    answer = events[-1]
    assert isinstance(answer, Answer)
    return answer, ready, "".join(e for e in events if isinstance(e, str))


def _key_of(messages, needle):
    line = next(ln for ln in messages[-1]["content"].splitlines() if needle in ln)
    return line.split("]")[0].lstrip("[")


def test_assistant_removes_the_unsupported_sentence_and_notes_it(assistant_index):
    def reply(messages):
        k = _key_of(messages, "intravenously")
        return f"Group A receives cells intravenously every 2 weeks [{k}]. The cells cure baldness in 90% of cases [{k}]."

    answer, ready, streamed = _ask(assistant_index, reply, "How are the psoriasis stem cells given?")
    assert not answer.abstained and "baldness" not in answer.text and "intravenously" in answer.text
    assert "baldness" in streamed  # shown while streaming, replaced by the checked answer
    assert any("removed" in n for n in answer.notes)
    assert ready and ready[0].citations  # sources announced before the model wrote


def test_assistant_abstains_with_what_the_record_holds(assistant_index):
    def reply(messages):
        return f"Side effects of the cells include fever and rash [{_key_of(messages, 'adverse')}]."

    answer, _, _ = _ask(assistant_index, reply, "Which side effects come with the psoriasis stem cells?")
    assert answer.abstained and not answer.citations
    assert "NCT00000001" in answer.text and "posts no results" in answer.text


def test_ask_keeps_only_the_final_answer(assistant_index):
    from trialqa.assistant import Assistant
    from trialqa.generate import ScriptedGenerator
    from trialqa.types import Answer

    idx, emb = assistant_index
    ans = Assistant(idx, emb, ScriptedGenerator(["NOT FOUND"])).ask("What adverse events did the cells cause?")
    assert isinstance(ans, Answer) and ans.abstained


# -- the real model on bait questions --------------------------------------------------

@pytest.mark.integration
def test_bundled_model_on_bait_questions_states_only_what_its_quotes_hold():
    from trialqa.assistant import Assistant
    from trialqa.evals_cases import Case
    from trialqa.groundedness import unsupported_sentences

    cases = [Case.model_validate(json.loads(line))
             for line in (ROOT / "evals" / "bait.jsonl").read_text().splitlines()[:4]]
    assistant = Assistant.from_settings()
    for case in cases:
        answer = assistant.converse(case.prompts)
        assert not unsupported_sentences(answer, case.prompts[-1]), (case.id, answer.text)
        if answer.abstained:
            assert not answer.citations


# -- the eval's independent check (trialqa.groundedness) --------------------------------

def _answer(text, quotes, abstained=False):
    from trialqa.types import Answer, Citation

    cites = [Citation(trial_id="NCT00000001", nct_id="NCT00000001", doc_id="d", section=sec, quote=q,
                      title="Cord Stem Cells for Psoriasis") for sec, q in quotes]
    return Answer(text=text, citations=cites, abstained=abstained)


@pytest.mark.parametrize("text, flagged", [
    ("Group A receives 1.5x10E6 cells/kg intravenously every 2 weeks [NCT00000001 · Arms].", ""),
    ("Group A receives cells every 3 weeks [NCT00000001 · Arms].", "'3'"),
    ("Side effects include fever [NCT00000001 · Arms].", "'fever'"),
    ("Women can join [NCT00000001 · Eligibility].", "'women'"),  # no synonyms here: 'Female' is not 'women'
    ("Group A receives cells intravenously.", "cites nothing"),
    ("The psoriasis cells are given intravenously. [NCT00000001 · Arms]", ""),
])
def test_eval_check_is_strict_and_lexical(text, flagged):
    from trialqa.groundedness import unsupported_sentences

    quotes = [("Arms", SOURCES[1].text), ("Eligibility", SOURCES[2].text)]
    found = unsupported_sentences(_answer(text, quotes), "What side effects do the cells have?")
    assert (flagged in found[0]) if flagged else not found, found


def test_eval_check_ignores_abstentions_and_question_words():
    from trialqa.groundedness import unsupported_sentences

    assert not unsupported_sentences(_answer("The indexed trials don't say: nothing on 42 rashes.", [], True), "q")
    framed = _answer("For rashes, group A receives cells [NCT00000001 · Arms].", [("Arms", SOURCES[1].text)])
    assert not unsupported_sentences(framed, "Do the cells help rashes?")


def test_cli_replaces_the_streamed_text_with_the_checked_answer(capsys):
    from trialqa.cli.ask import render_human
    from trialqa.types import Answer, SourcesReady

    class Fake:
        def __init__(self, final):
            self.final = final

        def stream(self, question):
            yield SourcesReady(citations=[])
            yield "Cells cure baldness [NCT00000001 · Arms]."
            yield Answer(text=self.final)

    render_human(Fake("Group A receives cells [NCT00000001 · Arms]."), "q")
    out = capsys.readouterr().out
    assert "(checked answer)" in out and out.rstrip().count("Group A receives cells") == 1
    render_human(Fake("Cells cure baldness [NCT00000001 · Arms]."), "q")
    assert "(checked answer)" not in capsys.readouterr().out


def test_eval_check_does_not_let_a_restated_question_stand():
    from trialqa.groundedness import unsupported_sentences

    q = "Is bupropion approved by the FDA for smoking cessation?"
    quotes = [("Interventions", "Drug: bupropion SR 150 mg twice daily")]
    for text in ("Yes, bupropion is approved by the FDA for smoking cessation [NCT00000001 · Interventions].",
                 "Bupropion is approved by the FDA for smoking cessation [NCT00000001 · Interventions]."):
        assert unsupported_sentences(_answer(text, quotes), q), text
    fine = _answer("Bupropion is given at 150 mg twice daily [NCT00000001 · Interventions].", quotes)
    assert not unsupported_sentences(fine, q)


def test_a_claim_on_the_wrong_key_is_recited_to_the_source_that_states_it():
    (check,) = verify("Women aged 18 to 65 years can join [S1].", SOURCES, "Who can join?", TRIALS)
    assert check.supported and check.recited and check.claim.keys == (3,) and "[S3]" in check.claim.raw
    (bad,) = verify("Women aged 18 to 70 years can join [S1].", SOURCES, "Who can join?", TRIALS)
    assert not bad.supported and not bad.recited
