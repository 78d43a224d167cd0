"""`lay` cases: lay words, abbreviations and misspellings for what the records name formally.

The question uses the lay form; the expected set is computed on the canonical terms (the
records' condition / MeSH or intervention vocabulary) combined with one structured filter.
Each concept lists the canonical terms it covers and the look-alikes it does not (high
blood pressure is not pulmonary or portal hypertension). The set must be 1..25 trials and
must not change when titles and keywords are searched too (`common.readings`).
"""

from __future__ import annotations

from goldgen.common import (
    GoldError, Pred, _Pred, all_of, allocation, case, country, has_phase, healthy, ids, near_misses, phase,
    placebo_arm, readings, require, results, sex_only, start_year, status, study_type,
)
from goldgen.records import Rec


def concept(include: tuple[str, ...], exclude: tuple[str, ...] = (), where: str = "condition") -> Pred:
    """A condition (or intervention) term containing one of `include` and none of `exclude`;
    the other reading also searches titles and keywords."""

    def terms(r: Rec, loose: bool) -> list[str]:
        if where == "condition":
            return r.cond_terms + r.title_terms if loose else r.cond_terms
        return r.interv_terms + r.title_terms[-2:] if loose else r.interv_terms  # titles, not keywords

    def hit(r: Rec, loose: bool) -> bool:
        return any(i in t and not any(x in t for x in exclude) for t in terms(r, loose) for i in include)

    pred = _Pred(lambda r: hit(r, False))
    pred.alt = lambda r: hit(r, True)
    return pred


HYPERTENSION = concept(("hypertension",), ("pulmonary", "portal", "intracranial", "ocular", "pregnancy", "pre-eclampsia"))
DIABETES = concept(("diabetes",), ("insipidus",))

SPECS: list[tuple[str, tuple[Pred, ...]]] = [
    ("Is there any high blood pressure research that's only for men?", (HYPERTENSION, sex_only("Male"))),
    ("Heart attack trials that have posted results - which are they?",
     (concept(("myocardial infarction",)), results())),
    ("I'd like the randomized studies on CHF.", (concept(("heart failure",)), allocation("Randomized"))),
    ("are there any diabetis studies running in canada", (DIABETES, country("Canada"))),
    ("Flu trials in phase 3?", (concept(("influenza",)), phase("Phase 3"))),
    ("Bed-wetting: is there a randomized trial?", (concept(("enuresis",)), allocation("Randomized"))),
    ("kidney stones - any interventional trials?", (concept(("kidney calculi", "nephrolithiasis")), study_type("Interventional"))),
    ("heartburn and acid reflux: anything in phase 3?", (concept(("gastroesophageal reflux",)), has_phase("3"))),
    ("Shingles studies that have completed - list please.", (concept(("herpes zoster",)), status("Completed"))),
    ("Which high cholesterol trials have a placebo group?", (concept(("hypercholesterolemia",)), placebo_arm())),
    ("lazy eye trials at phase 3 stage", (concept(("amblyopia",)), phase("Phase 3"))),
    ("Lou Gehrig's disease: which trials are phase 2 or 2/3?", (concept(("amyotrophic lateral sclerosis",)), has_phase("2"))),
    ("COPD trials using random assignment", (concept(("pulmonary disease, chronic obstructive", "copd")), allocation("Randomized"))),
    ("alzheimers trials that accept healthy volunteers?", (concept(("alzheimer",)), healthy(True))),
    ("What MS research is at phase 2?", (concept(("multiple sclerosis",)), phase("Phase 2"))),
    ("Observational studies of TB - which exist?", (concept(("tuberculosis",)), study_type("Observational"))),
    ("Cot death: what non-interventional studies are there?", (concept(("sudden infant death",)), study_type("Observational"))),
    ("PTSD - which trials randomize participants?", (concept(("stress disorders, post-traumatic", "posttraumatic", "post-traumatic")),
                                                     allocation("Randomized"))),
    ("Are there ADHD studies open to kids younger than 10?",
     (concept(("attention deficit",)), lambda r: r.min_age is None or r.min_age < 10)),
    ("Short-sightedness research that started during the 1990s?", (concept(("myopia",)), start_year(1990, 1999))),
    ("Statin trials that began in the 2000s?", (concept(("statin", "simvastatin", "pravastatin", "atorvastatin", "lovastatin",
                                                         "hydroxymethylglutaryl-coa reductase inhibitors"), where="intervention"),
                                                start_year(2000, 2009))),
    ("which leukaemia trials are currently recruiting", (concept(("leukemia",)), status("Recruiting"))),
    ("Finished studies on coke addiction?", (concept(("cocaine",)), status("Completed"))),
    ("My brother has a drinking problem. Which completed trials looked at that?",
     (concept(("alcoholism", "alcohol drinking", "alcohol-related")), status("Completed"))),
]


def build(recs: list[Rec]) -> list[dict[str, object]]:
    out = []
    for i, (question, preds) in enumerate(SPECS, 1):
        match = ids(recs, all_of(*preds))
        require(1 <= len(match) <= 25, f"lay-{i:02d}: {len(match)} trials match {question!r}")
        for reading in readings(preds):
            if ids(recs, all_of(*reading)) != match:
                raise GoldError(f"lay-{i:02d}: {question!r} read another way gives another set")
        out.append(case(f"corpus-lay-{i:02d}", "lay", question=question, trials=match,
                        forbid=near_misses(recs, preds), exact=True))
    return out
