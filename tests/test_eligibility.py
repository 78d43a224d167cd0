"""Eligibility (answer/eligibility): splitting criteria, reading a person, checking each
criterion, the verdict and its deciding sentences, the stored criteria table; the
hand-verified criterion-level gold set (evals/eligibility_criteria.jsonl)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trialqa.answer.db import TrialDB, write_database
from trialqa.answer.eligibility import answer_eligibility, person_from_text
from trialqa.answer.eligibility.criteria import Criterion, parse_criterion, split_criteria
from trialqa.answer.eligibility.rules import evaluate, view
from trialqa.answer.eligibility.store import load_criteria
from trialqa.answer.plan import Person
from trialqa.evidence import sentences
from trialqa.types import Section, Source, Trial, TrialFields

GOLD = Path(__file__).resolve().parent.parent / "evals" / "eligibility_criteria.jsonl"


def trial(sections: dict[str, str], **fields: object) -> Trial:
    f = TrialFields(**fields)  # type: ignore[arg-type]
    head = [f"Sex: {f.sex or 'All'}", f"Ages: {f.min_age or '0 Years'} to {f.max_age or 'N/A'}"]
    if f.healthy_volunteers is not None:
        head.append(f"Healthy volunteers: {'Accepts Healthy Volunteers' if f.healthy_volunteers else 'No'}")
    secs = [Section(name="Eligibility", text="\n".join(head))]
    secs += [Section(name=name, text=text) for name, text in sections.items()]
    return Trial(trial_id="NCT09999999", nct_id="NCT09999999", doc_id="NCT09999999", title="A Trial of Drug X in Adults",
                 source=Source(path="x.xml", format="ctgov-xml"), sections=secs, fields=f)


DIABETES_TRIAL = trial({
    "Eligibility: Inclusion": "- Type 2 diabetes\n- HbA1c between 7 and 10%\n- Adults aged 18 to 75 years",
    "Eligibility: Exclusion": "- Pregnant or breastfeeding women\n- Receiving dialysis\n"
                              "- Stroke or myocardial infarction within the past 6 months\n"
                              "- Uncontrolled hypertension\n- Any of the following:\n  - HIV infection\n  - Hepatitis B",
}, sex="All", min_age="18 Years", max_age="75 Years", healthy_volunteers=False, conditions=["Type 2 Diabetes"])


# ------------------------------------------------------------------ splitting


def test_split_labels_and_nesting() -> None:
    crits = split_criteria(DIABETES_TRIAL)
    assert [c.kind for c in crits] == ["inclusion"] * 3 + ["exclusion"] * 6
    assert [c.text for c in crits][-3:] == ["Uncontrolled hypertension", "HIV infection", "Hepatitis B"]
    hiv = crits[-2]
    assert hiv.context == "Any of the following:" and hiv.parsed.polarity == "forbid"
    assert crits[1].parsed.labs == [{"lab": "hba1c", "op": "between", "value": [7.0, 10.0]}]
    assert crits[2].parsed.age == [18.0, 75.0]


@pytest.mark.parametrize(("text", "kind", "polarity", "concepts"), [
    ("Not pregnant or nursing", "inclusion", "forbid", ["pregnancy", "breastfeeding"]),
    ("No history of allergy to platinum compounds or to antiemetics used with chemotherapy", "inclusion", "forbid",
     ["allergy"]),
    ("Diabetes mellitus, hypertension and/or coronary artery disease", "exclusion", "forbid",
     ["diabetes", "hypertension", "coronary artery disease"]),
    ("Negative ELISA for HIV.", "inclusion", "forbid", ["hiv"]),
    ("Patients with a history of malignancy within 5 years are not eligible.", "inclusion", "forbid", ["cancer"]),
    ("Peritoneal dialysis", "exclusion", "forbid", ["peritoneal dialysis"]),
    ("Non-smoker", "inclusion", "forbid", ["smoking"]),
    ("Histologically confirmed glioblastoma", "inclusion", "require", ["cancer"]),
    ("Serious illness that would interfere with chemotherapy", "exclusion", "forbid", []),
])
def test_parse_criterion_table(text: str, kind: str, polarity: str, concepts: list[str]) -> None:
    parsed = parse_criterion(text, kind)  # type: ignore[arg-type]
    assert (parsed.polarity, parsed.concepts) == (polarity, concepts)


def test_flattened_pdq_line_is_split() -> None:
    t = trial({"Eligibility: Criteria": "PATIENT CHARACTERISTICS: Age: 18 and over Performance status: ECOG 0-1 "
                                        "Hemoglobin at least 10 g/dL Other: Not pregnant or nursing HIV negative "
                                        "No uncontrolled infection"})
    texts = [c.text for c in split_criteria(t)]
    assert "Hemoglobin at least 10 g/dL" in texts
    assert "Other: Not pregnant or nursing" in texts and "HIV negative" in texts
    assert all(c.kind == "inclusion" for c in split_criteria(t))


def test_relative_lab_limits_are_not_parsed_as_values() -> None:
    assert parse_criterion("AST/ALT less than 3 times ULN", "inclusion").labs == []
    assert parse_criterion("Platelet count at least 100,000/mm^3", "inclusion").labs == [
        {"lab": "platelets", "op": "ge", "value": 100000.0}]


# ------------------------------------------------------------------ person


@pytest.mark.parametrize(("text", "age", "sex", "facts"), [
    ("Could a 58-year-old woman with diabetes join NCT01234567?", 58, "Female", ["diabetes"]),
    ("Is someone on dialysis eligible for NCT00000102?", None, None, ["dialysis"]),
    ("My patient is breastfeeding. Is NCT00000105 an option?", None, "Female", ["breastfeeding"]),
    ("A 70 year old man who had a stroke last year: can he join?", 70, "Male", ["had stroke last year"]),
    ("Is a man with no history of heart disease and not on insulin eligible?", None, "Male",
     ["no cardiovascular disease", "no insulin"]),
    ("Can a 9-month-old baby join?", 0.75, None, []),
])
def test_person_from_question(text: str, age: float | None, sex: str | None, facts: list[str]) -> None:
    p = person_from_text(text)
    assert (p.age, p.sex, p.facts, p.note) == (age, sex, facts, None)


def test_person_from_note_scopes_negation_and_family() -> None:
    note = ("48 M with a h/o HTN, hyperlipidemia and tobacco abuse who presented with progressive shortness of "
            "breath. He denies chest pain and has no history of stroke. His mother had breast cancer. "
            "Creatinine 1.4, hemoglobin 11.2. Past history of gestational diabetes in his wife is irrelevant. ") * 2
    p = person_from_text(note)
    assert (p.age, p.sex, p.healthy, p.note is not None) == (48, "Male", None, True)
    assert {"hypertension", "hyperlipidemia", "smoking"} <= set(p.facts)
    assert "cancer" not in p.facts and "stroke" not in p.facts and "no stroke" in p.facts
    pv = view(p)
    assert pv.labs["creatinine"] == 1.4 and pv.labs["hemoglobin"] == 11.2


def test_healthy_volunteer() -> None:
    assert person_from_text("Can a healthy 30-year-old volunteer join?").healthy is True
    assert person_from_text("Can a 30-year-old with asthma join?").healthy is None


# ------------------------------------------------------------------ verdicts


def _verdict(question: str, t: Trial = DIABETES_TRIAL) -> tuple[str, str, list[str]]:
    r = answer_eligibility(t, person_from_text(question))
    allowed = set(sentences(t))
    assert all(s in allowed for s in r.deciding), "deciding items must be the trial's own sentences"
    return r.verdict, r.text, [s.text for s in r.deciding]


def test_excluded_by_a_matching_exclusion() -> None:
    verdict, text, deciding = _verdict("Is someone on dialysis with type 2 diabetes eligible?")
    assert verdict == "excluded" and text.startswith("Excluded by")
    assert deciding == ["Receiving dialysis"]


def test_breastfeeding_excluded_and_never_eligible_when_an_exclusion_matches() -> None:
    verdict, text, deciding = _verdict("My patient, 34, is breastfeeding. Could she join?")
    assert verdict == "excluded" and deciding == ["Pregnant or breastfeeding women"]


def test_not_eligible_by_structured_age_and_sex() -> None:
    verdict, text, deciding = _verdict("Could an 80-year-old woman with type 2 diabetes join?")
    assert verdict == "not_eligible" and text.startswith("Not eligible") and deciding == ["Ages: 18 Years to 75 Years"]
    only_men = trial({"Eligibility: Inclusion": "- Men with prostate cancer"}, sex="Male")
    verdict, _, deciding = _verdict("Could a 60-year-old woman join?", only_men)
    assert verdict == "not_eligible" and deciding == ["Sex: Male"]


def test_not_eligible_by_an_inclusion_criterion() -> None:
    verdict, text, deciding = _verdict("A 50-year-old man with type 2 diabetes and an HbA1c of 11.5%")
    assert verdict == "not_eligible" and deciding == ["HbA1c between 7 and 10%"]


def test_healthy_volunteers_not_accepted() -> None:
    verdict, _, deciding = _verdict("Can a healthy 30-year-old volunteer join?")
    assert verdict == "not_eligible" and deciding == ["Healthy volunteers: No"]


def test_cannot_tell_when_a_needed_fact_is_missing() -> None:
    verdict, text, deciding = _verdict("A 60-year-old man who had a stroke. Can he join?")
    assert verdict == "cannot_tell" and text.startswith("Cannot tell")
    assert deciding == ["Stroke or myocardial infarction within the past 6 months"]
    verdict, _, _ = _verdict("A 60-year-old man who had a stroke 2 years ago. Can he join?")
    assert verdict == "eligible"
    verdict, _, _ = _verdict("A 60-year-old man who had a stroke 2 months ago. Can he join?")
    assert verdict == "excluded"


def test_time_of_a_narrower_fact_counts_for_a_broader_criterion() -> None:
    t = trial({"Eligibility: Exclusion": "- Cardiovascular disease within the past 6 months"})
    assert _verdict("A 60-year-old who had a heart attack 2 years ago", t)[0] == "eligible"
    assert _verdict("A 60-year-old who had a heart attack 3 weeks ago", t)[0] == "excluded"


def test_qualified_condition_is_not_decided_by_the_plain_condition() -> None:
    assert _verdict("A 60-year-old with hypertension")[0] == "cannot_tell"
    assert _verdict("A 60-year-old with uncontrolled hypertension")[0] == "excluded"


def test_eligible_as_far_as_stated_never_rules_out_on_missing_facts() -> None:
    verdict, text, deciding = _verdict("Could a 58-year-old woman with type 2 diabetes join?")
    assert verdict == "eligible" and text.startswith("Eligible as far as stated")
    assert "Ages: 18 Years to 75 Years" in deciding


def test_nothing_stated_cannot_tell() -> None:
    r = answer_eligibility(DIABETES_TRIAL, Person())
    assert r.verdict == "cannot_tell" and r.text.startswith("Cannot tell")


def test_nested_exclusion_item() -> None:
    verdict, _, deciding = _verdict("A 45-year-old man with HIV and type 2 diabetes")
    assert verdict == "excluded" and deciding == ["HIV infection"]


class _FakeJudge:
    """Says 'not met' for every criterion it is asked about."""

    def __init__(self) -> None:
        self.asked: list[list[Criterion]] = []

    def pick(self, checks):  # type: ignore[no-untyped-def]
        return [c for c in checks if c.status == "unknown"][:2]

    def __call__(self, trial, person, criteria):  # type: ignore[no-untyped-def]
        self.asked.append(criteria)
        return ["not_met"] * len(criteria)


def test_judge_decides_only_what_rules_leave_open() -> None:
    judge = _FakeJudge()
    p = person_from_text("A 60-year-old man who had a stroke. Can he join?")
    r = answer_eligibility(DIABETES_TRIAL, p, judge=judge)
    assert [c.text for c in judge.asked[0]] == ["Stroke or myocardial infarction within the past 6 months"]
    assert r.verdict == "eligible"
    assert any(c.by == "model" for c in r.checks)
    judge = _FakeJudge()
    answer_eligibility(DIABETES_TRIAL, person_from_text("Someone on dialysis"), judge=judge)
    assert judge.asked == []  # rules already exclude: no model call


def test_model_judge_prompt_grammar_and_parse() -> None:
    from trialqa.answer.eligibility.judge import ModelJudge, grammar, parse
    from trialqa.generate import ScriptedGenerator

    gen = ScriptedGenerator(["1: no\n2: yes\n"])
    judge = ModelJudge(gen)
    crits = split_criteria(DIABETES_TRIAL)[:2]
    assert judge(DIABETES_TRIAL, person_from_text("a 50-year-old man"), crits) == ["not_met", "met"]
    assert "1. [Inclusion] Type 2 diabetes" in gen.calls[0][1]["content"]
    assert grammar(2).count('("yes" | "no" | "unknown")') == 2
    assert parse("garbage", 2) == ["unknown", "unknown"]


# ------------------------------------------------------------------ stored criteria


def test_criteria_table_round_trip_and_fallback(tmp_path: Path) -> None:
    db_path = tmp_path / "trials.db"
    write_database(db_path, [DIABETES_TRIAL])
    db = TrialDB(db_path)
    rows = db.query("SELECT kind, ordinal, text FROM criteria WHERE nct_id = ? ORDER BY ordinal", ("NCT09999999",))
    assert rows[0] == ("inclusion", 0, "Type 2 diabetes") and len(rows) == 9
    assert load_criteria(db, DIABETES_TRIAL) == split_criteria(DIABETES_TRIAL)
    other = trial({"Eligibility: Exclusion": "- Pregnancy"})
    other = other.model_copy(update={"trial_id": "NCT08888888"})
    assert [c.text for c in load_criteria(db, other)] == ["Pregnancy"]  # not in the table: parsed now
    assert [c.text for c in load_criteria(None, other)] == ["Pregnancy"]


def test_criteria_from_another_parser_version_are_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import trialqa.answer.eligibility.store as store

    write_database(tmp_path / "trials.db", [DIABETES_TRIAL])
    db = TrialDB(tmp_path / "trials.db")
    calls: list[str] = []
    monkeypatch.setattr(store, "PARSER_VERSION", store.PARSER_VERSION + 1)
    monkeypatch.setattr(store, "split_criteria", lambda t: calls.append(t.trial_id) or split_criteria(t))
    assert [c.text for c in load_criteria(db, DIABETES_TRIAL)][0] == "Type 2 diabetes"
    assert calls == ["NCT09999999"]


# ------------------------------------------------------------------ gold


def _gold() -> list[dict]:
    return [json.loads(line) for line in GOLD.read_text().splitlines() if line.strip()]


def test_gold_set_shape() -> None:
    cases = _gold()
    assert len(cases) >= 25
    assert {c["expected"] for c in cases} == {"met", "not_met", "unknown"}
    assert len({(c["criterion"], c["person"]) for c in cases}) == len(cases)


@pytest.mark.parametrize("case", _gold(), ids=lambda c: c["id"])
def test_gold_criterion(case: dict) -> None:
    crit = Criterion(case["kind"], 0, case["criterion"], "Eligibility", parse_criterion(case["criterion"], case["kind"]))
    status, reason = evaluate(crit, view(person_from_text(case["person"])))
    status = "unknown" if status == "irrelevant" else status
    assert status == case["expected"], reason


# ------------------------------------------------------------------ real records


PHRASES = {"eligible": "Eligible as far as stated", "excluded": "Excluded by", "not_eligible": "Not eligible",
           "cannot_tell": "Cannot tell"}


def test_invariants_over_real_records(shared_dir: Path) -> None:
    """On 60 real XML records and a few people: the text starts with the verdict's phrase, the
    deciding items are the trial's own sentences, and no 'eligible' when an exclusion applies."""
    from trialqa.parse import ingest

    paths = sorted((shared_dir / "corpus" / "ctgov-xml").glob("*.xml"))[::33][:60]
    people = [person_from_text(q) for q in (
        "Could a 58-year-old woman with type 2 diabetes on dialysis join?",
        "My patient is breastfeeding and had a stroke last year.",
        "A 12-year-old boy with asthma on inhaled steroids",
        "A 70-year-old man with HIV, hepatitis C and uncontrolled hypertension",
    )]
    seen = set()
    for t in ingest(paths).trials:
        allowed = set(sentences(t))
        for p in people:
            r = answer_eligibility(t, p)
            seen.add(r.verdict)
            assert r.text.startswith(PHRASES[r.verdict])
            assert all(s in allowed for s in r.deciding)
            assert r.deciding or r.verdict == "eligible"
            if any(c.criterion.kind == "exclusion" and c.status == "met" for c in r.checks):
                assert r.verdict == "excluded"
    assert {"excluded", "not_eligible", "eligible"} <= seen


