"""Cleaning and value normalisation shared by all parsers."""

from __future__ import annotations

import pytest

from trialqa.parse.common import (
    ages_from_criteria,
    humanize,
    norm_age,
    norm_enrollment_type,
    norm_phase,
    norm_sex,
    norm_status,
    norm_study_type,
    parse_age_range,
    reflow,
    segment_by_phrases,
    split_criteria,
    split_glued,
    split_typed_names,
)
from trialqa.parse.lines import format_items


@pytest.mark.parametrize(("raw", "want"), [
    ("Phase 1/Phase 2", "Phase 1/Phase 2"),
    (["PHASE1", "PHASE2"], "Phase 1/Phase 2"),
    ("Phase 1 Phase 2", "Phase 1/Phase 2"),
    ("EARLY_PHASE1", "Early Phase 1"),
    ("Early Phase 1", "Early Phase 1"),
    ("NA", "N/A"),
    ("Not Applicable", "N/A"),
    ("Phase 2/3", "Phase 2/Phase 3"),
    ("", None),
])
def test_phase(raw: str | list[str], want: str | None) -> None:
    assert norm_phase(raw) == want


@pytest.mark.parametrize(("raw", "want"), [
    ("RECRUITING", "Recruiting"),
    ("Unknown status", "Unknown"),
    ("UNKNOWN", "Unknown"),
    ("ACTIVE_NOT_RECRUITING", "Active, not recruiting"),
    ("Not yet recruiting", "Not yet recruiting"),
    ("Completed", "Completed"),
    (None, None),
])
def test_status(raw: str | None, want: str | None) -> None:
    assert norm_status(raw) == want


def test_small_value_normalisers() -> None:
    assert norm_sex("ALL") == "All" and norm_sex("FEMALE") == "Female" and norm_sex("unknown") is None
    assert norm_study_type("Interventional (Clinical Trial)") == "Interventional"
    assert norm_study_type("OBSERVATIONAL") == "Observational"
    assert norm_enrollment_type("Anticipated") == "Estimated"
    assert norm_enrollment_type("ACTUAL") == "Actual"
    assert norm_age("N/A") is None and norm_age(" 18 Years ") == "18 Years"
    assert humanize("PLACEBO_COMPARATOR") == "Placebo Comparator"
    assert humanize("SINGLE_GROUP") == "Single Group Assignment"


@pytest.mark.parametrize(("text", "want"), [
    ("18 to 65 years old", ("18 Years", "65 Years")),
    ("18 Years to 65 Years (Adult, Older Adult)", ("18 Years", "65 Years")),
    ("6 months to 17 years old", ("6 Months", "17 Years")),
    ("18+ years old", ("18 Years", None)),
    ("18 Years and older (Adult, Older Adult)", ("18 Years", None)),
    ("up to 17 Years (Child)", (None, "17 Years")),
    ("Child, Adult", (None, None)),
])
def test_age_range(text: str, want: tuple[str | None, str | None]) -> None:
    assert parse_age_range(text) == want


def test_ages_from_inclusion_item_only_when_stated() -> None:
    assert ages_from_criteria("- Aged between 20 and 60 (male or female)\n- other") == ("20 Years", "60 Years")
    assert ages_from_criteria("- Patients aged 18-75 years") == ("18 Years", "75 Years")
    assert ages_from_criteria("- Diagnosed 5 to 10 years ago") == (None, None)


def test_reflow_unwraps_prose_and_keeps_items() -> None:
    text = "      This study will test\r\n      a drug.\r\n\r\n      -  first item\r\n         continues\r\n"
    assert reflow(text) == "This study will test a drug.\n\n- first item continues"


def test_format_items_bullets_nesting_and_inline_numbers() -> None:
    xml = "          -  first\r\n             wrapped\r\n\r\n               -  nested\r\n\r\n          -  second\r\n"
    assert format_items(xml) == "- first wrapped\n  - nested\n- second"
    assert format_items("1. one\n2. two\n   1. sub") == "- one\n- two\n  - sub"
    assert format_items("  \u2022 a;\n  \u2022 b") == "- a;\n- b"
    inline = "1.Understanding the study; 2.18 Years to 65 Years old, BMI between 18.5-35; 3.Diagnosed"
    assert format_items(inline).splitlines() == [
        "- Understanding the study", "- 18 Years to 65 Years old, BMI between 18.5-35", "- Diagnosed"]


def test_split_criteria() -> None:
    text = "Criteria:\n\nInclusion Criteria:\n\n* adults\n* consent\n\nExclusion Criteria:\n\n* pregnancy"
    assert split_criteria(text) == [
        ("Inclusion", "Inclusion Criteria", "- adults\n- consent"),
        ("Exclusion", "Exclusion Criteria", "- pregnancy"),
    ]
    assert split_criteria("DISEASE CHARACTERISTICS:\n- stage IV") == [
        ("Criteria", "", "DISEASE CHARACTERISTICS:\n- stage IV")
    ]


def test_split_glued_table_rows() -> None:
    assert split_glued("Ishak Fibrosis ScoreChanges from baseline to 72 weeks", 3) == [
        "Ishak Fibrosis Score", "Changes from baseline to 72 weeks"]
    assert split_glued("HBV-DNAChanges from baseline", 3) == ["HBV-DNA", "Changes from baseline"]
    assert split_glued("UC-MSC infusionUC-MSC infusionUC-MSC infusion by vein", 3) == [
        "UC-MSC infusion", "UC-MSC infusion", "UC-MSC infusion by vein"]


def test_split_typed_names_and_phrase_segmentation() -> None:
    assert split_typed_names("Other: UC-MSC transplantation Other: conventional treatment") == [
        "Other: UC-MSC transplantation", "Other: conventional treatment"]
    corpus = "Cirrhosis of the liver. Patients with end stage liver disease and liver cirrhosis."
    assert segment_by_phrases("Liver Cirrhosis End Stage Liver Disease", corpus) == [
        "Liver Cirrhosis", "End Stage Liver Disease"]
    assert segment_by_phrases("Psoriasis Vulgaris", "nothing relevant") == ["Psoriasis Vulgaris"]
