"""One criterion against one person, by rules: met, not met, unknown, or irrelevant.

"met" means the criterion's statement is true of the person: an inclusion item is satisfied;
an exclusion item applies (the person is excluded). "unknown" means the criterion is about
something the person's facts touch but do not settle (a relevant fact is missing, e.g. when
the stroke happened); "irrelevant" means nothing given bears on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from trialqa.answer.eligibility.criteria import LAB_VALUE, LABS, Criterion, content_words, lab_scale
from trialqa.answer.eligibility.stage import person_stage, stage_within
from trialqa.answer.eligibility.vocab import BY_NAME, ancestors, find_concepts
from trialqa.answer.plan import Person
from trialqa.types import Trial

Status = Literal["met", "not_met", "unknown", "irrelevant"]

_AGO = re.compile(r"(\d+|a|one|two|three|four|five|six|few|several)?\s*(day|week|month|year)s?\s+ago|"
                  r"last (day|week|month|year)|(yesterday)|(recently|recent)", re.IGNORECASE)
_NUMBER_WORD = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "few": 3, "several": 4}
_PER_MONTH = {"day": 1 / 30, "week": 0.25, "month": 1, "year": 12}

@dataclass(frozen=True)
class PersonView:
    """A person's facts prepared once for checking many criteria."""

    person: Person
    has: frozenset[str]        # affirmed concepts, broadened with their ancestors
    direct: frozenset[str]     # affirmed concepts as stated
    denied: frozenset[str]     # concepts stated as absent
    labs: dict[str, float]
    ago_months: dict[str, float | None]   # concept -> months since, when a fact says so
    fact_words: tuple[tuple[str, frozenset[str]], ...]  # free facts no concept covers
    stage: tuple[int, int] | None = None  # the disease stage stated (stage.py ordinals)


def view(person: Person) -> PersonView:
    direct: set[str] = set()
    denied: set[str] = set()
    ago: dict[str, float | None] = {}
    free: list[tuple[str, frozenset[str]]] = []
    for fact in person.facts:
        if fact.startswith("no "):
            denied.update(find_concepts(fact[3:], negation=False, broaden=False) or ())
            if fact[3:] in BY_NAME:
                denied.add(fact[3:])
            continue
        found = set(find_concepts(fact, broaden=False))
        if fact in BY_NAME:
            found.add(fact)
        direct |= found
        months = _months_ago(fact)
        for c in found:
            if ago.get(c) is None:
                ago[c] = months
        if not found:
            words = frozenset(content_words(_AGO.sub(" ", re.sub(r"^had\s+", "", fact))))
            if words:
                free.append((fact, words))
    if person.note:
        for c, (start, end) in find_concepts(person.note, broaden=False).items():
            direct.add(c)
            if ago.get(c) is None:
                ago[c] = _months_ago(_sentence_at(person.note, start, end))
    has = set(direct)
    for c in direct:
        has |= ancestors(c)
    labs: dict[str, float] = {}
    for text in [*person.facts, person.note or ""]:
        for m in LAB_VALUE.finditer(text):
            key = LABS[m.group(1).lower()]
            labs.setdefault(key, lab_scale(key, float(m.group(2).replace(",", ""))))
    return PersonView(person, frozenset(has), frozenset(direct), frozenset(denied - direct), labs, ago,
                      tuple(free), person_stage(" ".join([*person.facts, person.note or ""])))


def _sentence_at(text: str, start: int, end: int) -> str:
    """The sentence (or line) holding text[start:end]."""
    lo = max(text.rfind(". ", 0, start), text.rfind("\n", 0, start), text.rfind("; ", 0, start)) + 1
    ends = [i for i in (text.find(". ", end), text.find("\n", end), text.find("; ", end)) if i >= 0]
    return text[lo:min(ends) if ends else len(text)]


def _months_ago(fact: str) -> float | None:
    m = _AGO.search(fact)
    if not m:
        return None
    if re.search(r"\b(?:since|for|over)\s+(?:the\s+)?$", fact[:m.start()], re.I):
        return 0.0  # "on steroids since 4 months ago": ongoing
    if m.group(4):
        return 1 / 30
    if m.group(5):
        return None
    if m.group(3):
        return _PER_MONTH[m.group(3).lower()]
    n = m.group(1) or "1"
    value = float(n) if n.isdigit() else _NUMBER_WORD.get(n.lower(), 1)
    return value * _PER_MONTH[m.group(2).lower()]