# ------------------------------------------------------------------ note reading and parsing details


def test_note_negation_family_and_plans() -> None:
    note = ("A 57-year-old man with Parkinson's disease. He doesn't have any signs of dementia and doesn't smoke. "
            "His wife was recently diagnosed with colon cancer. He is a candidate for surgery prior to "
            "chemotherapy. He was diagnosed with hypertension 10 years ago. ") * 2
    p = person_from_text(note)
    assert p.age == 57 and "dementia" not in p.facts and "smoking" not in p.facts and "no dementia" in p.facts
    assert "cancer" not in p.facts
    assert "chemotherapy" not in p.facts and "no chemotherapy" not in p.facts  # planned: neither had nor denied
    assert view(p).ago_months["hypertension"] == 120


@pytest.mark.parametrize(("text", "age"), [
    ("74M hx of CAD. He recalls a possible stroke 10-15 years ago.", 74),
    ("My father is 71. Is he too old for NCT00000106?", 71),
    ("I'm 29 and five months pregnant.", 29),
    ("A man with a 20 years history of smoking", None),
])
def test_age_is_the_persons_not_a_duration(text: str, age: float | None) -> None:
    assert person_from_text(text).age == age


def test_question_about_a_relative_gives_the_relative_the_facts() -> None:
    assert "diabetes" in person_from_text("My 68-year-old mother has knee arthritis and diabetes - can she join?").facts


