"""ClinicalTrials.gov JSON (API v2 and classic FullStudiesResponse), and format-blindness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trialqa.parse import parse_file, parse_records
from trialqa.types import Trial


@pytest.fixture(scope="module")
def json_dir(shared_dir: Path) -> Path:
    path = shared_dir / "corpus" / "ctgov-api-v2"
    if not path.is_dir():
        pytest.skip(f"{path} is missing")
    return path


def test_every_shared_json_file_parses(json_dir: Path) -> None:
    formats = {}
    for path in sorted(json_dir.glob("*.json")):
        (trial,) = parse_records(path)
        formats[path.stem] = trial.source.format
        assert trial.doc_id == path.stem and trial.title
    assert sorted(formats.values()).count("ctgov-classic-json") == 3
    assert sorted(formats.values()).count("ctgov-api-v2") == 13


def test_api_v2_record(json_dir: Path) -> None:
    trial = parse_file(json_dir / "NCT04207047.json")
    f = trial.fields
    assert trial.source.format == "ctgov-api-v2" and trial.trial_id == "NCT04207047"
    assert (f.enrollment, f.enrollment_type, f.status, f.phase) == (3, "Actual", "Unknown", "N/A")
    assert (f.sex, f.min_age, f.max_age, f.healthy_volunteers) == ("All", "18 Years", None, True)
    assert (f.allocation, f.intervention_model) == ("Non-Randomized", "Single Group Assignment")
    assert f.masking == "None (Open Label)"
    assert f.sponsor == "LUTRONIC Corporation" and f.start_date == "2018-10-02"
    assert [a.label for a in f.arms] == ["Group A", "Group B", "Group C", "Group D"]
    assert f.arms[3].type == "Experimental" and "Device: PicoPlus" in f.arms[3].interventions
    assert f.interventions[0].type == "Device" and "radiofrequency" in (f.interventions[0].description or "")
    inclusion = trial.section_text("Eligibility: Inclusion").splitlines()
    assert inclusion[0] == "- Male or female, age 18 years and older."
    assert "  - Postmenopausal for at least 12 months prior to study;" in inclusion
    assert "Overall status: Unknown" in trial.section_text("Status")


def test_classic_full_studies_response(json_dir: Path) -> None:
    trial = parse_file(json_dir / "NCT04780763.json")
    f = trial.fields
    assert trial.source.format == "ctgov-classic-json" and trial.nct_id == "NCT04780763"
    assert (f.enrollment, f.enrollment_type, f.status, f.phase) == (168, "Estimated", "Not yet recruiting", "N/A")
    assert (f.sex, f.min_age, f.max_age, f.healthy_volunteers) == ("Female", "20 Years", "30 Years", True)
    assert f.masking == "Quadruple" and f.primary_purpose == "Supportive Care"
    assert f.interventions[0].description == "2 bottles of 100g consumed daily during 28 days"
    assert [(loc.facility, loc.city, loc.country) for loc in f.locations] == [("UZ/KU Leuven", "Leuven", "Belgium")]
    assert f.primary_outcomes and f.primary_outcomes[0].startswith("Comparison between groups of the State-Trait")


def test_results_become_results_sections(json_dir: Path) -> None:
    trial = parse_file(json_dir / "NCT00763412.json")
    names = {s.name for s in trial.sections}
    assert {"Results: Participant Flow", "Results: Baseline", "Results: Outcomes", "Results: Adverse Events"} <= names
    assert "Title: BMI" in trial.section_text("Results")


def test_misnamed_file_keeps_its_own_nct_id(json_dir: Path) -> None:
    trial = parse_file(json_dir / "NCT02278341.json")
    assert trial.trial_id == trial.nct_id == "NCT02552212" and trial.doc_id == "NCT02278341"


def test_sparse_record_leaves_fields_null(json_dir: Path) -> None:
    trial = parse_file(json_dir / "NCT03453554.json")
    f = trial.fields
    assert trial.title == "Evaluating a Digital..."
    assert (f.status, f.phase, f.enrollment, f.sex, f.min_age, f.sponsor) == (None,) * 6
    assert f.conditions == [] and f.arms == []


# -- one study written in all three registry formats gives one record -----------------------

XML = """<clinical_study>
  <id_info><org_study_id>X-1</org_study_id><nct_id>NCT09999999</nct_id></id_info>
  <brief_title>Drug X for Asthma</brief_title>
  <sponsors><lead_sponsor><agency>Acme Pharma</agency></lead_sponsor></sponsors>
  <brief_summary><textblock>
      This study tests drug X\r
      in adults with asthma.\r
  </textblock></brief_summary>
  <overall_status>Recruiting</overall_status>
  <phase>Phase 2</phase>
  <study_type>Interventional</study_type>
  <study_design_info><allocation>Randomized</allocation><intervention_model>Parallel Assignment</intervention_model>
    <primary_purpose>Treatment</primary_purpose><masking>None (Open Label)</masking></study_design_info>
  <enrollment type="Actual">40</enrollment>
  <condition>Asthma</condition>
  <arm_group><arm_group_label>A</arm_group_label><arm_group_type>Experimental</arm_group_type>
    <description>10 mg daily by mouth</description></arm_group>
  <intervention><intervention_type>Drug</intervention_type><intervention_name>X</intervention_name>
    <description>10 mg tablet</description><arm_group_label>A</arm_group_label></intervention>
  <eligibility><criteria><textblock>
        Inclusion Criteria:\r
