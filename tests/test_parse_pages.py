"""Scraped registry pages (the seeds): format detection, fields, sections, coverage, chrome."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from trialqa.parse import parse_file
from trialqa.types import CANONICAL_SECTIONS, Trial

SEEDS = {
    "000": "veeva-page",
    "001": "veeva-page",
    "002": "veeva-page",
    "003": "medpath-page",
    "004": "ctgov-page",
}
CHROME = ["Menu", "Loading...", "Copyright", "Find clinical trials", "Study Details", "Tabular View",
          "Listing a study does not mean", "Data sourced from", "All Rights Reserved", "ClinicalTrials.Veeva"]


def seed(seeds_dir: Path, prefix: str) -> Path:
    (path,) = seeds_dir.glob(f"{prefix}_*.txt")
    return path


def words(text: str) -> set[str]:
    """Distinct words of 4+ letters; scraping glued some table cells ("SystemChanges")."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", text)
    return {w.lower() for w in re.findall(r"[A-Za-z]{4,}", text)}


def all_text(trial: Trial) -> str:
    return "\n".join([trial.title, *(f"{s.heading}\n{s.text}" for s in trial.sections)])


@pytest.mark.parametrize("prefix", sorted(SEEDS))
def test_seed_format_names_and_cleaning(seeds_dir: Path, prefix: str) -> None:
    path = seed(seeds_dir, prefix)
    trial = parse_file(path)
    assert trial.source.format == SEEDS[prefix]
    assert trial.doc_id == path.stem and trial.source.path == str(path)
    assert trial.sections
    for section in trial.sections:
        assert section.name.split(":")[0] in CANONICAL_SECTIONS
        assert section.text == section.text.strip() and "\n\n\n" not in section.text
        assert not re.search(r"[ \t]{2,}\S", section.text.replace("\n  ", "\n")), section.text
    text = all_text(trial)
    for chrome in CHROME:
        assert chrome not in text, chrome


@pytest.mark.parametrize("prefix", sorted(SEEDS))
def test_seed_coverage_at_least_90_percent(seeds_dir: Path, prefix: str) -> None:
    path = seed(seeds_dir, prefix)
    source = words(path.read_text(encoding="utf-8"))
    missing = source - words(all_text(parse_file(path)))
    assert 1 - len(missing) / len(source) >= 0.90, sorted(missing)


def test_000_lost_values_no_nct(seeds_dir: Path) -> None:
    path = seed(seeds_dir, "000")
    trial = parse_file(path)
    assert trial.nct_id is None and trial.trial_id == trial.doc_id == path.stem
    f = trial.fields
    assert (f.sex, f.min_age, f.phase, f.status, f.sponsor) == (None,) * 5
    assert f.enrollment == 60  # the Enrollment value is lost; the arms line still states it
    assert "human umbilical cord mesenchymal stem cells in HPV clearance" in trial.section_text("Summary")
    assert "60 participants in 2 patient groups" in trial.section_text("Arms")
    assert "Jingjing Liu" in trial.section_text("Contacts")


def test_002_veeva_fields(seeds_dir: Path) -> None:
    trial = parse_file(seed(seeds_dir, "002"))
    f = trial.fields
    assert trial.trial_id == trial.nct_id == "NCT03765957"
    assert trial.title.startswith("Clinical Research on Treatment of Psoriasis")
    assert (f.enrollment, f.enrollment_type, f.phase, f.status) == (12, "Estimated", "Early Phase 1", "Unknown")
    assert (f.sex, f.min_age, f.max_age, f.healthy_volunteers) == ("All", "18 Years", "65 Years", False)
    assert f.sponsor == "Central South University"
    assert f.conditions == ["Psoriasis"]
    assert [(i.type, i.name) for i in f.interventions] == [("Biological", "Mesenchymal Stem Cells")]
    (arm,) = f.arms
    assert arm.type == "Experimental" and arm.interventions == ["Biological: Mesenchymal Stem Cells"]
    assert "1.5x10E6/kg" in arm.description and "injected intravenously" in arm.description
    assert (f.allocation, f.intervention_model, f.primary_purpose) == ("N/A", "Single Group Assignment", "Treatment")
    assert trial.section_text("Enrollment") == "12 estimated patients"
    eligibility = next(s for s in trial.sections if s.name == "Eligibility")
    assert eligibility.text.splitlines() == [
        "Sex: All", "Ages: 18 to 65 years old", "Volunteers: No Healthy Volunteers"]
    inclusion = trial.section_text("Eligibility: Inclusion").splitlines()
    assert len(inclusion) == 4 and all(line.startswith("- ") for line in inclusion)
    assert inclusion[1].startswith("- 18 Years to 65 Years old")
    assert len(trial.section_text("Eligibility: Exclusion").splitlines()) == 5


def test_001_veeva_combined_criteria_and_two_arms(seeds_dir: Path) -> None:
    trial = parse_file(seed(seeds_dir, "001"))
    f = trial.fields
    assert trial.nct_id == "NCT04232592"
    assert (f.enrollment, f.sex, f.min_age, f.max_age, f.phase) == (32, "Female", "18 Years", "38 Years", "Phase 1")
    assert len(trial.section_text("Eligibility: Inclusion").splitlines()) == 6
    assert len(trial.section_text("Eligibility: Exclusion").splitlines()) == 19
    assert [a.label for a in f.arms] == ["Stem cell preparation solution injection group", "Injected stem cell group"]
    assert "Sex: Female\nAges: 18 to 38 years old" in trial.section_text("Eligibility")
    assert "32 estimated patients" in trial.section_text("Enrollment")