@pytest.mark.parametrize(("text", "kind", "context", "generic"), [
    ("Prior chemotherapy allowed", "inclusion", "", True),
    ("Cause is attributed to myeloma", "inclusion", "Renal failure, even on dialysis, eligible provided:", True),
    ("Karnofsky 80-100%", "inclusion", "Age 65-70 years:", True),
    ("Prior chemotherapy not allowed", "inclusion", "", False),
])
def test_allowances_and_subgroup_items_rule_nobody_out(text: str, kind: str, context: str, generic: bool) -> None:
    assert parse_criterion(text, kind, context).generic is generic  # type: ignore[arg-type]


def test_at_least_since_is_a_time_window_on_a_forbidden_treatment() -> None:
    parsed = parse_criterion("At least 4 weeks since prior chemotherapy", "inclusion")
    assert (parsed.polarity, parsed.concepts, parsed.window_months) == ("forbid", ["chemotherapy"], 0.933)


def test_stages() -> None:
    from trialqa.answer.eligibility.stage import criterion_stages, person_stage, stage_within

    assert criterion_stages("Histologically confirmed stage IIB-IVA carcinoma of the cervix") == [[22, 41]]
    assert criterion_stages("Stage IB or IIA cervical cancer") == [[12, 12], [21, 21]]
    assert criterion_stages("Hoehn-Yahr stage IV or worse") == [[40, 49]]
    assert stage_within(person_stage("revealed stage 1B cervical cancer"), [[22, 41]]) is False
    assert stage_within(person_stage("stage II disease"), [[22, 41]]) is None  # IIA is outside, IIB inside
    t = trial({"Eligibility: Inclusion": "- Histologically confirmed stage IIB-IVA carcinoma of the cervix"},
              conditions=["Cervical Cancer"])
    assert _verdict("A 37-year-old woman with stage 1B cervical cancer", t)[0] == "not_eligible"
    assert _verdict("A 37-year-old woman with stage III cervical cancer", t)[0] == "eligible"


