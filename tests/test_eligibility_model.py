"""The bundled model as eligibility judge (real GGUF; integration)."""

from __future__ import annotations

import pytest

from trialqa.answer.eligibility import person_from_text
from trialqa.answer.eligibility.criteria import Criterion, parse_criterion
from trialqa.types import Source, Trial

pytestmark = pytest.mark.integration


def test_model_judges_a_plain_contradiction(bundled_gguf) -> None:  # type: ignore[no-untyped-def]
    from trialqa.answer.eligibility.judge import ModelJudge

    judge = ModelJudge.load(str(bundled_gguf))
    trial = Trial(trial_id="NCT09999999", doc_id="x", title="Letrozole in Postmenopausal Breast Cancer",
                  source=Source(path="x.xml", format="ctgov-xml"))
    text = "Histologically confirmed breast cancer"
    crit = Criterion("inclusion", 0, text, "Eligibility: Inclusion", parse_criterion(text, "inclusion"))
    person = person_from_text("A 50-year-old man with asthma and seasonal allergies. He has never had cancer "
                              "of any kind; his only medicine is an inhaled steroid. " * 3)
    assert judge(trial, person, [crit]) == ["not_met"]
    assert judge.calls == 1
