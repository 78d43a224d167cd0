"""The gold-answer eval: case schema, scoring rules, metrics, thresholds, the CLI gate, gold files."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

import trialqa.cli.eval as eval_cli
from trialqa.cli import cli
from trialqa.errors import BadInput, ConfigError, GenerationError
from trialqa.evals import (
    KnownSources,
    aggregate,
    assistant_answer_fn,
    check,
    load_cases,
    load_thresholds,
    run_eval,
    score_case,
)
from trialqa.evals_cases import Case
from trialqa.types import CANONICAL_SECTIONS, Answer, Citation, Section, Source, Timings, Trial

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "eval"
GOLD = ROOT / "evals" / "gold.jsonl"
GOLD_CTGOV = ROOT / "evals" / "gold_ctgov.jsonl"
THRESHOLDS = ROOT / "evals" / "thresholds.toml"

HPV_DOC = "000_414e8bcef8da9792"
IUA, PSO, HAIKOU, XIJING = "NCT04232592", "NCT03765957", "NCT05106972", "NCT01728727"
SECTIONS = {
    HPV_DOC: ["Summary", "Enrollment", "Contacts"],
    IUA: ["Title", "Eligibility: Inclusion", "Arms"],
    PSO: ["Title", "Enrollment", "Arms"],
    HAIKOU: ["Title", "Sponsor", "Arms"],
    XIJING: ["Title", "Arms", "Dates"],
}
KNOWN = KnownSources(SECTIONS, ((tid, s) for tid, names in SECTIONS.items() for s in names))


def cite(trial_id: str, section: str) -> Citation:
    nct = trial_id if trial_id.startswith("NCT") else None
    return Citation(trial_id=trial_id, nct_id=nct, doc_id=trial_id, section=section, quote="...")


def answer(text: str, *cites: tuple[str, str], abstained: bool = False, total_s: float = 1.0) -> Answer:
    return Answer(text=text, citations=[cite(t, s) for t, s in cites], abstained=abstained,
                  timings=Timings(total_s=total_s))


def case(**kw: object) -> Case:
    base: dict[str, object] = {"id": "c", "question": "q?", "category": "fact"}
    return Case.model_validate(base | kw)


# --- a fake assistant with the Assistant API, answering the fixture questions correctly ---------

def trial(trial_id: str) -> Trial:
    nct = trial_id if trial_id.startswith("NCT") else None
    return Trial(trial_id=trial_id, nct_id=nct, doc_id=trial_id,
                 source=Source(path=f"{trial_id}.txt", format="veeva-page"),
                 sections=[Section(name=name, text="...") for name in SECTIONS[trial_id]])


@dataclass
class FakeIndex:
    trials: dict[str, Trial] = field(default_factory=lambda: {tid: trial(tid) for tid in SECTIONS})


ANSWERS = {
    "Who sponsors NCT05106972?": (
        answer("The lead sponsor is Asia Stem Cell Regenerative Pharmaceutical Co., Ltd. [NCT05106972 · Sponsor]",
               (HAIKOU, "Sponsor"), total_s=2.0), [HAIKOU, XIJING]),
    "How many people will the psoriasis trial enroll?": (
        answer("It plans to enroll 12 participants [NCT03765957 · Enrollment]", (PSO, "Enrollment"), total_s=3.0),
        [PSO]),
    "Which trials dose per kg intravenously?": (
        answer("One trial: NCT03765957 injects 1.5-3.0x10E6 cells/kg intravenously [NCT03765957 · Arms]",
               (PSO, "Arms"), total_s=4.0), [PSO, XIJING, HAIKOU]),
    "How are the cells delivered?": (
        answer("Through the hepatic artery [NCT01728727 · Arms]", (XIJING, "Arms"), total_s=5.0), [XIJING]),
    "How many people are planned for the HPV clearance trial?": (
        answer(f"60 participants in 2 groups [{HPV_DOC} · Enrollment]", (HPV_DOC, "Enrollment"), total_s=6.0),
        [PSO]),
}


class FakeAssistant:
    """Answers the last turn from ANSWERS; anything else is an abstention."""

    def __init__(self) -> None:
        self.index = FakeIndex()
        self.last_retrieved: list[str] = []
        self.conversations: list[list[str]] = []

    def converse(self, turns: list[str]) -> Answer:
        self.conversations.append(turns)
        reply, self.last_retrieved = ANSWERS.get(turns[-1], (None, []))
        if reply is not None:
            reply = reply.model_copy(update={"retrieved": list(self.last_retrieved)})
        return reply or answer("The indexed trials do not answer this.", abstained=True, total_s=0.5)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeAssistant:
    assistant = FakeAssistant()
    monkeypatch.setattr(eval_cli, "load_assistant", lambda index_dir, model: assistant)
    return assistant


def run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["eval", *args])
    return result.exit_code, result.stdout, result.stderr


# --- schema -------------------------------------------------------------------------------------

def test_bad_line_names_file_and_line_in_one_line() -> None:
    with pytest.raises(BadInput) as err:
        load_cases(FIXTURES / "gold_bad_line.jsonl")
    message = str(err.value)
    assert "gold_bad_line.jsonl:3:" in message and "expect_abstain" in message
    assert "\n" not in message


@pytest.mark.parametrize(("line", "needle"), [
    ('{"id": "x", "question": "q", "category": "fact"', "not valid JSON"),
    ('{"id": "x", "category": "fact"}', "exactly one of 'question' or 'turns'"),
    ('{"id": "x", "question": "q", "turns": ["a", "b"], "category": "follow-up"}', "exactly one"),
    ('{"id": "x", "question": "q", "category": "trivia"}', "category"),
    ('{"id": "x", "question": "q", "category": "fact", "expect_trial": []}', "expect_trial"),
    ('{"id": "x", "question": "q", "category": "follow-up"}', "needs 'turns'"),
    ('{"id": "x", "question": "q", "category": "list", "expect_trials": ["A"], "forbid_trials": ["A"]}',
     "both expected and forbidden"),
    ('{"id": "x", "question": "q", "category": "abstain", "expect_abstain": true, "expect_trials": ["A"]}',
     "abstention case"),
    ('{"id": "x", "question": "q", "category": "fact", "expect_sections": ["Budget"]}', "canonical section"),
])
def test_schema_errors_are_one_line(tmp_path: Path, line: str, needle: str) -> None:
    path = tmp_path / "g.jsonl"
    path.write_text('{"id": "ok", "question": "q", "category": "fact"}\n\n' + line + "\n")
    with pytest.raises(BadInput) as err:
        load_cases(path)
    assert f"{path}:3:" in str(err.value) and needle in str(err.value)
    assert "\n" not in str(err.value)


def test_duplicate_ids_missing_and_empty_files(tmp_path: Path) -> None:
    dup = tmp_path / "dup.jsonl"
    dup.write_text('{"id": "a", "question": "q", "category": "fact"}\n' * 2)
    with pytest.raises(BadInput, match=r"dup.jsonl:2: duplicate case id 'a'"):
        load_cases(dup)
    with pytest.raises(BadInput, match="no such gold file"):
        load_cases(tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(BadInput, match="no cases"):
        load_cases(tmp_path / "empty.jsonl")


# --- scoring rules ------------------------------------------------------------------------------

def test_correct_answer_passes_with_full_precision_and_recall() -> None:
    c = case(expect_trials=[PSO], expect_any_text=["twelve", "12"], expect_sections=["Enrollment"])
    r = score_case(c, answer("It will enroll 12 people", (PSO, "Enrollment")), [PSO, IUA], KNOWN)
    assert r.passed and r.reasons == [] and r.warnings == []
    assert (r.cited_correct, len(r.cited), r.expected_cited, r.expected_total, r.expected_retrieved) == (1, 1, 1, 1, 1)


@pytest.mark.parametrize(("reply", "reason"), [
    (answer("It will enroll 12 people"), "expected not cited: NCT03765957"),
    (answer("It will enroll 32 people", (PSO, "Enrollment")), "answer has none of: 12"),
    (answer("12; NCT01728727 too", (PSO, "Enrollment"), (XIJING, "Arms")), "forbidden cited: NCT01728727"),
    (answer("12", (PSO, "Enrollment"), ("NCT99999999", "Enrollment")), "hallucinated citations: NCT99999999"),
    (answer("12", (PSO, "Enrollment"), (PSO, "Budget")), "hallucinated citations: NCT03765957 · Budget"),
    (answer("I cannot tell.", abstained=True), "abstained, expected an answer"),
    (Answer(text="", error="generation failed: server down"), "error: generation failed"),
])
def test_wrong_answers_fail_with_a_reason(reply: Answer, reason: str) -> None:
    c = case(category="list", expect_trials=[PSO], forbid_trials=[XIJING], expect_any_text=["12"])
    r = score_case(c, reply, None, KNOWN)
    assert not r.passed
    assert any(reason in x for x in r.reasons), r.reasons


def test_text_match_is_case_insensitive_and_skipped_when_empty() -> None:
    cited = answer("via the HEPATIC ARTERY", (XIJING, "Arms"))
    assert score_case(case(expect_trials=[XIJING], expect_any_text=["hepatic artery"]), cited, None, KNOWN).passed
    assert score_case(case(expect_trials=[XIJING]), cited, None, KNOWN).passed


def test_doc_without_nct_is_matched_by_doc_id() -> None:
    c = case(expect_docs=[HPV_DOC], expect_any_text=["60"])
    assert score_case(c, answer("60 people", (HPV_DOC, "Enrollment")), None, KNOWN).passed
    assert not score_case(c, answer("60 people", (PSO, "Enrollment")), None, KNOWN).passed


def test_abstention_rules() -> None:
    c = case(category="abstain", expect_abstain=True)
    assert score_case(c, answer("Not in the records.", abstained=True), None, KNOWN).passed
    answered = score_case(c, answer("Canberra", (PSO, "Title")), None, KNOWN)
    assert answered.reasons == ["answered, expected an abstention"] and answered.cited_correct == 0
    cited = score_case(c, answer("No.", (PSO, "Title"), abstained=True), None, KNOWN)
    assert cited.reasons == ["abstained but cited sources"]


def test_precision_without_expect_list_counts_non_forbidden() -> None:
    c = case(category="list", forbid_trials=[XIJING], expect_any_text=["two"])
    r = score_case(c, answer("two", (PSO, "Arms"), (HAIKOU, "Arms"), (XIJING, "Arms")), None, KNOWN)
    assert (r.cited_correct, len(r.cited)) == (2, 3)


def test_missing_section_is_a_warning_not_a_failure() -> None:
    c = case(expect_trials=[PSO], expect_sections=["Eligibility"])
    r = score_case(c, answer("12", (PSO, "Enrollment")), None, KNOWN)
    assert r.passed and r.warnings == ["section not cited: Eligibility"]
    sub = score_case(c, answer("18-38", (IUA, "Eligibility: Inclusion"), (PSO, "Arms")), None, KNOWN)
    assert sub.warnings == []


# --- metrics ------------------------------------------------------------------------------------

def test_run_eval_metrics() -> None:
    cases = [
        case(id="a", expect_trials=[PSO], expect_any_text=["12"]),
        case(id="b", category="list", expect_trials=[PSO, XIJING], forbid_trials=[IUA]),
        case(id="c", category="abstain", expect_abstain=True),
        case(id="d", category="numeric", expect_trials=[HAIKOU], expect_any_text=["30"]),
    ]
    replies = {
        "a": (answer("12", (PSO, "Enrollment"), total_s=1.0), [PSO]),
        "b": (answer("both", (PSO, "Arms"), (IUA, "Arms"), total_s=2.0), [PSO, IUA]),
        "c": (answer("none", abstained=True, total_s=3.0), []),
        "d": (answer("30", (HAIKOU, "Sponsor"), ("NCT00000000", "Arms"), total_s=4.0), [IUA]),
    }
    seen: list[str] = []
    report = run_eval(cases, lambda c: replies[c.id], set(SECTIONS), on_result=lambda i, n, r: seen.append(r.id))
    assert seen == ["a", "b", "c", "d"]
    assert (report.cases, report.passed, report.answer_accuracy) == (4, 2, 0.5)
    assert [f.id for f in report.failures] == ["b", "d"]
    assert report.citation_precision == pytest.approx(3 / 5)  # a:1/1, b:1/2, d:1/2
    assert report.citation_recall == pytest.approx(3 / 4)  # a:1/1, b:1/2, d:1/1
    assert report.hallucinated_citations == 1
    assert report.abstention_accuracy == 1.0
    assert report.retrieval_recall_at_k == pytest.approx(2 / 4)  # a:1/1, b:1/2, d:0/1
    assert report.latency_p50_s == pytest.approx(2.5)
    assert report.latency_p95_s == pytest.approx(3.85)
    assert report.per_category["list"].accuracy == 0.0 and report.per_category["fact"].accuracy == 1.0
    assert set(report.summary()) >= {
        "cases", "passed", "answer_accuracy", "citation_precision", "citation_recall", "hallucinated_citations",
        "abstention_accuracy", "retrieval_recall_at_k", "latency_p50_s", "latency_p95_s", "failures", "per_category",
    }
    assert "results" not in report.summary()


def test_unmeasured_metrics_are_none_and_skipped_by_the_gate() -> None:
    report = aggregate([])
    assert report.citation_precision is None and report.abstention_accuracy is None
    assert check(report, load_thresholds(THRESHOLDS, "gold.jsonl")) == ["answer_accuracy 0.000 < min 0.9"]


def test_answer_fn_keeps_going_after_a_generation_error() -> None:
    class Failing(FakeAssistant):
        def converse(self, turns: list[str]) -> Answer:
            raise GenerationError("llama.cpp: context overflow")

    conversation = Case(id="f", turns=["a", "b"], category="follow-up")
    a, retrieved = assistant_answer_fn(Failing())(conversation)
    assert a.error == "llama.cpp: context overflow" and retrieved is None


# --- thresholds ---------------------------------------------------------------------------------

def test_checked_in_thresholds_gate_every_quality_metric() -> None:
    gold = load_thresholds(THRESHOLDS, "gold.jsonl").limits
    assert set(gold) == {"answer_accuracy", "citation_precision", "hallucinated_citations", "abstention_accuracy"}
    assert gold["hallucinated_citations"] == 0 and gold["answer_accuracy"] >= 0.9 and gold["citation_precision"] >= 0.95
    assert load_thresholds(THRESHOLDS, "gold_ctgov.jsonl").limits["answer_accuracy"] >= 0.9


@pytest.mark.parametrize(("toml", "needle"), [
    ('["other.jsonl"]\nanswer_accuracy = 0.9\n', 'no ["g.jsonl"] table'),
    ('["g.jsonl"]\naccuracy = 0.9\n', "accuracy is not a metric"),
    ('["g.jsonl"]\nanswer_accuracy = "high"\n', "must be a number"),
    ('["g.jsonl"\nanswer_accuracy = 0.9\n', "cannot read thresholds"),
])
def test_bad_thresholds_are_config_errors(tmp_path: Path, toml: str, needle: str) -> None:
    path = tmp_path / "t.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=re.escape(needle)):
        load_thresholds(path, "g.jsonl")


def test_check_uses_maxima_for_lower_is_better_metrics(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text('["g.jsonl"]\nhallucinated_citations = 0\nlatency_p50_s = 10\nanswer_accuracy = 0.5\n')
    limits = load_thresholds(path, "g.jsonl")
    good = aggregate([score_case(case(expect_trials=[PSO]), answer("x", (PSO, "Arms"), total_s=9), None, KNOWN)])
    assert check(good, limits) == []
    bad = aggregate([score_case(case(expect_trials=[PSO]), answer("x", ("NCT1", "Arms"), total_s=11), None, KNOWN)])
    assert check(bad, limits) == ["hallucinated_citations 1.000 > max 0", "latency_p50_s 11.000 > max 10",
                                  "answer_accuracy 0.000 < min 0.5"]


# --- the CLI gate -------------------------------------------------------------------------------

def test_cli_passes_a_correct_gold_file(fake: FakeAssistant, tmp_path: Path) -> None:
    report_path = tmp_path / "r" / "report.json"
    code, out, err = run_cli(str(FIXTURES / "gold_small.jsonl"), "--json", "--report", str(report_path))
    assert code == 0, err
    metrics = json.loads(out.strip().splitlines()[-1])
    assert metrics["cases"] == 6 and metrics["answer_accuracy"] == 1.0 and metrics["failures"] == []
    assert metrics["abstention_accuracy"] == 1.0 and metrics["hallucinated_citations"] == 0
    assert fake.conversations[3] == ["Tell me about NCT01728727", "How are the cells delivered?"]
    assert "[4/6] small-follow-up pass" in err and "Accuracy by category" in err
    saved = json.loads(report_path.read_text())
    assert saved["metrics"] == metrics and saved["gate_failures"] == []
    assert saved["results"][0]["answer"].startswith("The lead sponsor is Asia Stem Cell")


def test_cli_fails_a_gold_file_whose_answers_are_wrong(fake: FakeAssistant, tmp_path: Path) -> None:
    code, out, err = run_cli(str(FIXTURES / "gold_wrong.jsonl"), "--json", "--report", str(tmp_path / "r.json"))
    assert code == 1
    metrics = json.loads(out.strip().splitlines()[-1])
    assert metrics["passed"] == 0 and len(metrics["failures"]) == 6
    assert "gate failed: answer_accuracy 0.000 < min 0.9" in err
    assert "gate failed: abstention_accuracy 0.000 < min 1" in err
    assert "gate failed: citation_precision" in err


def test_cli_prints_tables_and_honours_limit(fake: FakeAssistant, tmp_path: Path) -> None:
    code, out, _ = run_cli(str(FIXTURES / "gold_small.jsonl"), "--limit", "2", "--report", str(tmp_path / "r.json"))
    assert code == 0 and len(fake.conversations) == 2
    assert "Accuracy by category" in out and "citation_precision" in out and "follow-up" in out
    assert not out.strip().endswith("}")


def test_cli_default_report_path(fake: FakeAssistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, _ = run_cli(str(FIXTURES / "gold_small.jsonl"))
    assert code == 0 and (tmp_path / "reports" / "eval-gold_small.json").is_file()


@pytest.mark.parametrize(("args", "needle", "exit_code"), [
    (["missing.jsonl"], "no such gold file", 2),
    ([str(FIXTURES / "gold_bad_line.jsonl")], "gold_bad_line.jsonl:3:", 2),
    ([str(FIXTURES / "gold_small.jsonl"), "--thresholds", "nope.toml"], "no thresholds file", 2),
])
def test_cli_errors_are_one_line(fake: FakeAssistant, args: list[str], needle: str, exit_code: int) -> None:
    code, out, err = run_cli(*args)
    assert code == exit_code and needle in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert fake.conversations == []


# --- the checked-in gold files ------------------------------------------------------------------

def seed_ids() -> set[str]:
    ids = set()
    for path in (ROOT / "seeds").glob("*.txt"):
        match = re.search(r"NCT\d{8}", path.read_text(encoding="utf-8"))
        ids.add(match.group(0) if match else path.stem)
    return ids


def test_gold_meets_the_coverage_of_issue_7() -> None:
    cases = load_cases(GOLD)
    assert len(cases) >= 60
    assert sum(len(c.prompts) >= 2 for c in cases) >= 5
    assert sum(c.expect_abstain for c in cases) >= 8
    assert {c.category for c in cases} == {"fact", "list", "numeric", "follow-up", "abstain"}
    assert seed_ids() == {HPV_DOC, IUA, PSO, HAIKOU, XIJING}
    assert {i for c in cases for i in c.expected_ids} == seed_ids()
    lists = [c for c in cases if c.category == "list"]
    assert lists and all(c.expect_trials or c.expect_docs for c in lists)
    assert all(c.forbid_trials for c in lists)
    covered = {s.split(":")[0] for c in cases for s in c.expect_sections}
    assert covered == set(CANONICAL_SECTIONS) - {"Results"}  # no seed page posts results


@pytest.mark.parametrize("path", [GOLD, GOLD_CTGOV], ids=["gold", "gold_ctgov"])
def test_gold_expectations_are_not_given_away_by_the_question(path: Path) -> None:
    for c in load_cases(path):
        asked = " ".join(c.prompts).lower()
        assert not [t for t in c.expect_any_text if t.lower() in asked], c.id
        assert c.expect_abstain or c.expected_ids, f"{c.id}: an answered case must expect a source"


def test_gold_can_fail_and_can_pass() -> None:
    """An oracle passes every case; citing everything or always abstaining fails the gate."""
    cases = load_cases(GOLD)
    everything = [(tid, "Title") for tid in SECTIONS]

    def oracle(c: Case) -> tuple[Answer, list[str]]:
        if c.expect_abstain:
            return answer("No indexed trial answers this.", abstained=True), []
        cites = [(i, "Title") for i in c.expected_ids]
        return answer(" ".join(c.expect_any_text[:1]) or "see sources", *cites), c.expected_ids

    limits = load_thresholds(THRESHOLDS, GOLD.name)
    assert check(run_eval(cases, oracle, set(SECTIONS)), limits) == []
    cite_all = run_eval(cases, lambda c: (answer(" ".join(c.expect_any_text), *everything), []), set(SECTIONS))
    assert cite_all.per_category["list"].passed == 0
    assert check(cite_all, limits)
    abstain = run_eval(cases, lambda c: (answer("Not in the records.", abstained=True), []), set(SECTIONS))
    assert check(abstain, limits) and abstain.abstention_accuracy == 1.0


def shared_dir() -> Path | None:
    for candidate in (os.environ.get("TRIALQA_SHARED"), ROOT.parent / "shared"):
        if candidate and (Path(candidate) / "corpus" / "ctgov-xml").is_dir():
            return Path(candidate)
    return None


def test_gold_ctgov_validates_against_the_corpus() -> None:
    cases = load_cases(GOLD_CTGOV)
    assert len(cases) >= 30 and sum(c.expect_abstain for c in cases) >= 3
    shared = shared_dir()
    if shared is None:
        pytest.skip("no shared corpus: set TRIALQA_SHARED or provide ../shared")
    corpus = shared / "corpus" / "ctgov-xml"
    for c in cases:
        for nct in c.expected_ids:
            text = (corpus / f"{nct}.xml").read_text(encoding="utf-8").lower()
            assert any(t.lower() in text for t in c.expect_any_text), c.id
        for nct in re.findall(r"NCT\d{8}", " ".join(c.prompts)):
            assert (corpus / f"{nct}.xml").exists() != c.expect_abstain, c.id


# --- expect_exact and table rows (corpus-scale answers, issue 16) --------------------------------

def table_answer(text: str, rows: list[str], *cites: tuple[str, str]) -> Answer:
    from trialqa.answer.plan import Row, Table

    return answer(text, *cites).model_copy(
        update={"table": Table(rows=[Row(trial_id=t) for t in rows], total=len(rows), of=5)})


def test_expected_trial_in_the_table_rows_counts_as_given() -> None:
    c = case(category="list", expect_trials=[PSO, XIJING])
    only_text = answer("2 of the 5 indexed trials match", (PSO, "Arms"))
    assert not score_case(c, only_text, None, KNOWN).passed
    with_rows = table_answer("2 of the 5 indexed trials match", [PSO, XIJING], (PSO, "Arms"))
    assert score_case(c, with_rows, None, KNOWN).passed


def test_expect_exact_compares_the_table_rows_with_the_expected_set() -> None:
    c = case(category="list", expect_trials=[PSO, XIJING], expect_exact=True)
    assert score_case(c, table_answer("2 match", [XIJING, PSO]), None, KNOWN).passed
    extra = score_case(c, table_answer("3 match", [PSO, XIJING, HAIKOU], (PSO, "Arms")), None, KNOWN)
    assert not extra.passed and "answer set has extra: NCT05106972" in extra.reasons
    short = score_case(c, table_answer("1 matches", [PSO], (PSO, "Arms"), (XIJING, "Arms")), None, KNOWN)
    assert not short.passed and "answer set lacks: NCT01728727" in short.reasons


def test_expect_exact_without_a_table_uses_the_cited_trials() -> None:
    c = case(category="lay", expect_trials=[PSO], expect_exact=True)
    assert score_case(c, answer("NCT03765957", (PSO, "Arms")), None, KNOWN).passed
    both = score_case(c, answer("two", (PSO, "Arms"), (HAIKOU, "Sponsor")), None, KNOWN)
    assert not both.passed and "answer set has extra: NCT05106972" in both.reasons
    loose = case(category="lay", expect_trials=[PSO])  # without expect_exact an extra trial is allowed
    assert score_case(loose, answer("two", (PSO, "Arms"), (HAIKOU, "Sponsor")), None, KNOWN).passed


def test_expect_exact_needs_expected_trials() -> None:
    with pytest.raises(ValueError, match="expect_exact"):
        case(category="list", expect_exact=True)


def test_corpus_categories_are_reported_per_category() -> None:
    cats = ["described", "eligibility", "aggregate", "lay"]
    cases = [case(id=f"c{i}", category=cat, expect_any_text=["yes"]) for i, cat in enumerate(cats)]
    report = run_eval(cases, lambda c: (answer("yes" if c.category != "lay" else "no"), None), set(SECTIONS))
    assert {cat: report.per_category[cat].passed for cat in cats} == {
        "described": 1, "eligibility": 1, "aggregate": 1, "lay": 0}