def test_detail_of_the_trials_own_condition_is_left_to_the_site() -> None:
    t = trial({"Eligibility: Inclusion": "- Diagnosis of intractable epilepsy",
               "Eligibility: Exclusion": "- Uncontrolled hypertension"}, conditions=["Epilepsy"])
    assert _verdict("Could my 7-year-old son, who has epilepsy, be enrolled?", t)[0] == "eligible"
    assert _verdict("A 7-year-old with epilepsy and hypertension", t)[0] == "cannot_tell"  # exclusion detail stays open


def test_healthy_volunteer_criterion() -> None:
    t = trial({"Eligibility: Inclusion": "- Healthy women aged 18 to 50"}, sex="Female", conditions=["Healthy"])
    verdict, _, deciding = _verdict("Could a 38-year-old woman with diabetes join?", t)
    assert verdict == "not_eligible" and deciding == ["Healthy women aged 18 to 50"]
    assert _verdict("Could a 38-year-old woman who is breastfeeding join?", t)[0] == "eligible"
    both = trial({"Eligibility: Inclusion": "- Healthy women aged 18 to 50\n- Women with type 2 diabetes"},
                 conditions=["Healthy", "Type 2 Diabetes"])
    assert _verdict("Could a 38-year-old woman with type 2 diabetes join?", both)[0] == "eligible"  # the patient arm


