"""Dates of a record's history (first posted, last updated, verified, primary completion),
answered from its "Label: date" lines whatever the format calls them."""

from __future__ import annotations

import pytest

from trialqa.fields_qa import answer_field, field_intent
from trialqa.types import Section, Source, Trial


def _trial(nct: str, fmt: str, dates: str, status: str = "") -> Trial:
    sections = [Section(name="Dates", heading="Dates", text=dates)]
    if status:
        sections.append(Section(name="Status", heading="Status", text=status))
    return Trial(trial_id=nct, nct_id=nct, doc_id=nct, title="A trial", source=Source(path=f"{nct}.x", format=fmt),
                 sections=sections)


XML = _trial("NCT00000102", "ctgov-xml",
             "Results first posted: March 27, 2014 (Estimate)\nFirst submitted: November 3, 1999\n"
             "First posted: November 4, 1999 (Estimate)\nLast update posted: June 24, 2005 (Estimate)",
             "Overall status: Completed\nVerification date: January 2004")
PAGE = _trial("NCT01728727", "ctgov-page",
              "First Posted: November 20, 2012\nLast Update Posted: November 20, 2012\n"
              "Estimated Primary Completion Date: September 2014\nLast Verified: November 2012")


@pytest.mark.parametrize("question, intent", [
    ("When was NCT00000102 first posted?", "first_posted"),
    ("When was the trial registered?", "first_posted"),
    ("What is its first posted date?", "first_posted"),
    ("When was NCT00000102 first submitted?", "first_submitted"),
    ("When was the record last updated?", "last_update"),
    ("What was the most recent update of NCT01728727?", "last_update"),
    ("When was NCT01728727 last verified?", "last_verified"),
    ("What is the primary completion date of NCT01728727?", "primary_completion"),
])
def test_questions_about_the_record_history_have_their_intent(question, intent):
    assert field_intent(question) == intent


@pytest.mark.parametrize("question", [
    "When were the results of NCT00000102 posted?",  # results have their own answer
    "Have results been submitted for NCT00000102?",
    "When did NCT00000102 start?",
    "What is the completion date of NCT00000102?",
])
def test_other_date_questions_are_not_record_history(question):
    assert field_intent(question) not in {"first_posted", "first_submitted", "last_update", "last_verified",
                                          "primary_completion"}


def _answer(trial: Trial, intent: str) -> tuple[str, str]:
    (claim,) = answer_field(trial, intent)
    (source,) = claim.sources
    return claim.text, source.text


def test_each_format_s_label_gives_its_date_and_quotes_its_line():
    assert _answer(XML, "first_posted") == ("NCT00000102 was first posted on November 4, 1999 (Estimate).",
                                            "First posted: November 4, 1999 (Estimate)")
    assert _answer(XML, "first_submitted")[0] == "NCT00000102 was first submitted on November 3, 1999."
    assert _answer(XML, "last_update")[0] == "NCT00000102 was last updated on June 24, 2005 (Estimate)."
    assert _answer(XML, "last_verified") == ("The record of NCT00000102 was last verified in January 2004.",
                                             "Verification date: January 2004")
    assert _answer(PAGE, "first_posted")[1] == "First Posted: November 20, 2012"
    assert _answer(PAGE, "primary_completion")[0] == \
        "The primary completion date of NCT01728727 is September 2014 (estimated)."
    assert _answer(PAGE, "last_verified")[0] == "The record of NCT01728727 was last verified in November 2012."


def test_a_date_the_record_does_not_state_is_no_answer():
    assert answer_field(XML, "primary_completion") is None
    assert answer_field(_trial("NCT00000001", "veeva-page", "Study start: 2019"), "first_posted") is None