def _in_range(value: float, lo: float | None, hi: float | None) -> bool:
    return (lo is None or value >= lo) and (hi is None or value <= hi)


def _lab_ok(value: float, op: str, target: float | list[float]) -> bool:
    if op == "between":
        lo, hi = target  # type: ignore[misc]
        return lo <= value <= hi
    t = float(target)  # type: ignore[arg-type]
    return {"ge": value >= t, "gt": value > t, "le": value <= t, "lt": value < t}[op]


def _stem_match(fact_words: frozenset[str], crit_words: set[str]) -> bool:
    return all(any(w == c or (len(w) > 4 and c.startswith(w[:5])) for c in crit_words) for w in fact_words)


def evaluate(crit: Criterion, pv: PersonView, trial_concepts: frozenset[str] = frozenset(),
             healthy_trial: bool = True) -> tuple[Status, str]:
    """The criterion's status for the person, with a short reason. `healthy_trial`: the trial
    studies healthy people only (a "healthy volunteers" criterion of a trial with a patient
    arm as well rules no patient out)."""
    p = crit.parsed
    if p.generic:
        return "irrelevant", "administrative"
    if p.healthy and healthy_trial:
        if pv.person.healthy:
            return "met", "healthy"
        ill = _illnesses(pv, trial_concepts)
        if ill:
            return "not_met", ill[0]
    # ages and sex stated inside the criterion text
    invert = crit.kind == "inclusion" and p.polarity == "forbid"  # "No males", "No patients over 70"
    if p.sex is not None and pv.person.sex is not None and not p.concepts and (p.sex != pv.person.sex) != invert:
        return "not_met", f"sex {pv.person.sex}"
    if p.age is not None and pv.person.age is not None and not p.concepts:
        ok = _in_range(pv.person.age, p.age[0], p.age[1]) != invert
        return ("met" if ok else "not_met"), f"age {pv.person.age:g}"
    if p.sex is not None and pv.person.sex is not None and not p.concepts:
        return "met", f"sex {pv.person.sex}"
    # lab thresholds
    for lab in p.labs:
        if lab["lab"] in pv.labs:
            ok = _lab_ok(pv.labs[lab["lab"]], lab["op"], lab["value"])
            return ("met" if ok else "not_met"), f"{lab['lab']} {pv.labs[lab['lab']]:g}"
    if p.stages and pv.stage is not None:
        inside = stage_within(pv.stage, p.stages)
        if inside is None:
            return "unknown", "the sub-stage of the stated stage"
        holds = inside if p.polarity == "require" or crit.kind == "exclusion" else not inside
        return ("met" if holds else "not_met"), "the stated stage"
    present = None   # does the person have what the criterion names?
    reason = ""
    named = [c for c in p.concepts if p.polarity == "require" or c not in trial_concepts]
    concepts = set(named)
    hit = [c for c in named if c in pv.has]
    if hit:
        present, reason = True, hit[0]
    elif pv.person.sex == "Male" and concepts and concepts <= {"pregnancy", "breastfeeding"}:
        if crit.kind == "inclusion" and p.polarity == "require":
            return "irrelevant", "applies to women"
        present, reason = False, "a man"
    elif concepts & pv.denied or any(ancestors(c) & pv.denied for c in concepts):
        present, reason = False, "no " + next(c for c in named if c in pv.denied or ancestors(c) & pv.denied)
    elif not p.concepts:
        words = set(p.words)
        for fact, fwords in pv.fact_words:
            if words and _stem_match(fwords, words):
                present, reason = True, fact
                break
    narrower = [c for c in named if any(d in ancestors(c) for d in pv.direct)]  # "stroke" vs stated "heart disease"
    if present is None:
        if narrower:
            return "unknown", f"needs more detail about {narrower[0]}"
        return "irrelevant", ""
    # the trial's own condition, which the person has: its finer detail ("intractable epilepsy",
    # "HIV RNA ... within 14 days") is left for the site to check, not a reason to say "cannot tell"
    own = crit.kind == "inclusion" and p.polarity == "require" and bool(present) and reason in trial_concepts
    if present and p.qualified and not _qualified_fact(crit, pv, reason):
        if own:
            return "met", reason
        return "unknown", f"{reason} stated, but not whether as the criterion qualifies it"
    if present and p.window_months is not None:
        times = [m for d, m in pv.ago_months.items() if m is not None and (d == reason or reason in ancestors(d))]
        since = min(times) if times else None
        if since is None:
            if own:
                return "met", reason
            return "unknown", f"when the {reason} happened (criterion: within {p.window_months:g} months)"
        if since is not None and since > p.window_months:
            present = False
            reason = f"{reason} {since:g} months ago"
    holds = present if p.polarity == "require" or crit.kind == "exclusion" else not present
    return ("met" if holds else "not_met"), reason


