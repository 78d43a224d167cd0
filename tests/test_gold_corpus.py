"""The corpus-scale gold set (issue 16): its shape, and that its builder reproduces it."""

from __future__ import annotations

import importlib.util
import os
import re
from collections import Counter
from pathlib import Path

import pytest

from trialqa.evals import load_cases, load_thresholds

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "evals" / "gold_corpus.jsonl"
BUILDER = ROOT / "evals" / "build_gold_corpus.py"
KINDS = ("described", "list", "eligibility", "aggregate", "follow-up", "abstain", "lay")
VERDICTS = ("Eligible as far as stated", "Excluded by", "Not eligible", "Cannot tell")
NCT = re.compile(r"NCT\d{8}")


def corpus_dir() -> Path | None:
    for candidate in (os.environ.get("TRIALQA_SHARED"), ROOT.parent / "shared"):
        if candidate and (Path(candidate) / "corpus" / "ctgov-xml").is_dir():
            return Path(candidate) / "corpus" / "ctgov-xml"
    return None


def test_file_validates_with_enough_cases_of_every_kind() -> None:
    cases = load_cases(GOLD)
    assert len(cases) >= 130
    counts = Counter(c.category for c in cases)
    assert set(counts) == set(KINDS)
    assert all(counts[k] >= 15 for k in KINDS), counts


def test_ids_and_questions_are_unique() -> None:
    cases = load_cases(GOLD)
    assert len({c.id for c in cases}) == len(cases)
    prompts = [p.strip().lower() for c in cases for p in c.prompts]
    assert len(set(prompts)) == len(prompts), [p for p, n in Counter(prompts).items() if n > 1]


def test_each_kind_expects_what_it_should() -> None:
    for c in load_cases(GOLD):
        ids = [*c.expect_trials, *c.forbid_trials]
        assert all(NCT.fullmatch(i) for i in ids), c.id
        if c.category == "abstain":
            assert c.expect_abstain and not c.expect_trials and not c.expect_any_text, c.id
            continue
        assert c.expect_abstain is False, c.id
        if c.category in ("list", "lay"):
            assert c.expect_exact and 1 <= len(c.expect_trials) <= 25, c.id
        elif c.category in ("described", "eligibility"):
            assert len(c.expect_trials) == 1 and c.expect_any_text, c.id
            assert c.expect_trials[0] not in c.question or c.category == "eligibility", c.id  # described: not named
        if c.category == "eligibility":
            assert set(c.expect_any_text) <= set(VERDICTS) and c.expect_trials[0] in (c.question or ""), c.id
        if c.category == "aggregate":
            assert c.expect_any_text, c.id
        if c.category == "follow-up":
            assert c.turns is not None and len(c.turns) >= 2, c.id


def test_a_threshold_table_gates_the_set() -> None:
    limits = load_thresholds(ROOT / "evals" / "thresholds.toml", GOLD.name).limits
    # gated a little below the measured accuracy (0.82); the hidden-set target is 0.80
    assert limits["hallucinated_citations"] == 0 and limits["answer_accuracy"] >= 0.75


def test_builder_reproduces_the_file_byte_for_byte() -> None:
    corpus = corpus_dir()
    if corpus is None:
        pytest.skip("no shared corpus: set TRIALQA_SHARED or provide ../shared")
    spec = importlib.util.spec_from_file_location("build_gold_corpus", BUILDER)
    assert spec is not None and spec.loader is not None
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    assert builder.render(builder.build(corpus)) == GOLD.read_text(encoding="utf-8")


# --- the builder's own checks, on tiny synthetic records -----------------------------------------

RECORD = """<clinical_study><id_info><nct_id>{nct}</nct_id></id_info><brief_title>{title}</brief_title>
<overall_status>Completed</overall_status><phase>{phase}</phase><study_type>Interventional</study_type>
<condition>{condition}</condition><eligibility><criteria><textblock>Inclusion Criteria: - adults
Exclusion Criteria: - Pregnancy</textblock></criteria><gender>All</gender><minimum_age>6 Months</minimum_age>
<maximum_age>N/A</maximum_age><healthy_volunteers>Accepts Healthy Volunteers</healthy_volunteers></eligibility>
<start_date>March 3, 1999</start_date></clinical_study>"""


@pytest.fixture
def goldgen(monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.syspath_prepend(str(ROOT / "evals"))
    import goldgen.common as common
    import goldgen.records as records

    return common, records


def write(tmp_path: Path, nct: str, phase: str, condition: str, title: str = "A study") -> None:
    (tmp_path / f"{nct}.xml").write_text(RECORD.format(nct=nct, phase=phase, condition=condition, title=title))


def test_records_reader_normalises_ages_dates_and_criteria(goldgen, tmp_path: Path) -> None:
    _, records = goldgen
    write(tmp_path, "NCT00000001", "Phase 2", "Asthma")
    (rec,) = records.load(tmp_path)
    assert rec.min_age == 0.5 and rec.max_age is None and rec.healthy is True
    assert rec.start is not None and rec.start.isoformat() == "1999-03-03"
    assert "Pregnancy" in rec.exclusion and "Pregnancy" not in rec.inclusion


def test_a_filter_read_two_ways_is_flagged_ambiguous(goldgen, tmp_path: Path) -> None:
    common, records = goldgen
    write(tmp_path, "NCT00000001", "Phase 3", "Asthma")
    write(tmp_path, "NCT00000002", "Phase 2/Phase 3", "Lung Diseases", title="Asthma in adults")
    recs = records.load(tmp_path)
    assert common.ambiguous(recs, [common.has_phase("3")]) == ["filter 1"]  # 2/3 or not
    assert common.ambiguous(recs, [common.condition("asthma")]) == ["filter 1"]  # title mentions it too
    assert common.ambiguous(recs, [common.condition("lung")]) == []
    with pytest.raises(common.GoldError):
        common.require(False, "refused")
