"""`described` cases: one fact about a trial the question describes instead of naming.

A description is made of parts that must together pick exactly one of the 2,000 records,
each part matched loosely (so a stricter reader finds the same single trial):
sponsor (lead sponsor or collaborator name contains it), condition (conditions, MeSH terms,
keywords or titles contain it), intervention (names, other names, MeSH terms or titles
contain it), or the trial's acronym (no other record uses it as acronym or title word).
Each template asks a different field with its own phrasing; candidates are tried in a
seeded order and the first trial that fits the template is taken.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from goldgen.common import case, month_year, num_forms, phase_forms, require, rng
from goldgen.records import Rec

Style = str  # "sci" (sponsor + condition + intervention), "ci", "sc", "acro"


def short_sponsor(name: str) -> str:
    """'National Cancer Institute (NCI)' -> 'NCI'; other names as written."""
    m = re.search(r"\(([A-Z]{2,6})\)$", name)
    return m.group(1) if m else name


def _clean(term: str, limit: int = 32) -> bool:
    return bool(term) and len(term) <= limit and re.fullmatch(r"[A-Za-z][A-Za-z0-9' -]+", term) is not None \
        and "protocol" not in term.lower() and "unspecified" not in term.lower()


def _parts(r: Rec) -> dict[str, str]:
    cond = next((c for c in r.conditions if _clean(c)), "")
    interv = next((n for t, n in r.interventions if t in ("Drug", "Biological", "Device", "Behavioral") and _clean(n, 28)
                   and n.lower() not in ("placebo", "standard of care")), "")
    sp = short_sponsor(r.sponsor) if r.sponsor and len(short_sponsor(r.sponsor)) <= 45 else ""
    return {"sponsor": sp, "condition": cond, "intervention": interv}


def _count(recs: list[Rec], style: Style, p: dict[str, str], r0: Rec) -> int:
    def fits(r: Rec) -> bool:
        ok = True
        if "s" in style:
            spon = " | ".join([r.sponsor, *r.collaborators]).lower()
            ok &= p["sponsor"].lower() in spon
        if "c" in style:
            ok &= p["condition"].lower() in r.cond_text()
        if "i" in style:
            ok &= p["intervention"].lower() in r.interv_text()
        return ok

    if style == "acro":
        word = re.compile(rf"\b{re.escape(r0.acronym.lower())}\b")
        return sum(1 for r in recs if r.acronym.lower() == r0.acronym.lower()
                   or word.search(f"{r.title} | {r.official_title}".lower()))
    return sum(1 for r in recs if fits(r))


def _low(name: str) -> str:
    """'Imatinib Mesylate' -> 'imatinib mesylate'; 'UT-15' stays."""
    return name.lower() if name.istitle() or not any(ch.isupper() for ch in name[1:]) else name


def describe(style: Style, r: Rec, p: dict[str, str]) -> str:
    if style == "sci":
        return f"the {p['sponsor']} trial of {_low(p['intervention'])} for {p['condition'].lower()}"
    if style == "ci":
        return f"the {_low(p['intervention'])} study in {p['condition'].lower()}"
    if style == "sc":
        return f"the {p['sponsor']}-sponsored {p['condition'].lower()} study"
    return f"the {r.acronym} trial"


Answer = Callable[[Rec], list[str] | None]


def _single_country(r: Rec) -> list[str] | None:
    c = r.countries
    return sorted(c) if len(c) == 1 and "United States" not in c else None


def _sites(r: Rec) -> list[str] | None:
    return num_forms(r.sites) if 4 <= r.sites <= 40 else None


def _one_type(r: Rec) -> list[str] | None:
    types = {t for t, _ in r.interventions}
    return [types.pop().lower()] if len(types) == 1 and next(iter(types)) in ("Behavioral", "Device", "Radiation", "Procedure") else None


# (id, style, question template with {d} and {D} (capitalised), answer forms or None when the trial does not fit)
TEMPLATES: list[tuple[str, Style, str, Answer]] = [
    ("enroll", "sci", "{D}: how many people does it plan to enroll?",
     lambda r: num_forms(r.enrollment) if r.enrollment and r.enrollment >= 20 else None),
    ("phase", "ci", "What phase is {d}?",
     lambda r: phase_forms(r.phase) if r.phase.startswith("Phase") else None),
    ("status", "sc", "Is {d} still running, or has it finished?",
     lambda r: ["terminated"] if r.status == "Terminated" else None),
    ("sponsor", "acro", "Who is the lead sponsor of {d}?",
     lambda r: [r.sponsor, short_sponsor(r.sponsor)]),
    ("start", "sci", "When did {d} start?",
     lambda r: month_year(r.start_text) if r.start else None),
    ("masking", "ci", "Is {d} blinded, and if so how?",
     lambda r: ["double"] if r.masking.startswith("Double") else None),
    ("country", "sc", "In which country does {d} run its sites?", _single_country),
    ("minage", "sci", "What is the youngest age {d} accepts?",
     lambda r: [r.min_age_text.split()[0] + " " + r.min_age_text.split()[1].lower()] if r.min_age and r.min_age >= 2
     and not r.min_age_text.startswith("18") else None),
    ("sites", "ci", "At how many locations is {d} being carried out?", _sites),
    ("itype", "sc", "What kind of intervention does {d} test?", _one_type),
    ("purpose", "ci", "What is the primary purpose of {d}?",
     lambda r: [r.purpose.lower()] if r.purpose in ("Prevention", "Supportive Care", "Diagnostic") else None),
    ("allocation", "sci", "Were participants in {d} assigned at random?",
     lambda r: ["non-randomized", "nonrandomized", "not randomized", "non randomized"] if r.allocation == "Non-Randomized" else None),
    ("completion", "acro", "{D} - when was it completed (or when is it expected to be)?",
     lambda r: month_year(r.completion_text) if r.completion else None),
    ("sex", "ci", "Does {d} take men, women, or both?",
     lambda r: ["women", "female"] if r.sex == "Female" else (["men", "male"] if r.sex == "Male" else None)),
    ("healthy", "sc", "Can healthy volunteers sign up for {d}?",
     lambda r: ["accepts healthy", "healthy volunteers are accepted", "yes"] if r.healthy else None),
    ("maxage", "sci", "Up to what age can someone join {d}?",
     lambda r: [r.max_age_text.split()[0] + " " + r.max_age_text.split()[1].lower()]
     if r.max_age and 10 <= r.max_age <= 90 else None),
    ("collaborator", "ci", "Which organisation collaborates on {d}?",
     lambda r: [r.collaborators[0], short_sponsor(r.collaborators[0])] if len(r.collaborators) == 1 else None),
    ("studytype", "sc", "Is {d} an interventional trial or an observational study?",
     lambda r: ["observational"] if r.study_type.startswith("Observational") else None),
    ("condition", "acro", "Which condition is {d} about?",
     lambda r: [*r.conditions, *r.condition_mesh] if r.conditions else None),
    ("enroll-acro", "acro", "How big is {d} - what enrollment does the record give?",
     lambda r: num_forms(r.enrollment) if r.enrollment and r.enrollment >= 20 else None),
]


def _usable_acronym(r: Rec) -> bool:
    return bool(re.fullmatch(r"[A-Z][A-Z0-9-]{3,11}", r.acronym)) and not r.acronym.isdigit()


def build(recs: list[Rec]) -> list[dict[str, object]]:
    order = list(recs)
    rng("described").shuffle(order)
    used: set[str] = set()
    out = []
    for i, (key, style, template, answer) in enumerate(TEMPLATES, 1):
        for r in order:
            if r.nct in used or (style == "acro") != _usable_acronym(r):
                continue
            forms = answer(r)
            if not forms:
                continue
            p = _parts(r)
            need = {"s": "sponsor", "c": "condition", "i": "intervention"}
            if style != "acro" and not all(p[need[ch]] for ch in style):
                continue
            if _count(recs, style, p, r) != 1:
                continue
            d = describe(style, r, p)
            q = template.format(d=d, D=d[0].upper() + d[1:])
            used.add(r.nct)
            out.append(case(f"corpus-described-{i:02d}", "described", question=q, trials=[r.nct], text=forms))
            break
        else:
            require(False, f"described template {key!r}: no trial fits")
    return out
