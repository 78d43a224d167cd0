"""A "when ...?" question about a record that holds no calendar date abstains before the model
(a duration in the criteria is not an answer to when the trial ends)."""

from __future__ import annotations

import pytest

from trialqa.assistant import Assistant
from trialqa.embed import HashingEmbedder
from trialqa.evidence import DATE_RE, states_a_date
from trialqa.generate import ScriptedGenerator
from trialqa.index_build import build_index
from trialqa.store import load_index
from trialqa.types import Section, Source, Trial, TrialFields, Turn


def _page(nct: str, title: str, sections: list[tuple[str, str]]) -> Trial:
    return Trial(trial_id=nct, nct_id=nct, doc_id=nct, title=title, source=Source(path=f"{nct}.html", format="veeva-page"),
                 sections=[Section(name="Title", heading="Title", text=title)]
                 + [Section(name=n, heading=n, text=t) for n, t in sections],
                 fields=TrialFields())


UNDATED = _page("NCT00000021", "Stem Cells for Psoriasis", [
    ("Summary", "Mesenchymal stem cells infused for moderate to severe psoriasis."),
    ("Eligibility", "Psoriasis for at least 6 months before screening."),
    ("Identifiers", "NCT00000021 2018-MSC/PS")])
DATED = _page("NCT00000022", "Stem Cells for Knee Arthritis", [
    ("Summary", "Stem cells injected into the knee for arthritis."),
    ("Status", "Study Start Date: September 2012\nEstimated Study Completion Date: December 2015")])


@pytest.fixture(scope="module")
def assistant(tmp_path_factory) -> Assistant:
    out = tmp_path_factory.mktemp("idx") / "dates"
    embedder = HashingEmbedder()
    build_index([UNDATED, DATED], out, embedder, progress=False)
    return Assistant(load_index(out, embedder), embedder,
                     ScriptedGenerator(["It is expected to finish after 6 months [S1]."] * 4))


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