#: Treatments: a trial about a drug does not make that treatment the person's expected condition.
TREATMENTS = frozenset({"chemotherapy", "radiotherapy", "immunotherapy", "surgery", "corticosteroids", "insulin",
                        "anticoagulation", "immunosuppression", "mechanical ventilation", "dialysis"})


#: Stated facts that do not make a person unwell for a healthy-volunteer criterion.
_NOT_ILLNESS = frozenset({"pregnancy", "breastfeeding", "childbearing potential", "smoking", "allergy", "obesity",
                          "hearing loss", "surgery"})


def _illnesses(pv: PersonView, trial_concepts: frozenset[str]) -> list[str]:
    """The person's stated illnesses, when none of them is the trial's own condition (a trial
    with a patient arm and a healthy arm takes the patient in the patient arm)."""
    if pv.direct & trial_concepts or any(ancestors(c) & trial_concepts for c in pv.direct):
        return []
    return sorted(c for c in pv.direct if c not in _NOT_ILLNESS)


_NOW = frozenset({"current", "currently", "concurrent", "ongoing"})
_PAST = re.compile(r"^had\b|\b(?:history|ago|prior|previous|past|former|last year|last month)\b", re.I)


def _past_fact(pv: PersonView, concept: str) -> bool:
    """True when a fact naming `concept` is stated in the past ("had a stroke", "history of")."""
    for fact in pv.person.facts:
        found = set(find_concepts(fact, broaden=False, negation=False)) | ({fact} if fact in BY_NAME else set())
        if any(c == concept or concept in ancestors(c) for c in found) and _PAST.search(fact):
            return True
    return False


def _qualified_fact(crit: Criterion, pv: PersonView, concept: str) -> bool:
    """True when the person's own words carry the criterion's qualifier ("uncontrolled") near
    the condition they name."""
    from trialqa.answer.eligibility.criteria import QUALIFIER
    from trialqa.answer.eligibility.vocab import concept_regex

    # "renal insufficiency requiring dialysis": a person on dialysis carries the qualifier
    for m in re.finditer(r"\b(?:requiring|requires|dependent on|treated with|managed (?:by|with))\b", crit.text, re.I):
        if set(find_concepts(crit.text[m.end():m.end() + 40], negation=False, broaden=False)) & pv.has:
            return True
    quals = {m.group(0).lower() for m in QUALIFIER.finditer(crit.text)}
    if pv.person.note is None and quals <= _NOW and not _past_fact(pv, concept):
        return True  # "I'm pregnant" is a current pregnancy
    names = [d for d in pv.direct if d == concept or concept in ancestors(d)] or [concept]
    for text in [*pv.person.facts, pv.person.note or ""]:
        for name in names:
            if name not in BY_NAME:
                continue
            for m in concept_regex(name).finditer(text):
                near = text[max(0, m.start() - 40):m.end() + 25].lower()
                if any(q in near for q in quals):
                    return True
    return False


def healthy_only(trial: Trial) -> bool:
    """True when the trial's conditions name only healthy people ("Healthy", "Healthy Volunteers")."""
    conds = trial.fields.conditions
    return bool(conds) and all(re.search(r"\b(?:healthy|normal|volunteers?)\b", c, re.I) for c in conds)


def trial_concepts(trial: Trial) -> frozenset[str]:
    """Concepts of the trial's own condition (conditions and their MeSH terms, else the title)."""
    f = trial.fields
    text = "; ".join([*f.conditions, *f.condition_mesh]) or trial.title
    return frozenset(set(find_concepts(text, negation=False)) - TREATMENTS)