def test_heading_inside_a_section_switches_the_kind_and_negated_sex_limits() -> None:
    t = trial({"Eligibility: Exclusion": "- Current pregnancy\nINCLUSION CRITERIA - NORMAL CONTROL:\n- Age 18-65.\n"
                                         "EXCLUSION CRITERIA - NORMAL CONTROL:\n- HIV infection",
               "Eligibility: Inclusion": "- No males."})
    kinds = {c.text: c.kind for c in split_criteria(t)}
    assert kinds == {"No males.": "inclusion", "Current pregnancy": "exclusion", "Age 18-65.": "inclusion",
                     "HIV infection": "exclusion"}
    assert _verdict("Could a 40-year-old woman join?", t)[0] == "eligible"
    assert _verdict("Could a 40-year-old man join?", t)[0] == "not_eligible"
    assert _verdict("Could a 70-year-old woman join?", t)[0] == "not_eligible"


def test_window_stated_as_less_than_before() -> None:
    assert parse_criterion("Any stroke < 120 days prior to randomization", "inclusion").window_months == 4.0


# ------------------------------------------------------------------ conflicting diagnosis (diagnosis.py)

_SPINE = "A 45-year-old man with an anaplastic astrocytoma of the spine, treated with radiation and temozolomide."


def test_a_stated_tumour_at_another_site_or_of_another_type_is_not_eligible() -> None:
    site = trial({"Eligibility: Inclusion": "- Histologically confirmed supratentorial malignant glioma"})
    verdict, text, deciding = _verdict(_SPINE, site)
    assert verdict == "not_eligible" and deciding == ["Histologically confirmed supratentorial malignant glioma"]
    assert "astrocytoma of the spine" in text
    assert _verdict("A 45-year-old man with an anaplastic astrocytoma of the brain.", site)[0] == "eligible"
    kind = trial({"Eligibility: Inclusion": "- Histologically proven anaplastic oligodendroglioma"})
    assert _verdict(_SPINE, kind)[0] == "not_eligible"
    breast = trial({"Eligibility: Inclusion": "- Histologically confirmed breast cancer"})
    assert _verdict("A 60-year-old woman with lung cancer.", breast)[0] == "not_eligible"
    assert _verdict("A 60-year-old woman with breast cancer metastatic to the lung.", breast)[0] == "eligible"


