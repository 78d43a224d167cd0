"""Answers computed over every indexed trial: list, count (optionally grouped), sum, share,
extreme. The numbers come from SQL over the index's database; the text names the set
("N of the M indexed trials ..."), shows the first trials with the value that made each
match and a citation, and the table holds all of them."""

from __future__ import annotations

from collections import Counter

from trialqa.answer.db import iso_date
from trialqa.answer.match import TEXT_FIELDS, explain, matching, reason
from trialqa.answer.plan import Cond, Plan, Row, Table, filter_label
from trialqa.answer.result import Context, Result
from trialqa.fields_qa import Claim
from trialqa.types import Trial

SHOWN = 20  # trials listed in the text; the table holds all
QUOTED = SHOWN  # rows that get a citation (the shown ones); the rest of the table carries values


def describe(plan: Plan, filters=None) -> str:
    labels = [filter_label(f) for f in (plan.filters if filters is None else filters)
              if not (isinstance(f, Cond) and f.field == "trial")]
    return "; ".join(labels) if labels else "all of them"


def who(t: Trial) -> str:
    return t.nct_id or t.doc_id


def _rows(ctx: Context, ids: list[str], plan: Plan, extra: list[Cond] = ()) -> tuple[list[Row], dict[str, list]]:
    rows: list[Row] = []
    quotes: dict[str, list] = {}
    for i, tid in enumerate(ids):
        trial = ctx.trials[tid]
        reasons = explain(trial, [*plan.filters, *extra], quote=i < QUOTED)
        rows.append(Row(trial_id=tid, title=trial.title, values={r.field: r.value for r in reasons if r.value}))
        quotes[tid] = [r.quote for r in reasons if r.quote is not None]
    return rows, quotes


def _bullets(ctx: Context, rows: list[Row], quotes: dict[str, list], value_of=None) -> list[Claim]:
    claims = []
    for row in rows[:SHOWN]:
        trial = ctx.trials[row.trial_id]
        shown = value_of(row) if value_of else "; ".join(v for k, v in row.values.items() if k not in TEXT_FIELDS)
        tail = f" ({shown})" if shown else ""
        claims.append(Claim(f"{who(trial)}: {trial.title}{tail}", quotes.get(row.trial_id, [])[:2]))
    if len(rows) > SHOWN:
        claims.append(Claim(f"… and {len(rows) - SHOWN} more (all {len(rows)} in the table and in --json)."))
    return claims


def _none(ctx: Context, plan: Plan) -> Result:
    if plan.unknown:  # a named thing no indexed trial contains
        return Result(abstain=f"no indexed trial mentions {', '.join(repr(u) for u in plan.unknown[:3])}.")
    return Result(abstain=f"none of {_base(ctx, plan)} match {describe(plan)}.")


def _base(ctx: Context, plan: Plan) -> str:
    """'the 2,000 indexed trials', or 'the 4 trials of the previous answer' for a follow-up."""
    among = next((f for f in plan.filters if isinstance(f, Cond) and f.field == "trial"), None)
    if among is not None:
        return f"the {len(among.value)} trials of the previous answer"
    return f"the {ctx.size:,} indexed trials"


def list_trials(plan: Plan, ctx: Context) -> Result:
    ids = matching(ctx.db, plan.filters)
    if not ids:
        return _none(ctx, plan)
    rows, quotes = _rows(ctx, ids, plan)
    head = Claim(f"{len(ids)} of {_base(ctx, plan)} match {describe(plan)}:")
    table = Table(columns=["trial", "title", *_columns(rows)], rows=rows, total=len(ids), of=ctx.size)
    return Result([head, *_bullets(ctx, rows, quotes)], ids, table, bullets=True)


def count(plan: Plan, ctx: Context) -> Result:
    ids = matching(ctx.db, plan.filters)
    if not ids and plan.unknown:
        return _none(ctx, plan)
    if not ids:
        return Result([Claim(f"0 of {_base(ctx, plan)} match {describe(plan)}.")], [], Table(total=0, of=ctx.size))
    rows, quotes = _rows(ctx, ids, plan)
    table = Table(columns=["trial", "title", *_columns(rows)], rows=rows, total=len(ids), of=ctx.size)
    if plan.group_by:
        groups = group_counts([ctx.trials[t] for t in ids], plan.group_by)
        table.groups = groups
        parts = ", ".join(f"{k}: {v}" for k, v in groups.items())
        head = Claim(f"{len(ids)} of {_base(ctx, plan)} match {describe(plan)}; by {plan.group_by.replace('_', ' ')}: {parts}.")
        for row in rows:
            row.values[plan.group_by] = ", ".join(group_values(ctx.trials[row.trial_id], plan.group_by))
    else:
        head = Claim(f"{len(ids)} of {_base(ctx, plan)} match {describe(plan)}. They are:")
    return Result([head, *_bullets(ctx, rows, quotes)], ids, table, bullets=True)


