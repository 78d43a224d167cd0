"""A trial the plan picks out (by its acronym, or by the filters a question describes it with)
is the trial the evidence path answers about: its fields are computed, not left to the model."""

from __future__ import annotations

import pytest

from records import assistant_over, record

from trialqa.answer.understand import understand
from trialqa.answer.vocab import Vocabulary
from trialqa.assistant import Assistant
from trialqa.types import Intervention, Location


TRIALS = [
    record("NCT00000011", "Long QT Syndrome Registry", [
        ("Summary", "A registry of families with the long QT syndrome."),
        ("Sponsor", "Lead sponsor: University of Rochester"),
        ("Eligibility", "Ages: 1 to 80 years\nSex: All")],
        acronym="LQTSR", sponsor="University of Rochester", conditions=["Long QT Syndrome"],
        min_age="1 Year", max_age="80 Years", sex="All"),
    record("NCT00000012", "Glufosfamide in Treating Patients With Pancreatic Cancer", [
        ("Summary", "Phase II trial of glufosfamide for advanced pancreatic cancer."),
        ("Interventions", "Drug: glufosfamide"),
        ("Locations", "Mayo Clinic, Rochester, United States\nCity Hospital, Boston, United States\n"
                      "Cancer Centre, Toronto, Canada"),
        ("Sponsor", "Lead sponsor: National Cancer Institute (NCI)"),
        ("Eligibility", "Ages: 18 to 75 years\nSex: All")],
        sponsor="National Cancer Institute (NCI)", conditions=["Pancreatic Cancer"],
        interventions=[Intervention(type="Drug", name="glufosfamide")],
        locations=[Location(facility="Mayo Clinic", city="Rochester", country="United States"),
                   Location(facility="City Hospital", city="Boston", country="United States"),
                   Location(facility="Cancer Centre", city="Toronto", country="Canada")],
        min_age="18 Years", max_age="75 Years", sex="All"),
    record("NCT00000013", "Gemcitabine in Pancreatic Cancer", [
        ("Summary", "Gemcitabine for resected pancreatic cancer."),
        ("Interventions", "Drug: gemcitabine"),
        ("Eligibility", "Ages: 18 to 90 years\nSex: All")],
        conditions=["Pancreatic Cancer"], interventions=[Intervention(type="Drug", name="gemcitabine")],
        min_age="18 Years", max_age="90 Years", sex="All"),
]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory) -> Assistant:
    return assistant_over(TRIALS, tmp_path_factory.mktemp("idx") / "plan-scope", ["A model answer [S1]."])


def test_a_trial_named_by_its_acronym_gets_its_field_computed(assistant):
    before = len(assistant.generator.calls)
    answer = assistant.ask("Who is the lead sponsor of the LQTSR trial?")
    assert "University of Rochester" in answer.text and len(assistant.generator.calls) == before
    assert {(c.trial_id, c.section) for c in answer.citations} == {("NCT00000011", "Sponsor")}


def test_a_trial_described_by_its_filters_gets_its_field_computed(assistant):
    # "being carried out" names nothing in the record, so the field is computed because the plan found the trial
    before = len(assistant.generator.calls)
    answer = assistant.ask("At how many locations is the glufosfamide study in pancreatic cancer being carried out?")
    assert answer.plan.scope_reason == "described" and answer.plan.scope == ["NCT00000012"]
    assert "3 sites" in answer.text and len(assistant.generator.calls) == before
    assert {c.trial_id for c in answer.citations} == {"NCT00000012"}


@pytest.mark.parametrize("question, intent", [
    ("Up to what age can someone join the long QT syndrome registry?", "field"),
    ("From what age can a patient enrol in the glufosfamide trial?", "field"),
    ("Can someone with long QT syndrome join the registry trial?", "eligibility"),
    ("Could a 58-year-old woman join the glufosfamide trial?", "eligibility"),
])
def test_a_question_asking_for_a_value_is_not_an_eligibility_check(assistant, question, intent):
    plan = understand(question, [], Vocabulary.load(assistant.index.db), assistant.index.trials)
    assert plan.intent == intent


def test_an_age_limit_question_with_someone_in_it_quotes_the_limit(assistant):
    answer = assistant.ask("Up to what age can someone join the glufosfamide trial in pancreatic cancer?")
    assert "75" in answer.text and not answer.text.startswith("Eligible")
    assert {c.trial_id for c in answer.citations} == {"NCT00000012"}