def test_no_conflict_without_a_stated_diagnosis_or_with_an_alternative() -> None:
    site = trial({"Eligibility: Inclusion": "- Histologically confirmed supratentorial malignant glioma"})
    assert _verdict("A 45-year-old man with hypertension.", site)[0] == "eligible"  # absence is no conflict
    assert _verdict("A 45-year-old man with a tumour.", site)[0] == "eligible"      # no type, no site
    flat = trial({"Eligibility: Inclusion": "- Oligodendroglioma\n- Anaplastic astrocytoma\n- Medulloblastoma"})
    nested = trial({"Eligibility: Inclusion": "- Malignant tumour of one of the following types:\n"
                                              "  - Oligodendroglioma\n  - Anaplastic astrocytoma"})
    allowed = trial({"Eligibility: Inclusion": "- Prior breast cancer allowed"})
    for t in (flat, nested, allowed):
        assert _verdict(_SPINE, t)[0] == "eligible"


def test_a_criterion_forbidding_the_stated_tumour_by_site() -> None:
    t = trial({"Eligibility: Inclusion": "- No history of cancer of the endometrium, vagina, or cervix"})
    verdict, _, deciding = _verdict("A 37-year-old woman with stage IB cervical cancer.", t)
    assert verdict == "not_eligible" and deciding == ["No history of cancer of the endometrium, vagina, or cervix"]
    narrower = trial({"Eligibility: Exclusion": "- Inflammatory breast cancer"}, conditions=["Breast Cancer"])
    assert _verdict("A 50-year-old woman with breast cancer.", narrower)[0] == "eligible"


