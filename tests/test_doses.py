"""A trial's highest or lowest dose is computed from the doses its record states."""

from __future__ import annotations

import pytest

from records import assistant_over, record

from trialqa.answer.doses import dose_claim_text, doses, extreme_dose
from trialqa.assistant import Assistant
from trialqa.types import Turn


CELLS = record("NCT00000031", "Umbilical Cord Stem Cells for Psoriasis", [
    ("Summary", "Mesenchymal stem cells for psoriasis."),
    ("Arms", "Groups A and B receive 1.5x10E6/kg and 2.0x10E6/kg intravenously. "
             "Groups C and D receive 2.5 x 10^6 cells/kg and 3.0x10E6/kg."),
    ("Eligibility", "Hemoglobin at least 100 g/L. Weight 40 to 90 kg.")])
DRUG = record("NCT00000032", "Drug X for Gout", [
    ("Summary", "Drug X for chronic gout."),
    ("Arms", "Cohort 1: 50 mg daily. Cohort 2: 100 mg daily. Cohort 3: 200 mg daily."),
    ("Description", "Colchicine 0.5 mg may be given for flares.")])


@pytest.mark.parametrize("question, which, text", [
    ("What's the highest dose per kilogram?", "highest", "3.0x10E6/kg"),
    ("What is the lowest dose per kg?", "lowest", "1.5x10E6/kg"),
    ("maximum dosage given?", "highest", "3.0x10E6/kg"),
])
def test_extreme_dose_of_cells_per_kilogram(question, which, text):
    found = extreme_dose(question, CELLS)
    assert found is not None and found[0] == which and found[1].text == text and found[1].sentence.section == "Arms"


def test_doses_read_powers_of_ten_and_units_and_skip_criteria():
    values = sorted((d.value, d.unit) for d in doses(CELLS))
    assert values == [(1.5e6, "/kg"), (2.0e6, "/kg"), (2.5e6, "cell/kg"), (3.0e6, "/kg")]


def test_a_decimal_comma_and_a_drug_named_before_per_kilogram_are_read():
    trial = record("NCT00000033", "Steroids and Chemotherapy", [
        ("Arms", "Vincristine, 0,03 mg/Kg day 1, BCNU, 0,5 mg/Kg day 1. "
                 "Dexamethasone 0.15 mg of dexamethasone per kilogram per day, then 0.10 mg per kilogram.")])
    assert sorted(d.value for d in doses(trial)) == [0.03, 0.1, 0.15, 0.5]
    assert extreme_dose("What's the lowest per-kilogram dose?", trial)[1].text == "0,03 mg/Kg"


def test_the_lowest_dose_is_taken_among_the_records_usual_unit():
    found = extreme_dose("What is the lowest dose tested?", DRUG)
    assert found is not None and found[1].text == "50 mg" and "lowest dose stated in NCT00000032 is 50 mg" in (
        dose_claim_text("What is the lowest dose tested?", DRUG, *found))


def test_no_extreme_asked_or_no_dose_of_the_asked_kind_is_none():
    assert extreme_dose("What dose is used?", CELLS) is None
    assert extreme_dose("What's the highest dose per kilogram?", DRUG) is None


@pytest.fixture(scope="module")
def assistant(tmp_path_factory) -> Assistant:
    return assistant_over([CELLS, DRUG], tmp_path_factory.mktemp("idx") / "doses", ["2.5 [S1]."] * 3)


def test_a_follow_up_on_the_highest_dose_is_computed_not_written_by_the_model(assistant):
    history = [Turn(role="user", content="What does the psoriasis trial test?"),
               Turn(role="assistant", content="Stem cells.", trials=["NCT00000031"])]
    before = len(assistant.generator.calls)
    answer = assistant.ask("What's the highest dose per kilogram?", history)
    assert "3.0x10E6/kg" in answer.text and len(assistant.generator.calls) == before
    assert {(c.trial_id, c.section) for c in answer.citations} == {("NCT00000031", "Arms")}
