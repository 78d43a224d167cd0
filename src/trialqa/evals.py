"""Gold-answer evaluation: load cases, score answers, aggregate metrics, gate on thresholds.

    load_cases(path) -> [Case]                 one JSON object per line, validated (evals_cases)
    run_eval(cases, answer_fn, valid_ids)      -> EvalReport (score_case on every case)
    load_thresholds(path, "gold.jsonl")        -> Thresholds (one TOML table per gold file)
    check(report, thresholds)                  -> ["answer_accuracy 0.850 < min 0.9", ...]

A case passes when its abstention matches `expect_abstain` (an abstention cites nothing)
and, for an answered case, every expected trial/doc is cited, no forbidden trial is cited,
one of `expect_any_text` appears in the answer (case-insensitive) and no citation is
hallucinated (its trial, or trial and section, is not in the index). `expect_sections` is
advisory: a miss is a warning, not a failure. An expected trial also counts as given when it
is a row of the answer's table (list / count answers hold every match there, the text shows
at most 20). With `expect_exact` the answer's trial set - its table rows when it has a
table, else its cited trials - must equal `expect_trials` exactly.

Metrics are micro-averaged: citation precision over distinct cited trials (a cited trial
counts when expected, or when the case expects none, when not forbidden; every citation
of an abstention case counts against it); recall and retrieval recall over expected ids;
abstention accuracy over the cases that expect an abstention. A metric with nothing to
measure is None.
"""

from __future__ import annotations

import math
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field

from trialqa.errors import BadInput, ConfigError, GenerationError
from trialqa.evals_cases import CATEGORIES, Case, Category, read_jsonl_cases
from trialqa.groundedness import unsupported_sentences
from trialqa.types import Answer, Citation, Timings, Trial

#: Metrics a threshold may name. Those in LOWER_IS_BETTER are maxima, the rest minima.
METRICS = (
    "answer_accuracy", "citation_precision", "citation_recall", "hallucinated_citations",
    "abstention_accuracy", "retrieval_recall_at_k", "latency_p50_s", "latency_p95_s",
    "unsupported_claims",
)
LOWER_IS_BETTER = frozenset({"hallucinated_citations", "latency_p50_s", "latency_p95_s", "unsupported_claims"})


class CaseResult(BaseModel):
    """The score of one case, with everything needed to see why it failed."""

    id: str
    category: Category
    turns: list[str]
    expect_abstain: bool | None
    passed: bool
    reasons: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    answer: str
    abstained: bool
    error: str | None = None
    citations: list[Citation] = Field(default_factory=list)
    cited: list[str] = Field(default_factory=list, description="distinct cited trial ids")
    retrieved: list[str] | None = None
    hallucinated: int = 0
    unsupported: list[str] = Field(default_factory=list, description="sentences stating what their quotes do not")
    cited_correct: int = Field(0, description="distinct cited ids that count for precision")
    expected_cited: int = 0
    expected_total: int = 0
    expected_retrieved: int | None = None
    timings: Timings = Field(default_factory=Timings)


class CategoryScore(BaseModel):
    cases: int
    passed: int
    accuracy: float


class Failure(BaseModel):
    id: str
    category: Category
    reasons: list[str]


class EvalReport(BaseModel):
    """Aggregate metrics (the `--json` line) plus every case result (the report file)."""

    cases: int
    passed: int
    answer_accuracy: float
    citation_precision: float | None
    citation_recall: float | None
    hallucinated_citations: int
    unsupported_claims: int = Field(0, description="answer sentences not stated by their cited quotes (groundedness)")
    abstention_accuracy: float | None
    retrieval_recall_at_k: float | None
    latency_p50_s: float
    latency_p95_s: float
    failures: list[Failure]
    per_category: dict[str, CategoryScore]
    results: list[CaseResult] = Field(default_factory=list)

    def summary(self) -> dict[str, object]:
        """The metrics object printed as the last line of `trialqa eval --json`."""
        return self.model_dump(mode="json", exclude={"results"})


class Thresholds(BaseModel):
    """Limits for one gold file: minima, except for LOWER_IS_BETTER metrics (maxima)."""

    source: str
    limits: dict[str, float]


class KnownSources:
    """What a citation may point at: the indexed trial ids and, optionally, their sections."""

    def __init__(self, trial_ids: Iterable[str], sections: Iterable[tuple[str, str]] | None = None):
        self.trial_ids = frozenset(trial_ids)
        self.sections = frozenset(sections) if sections is not None else None

    @classmethod
    def from_trials(cls, trials: Mapping[str, Trial]) -> KnownSources:
        return cls(trials, ((tid, s.name) for tid, t in trials.items() for s in t.sections))

    def resolves(self, citation: Citation) -> bool:
        if citation.trial_id not in self.trial_ids:
            return False
        return self.sections is None or (citation.trial_id, citation.section) in self.sections


