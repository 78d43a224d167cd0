"""Legacy ClinicalTrials.gov XML: every one of the 2,000 shared records against the XML itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from trialqa.parse import ingest, parse_file
from trialqa.parse.common import squash
from trialqa.types import CANONICAL_SECTIONS, Trial


@pytest.fixture(scope="module")
def xml_dir(shared_dir: Path) -> Path:
    path = shared_dir / "corpus" / "ctgov-xml"
    if not path.is_dir():
        pytest.skip(f"{path} is missing")
    return path


@pytest.fixture(scope="module")
def xml_trials(xml_dir: Path) -> list[Trial]:
    result = ingest([xml_dir])
    assert result.skipped == 0 and not result.warnings
    return result.trials


def _expected(path: Path) -> dict[str, object]:
    """The values read straight from the XML with xpath, independently of the parser."""
    root = etree.parse(str(path)).getroot()

    def first(xpath: str) -> str | None:
        values = root.xpath(xpath)
        return " ".join(str(values[0]).split()) if values else None

    def age(xpath: str) -> str | None:
        value = first(xpath)
        return None if value in (None, "N/A") else value

    enrollment = first("/clinical_study/enrollment/text()")
    return {
        "nct_id": first("/clinical_study/id_info/nct_id/text()"),
        "title": first("/clinical_study/brief_title/text()"),
        "enrollment": int(enrollment) if enrollment else None,
        "sex": first("/clinical_study/eligibility/gender/text()"),
        "min_age": age("/clinical_study/eligibility/minimum_age/text()"),
        "max_age": age("/clinical_study/eligibility/maximum_age/text()"),
    }


def test_all_2000_records_match_their_xml(xml_dir: Path, xml_trials: list[Trial]) -> None:
    files = sorted(xml_dir.glob("*.xml"))
    assert len(files) == len(xml_trials) == 2000
    by_path = {t.source.path: t for t in xml_trials}
    for path in files:
        trial = by_path[str(path)]
        want = _expected(path)
        got = {
            "nct_id": trial.nct_id, "title": trial.title, "enrollment": trial.fields.enrollment,
            "sex": trial.fields.sex, "min_age": trial.fields.min_age, "max_age": trial.fields.max_age,
        }
        assert got == want, path.name
        assert trial.trial_id == trial.nct_id == path.stem and trial.source.format == "ctgov-xml"


def test_whitespace_normalised_and_names_canonical(xml_trials: list[Trial]) -> None:
    for trial in xml_trials:
        for section in trial.sections:
            assert section.name.split(":")[0] in CANONICAL_SECTIONS
            assert "\r" not in section.text, (trial.trial_id, section.name)
            assert not re.search(r"\S[ \t]{2,}", section.text), (trial.trial_id, section.name)
            assert section.text == section.text.strip()


def test_criteria_keep_their_items(xml_trials: list[Trial]) -> None:
    """Every bullet that starts a paragraph of the criteria textblock is one `- ` item."""
    item = re.compile(r"(?:\A\s*|\n[ \t]*\r?\n[ \t]*)(?:-|\d{1,2}\.)[ \t]+(?!(?:\w+ )?(?:in|ex)clusion\b)\S", re.I)
    exact = 0
    for trial in xml_trials:
        raw = etree.parse(trial.source.path).getroot().findtext("eligibility/criteria/textblock") or ""
        want = len(item.findall(raw))
        got = sum(len(re.findall(r"(?m)^ *- ", s.text)) for s in trial.sections if s.name.startswith("Eligibility:"))
        assert got >= want, trial.trial_id
        exact += got == want
    assert exact >= 0.95 * len(xml_trials)


def test_one_record_in_detail(xml_dir: Path) -> None:
    trial = parse_file(xml_dir / "NCT00000102.xml")
    f = trial.fields
    assert (f.phase, f.status, f.study_type, f.masking) == ("Phase 1/Phase 2", "Completed", "Interventional", "Double")
    assert f.conditions == ["Congenital Adrenal Hyperplasia"]
    assert [(i.type, i.name) for i in f.interventions] == [("Drug", "Nifedipine")]
    assert f.sponsor == "National Center for Research Resources (NCRR)"
    assert f.healthy_volunteers is False
    assert [(loc.facility, loc.city, loc.country) for loc in f.locations] == [
        ("Medical University of South Carolina", "Charleston", "United States")]
    assert trial.section_text("Eligibility: Inclusion") == (
        "- diagnosed with Congenital Adrenal Hyperplasia (CAH)\n- normal ECG during baseline evaluation")
    assert trial.section_text("Summary").startswith("This study will test the ability of extended release nifedipine")
    assert "\n" not in trial.section_text("Summary")


def test_fields_against_xml_for_structured_lists(xml_dir: Path, xml_trials: list[Trial]) -> None:
    """Conditions, arms, statuses and phases for every record, read with xpath."""
    statuses = {"Unknown status": "Unknown"}
    for trial in xml_trials:
        root = etree.parse(trial.source.path).getroot()
        assert trial.fields.conditions == [squash(c) for c in root.xpath("/clinical_study/condition/text()")]
        assert [a.label for a in trial.fields.arms] == [
            squash(a) for a in root.xpath("/clinical_study/arm_group/arm_group_label/text()")]
        status = squash(root.findtext("overall_status"))
        assert trial.fields.status == statuses.get(status, status)
        phase = root.findtext("phase")
        assert trial.fields.phase == (squash(phase) if phase else None)
