"""A "when ...?" question about a record that holds no calendar date abstains before the model
(a duration in the criteria is not an answer to when the trial ends)."""

from __future__ import annotations

import pytest

from records import assistant_over, record

from trialqa.assistant import Assistant
from trialqa.evidence import DATE_RE, states_a_date
from trialqa.types import Turn


UNDATED = record("NCT00000021", "Stem Cells for Psoriasis", [
    ("Summary", "Mesenchymal stem cells infused for moderate to severe psoriasis."),
    ("Eligibility", "Psoriasis for at least 6 months before screening."),
    ("Identifiers", "NCT00000021 2018-MSC/PS")], fmt="veeva-page")
DATED = record("NCT00000022", "Stem Cells for Knee Arthritis", [
    ("Summary", "Stem cells injected into the knee for arthritis."),
    ("Status", "Study Start Date: September 2012\nEstimated Study Completion Date: December 2015")], fmt="veeva-page")


@pytest.fixture(scope="module")
def assistant(tmp_path_factory) -> Assistant:
    return assistant_over([UNDATED, DATED], tmp_path_factory.mktemp("idx") / "dates",
                          ["It is expected to finish after 6 months [S1]."] * 4)


@pytest.mark.parametrize("text, is_date", [
    ("Study Start Date: September 2012", True), ("March 3, 2020", True), ("3 Mar 2020", True),
    ("2020-03-01", True), ("03/2020", True), ("Sept. 2019", True),
    ("the 1988 American Fertility Society classification", False), ("Mayo 2019", False),
    ("for at least 6 months", False), ("NCT00000021 2018-MSC/PS", False),
])
def test_date_pattern(text, is_date):
    assert bool(DATE_RE.search(text)) is is_date


def test_a_record_states_a_date_outside_its_identifiers():
    assert not states_a_date(UNDATED) and states_a_date(DATED)


def test_when_a_trial_ends_abstains_on_a_record_without_dates(assistant):
    history = [Turn(role="user", content="Tell me about the psoriasis stem cell trial"),
               Turn(role="assistant", content="It infuses stem cells.", trials=["NCT00000021"])]
    before = len(assistant.generator.calls)
    answer = assistant.ask("When is it expected to finish?", history)
    assert answer.abstained and "gives no dates" in answer.text and len(assistant.generator.calls) == before


def test_when_a_dated_trial_started_goes_on_to_its_evidence(assistant):
    before = len(assistant.generator.calls)
    answer = assistant.ask("When did the knee arthritis stem cell trial start?")
    assert "gives no dates" not in answer.text and len(assistant.generator.calls) == before + 1


def test_a_registry_record_without_a_completion_date_says_so(tmp_path):
    undated = record("NCT00000023", "Aspirin for Stroke", [
        ("Summary", "Aspirin after stroke."), ("Status", "Overall status: Completed"),
        ("Dates", "Start date: September 1995\nLast update posted: June 24, 2005")], start_date="September 1995")
    a = assistant_over([undated], tmp_path / "idx", ["June 24, 2005 [S1]."])
    answer = a.ask("When was NCT00000023 completed?")
    assert answer.abstained and "states no completion date" in answer.text and not a.generator.calls
    started = a.ask("When did NCT00000023 start?")
    assert "September 1995" in started.text and not started.abstained