def total(plan: Plan, ctx: Context) -> Result:
    ids = matching(ctx.db, plan.filters)
    if not ids:
        return _none(ctx, plan)
    enroll = Cond(field="enrollment", op="ge", value=0, label="enrollment")
    rows, quotes = _rows(ctx, ids, plan, [enroll])
    known = [t for t in ids if ctx.trials[t].fields.enrollment is not None]
    s = sum(ctx.trials[t].fields.enrollment or 0 for t in known)
    missing = len(ids) - len(known)
    note = f" ({missing} of them state no enrollment)" if missing else ""
    head = Claim(f"The {len(ids)} indexed trials that match {describe(plan)} enroll {s:,} participants in total{note}:")
    table = Table(columns=["trial", "title", "enrollment", *_columns(rows)], rows=rows, total=len(ids), of=ctx.size)
    return Result([head, *_bullets(ctx, rows, quotes, lambda r: f"{r.values.get('enrollment', '?')} participants")],
                  ids, table, bullets=True)


def share(plan: Plan, ctx: Context) -> Result:
    base = matching(ctx.db, plan.filters)
    if not base:
        return _none(ctx, plan)
    if not plan.share_of:
        return list_trials(plan, ctx)
    part = matching(ctx.db, [*plan.filters, *plan.share_of])
    pct = 100.0 * len(part) / len(base)
    sub = Plan(question=plan.question, filters=[*plan.filters, *plan.share_of])
    rows, quotes = _rows(ctx, part, sub)
    head = Claim(f"{len(part)} of the {len(base)} indexed trials that match {describe(plan)} "
                 f"({pct:.1f}%, about {round(pct)}%) also match {describe(plan, plan.share_of)}"
                 + (":" if part else "."))
    table = Table(columns=["trial", "title", *_columns(rows)], rows=rows, total=len(part), of=len(base))
    return Result([head, *_bullets(ctx, rows, quotes)], part, table, bullets=True)


_SORT = {
    "enrollment": lambda t: t.fields.enrollment,
    "start_date": lambda t: iso_date(t.fields.start_date),
    "completion_date": lambda t: iso_date(t.fields.completion_date),
    "facilities": lambda t: len(t.fields.locations) or None,
}
_WORDS = {("enrollment", "max"): "largest by enrollment", ("enrollment", "min"): "smallest by enrollment",
          ("start_date", "min"): "earliest to start", ("start_date", "max"): "latest to start",
          ("completion_date", "min"): "earliest to complete", ("completion_date", "max"): "latest to complete",
          ("facilities", "max"): "with the most sites", ("facilities", "min"): "with the fewest sites"}


def extreme(plan: Plan, ctx: Context) -> Result:
    fld = plan.field if plan.field in _SORT else "enrollment"
    ids = matching(ctx.db, plan.filters)
    key = _SORT[fld]
    valued = [(key(ctx.trials[t]), t) for t in ids if key(ctx.trials[t]) is not None]
    if not valued:
        return _none(ctx, plan)
    valued.sort(key=lambda x: (x[0], x[1]), reverse=plan.direction == "max")
    if plan.direction == "max":  # ties keep NCT order
        valued.sort(key=lambda x: x[0], reverse=True)
    n = max(1, plan.limit)
    best = valued[n - 1][0]
    top = [t for v, t in valued if (v >= best if plan.direction == "max" else v <= best)]
    cond = Cond(field=fld, op="ge", value=0, label=fld)
    rows, quotes = _rows(ctx, top, plan, [cond])
    what = _WORDS.get((fld, plan.direction or "max"), fld)
    scope = f"the {len(ids)} indexed trials that match {describe(plan)}" if plan.filters else f"the {ctx.size:,} indexed trials"
    claims = [Claim(f"Of {scope}, the {'one' if len(top) == 1 else str(len(top))} {what}:")]
    for row in rows[:SHOWN]:
        trial = ctx.trials[row.trial_id]
        r = reason(trial, cond)
        value = r.value if r else ""
        claims.append(Claim(f"{who(trial)}: {trial.title} ({_value_words(fld, value)})", [r.quote] if r and r.quote else quotes.get(row.trial_id, [])[:1]))
    table = Table(columns=["trial", "title", fld], rows=rows, total=len(top), of=len(ids))
    return Result(claims, top, table, bullets=True)


def _value_words(fld: str, value: str) -> str:
    return {"enrollment": f"{value} participants", "start_date": f"started {value}",
            "completion_date": f"completion {value}", "facilities": value}.get(fld, value)


def _columns(rows: list[Row]) -> list[str]:
    return list(dict.fromkeys(k for r in rows for k in r.values))


def group_values(trial: Trial, fld: str) -> list[str]:
    f = trial.fields
    if fld == "country":
        return list(dict.fromkeys(loc.country for loc in f.locations if loc.country)) or ["(none stated)"]
    if fld == "intervention_type":
        return list(dict.fromkeys(i.type for i in f.interventions if i.type)) or ["(none stated)"]
    if fld == "start_date":
        d = iso_date(f.start_date)
        return [d[:4] if d else "(none stated)"]
    value = {"phase": f.phase, "status": f.status, "study_type": f.study_type, "sex": f.sex,
             "lead_sponsor": f.sponsor, "allocation": f.allocation, "masking": (f.masking or "").split(" (")[0] or None,
             "primary_purpose": f.primary_purpose}.get(fld)
    return [value or "(none stated)"]


def group_counts(trials: list[Trial], fld: str) -> dict[str, int]:
    c: Counter[str] = Counter()
    for t in trials:
        c.update(group_values(t, fld))
    return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))
