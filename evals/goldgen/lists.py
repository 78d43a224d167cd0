"""`list` cases: "which trials ..." with 2-3 combined filters, the set computed exhaustively.

Each spec is a hand-written question and the filters it states. The builder computes the
matching set over every record, refuses a set outside 1..25, refuses a condition filter whose
set changes when titles and keywords are searched too (an ambiguous filter), and forbids a
few near misses (trials meeting every filter but one).
"""

from __future__ import annotations

from goldgen.common import (
    GoldError, Pred, accepts_age, allocation, all_of, ambiguous, case, condition, country,
    enrollment, has_phase, healthy, ids, intervention_type, masked, near_misses, phase, placebo_arm,
    require, results, sex_only, sponsor, start_year, status, study_type,
)
from goldgen.records import Rec

# (question, filters, True when the question states how an ambiguous filter is read)
SPECS: list[tuple[str, tuple[Pred, ...], bool]] = [
    ("Which phase 3 trials running sites in Canada ended up terminated?",
     (has_phase("3"), status("Terminated"), country("Canada")), False),
    ("List the studies in phase 2 proper (not combined phase 1/2 or 2/3) that enroll only men.",
     (phase("Phase 2"), sex_only("Male")), True),
    ("I'm looking for phase 3 (or phase 2/3) trials with a placebo comparator arm that have posted results - which ones are there?",
     (has_phase("3"), placebo_arm(), results()), True),
    ("Which asthma trials would take an 8-year-old?",
     (condition("asthma"), accepts_age(8)), False),
    ("Show me randomized trials that test a device.",
     (intervention_type("Device"), allocation("Randomized")), False),
    ("Which behavioral-intervention studies are open to women only?",
     (intervention_type("Behavioral"), sex_only("Female")), False),
    ("Which observational studies led by the NHLBI plan to enroll more than 5,000 people?",
     (sponsor("NHLBI"), study_type("Observational"), enrollment(lo=5000)), False),
    ("Withdrawn trials in phase 2 (including phase 1/2 and 2/3): which are they?",
     (status("Withdrawn"), has_phase("2")), True),
    ("Which trials with Italian sites have an unknown status?",
     (country("Italy"), status("Unknown status")), False),
    ("Which trials started in 2007 and are still recruiting?",
     (start_year(2007), status("Recruiting")), False),
    ("Quadruple-masked trials that have results posted: list them.",
     (masked("Quadruple"), results()), False),
    ("Which HIV studies recruit women only?",
     (condition("HIV"), sex_only("Female")), False),
    ("Phase 3 work with an Israeli site - which trials?",
     (country("Israel"), has_phase("3")), False),
    ("Find the obesity trials that accept healthy volunteers.",
     (condition("obesity"), healthy(True)), False),
    ("Which interventional trials sponsored by the National Eye Institute are double-masked?",
     (sponsor("National Eye Institute"), study_type("Interventional"), masked("Double")), False),
    ("For sickle cell anemia, which trials assign treatment at random?",
     (condition("sickle cell"), allocation("Randomized")), False),
    ("Which completed Memorial Sloan Kettering trials were phase 1 or phase 1/2?",
     (sponsor("Memorial Sloan Kettering"), status("Completed"), phase("Phase 1", "Phase 1/Phase 2")), False),
    ("Are there trials in Australia that enroll fewer than 50 participants? Which?",
     (country("Australia"), enrollment(hi=50)), False),
    ("Which trials testing a dietary supplement started before 2000?",
     (intervention_type("Dietary Supplement"), lambda r: r.start is not None and r.start.year < 2000), False),
    ("What genetic-intervention trials (gene transfer and the like) are in phase 1?",
     (intervention_type("Genetic"), has_phase("1")), False),
]


def build(recs: list[Rec]) -> list[dict[str, object]]:
    out = []
    for i, (question, preds, stated) in enumerate(SPECS, 1):
        match = ids(recs, all_of(*preds))
        require(1 <= len(match) <= 25, f"list-{i:02d}: {len(match)} trials match {question!r}")
        if not stated and (which := ambiguous(recs, preds)):
            raise GoldError(f"list-{i:02d}: {', '.join(which)} of {question!r} read another way give another set")
        out.append(case(f"corpus-list-{i:02d}", "list", question=question, trials=match,
                        forbid=near_misses(recs, preds), exact=True))
    return out
