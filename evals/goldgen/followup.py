"""`follow-up` cases: conversations whose last turn points at the previous answer.

The first turn's set is computed exhaustively and kept small (2..20 trials, 6 for ordinals); the product is
assumed to list trials by NCT id ascending, so "the second one" is the second smallest id.
Only the last turn is scored: its set (exact for "which of those"), the item an ordinal or a
pronoun points at, and the value asked about.
"""

from __future__ import annotations

from collections.abc import Callable

from goldgen.common import (
    Pred, allocation, all_of, case, condition, country, has_phase, healthy, masked, month_year,
    num_forms, phase_forms, readings, require, results, sex_only, sponsor, start_year, status, study_type,
)
from goldgen.records import Rec

Spec = Callable[[list[Rec], dict[str, Rec]], dict[str, object]]


def _first(recs: list[Rec], preds: tuple[Pred, ...], lo: int = 2, hi: int = 20) -> list[Rec]:
    match = sorted((r for r in recs if all_of(*preds)(r)), key=lambda r: r.nct)
    require(lo <= len(match) <= hi, f"follow-up first turn: {len(match)} trials")
    sets = {tuple(sorted(r.nct for r in recs if all_of(*p)(r))) for p in readings(preds)}
    require(len(sets) == 1, "follow-up first turn: filters read another way give another set")
    return match


def which_of(q1: str, preds: tuple[Pred, ...], q2: str, sub: Pred) -> Spec:
    def run(recs: list[Rec], by: dict[str, Rec]) -> dict[str, object]:
        first = _first(recs, preds)
        keep = [r.nct for r in first if sub(r)]
        require(1 <= len(keep) < len(first), f"follow-up subset of {len(keep)}/{len(first)}")
        return {"turns": [q1, q2], "trials": keep, "forbid": [r.nct for r in first if not sub(r)], "exact": True}
    return run


def ordinal(q1: str, preds: tuple[Pred, ...], q2: str, pos: int, value: Callable[[Rec], list[str] | None]) -> Spec:
    def run(recs: list[Rec], by: dict[str, Rec]) -> dict[str, object]:
        first = _first(recs, preds, hi=6)
        item = first[pos]
        text = value(item)
        require(bool(text), f"follow-up ordinal: {item.nct} lacks the value")
        return {"turns": [q1, q2], "trials": [item.nct], "text": text}
    return run


def about(q1: str, nct: str, q2: str, value: Callable[[Rec], list[str] | None], sections: list[str] = ()) -> Spec:
    def run(recs: list[Rec], by: dict[str, Rec]) -> dict[str, object]:
        text = value(by[nct]) if value else []
        require(text is not None, f"follow-up about {nct}: no value")
        return {"turns": [q1.format(id=nct), q2], "trials": [nct], "text": text or [], "sections": list(sections)}
    return run


def over_set(q1: str, preds: tuple[Pred, ...], q2: str, compute: Callable[[list[Rec]], tuple[list[str], list[str]]]) -> Spec:
    def run(recs: list[Rec], by: dict[str, Rec]) -> dict[str, object]:
        text, trials = compute(_first(recs, preds))
        return {"turns": [q1, q2], "trials": trials, "text": text}
    return run


def _most_enrolled(rs: list[Rec]) -> tuple[list[str], list[str]]:
    ranked = sorted((r for r in rs if r.enrollment is not None), key=lambda r: -(r.enrollment or 0))
    require(len(ranked) >= 2 and ranked[0].enrollment != ranked[1].enrollment, "most enrolled: tie")
    return [ranked[0].nct], [ranked[0].nct]


def _earliest(rs: list[Rec]) -> tuple[list[str], list[str]]:
    ranked = sorted((r for r in rs if r.start), key=lambda r: r.start)  # type: ignore[arg-type, return-value]
    require(len(ranked) >= 2 and ranked[0].start != ranked[1].start, "earliest: tie")
    return [ranked[0].nct], [ranked[0].nct]


def _country(r: Rec) -> list[str] | None:
    return sorted(r.countries) or None


def _enroll(r: Rec) -> list[str] | None:
    return num_forms(r.enrollment) if r.enrollment else None


def _start(r: Rec) -> list[str] | None:
    return month_year(r.start_text) if r.start else None


