"""`eligibility` cases: could a described person join a named trial?

Decided only from the structured limits (age, sex, healthy volunteers) or from one exclusion
criterion quoted here, which the builder finds in the record's exclusion text; for a
criterion case the structured limits must admit the person, so the criterion alone decides.
Verdicts are the product's phrases; a "no" accepts either negative phrase.
"""

from __future__ import annotations

import re

from goldgen.common import case, require, rng
from goldgen.records import Rec

YES = ["Eligible as far as stated"]
NO = ["Not eligible", "Excluded by"]

# (nct, exclusion bullet regex, person: age, sex, question with {id})
CRITERIA: list[tuple[str, str, float, str, str]] = [
    ("NCT00000408", r"- Pregnancy -", 29, "Female",
     "I'm 29 and five months pregnant, with low back pain. Could I take part in {id}?"),
    ("NCT00009243", r"- Implanted cardiac pacemaker or defibrillator", 62, "Male",
     "A 62-year-old man who has an implanted cardiac pacemaker: can he be enrolled in {id}?"),
    ("NCT00002207", r"History of acute or chronic pancreatitis", 40, "Male",
     "My patient is a 40-year-old man with HIV who had acute pancreatitis two years ago. Is {id} an option for him?"),
    ("NCT00002069", r"- Dementia\.", 55, "Male",
     "Would {id} accept a 55-year-old man with HIV who has dementia?"),
    ("NCT00000406", r"- Diabetes mellitus -", 68, "Female",
     "{id}: my 68-year-old mother has knee arthritis and diabetes mellitus - can she join?"),
    ("NCT00000409", r"- Previous lumbar spine surgery", 45, "Male",
     "Someone who already had lumbar spine surgery, age 45, male - eligible for {id}?"),
    ("NCT00497328", r"- Preexisting dialysis", 50, "Female",
     "Is a 50-year-old woman who is already on dialysis able to enter {id}?"),
    ("NCT00002072", r"- History of seizures\.", 30, "Male",
     "Could a 30-year-old man with AIDS and a history of seizures participate in {id}?"),
]


def _admits(r: Rec, age: float, sex: str) -> bool:
    ok_age = (r.min_age is None or r.min_age <= age) and (r.max_age is None or r.max_age >= age)
    return ok_age and (r.sex in ("All", "") or r.sex == sex)


def _pick(order: list[Rec], used: set[str], ok) -> Rec:
    for r in order:
        if r.nct not in used and ok(r):
            used.add(r.nct)
            return r
    require(False, "eligibility: no trial fits a structured template")
    raise AssertionError


def _cond(r: Rec) -> str:
    return next((c for c in r.conditions if len(c) <= 30 and "protocol" not in c.lower()
                 and "childhood" not in c.lower()), "").lower()


def build(recs: list[Rec]) -> list[dict[str, object]]:
    by_id = {r.nct: r for r in recs}
    out: list[dict[str, object]] = []
    used: set[str] = set()
    n = 0

    def add(nct: str, question: str, verdict: list[str]) -> None:
        nonlocal n
        n += 1
        out.append(case(f"corpus-eligibility-{n:02d}", "eligibility", question=question.format(id=nct),
                        trials=[nct], text=verdict))

    for nct, pattern, age, sex, question in CRITERIA:
        r = by_id[nct]
        require(re.search(pattern, r.exclusion, re.I) is not None, f"{nct}: exclusion lacks {pattern!r}")
        require(_admits(r, age, sex), f"{nct}: structured limits already bar the person")
        used.add(nct)
        add(nct, question, NO)

    order = [r for r in recs if r.study_type == "Interventional"]
    rng("eligibility").shuffle(order)
    # structured limits
    r = _pick(order, used, lambda r: r.min_age == 18 and r.sex == "All" and _cond(r))
    add(r.nct, f"Can a 16-year-old with {_cond(r)} be enrolled in {{id}}?", NO)
    r = _pick(order, used, lambda r: r.max_age == 65 and r.min_age is not None and r.min_age <= 40 and r.sex == "All")
    add(r.nct, "My father is 71. Is he too old for {id}?", NO)
    r = _pick(order, used, lambda r: r.min_age is not None and r.min_age >= 2 and r.min_age < 18 and r.sex == "All")
    add(r.nct, "Is {id} open to an 8-month-old baby?", NO)
    r = _pick(order, used, lambda r: r.sex == "Female" and _admits(r, 45, "Female") and _cond(r))
    add(r.nct, "A 45-year-old man asks whether he could join {id}. Could he?", NO)
    r = _pick(order, used, lambda r: r.sex == "Male" and _admits(r, 60, "Male") and _cond(r))
    add(r.nct, "Does {id} take women? I'm 60 and would like to volunteer.", NO)
    r = _pick(order, used, lambda r: r.healthy is False and r.sex == "All" and _admits(r, 35, "Female") and _cond(r))
    add(r.nct, "I'm a healthy 35-year-old woman with no medical conditions. Can I be a participant in {id}?", NO)
    r = _pick(order, used, lambda r: r.max_age is not None and 12 <= r.max_age <= 21 and r.sex == "All")
    add(r.nct, f"{{id}} - would a {int(r.max_age) + 5}-year-old qualify?", NO)
    # admitted by every stated limit
    r = _pick(order, used, lambda r: r.healthy is True and _admits(r, 30, "Male") and r.min_age is not None)
    add(r.nct, "Healthy 30-year-old guy, no illnesses: could I volunteer for {id}?", YES)
    r = _pick(order, used, lambda r: r.healthy is True and r.min_age == 18 and _admits(r, 18, "Female"))
    add(r.nct, "My daughter just turned 18 and is healthy. Is she old enough for {id}?", YES)
    r = _pick(order, used, lambda r: r.max_age is not None and r.max_age <= 18 and r.min_age is not None
              and _admits(r, 7, "Male") and _cond(r) and r.healthy is False)
    add(r.nct, f"Could my 7-year-old son, who has {_cond(r)}, be enrolled in {{id}}?", YES)
    r = _pick(order, used, lambda r: r.sex == "Female" and _admits(r, 52, "Female") and _cond(r) and r.healthy is False)
    add(r.nct, f"A 52-year-old woman diagnosed with {_cond(r)} - does she meet the age and sex limits of {{id}}?", YES)
    r = _pick(order, used, lambda r: r.sex == "Male" and _admits(r, 67, "Male") and _cond(r) and r.healthy is False)
    add(r.nct, f"Is a 67-year-old man with {_cond(r)} within what {{id}} allows?", YES)
    return out