AnswerFn = Callable[[Case], tuple[Answer, list[str] | None]]


class IndexLike(Protocol):
    @property
    def trials(self) -> Mapping[str, Trial]: ...


class Conversational(Protocol):
    """The part of `trialqa.assistant.Assistant` the eval drives."""

    @property
    def index(self) -> IndexLike: ...

    def converse(self, turns: list[str]) -> Answer: ...


def load_cases(path: Path) -> list[Case]:
    """Read a gold JSONL file; a bad line raises BadInput naming `file:line`."""
    return read_jsonl_cases(path, Case, "gold")


def _ids(citation: Citation) -> set[str]:
    return {citation.trial_id, citation.doc_id} | ({citation.nct_id} if citation.nct_id else set())


def _exact_set_reasons(expected: set[str], answered: set[str]) -> list[str]:
    """`expect_exact`: the answer's trial set must be the expected set, no more, no fewer."""
    out = []
    if missing := sorted(expected - answered):
        out.append("answer set lacks: " + ", ".join(missing))
    if extra := sorted(answered - expected):
        out.append("answer set has extra: " + ", ".join(extra))
    return out


def score_case(
    case: Case,
    answer: Answer,
    hits_trial_ids: list[str] | None,
    known: KnownSources | None = None,
) -> CaseResult:
    """Score one answer against its gold case (see the module docstring for the rules)."""
    reasons: list[str] = []
    expected = set(case.expected_ids)
    forbidden = set(case.forbid_trials)
    by_trial: dict[str, set[str]] = {}
    for c in answer.citations:
        by_trial.setdefault(c.trial_id, set()).update(_ids(c))
    bad = [c for c in answer.citations if known is not None and not known.resolves(c)]
    bad_trials = {c.trial_id for c in bad}
    cited_any = set().union(*by_trial.values()) if by_trial else set()

    if answer.error:
        reasons.append(f"error: {answer.error}")
    if bad:
        reasons.append("hallucinated citations: " + ", ".join(f"{c.trial_id} · {c.section}" for c in bad))
    if case.expect_abstain:
        if not answer.abstained:
            reasons.append("answered, expected an abstention")
        elif answer.citations:
            reasons.append("abstained but cited sources")
        correct = 0
    else:
        if answer.abstained and case.expect_abstain is not None:
            reasons.append("abstained, expected an answer")
        rows = {row.trial_id for row in answer.table.rows} if answer.table is not None else None
        if missing := sorted(expected - cited_any - (rows or set())):
            reasons.append("expected not cited: " + ", ".join(missing))
        if case.expect_exact:
            reasons += _exact_set_reasons(set(case.expect_trials), rows if rows is not None else set(by_trial))
        if cited_forbidden := sorted(forbidden & cited_any):
            reasons.append("forbidden cited: " + ", ".join(cited_forbidden))
        text = answer.text.lower()
        if case.expect_any_text and not any(t.lower() in text for t in case.expect_any_text):
            reasons.append("answer has none of: " + " | ".join(case.expect_any_text))
        if expected:
            correct = sum(1 for tid, ids in by_trial.items() if ids & expected and tid not in bad_trials)
        else:
            correct = sum(1 for tid, ids in by_trial.items() if not ids & forbidden and tid not in bad_trials)

    cited_sections = [c.section.split(":")[0].strip() for c in answer.citations]
    warnings = [
        f"section not cited: {name}" for name in case.expect_sections
        if not case.expect_abstain and name.split(":")[0].strip() not in cited_sections
    ]
    unsupported = unsupported_sentences(answer, case.prompts[-1])
    if unsupported and case.expect_abstain is None:  # a bait case: every claim in its quotes
        reasons.append("unsupported claim: " + unsupported[0])
    retrieved_hits = None
    if hits_trial_ids is not None and expected and not case.expect_abstain:
        retrieved_hits = len(expected & set(hits_trial_ids))
    return CaseResult(
        id=case.id, category=case.category, turns=case.prompts, expect_abstain=case.expect_abstain,
        passed=not reasons,
        reasons=reasons, warnings=warnings, answer=answer.text, abstained=answer.abstained,
        error=answer.error, citations=answer.citations, cited=sorted(by_trial),
        retrieved=hits_trial_ids, hallucinated=len(bad), cited_correct=correct,
        expected_cited=len(expected & cited_any), expected_total=len(expected),
        expected_retrieved=retrieved_hits, timings=answer.timings, unsupported=unsupported,
    )