def test_reproductive_states_rule_each_other_out() -> None:
    menses = trial({"Eligibility: Inclusion": "- Regular menses."}, sex="Female")
    note = "A 46-year-old woman with low mood. She is postmenopausal."
    assert _verdict(note, menses)[0] == "not_eligible"
    assert _verdict("A 46-year-old woman with low mood.", menses)[0] == "eligible"
    conditional = trial({"Eligibility: Inclusion": "- Premenopausal women must have a negative pregnancy test"})
    assert _verdict(note, conditional)[0] != "not_eligible"
    post = trial({"Eligibility: Inclusion": "- Postmenopausal women"}, sex="Female")
    assert _verdict("A 40-year-old woman who is premenopausal.", post)[0] == "not_eligible"


def test_another_named_disease_of_the_same_group() -> None:
    hd = trial({"Eligibility: Inclusion": "- All patients will carry a diagnosis of Huntington's disease."})
    assert _verdict("A 57-year-old man diagnosed with Parkinson's disease a year ago.", hd)[0] == "not_eligible"
    assert _verdict("A 57-year-old man with type 2 diabetes.", hd)[0] == "eligible"  # another group: no conflict
    t1 = trial({"Eligibility: Inclusion": "- Diagnosis of type 1 diabetes for at least 2 years"})
    assert _verdict("A 30-year-old woman with type 2 diabetes.", t1)[0] == "not_eligible"


def test_distant_metastases_are_stage_iv_and_later_stage_alternatives() -> None:
    from trialqa.answer.eligibility.stage import criterion_stages, person_stage

    assert person_stage("Core biopsy showed breast carcinoma. CXR was remarkable for metastatic lesions.") == (40, 49)
    assert person_stage("Breast carcinoma metastatic to two axillary lymph nodes.") is None
    assert person_stage("No evidence of metastatic disease.") is None
    assert [40, 49] in criterion_stages("Stage IIB, IIIA, or previously untreated stage IV carcinoma of the breast")
    assert [40, 49] not in criterion_stages("Stage II or III breast cancer; no stage IV disease")


def test_rating_scale_limits() -> None:
    assert parse_criterion("HAM-D17 total score > or = 22 at Screening", "inclusion").labs == \
        [{"lab": "hamd", "op": "ge", "value": 22.0}]
    t = trial({"Eligibility: Inclusion": "- HAM-D17 total score > or = 22 at Screening"})
    assert _verdict("A 46-year-old woman with depression. Her HAM-D score is 20.", t)[0] == "not_eligible"
    assert _verdict("A 46-year-old woman with depression. Her HAM-D score is 25.", t)[0] == "eligible"


def test_every_parsed_field_is_plain_data_for_the_index() -> None:
    """The index stores each parse as JSON: a conditional or allowance line must give bools,
    never a regex match (which once stopped `trialqa index` on 58 real records)."""
    import json

    from trialqa.answer.eligibility.criteria import parse_criterion

    cases = [("Karnofsky performance status at least 70", "inclusion", "Age 65-70 years:"),
             ("Prior chemotherapy allowed", "exclusion", ""),
             ("Karnofsky performance status at least 70", "inclusion", "If previously treated with radiotherapy:"),
             ("Written informed consent", "inclusion", "")]
    for text, kind, context in cases:
        parsed = parse_criterion(text, kind, context)  # type: ignore[arg-type]
        json.loads(parsed.to_json() if hasattr(parsed, "to_json") else json.dumps(parsed.__dict__))
        assert isinstance(parsed.generic, bool)