\r
          -  adults\r
\r
        Exclusion Criteria:\r
\r
          -  pregnancy\r
  </textblock></criteria>
    <gender>All</gender><minimum_age>18 Years</minimum_age><maximum_age>65 Years</maximum_age>
    <healthy_volunteers>No</healthy_volunteers></eligibility>
  <location><facility><name>Clinic</name><address><city>Oslo</city><country>Norway</country></address></facility>
  </location>
</clinical_study>
"""

CRITERIA = "Inclusion Criteria:\n\n- adults\n\nExclusion Criteria:\n\n- pregnancy"
V2 = {"protocolSection": {
    "identificationModule": {"nctId": "NCT09999999", "orgStudyIdInfo": {"id": "X-1"},
                             "briefTitle": "Drug X for Asthma"},
    "statusModule": {"overallStatus": "RECRUITING"},
    "sponsorCollaboratorsModule": {"leadSponsor": {"name": "Acme Pharma"}},
    "descriptionModule": {"briefSummary": "This study tests drug X in adults with asthma."},
    "conditionsModule": {"conditions": ["Asthma"]},
    "designModule": {"studyType": "INTERVENTIONAL", "phases": ["PHASE2"], "designInfo": {
        "allocation": "RANDOMIZED", "interventionModel": "PARALLEL", "primaryPurpose": "TREATMENT",
        "maskingInfo": {"masking": "NONE"}}, "enrollmentInfo": {"count": 40, "type": "ACTUAL"}},
    "armsInterventionsModule": {
        "armGroups": [{"label": "A", "type": "EXPERIMENTAL", "description": "10 mg daily by mouth",
                       "interventionNames": ["Drug: X"]}],
        "interventions": [{"type": "DRUG", "name": "X", "description": "10 mg tablet", "armGroupLabels": ["A"]}]},
    "eligibilityModule": {"eligibilityCriteria": CRITERIA.replace("- ", "* "),
                          "sex": "ALL", "minimumAge": "18 Years", "maximumAge": "65 Years", "healthyVolunteers": False},
    "contactsLocationsModule": {"locations": [{"facility": "Clinic", "city": "Oslo", "country": "Norway"}]},
}}

CLASSIC = {"FullStudiesResponse": {"NStudiesReturned": 1, "FullStudies": [{"Rank": 1, "Study": {"ProtocolSection": {
    "IdentificationModule": {"NCTId": "NCT09999999", "OrgStudyIdInfo": {"OrgStudyId": "X-1"},
                             "BriefTitle": "Drug X for Asthma"},
    "StatusModule": {"OverallStatus": "Recruiting"},
    "SponsorCollaboratorsModule": {"LeadSponsor": {"LeadSponsorName": "Acme Pharma"}},
    "DescriptionModule": {"BriefSummary": "This study tests drug X in adults with asthma."},
    "ConditionsModule": {"ConditionList": {"Condition": ["Asthma"]}},
    "DesignModule": {"StudyType": "Interventional", "PhaseList": {"Phase": ["Phase 2"]}, "DesignInfo": {
        "DesignAllocation": "Randomized", "DesignInterventionModel": "Parallel Assignment",
        "DesignPrimaryPurpose": "Treatment", "DesignMaskingInfo": {"DesignMasking": "None (Open Label)"}},
        "EnrollmentInfo": {"EnrollmentCount": "40", "EnrollmentType": "Actual"}},
    "ArmsInterventionsModule": {
        "ArmGroupList": {"ArmGroup": [{"ArmGroupLabel": "A", "ArmGroupType": "Experimental",
                                       "ArmGroupDescription": "10 mg daily by mouth",
                                       "ArmGroupInterventionList": {"ArmGroupInterventionName": ["Drug: X"]}}]},
        "InterventionList": {"Intervention": [{"InterventionType": "Drug", "InterventionName": "X",
                                               "InterventionDescription": "10 mg tablet",
                                               "InterventionArmGroupLabelList": {
                                                   "InterventionArmGroupLabel": ["A"]}}]}},
    "EligibilityModule": {"EligibilityCriteria": CRITERIA, "Gender": "All", "MinimumAge": "18 Years",
                          "MaximumAge": "65 Years", "HealthyVolunteers": "No"},
    "ContactsLocationsModule": {"LocationList": {"Location": [
        {"LocationFacility": "Clinic", "LocationCity": "Oslo", "LocationCountry": "Norway"}]}},
}}}]}}


def _record(trial: Trial) -> tuple[object, ...]:
    return (trial.trial_id, trial.title, trial.fields.model_dump(),
            [(s.name, s.heading, s.text) for s in trial.sections])


def test_same_study_in_three_formats_gives_the_same_record(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_text(XML, encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps(V2), encoding="utf-8")
    (tmp_path / "c.json").write_text(json.dumps(CLASSIC), encoding="utf-8")
    trials = [parse_file(tmp_path / name) for name in ("a.xml", "b.json", "c.json")]
    assert [t.source.format for t in trials] == ["ctgov-xml", "ctgov-api-v2", "ctgov-classic-json"]
    assert _record(trials[0]) == _record(trials[1]) == _record(trials[2])
    f = trials[0].fields
    assert (f.phase, f.status, f.enrollment, f.enrollment_type, f.intervention_model) == (
        "Phase 2", "Recruiting", 40, "Actual", "Parallel Assignment")
    assert trials[0].section_text("Eligibility: Exclusion") == "- pregnancy"