def test_003_medpath_fields(seeds_dir: Path) -> None:
    trial = parse_file(seed(seeds_dir, "003"))
    f = trial.fields
    assert trial.nct_id == "NCT05106972"
    assert (f.enrollment, f.status, f.min_age, f.max_age, f.sex) == (30, "Recruiting", "20 Years", "60 Years", "All")
    assert (f.phase, f.study_type, f.intervention_model) == ("N/A", "Interventional", "Single Group Assignment")
    assert f.sponsor == "Asia Stem Cell Regenerative Pharmaceutical Co., Ltd."
    assert f.conditions == ["Liver Cirrhosis"]
    (arm,) = f.arms
    assert arm.label == "UC-MSC infusion" and "1*10^8 cells/dose" in (arm.description or "")
    assert f.interventions[0].description and "intravenus" in f.interventions[0].description
    assert f.primary_outcomes[0] == "Ishak Inflammation Rating System" and len(f.primary_outcomes) == 4
    assert "HBV-DNA" in f.secondary_outcomes and len(f.secondary_outcomes) == 8
    sites = [(loc.facility, loc.city, loc.country) for loc in f.locations]
    assert sites == [("Haikou People's Hospital", "Haikou", "China")]
    assert len(trial.section_text("Eligibility: Exclusion").splitlines()) == 12


def test_004_ctgov_page_fields(seeds_dir: Path) -> None:
    trial = parse_file(seed(seeds_dir, "004"))
    f = trial.fields
    assert trial.nct_id == "NCT01728727"
    assert (f.min_age, f.max_age, f.sex, f.healthy_volunteers) == ("18 Years", "65 Years", "All", False)
    assert f.conditions == ["Liver Cirrhosis", "End Stage Liver Disease"]
    assert any(loc.city == "Xi'an" and loc.country == "China" for loc in f.locations)
    assert (f.status, f.phase, f.enrollment, f.enrollment_type) == ("Unknown", "Phase 1/Phase 2", 240, "Estimated")
    assert (f.allocation, f.masking, f.start_date, f.completion_date) == (
        "Randomized", "None (Open Label)", "September 2012", "September 2015")
    assert f.sponsor is None  # the page names a responsible party, not a sponsor
    by_name = {i.name: i for i in f.interventions}
    assert "1*10E6 cells/kg via hepatic artery" in (by_name["UC-MSC transplantation"].description or "")
    assert [a.type for a in f.arms] == ["Active Comparator", "Experimental"]
    assert "one year survival rate" in trial.section_text("Outcomes")
    assert trial.section_text("Eligibility: Inclusion").splitlines()[0] == "- Aged 18-65 years"
    assert "Xijing Hospital of Digestive Disease" in trial.section_text("Locations")


def test_html_page_is_read_through_lxml(tmp_path: Path, seeds_dir: Path) -> None:
    lines = seed(seeds_dir, "002").read_text(encoding="utf-8").splitlines()
    body = "".join(f"<p>{line.replace('&', '&amp;').replace('<', '&lt;')}</p>" for line in lines if line.strip())
    page = tmp_path / "veeva.html"
    page.write_text(f"<!DOCTYPE html><html><head><script>var x = 1;</script></head><body>{body}</body></html>")
    trial = parse_file(page)
    assert trial.source.format == "veeva-page" and trial.nct_id == "NCT03765957"
    assert trial.fields.enrollment == 12 and "var x" not in all_text(trial)


CTGOV_WITH_HEADINGS = """Study of Drug X in Asthma
ClinicalTrials.gov Identifier: NCT01234567 |
Recruitment Status : Recruiting
First Posted : May 1, 2020
Brief Summary:
This study tests drug X.
Condition or disease | Intervention/treatment | Phase |
---|---|---|
Asthma | Drug: X | Phase 2 |
Study Type : | Interventional (Clinical Trial) |
Actual Enrollment : | 40 participants |
Primary Outcome Measures :
- FEV1 [ Time Frame: 12 weeks ]
Secondary Outcome Measures :
- Symptom score [ Time Frame: 12 weeks ]
Ages Eligible for Study: | 18 Years and older (Adult, Older Adult) |
Sexes Eligible for Study: | Female |
Inclusion Criteria:
- adults
- asthma for 1 year
Sponsor: | Acme Pharma |
"""


def test_ctgov_page_with_its_headings(tmp_path: Path) -> None:
    path = tmp_path / "page.txt"
    path.write_text(CTGOV_WITH_HEADINGS, encoding="utf-8")
    trial = parse_file(path)
    f = trial.fields
    assert trial.source.format == "ctgov-page" and trial.trial_id == "NCT01234567"
    assert (f.primary_outcomes, f.secondary_outcomes) == (["FEV1"], ["Symptom score"])
    assert (f.min_age, f.max_age, f.sex, f.enrollment, f.enrollment_type) == ("18 Years", None, "Female", 40, "Actual")
    assert (f.sponsor, f.conditions, f.phase, f.status) == ("Acme Pharma", ["Asthma"], "Phase 2", "Recruiting")
    assert trial.section_text("Summary") == "This study tests drug X."
    assert trial.section_text("Eligibility: Inclusion") == "- adults\n- asthma for 1 year"
    assert "FEV1" in trial.section_text("Outcomes: Primary")