SPECS: list[Spec] = [
    which_of("Which randomized trials are there for sickle cell anemia?", (condition("sickle cell"), allocation("Randomized")),
             "Which of those are phase 3?", lambda r: r.phase == "Phase 3"),
    ordinal("List the trials that started in 2007 and are still recruiting.", (start_year(2007), status("Recruiting")),
            "The second one - how many people is it enrolling?", 1, _enroll),
    about("What is {id} about?", "NCT00493974", "What about its exclusion criteria?", lambda r: [], ["Eligibility: Exclusion"]),
    which_of("Asthma: list the randomized trials.", (condition("asthma"), allocation("Randomized")),
             "And which of them take children younger than 12?", lambda r: r.min_age is not None and r.min_age < 12),
    which_of("Show me the trials in Israel that are phase 3 or phase 2/3.", (country("Israel"), has_phase("3")),
             "Which of them have results posted?", results()),
    over_set("NHLBI observational cohorts with planned enrollment above 5,000 - which are they?",
             (sponsor("NHLBI"), study_type("Observational"), lambda r: (r.enrollment or 0) > 5000),
             "Which of them is the largest?", _most_enrolled),
    which_of("HIV research restricted to female participants - what is there?", (condition("HIV"), sex_only("Female")),
             "Which of those are phase 1?", lambda r: r.phase == "Phase 1"),
    about("Who sponsors {id}?", "NCT00004732", "How many sites does it have?", lambda r: num_forms(r.sites)),
    ordinal("Which dietary-supplement trials started before 2000?",
            (lambda r: any(t == "Dietary Supplement" for t, _ in r.interventions), lambda r: bool(r.start and r.start.year < 2000)),
            "Where is the first one run?", 0, _country),
    which_of("Which obesity trials accept healthy volunteers?",
             (condition("obesity"), healthy(True)), "Of these, which have sites outside the United States?",
             lambda r: any(c != "United States" for c in r.countries)),
    which_of("Show the double-blind interventional studies the NEI sponsors.",
             (sponsor("National Eye Institute"), study_type("Interventional"), masked("Double")),
             "Of those, which started in 1990 or later?", lambda r: bool(r.start and r.start.year >= 1990)),
    which_of("Trials in Italy whose status is unknown - which?", (country("Italy"), status("Unknown status")),
             "And of these, which have sites in Italy only?", lambda r: r.countries == {"Italy"}),
    which_of("Which trials test a genetic intervention?", (lambda r: any(t == "Genetic" for t, _ in r.interventions),),
             "Did any of them enroll more than 200 people? Which?", lambda r: (r.enrollment or 0) > 200),
    about("What phase is {id} in?", "NCT00000620", "And what is its primary outcome?", lambda r: [], ["Outcomes"]),
    over_set("Which lupus trials are there?", (condition("lupus"),), "Which of them began first?", _earliest),
    which_of("Device studies with randomized allocation?",
             (lambda r: any(t == "Device" for t, _ in r.interventions), allocation("Randomized")),
             "Only the ones that have posted results, please.", results()),
    about("Tell me about the {id} study.", "NCT00005776", "When did it start?", _start),
    which_of("Women-only studies of behavioral interventions, please.",
             (lambda r: any(t == "Behavioral" for t, _ in r.interventions), sex_only("Female")),
             "Which of those have more than 1,000 participants?", lambda r: (r.enrollment or 0) > 1000),
    ordinal("Terminated trials at phase 3 (2/3 counts) that had a Canadian site: list them by NCT number.",
            (has_phase("3"), status("Terminated"), country("Canada")), "What phase was the last one in?", -1,
            lambda r: phase_forms(r.phase) if r.phase else None),
]


def build(recs: list[Rec]) -> list[dict[str, object]]:
    by = {r.nct: r for r in recs}
    out = []
    for i, spec in enumerate(SPECS, 1):
        got = spec(recs, by)
        out.append(case(f"corpus-followup-{i:02d}", "follow-up", turns=got["turns"], trials=got["trials"],
                        forbid=got.get("forbid", ()), text=got.get("text", ()), sections=got.get("sections", ()),
                        exact=bool(got.get("exact"))))
    return out
