"""A patient note -> the best-ranked trials, each checked for eligibility (`trialqa match`,
and the chat's answer to a pasted note)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from trialqa.answer.eligibility.check import EligibilityResult, Judge, answer_eligibility
from trialqa.answer.eligibility.person import person_from_text
from trialqa.answer.eligibility.store import load_criteria
from trialqa.answer.plan import Person
from trialqa.errors import BadInput


@dataclass
class MatchRow:
    rank: int
    trial_id: str
    nct_id: str | None
    title: str
    score: float
    result: EligibilityResult
    seconds: float = 0.0

    @property
    def verdict(self) -> str:
        return self.result.verdict

    def to_json(self) -> dict[str, Any]:
        return {
            "rank": self.rank, "trial_id": self.trial_id, "nct_id": self.nct_id, "title": self.title,
            "score": round(self.score, 6), "verdict": self.result.verdict, "text": self.result.text,
            "deciding": [{"section": s.section, "quote": s.text} for s in self.result.deciding],
            "seconds": round(self.seconds, 3),
        }


@dataclass
class MatchReport:
    person: Person
    rows: list[MatchRow] = field(default_factory=list)
    rank_s: float = 0.0
    check_s: float = 0.0


def match_note(index: Any, embedder: Any, note: str, k: int, judge: Judge | None = None,
               settings: Any = None) -> list[MatchRow]:
    """Rank trials for `note` (`Retriever.rank_trials`) and check the top `k` for eligibility."""
    return match_report(index, embedder, note, k, judge, settings).rows


def match_report(index: Any, embedder: Any, note: str, k: int, judge: Judge | None = None,
                 settings: Any = None) -> MatchReport:
    """`match_note` with the person read from the note and the time each stage took."""
    from trialqa.retrieve import Retriever

    if not note or not note.strip():
        raise BadInput("the patient note is empty")
    if k < 1:
        raise BadInput(f"-k must be at least 1, got {k}")
    person = person_from_text(note)
    t0 = time.perf_counter()
    ranked = Retriever(index, embedder, settings).rank_trials(note, k)
    report = MatchReport(person, rank_s=time.perf_counter() - t0)
    db = getattr(index, "db", None)
    for rank, (trial_id, score) in enumerate(ranked, start=1):
        trial = index.trials[trial_id]
        t1 = time.perf_counter()
        result = answer_eligibility(trial, person, judge=judge, criteria=load_criteria(db, trial))
        seconds = time.perf_counter() - t1
        report.rows.append(MatchRow(rank, trial_id, trial.nct_id, trial.title, score, result, seconds))
    report.check_s = sum(r.seconds for r in report.rows)
    return report
