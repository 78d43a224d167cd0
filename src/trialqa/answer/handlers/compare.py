"""Comparisons of named trials ("which of A and B enrolls more?"), computed and cited per side;
and one field over several named trials ("the phases of A, B and C")."""

from __future__ import annotations

from trialqa.answer.db import age_years, iso_date
from trialqa.answer.plan import Plan, Row, Table
from trialqa.answer.result import Context, Result
from trialqa.fields_qa import Claim, answer_field, quote_for
from trialqa.types import Trial

_UNITS = {"enrollment": "participants", "facilities": "sites"}


def _value(trial: Trial, fld: str):
    f = trial.fields
    if fld == "enrollment":
        return f.enrollment, (f"{f.enrollment:,} participants" if f.enrollment is not None else None), [str(f.enrollment)], ["Enrollment"]
    if fld == "start_date":
        return iso_date(f.start_date), f.start_date, [f.start_date or ""], ["Dates", "Status"]
    if fld == "completion_date":
        return iso_date(f.completion_date), f.completion_date, [f.completion_date or ""], ["Dates", "Status"]
    if fld == "facilities":
        n = len(f.locations)
        first = (f.locations[0].facility or f.locations[0].city) if f.locations else None
        return (n or None), f"{n} sites", [first or ""], ["Locations"]
    if fld == "age":
        hi = age_years(f.max_age)
        return (hi if hi is not None else 999), (f"up to {f.max_age}" if f.max_age else "no upper age limit"), \
            [str(int(hi)) if hi else (f.min_age or "").split()[0] if f.min_age else ""], ["Eligibility"]
    if fld == "min_age":
        lo = age_years(f.min_age)
        return (lo if lo is not None else 0), (f"from {f.min_age}" if f.min_age else "no lower age limit"), \
            [str(int(lo)) if lo is not None and float(lo).is_integer() else ""], ["Eligibility"]
    return None, None, [], []


_VERB = {("enrollment", "max"): "enrolls more", ("enrollment", "min"): "enrolls fewer",
         ("start_date", "min"): "started earlier", ("start_date", "max"): "started later",
         ("completion_date", "min"): "completes earlier", ("completion_date", "max"): "completes later",
         ("facilities", "max"): "has more sites", ("facilities", "min"): "has fewer sites",
         ("age", "max"): "admits older participants", ("age", "min"): "has the lower upper age limit",
         ("min_age", "min"): "admits younger participants", ("min_age", "max"): "has the higher minimum age"}


def compare(plan: Plan, ctx: Context) -> Result:
    trials = [ctx.trials[t] for t in plan.scope if t in ctx.trials]
    fld = plan.field or "enrollment"
    if len(trials) < 2:
        return Result(abstain="a comparison needs two indexed trials; found " + (", ".join(t.trial_id for t in trials) or "none") + ".")
    claims, rows, known = [], [], []
    for t in trials:
        key, shown, values, prefer = _value(t, fld)
        q = quote_for(t, values, prefer) if shown else None
        name = t.nct_id or t.doc_id
        if shown is None or key is None:
            claims.append(Claim(f"{name} states no {fld.replace('_', ' ')}."))
        else:
            claims.append(Claim(f"{name} ({t.title}): {shown}.", [q] if q else []))
            known.append((key, name))
        rows.append(Row(trial_id=t.trial_id, title=t.title, values={fld: shown or ""}))
    if len(known) >= 2:
        known.sort(key=lambda kv: kv[0], reverse=plan.direction != "min")
        best = known[0]
        if all(k == best[0] for k, _ in known):
            claims.append(Claim(f"They are the same: {len(known)} trials with equal {fld.replace('_', ' ')}."))
        else:
            claims.append(Claim(f"{best[1]} {_VERB.get((fld, plan.direction or 'max'), 'is ahead')}."))
    return Result(claims, [t.trial_id for t in trials], Table(columns=["trial", "title", fld], rows=rows,
                                                               total=len(rows), of=len(rows)), bullets=True)


def field_of_many(plan: Plan, ctx: Context) -> Result | None:
    """One field of each scoped trial, each claim cited to its own record."""
    claims, trials = [], []
    for tid in plan.scope:
        trial = ctx.trials.get(tid)
        if trial is None:
            continue
        got = answer_field(trial, plan.field or "") or []
        claims += got
        trials.append(tid)
    return Result(claims, trials, bullets=True) if any(c.sources for c in claims) else None


def overview(plan: Plan, ctx: Context) -> Result | None:
    """A question that names one trial and asks nothing else ("NCT05106972?", "tell me about
    it"): its title, what it is about, and where it stands, each quoted from the record."""
    from trialqa.evidence import sentences

    trial = ctx.trials.get(plan.scope[0]) if plan.scope else None
    if trial is None:
        return None
    sents = sentences(trial)
    picks = [next((s for s in sents if s.section == "Title"), None),
             next((s for s in sents if s.section == "Summary"), None)]
    claims = [Claim(f"\u201c{s.text}\u201d", [s]) for s in picks if s is not None]
    for fld in ("phase", "status"):
        claims += answer_field(trial, fld) or []
    if not any(c.sources for c in claims):
        return None
    head = Claim(f"{trial.nct_id or trial.doc_id} in brief:")
    return Result([head, *claims], [trial.trial_id], bullets=True)
