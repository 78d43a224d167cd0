"""Run a plan's filters over every indexed trial, and say for one trial why it matched.

`matching(db, filters)` is the SQL path (`sql.py`). `explain(trial, filters)` gives, for
each condition, the trial's value and the sentence of its record that states it, so that
every listed trial carries the value that made it match and a citation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trialqa.answer.db import TrialDB, age_years
from trialqa.answer.plan import And, Cond, Filter, Or
from trialqa.answer.sql import select_ids
from trialqa.evidence import Sentence, sentences
from trialqa.fields_qa import quote_for
from trialqa.types import Trial

TEXT_FIELDS = ("condition", "intervention", "topic")
#: where a text filter's words are looked for when quoting
_TEXT_SECTIONS = {
    "condition": ("Title", "Conditions", "Keywords", "Summary"),
    "intervention": ("Interventions", "Arms", "Title", "Summary", "Keywords"),
    "topic": ("Title", "Conditions", "Keywords", "Interventions", "Summary", "Description", "Arms", "Outcomes"),
}


def matching(db: TrialDB, filters: list[Filter]) -> list[str]:
    """Ids of every indexed trial that meets all `filters`, in NCT order."""
    sql, params = select_ids(filters)
    return db.column(sql, params)


@dataclass
class Reason:
    field: str
    value: str
    quote: Sentence | None


def conditions(filters: list[Filter]) -> list[Cond]:
    """The positive conditions of a filter tree (what a match can be explained by)."""
    out: list[Cond] = []
    for f in filters:
        if isinstance(f, Cond):
            out.append(f)
        elif isinstance(f, (And, Or)):
            out += conditions(f.items)
    return out


def explain(trial: Trial, filters: list[Filter], quote: bool = True) -> list[Reason]:
    """Each condition's value in `trial`, with the sentence that states it (text filters first)."""
    conds = sorted(conditions(filters), key=lambda c: c.field not in TEXT_FIELDS)
    out: list[Reason] = []
    seen: set[str] = set()
    for c in conds:
        if c.field == "trial" or c.field in seen:
            continue
        seen.add(c.field)
        r = reason(trial, c, quote)
        if r is not None:
            out.append(r)
    return out


def reason(trial: Trial, c: Cond, quote: bool = True) -> Reason | None:
    f = trial.fields
    q = (lambda values, prefer: quote_for(trial, values, prefer)) if quote else (lambda values, prefer: None)
    fld = c.field
    if fld in TEXT_FIELDS:
        sent = text_quote(trial, c) if quote else None
        return Reason(fld, _short(sent.text) if sent else _label_value(c), sent)
    simple = {
        "phase": (f.phase, ["Design", "Status"]), "status": (f.status, ["Status"]),
        "study_type": (f.study_type, ["Design"]), "allocation": (f.allocation, ["Design"]),
        "masking": (f.masking, ["Design"]), "intervention_model": (f.intervention_model, ["Design"]),
        "primary_purpose": (f.primary_purpose, ["Design"]), "sex": (f.sex, ["Eligibility"]),
        "start_date": (f.start_date, ["Dates", "Status"]), "completion_date": (f.completion_date, ["Dates", "Status"]),
        "sponsor": (f.sponsor, ["Sponsor"]), "lead_sponsor": (f.sponsor, ["Sponsor"]),
    }
    if fld in simple:
        value, prefer = simple[fld]
        return Reason(fld, value or "", q([value], prefer) if value else None)
    if fld == "enrollment":
        return Reason(fld, str(f.enrollment), q([str(f.enrollment)], ["Enrollment"]) if f.enrollment is not None else None)
    if fld == "facilities":
        n = len(f.locations)
        first = f.locations[0].facility or f.locations[0].city if f.locations else None
        return Reason(fld, f"{n} sites", q([first], ["Locations"]) if first else None)
    if fld == "age":
        lo, hi = f.min_age, f.max_age
        text = " to ".join(x for x in (lo, hi) if x) or "no age limits stated"
        nums = [str(int(a)) if a is not None and float(a).is_integer() else str(a) for a in (age_years(lo), age_years(hi)) if a is not None]
        return Reason(fld, text, q(nums[:1], ["Eligibility"]) if nums else None)
    if fld == "healthy_volunteers":
        hv = f.healthy_volunteers
        return Reason(fld, {True: "accepts healthy volunteers", False: "no healthy volunteers"}.get(hv, ""),  # type: ignore[arg-type]
                      q(["healthy"], ["Eligibility"]))
    if fld in ("country", "city", "facility"):
        wanted = [str(v).lower() for v in (c.value if isinstance(c.value, list) else [c.value])]
        for loc in f.locations:
            val = {"country": loc.country, "city": loc.city, "facility": loc.facility}[fld] or ""
            if any(w in val.lower() for w in wanted):
                return Reason(fld, val, q([loc.facility or loc.city or val], ["Locations"]))
        return Reason(fld, ", ".join(wanted), None)
    if fld == "collaborator":
        names = ", ".join(f.collaborators)
        return Reason(fld, names, q(f.collaborators[:1], ["Sponsor"]) if f.collaborators else None)
    if fld == "intervention_type":
        wanted = {str(v).lower() for v in (c.value if isinstance(c.value, list) else [c.value])}
        for iv in f.interventions:
            if (iv.type or "").lower() in wanted:
                return Reason(fld, f"{iv.type}: {iv.name}", q([iv.name or ""], ["Interventions"]))
    if fld == "arm_type":
        wanted = {str(v).lower() for v in (c.value if isinstance(c.value, list) else [c.value])}
        for arm in f.arms:
            if (arm.type or "").lower() in wanted:
                return Reason(fld, f"{arm.type}: {arm.label}", q([arm.label or arm.type or ""], ["Arms"]))
        return None
    if fld == "has_results":
        sent = next((s for s in sentences(trial) if s.section.startswith("Results")), None) if quote else None
        return Reason(fld, "results posted" if f.has_results else "no results posted", sent)
    return None


def text_quote(trial: Trial, c: Cond) -> Sentence | None:
    """The first sentence (in the field's sections, in their order) holding every word group."""
    groups = c.value if isinstance(c.value, list) else [[str(c.value)]]
    groups = [g if isinstance(g, list) else [g] for g in groups]
    pats = [re.compile("|".join(rf"\b{re.escape(v.lower())}" for v in g)) for g in groups]
    sents = sentences(trial)
    for section in _TEXT_SECTIONS[c.field]:
        for s in sents:
            if s.section.split(":")[0] == section and all(p.search(s.lower) for p in pats):
                return s
    for s in sents:
        if all(p.search(s.lower) for p in pats):
            return s
    return None


def _label_value(c: Cond) -> str:
    return c.label.split(": ", 1)[-1] if c.label else str(c.value)


def _short(text: str, n: int = 90) -> str:
    return text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + "…"
