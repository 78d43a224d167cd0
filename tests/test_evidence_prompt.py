"""The sources block and the question the model reads (no models: a word-count tokenizer)."""

from __future__ import annotations

from trialqa.answer.evidence_prompt import question_for_sources, sources_block
from trialqa.citations import SourceBook
from trialqa.evidence import Sentence
from trialqa.types import Source, Trial


def _trial(tid: str, nct: str | None) -> Trial:
    return Trial(trial_id=tid, nct_id=nct, doc_id=tid if nct is None else f"doc_{tid}", title=f"Trial {tid}",
                 source=Source(path=f"{tid}.txt", format="ctgov-xml"))


TRIALS = {t.trial_id: t for t in (_trial("NCT00000001", "NCT00000001"), _trial("NCT00000002", "NCT00000002"),
                                   _trial("003_abc", None))}


def count(text: str) -> int:
    return len(text.split())


def _block(evidence: list[Sentence], budget: int = 200) -> tuple[str, SourceBook]:
    book = SourceBook(TRIALS)
    return sources_block(evidence, book, TRIALS, count, budget), book


def test_sources_of_one_trial_have_no_header():
    text, book = _block([Sentence("NCT00000001", "Arms", "Drug X 10 mg/kg daily.", 0),
                         Sentence("NCT00000001", "Eligibility", "Adults aged 18 to 65.", 1)])
    assert text.splitlines() == ["Trial:", "[S1] Arms: Drug X 10 mg/kg daily.", "[S2] Eligibility: Adults aged 18 to 65."]
    assert [s.trial_id for s in book.sources] == ["NCT00000001"] * 2


def test_sources_of_several_trials_are_grouped_under_their_numbers():
    text, _ = _block([Sentence("NCT00000001", "Arms", "Drug X daily.", 0),
                      Sentence("003_abc", "Summary", "A diet study.", 0),
                      Sentence("NCT00000001", "Eligibility", "Adults only.", 1)])
    assert text.splitlines() == ["NCT00000001:", "[S1] Arms: Drug X daily.", "[S2] Eligibility: Adults only.",
                                 "003_abc:", "[S3] Summary: A diet study."]


def test_sources_beyond_the_budget_are_left_out_but_the_best_one_stays():
    first = Sentence("NCT00000001", "Arms", "one two three", 0)
    second = Sentence("NCT00000002", "Arms", "four five six", 0)
    # a line costs its 5 words + 2, a header 1 word + 1
    assert _block([first, second], budget=9)[0] == "Trial:\n[S1] Arms: one two three"
    assert _block([first, second], budget=3)[0] == "Trial:\n[S1] Arms: one two three"
    assert _block([first, second], budget=18)[0].splitlines()[0] == "NCT00000001:"


def _book(*trial_ids: str) -> SourceBook:
    book = SourceBook(TRIALS)
    for i, tid in enumerate(trial_ids):
        book.add(Sentence(tid, "Arms", f"text {i}", i))
    return book


def test_the_one_trial_of_the_sources_is_this_trial_in_the_question():
    book = _book("NCT00000001")
    assert question_for_sources("What dose does NCT00000001 give?", book, TRIALS) == "What dose does this trial give?"
    assert question_for_sources("Who runs the nct00000001 trial?", book, TRIALS) == "Who runs this trial?"
    assert (question_for_sources("In the knee trial (NCT00000001), how often?", book, TRIALS)
            == "In the knee trial, how often?")
    assert question_for_sources("What dose do arthritis trials give?", book, TRIALS) == "What dose do arthritis trials give?"
    doc = _book("003_abc")
    assert question_for_sources("Who can join 003_abc?", doc, TRIALS) == "Who can join this trial?"


def test_a_question_naming_another_trial_or_sources_of_two_keep_the_numbers():
    question = "Does NCT00000001 dose like NCT00000002?"
    assert question_for_sources(question, _book("NCT00000001"), TRIALS) == question
    assert question_for_sources(question, _book("NCT00000001", "NCT00000002"), TRIALS) == question