def run_eval(
    cases: list[Case],
    answer_fn: AnswerFn,
    valid_ids: set[str] | KnownSources,
    on_result: Callable[[int, int, CaseResult], None] | None = None,
) -> EvalReport:
    """Answer and score every case, then aggregate. `on_result(i, n, result)` reports progress."""
    known = valid_ids if isinstance(valid_ids, KnownSources) else KnownSources(valid_ids)
    results = []
    for i, case in enumerate(cases, 1):
        answer, retrieved = answer_fn(case)
        result = score_case(case, answer, retrieved, known)
        results.append(result)
        if on_result is not None:
            on_result(i, len(cases), result)
    return aggregate(results)


def aggregate(results: list[CaseResult]) -> EvalReport:
    """Combine case results into the report metrics (micro-averaged over citations/ids)."""
    n = len(results)
    passed = sum(r.passed for r in results)
    answered = [r for r in results if r.expected_total]
    abstain = [r for r in results if r.expect_abstain]
    with_hits = [r for r in results if r.expected_retrieved is not None]
    latencies = sorted(r.timings.total_s for r in results)
    per_category = {}
    for cat in CATEGORIES:
        rs = [r for r in results if r.category == cat]
        if rs:
            ok = sum(r.passed for r in rs)
            per_category[cat] = CategoryScore(cases=len(rs), passed=ok, accuracy=ok / len(rs))
    return EvalReport(
        cases=n,
        passed=passed,
        answer_accuracy=passed / n if n else 0.0,
        citation_precision=_ratio(sum(r.cited_correct for r in results), sum(len(r.cited) for r in results)),
        citation_recall=_ratio(
            sum(r.expected_cited for r in answered), sum(r.expected_total for r in answered)
        ),
        hallucinated_citations=sum(r.hallucinated for r in results),
        unsupported_claims=sum(len(r.unsupported) for r in results),
        abstention_accuracy=_ratio(sum(r.abstained and not r.citations for r in abstain), len(abstain)),
        retrieval_recall_at_k=_ratio(
            sum(r.expected_retrieved or 0 for r in with_hits), sum(r.expected_total for r in with_hits)
        ),
        latency_p50_s=_percentile(latencies, 50),
        latency_p95_s=_percentile(latencies, 95),
        failures=[Failure(id=r.id, category=r.category, reasons=r.reasons) for r in results if not r.passed],
        per_category=per_category,
        results=results,
    )


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def _percentile(sorted_values: list[float], pct: float) -> float:
    """Linear-interpolated percentile of already sorted values (0.0 for none)."""
    if not sorted_values:
        return 0.0
    pos = (len(sorted_values) - 1) * pct / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def load_thresholds(path: Path, eval_file_name: str) -> Thresholds:
    """Read the `["<eval_file_name>"]` table of a thresholds TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no thresholds file (pass --thresholds PATH)") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read thresholds: {exc}") from None
    table = data.get(eval_file_name)
    if not isinstance(table, dict):
        raise ConfigError(f'{path}: no ["{eval_file_name}"] table; add one with the metric limits')
    limits: dict[str, float] = {}
    for key, value in table.items():
        if key not in METRICS:
            raise ConfigError(f'{path}: ["{eval_file_name}"].{key} is not a metric ({", ".join(METRICS)})')
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f'{path}: ["{eval_file_name}"].{key} must be a number, got {value!r}')
        limits[key] = float(value)
    return Thresholds(source=f'{path}["{eval_file_name}"]', limits=limits)


def check(report: EvalReport, thresholds: Thresholds) -> list[str]:
    """Every metric that misses its limit, as one line each; empty when the gate passes.

    A metric the cases cannot measure (None: e.g. no abstention case in a `--limit` run)
    is skipped; every gold file measures all of them.
    """
    failures = []
    for metric, limit in thresholds.limits.items():
        value = getattr(report, metric)
        if value is None:
            continue
        if metric in LOWER_IS_BETTER and value > limit:
            failures.append(f"{metric} {value:.3f} > max {limit:g}")
        elif metric not in LOWER_IS_BETTER and value < limit:
            failures.append(f"{metric} {value:.3f} < min {limit:g}")
    return failures


def assistant_answer_fn(assistant: Conversational) -> AnswerFn:
    """Answer a case the way `trialqa ask` would: the whole conversation, fresh per case.

    A question the assistant rejects (BadInput) or a generation failure becomes a failed
    case with its error, and the run goes on; other errors (no index, no model) abort.
    """

    def answer(case: Case) -> tuple[Answer, list[str] | None]:
        started = time.perf_counter()
        try:
            result = assistant.converse(case.prompts)
        except (BadInput, GenerationError) as exc:
            elapsed = time.perf_counter() - started
            return Answer(text="", error=str(exc), timings=Timings(total_s=elapsed)), None
        return result, list(result.retrieved)  # the Answer says what was retrieved

    return answer
