"""`aggregate` cases: counts, totals, shares, extremes and two-trial comparisons.

Every number is computed over all records. Counts of at least 10 only (a one-digit count
would match too many answers as text); an extreme or a comparison must have one winner
(no tie); a total needs every matching trial to state its enrollment; a filter read two
ways (see `common.ambiguous`) is refused unless the question says which.
"""

from __future__ import annotations

from collections.abc import Callable

from goldgen.common import (
    Pred, allocation, all_of, case, condition, country, has_phase, healthy, ids,
    intervention_type, num_forms, pct_forms, placebo_arm, readings, require, results, sex_only, sponsor,
    start_year, status, study_type,
)
from goldgen.records import Rec

Computed = tuple[list[str], list[str]]  # (answer text forms, expected trials)


def _robust(recs: list[Rec], preds: tuple[Pred, ...], value: Callable[[list[Rec]], object], what: str) -> None:
    """The computed value must not change when a filter is read the other way."""
    values = {repr(value([r for r in recs if all_of(*reading)(r)])) for reading in readings(preds)}
    require(len(values) == 1, f"{what}: another reading of the filters gives another answer {sorted(values)}")


def count(*preds: Pred, stated: bool = False) -> Callable[[list[Rec]], Computed]:
    def run(recs: list[Rec]) -> Computed:
        match = ids(recs, all_of(*preds))
        require(len(match) >= 10, f"count of {len(match)} is too small to check as text")
        if not stated:
            _robust(recs, preds, len, "count")
        return num_forms(len(match)), []
    return run


def _sum(match: list[Rec]) -> int:
    return sum(r.enrollment or 0 for r in match)


def total(*preds: Pred) -> Callable[[list[Rec]], Computed]:
    def run(recs: list[Rec]) -> Computed:
        match = [r for r in recs if all_of(*preds)(r)]
        require(2 <= len(match) <= 25 and all(r.enrollment is not None for r in match), "total: bad set")
        _robust(recs, preds, _sum, "total")
        return num_forms(_sum(match)), sorted(r.nct for r in match)
    return run


def share(base: tuple[Pred, ...], part: Pred) -> Callable[[list[Rec]], Computed]:
    def pct(den: list[Rec]) -> list[str]:
        return pct_forms(sum(1 for r in den if part(r)), len(den)) if den else []

    def run(recs: list[Rec]) -> Computed:
        den = [r for r in recs if all_of(*base)(r)]
        num = [r for r in den if part(r)]
        require(len(den) >= 5 and 0 < len(num) < len(den), "share: degenerate")
        _robust(recs, base, pct, "share")
        return pct(den), []
    return run


def extreme(preds: tuple[Pred, ...], key: Callable[[Rec], object], biggest: bool) -> Callable[[list[Rec]], Computed]:
    def winner(match: list[Rec]) -> str:
        ranked = sorted((r for r in match if key(r) is not None), key=key, reverse=biggest)  # type: ignore[arg-type]
        require(len(ranked) >= 3, "extreme: too few trials")
        require(key(ranked[0]) != key(ranked[1]), f"extreme: tie between {ranked[0].nct} and {ranked[1].nct}")
        return ranked[0].nct

    def run(recs: list[Rec]) -> Computed:
        _robust(recs, preds, winner, "extreme")
        win = winner([r for r in recs if all_of(*preds)(r)])
        return [win], [win]
    return run


def compare(a: str, b: str, key: Callable[[Rec], object], biggest: bool) -> Callable[[list[Rec]], Computed]:
    def run(recs: list[Rec]) -> Computed:
        by = {r.nct: r for r in recs}
        ka, kb = key(by[a]), key(by[b])
        require(ka is not None and kb is not None and ka != kb, f"compare {a} {b}: missing or tied")
        win = a if (ka > kb) == biggest else b  # type: ignore[operator]
        return [win], [a, b]
    return run


def _enroll(r: Rec) -> int | None:
    return r.enrollment


def _start(r: Rec) -> object:
    return r.start


def _sites(r: Rec) -> int | None:
    return r.sites or None


def _min_age(r: Rec) -> float | None:
    return r.min_age


SPECS: list[tuple[str, Callable[[list[Rec]], Computed]]] = [
    ("How many trials in the index enroll only men?", count(sex_only("Male"))),
    ("Count the terminated phase 3 trials, please (phase 2/3 included).", count(has_phase("3"), status("Terminated"), stated=True)),
    ("How many HIV trials does NIAID sponsor?", count(condition("HIV"), sponsor("NIAID"))),
    ("Number of phase 3 trials with at least one site in Canada (2/3 counts as well)?",
     count(has_phase("3"), country("Canada"), stated=True)),
    ("How many of the trials began in 1999?", count(start_year(1999))),
    ("What is the total planned enrollment across the phase 3 trials with sites in Israel?",
     total(country("Israel"), has_phase("3"))),
    ("Add up the enrollment of all randomized asthma trials - what do you get?",
     total(condition("asthma"), allocation("Randomized"))),
    ("What percentage of the trials that posted results had a placebo comparator arm?", share((results(),), placebo_arm())),
    ("Among the observational studies, what share is still recruiting?",
     share((study_type("Observational"),), status("Recruiting"))),
    ("Of the trials that accept healthy volunteers, what fraction are restricted to women?",
     share((healthy(True),), sex_only("Female"))),
    ("Which asthma trial plans the largest enrollment?", extreme((condition("asthma"),), _enroll, True)),
    ("Of the epilepsy trials, which one started earliest?", extreme((condition("epilepsy"),), _start, False)),
    ("Which tuberculosis study runs at the most sites?", extreme((condition("tuberculosis"),), _sites, True)),
    ("Smallest planned enrollment among the completed cystic fibrosis trials - which trial is it?",
     extreme((condition("cystic fibrosis"), status("Completed")), _enroll, False)),
    ("Among the trials still recruiting, which one has been going longest (earliest start date)?",
     extreme((status("Recruiting"),), _start, False)),
    ("Which of NCT00000620 and NCT00000479 enrolls more people?", compare("NCT00000620", "NCT00000479", _enroll, True)),
    ("NCT00000125 or NCT00000167: which one got under way first?", compare("NCT00000125", "NCT00000167", _start, False)),
    ("Between NCT00004732 and NCT00003279, which trial has more sites?", compare("NCT00004732", "NCT00003279", _sites, True)),
    ("Comparing NCT00000575 and NCT00001532, which lets younger children in?", compare("NCT00000575", "NCT00001532", _min_age, False)),
    ("How many phase 2 trials test a biological, counting phase 1/2 and 2/3 too?",
     count(has_phase("2"), intervention_type("Biological"), stated=True)),
]


def build(recs: list[Rec]) -> list[dict[str, object]]:
    out = []
    for i, (question, compute) in enumerate(SPECS, 1):
        text, trials = compute(recs)
        out.append(case(f"corpus-aggregate-{i:02d}", "aggregate", question=question, trials=trials, text=text))
    return out

