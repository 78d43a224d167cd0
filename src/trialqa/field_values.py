"""A structured field's value read, put in words, and quoted from the record.

`quote_for` finds the sentence that states a value; `age_quote` and `enrollment_quote` apply
it to the age limits and the enrollment. The field answers and the filters of
`trialqa.fields_qa` cite through these.
"""

from __future__ import annotations

import re

from trialqa.answer.db import age_years
from trialqa.evidence import Sentence, find_quote, sentences
from trialqa.types import Trial


def age_words(value: str) -> str:
    """'65 Years' -> '65 years'."""
    return re.sub(r"\bYears?\b", "years", value).strip()


def quote_for(trial: Trial, values: list[str], prefer: list[str]) -> Sentence | None:
    """The sentence stating `values`, looked for in the preferred sections first, then anywhere."""
    values = [v for v in values if v]
    if not values:
        return None
    hit = find_quote(trial, values, prefer)
    if hit:
        return hit
    names = sorted({s.section for s in sentences(trial)})
    return find_quote(trial, values, names)


def _num(v: float | None) -> str:
    return "" if v is None else (str(int(v)) if float(v).is_integer() else str(v))


def age_quote(trial: Trial) -> Sentence | None:
    """The sentence stating the trial's age limits (both if one sentence has both)."""
    f = trial.fields
    lo, hi = age_years(f.min_age), age_years(f.max_age)
    return quote_for(trial, [_num(lo), _num(hi)], ["Eligibility"]) or quote_for(
        trial, [_num(lo) or _num(hi)], ["Eligibility"]
    )


def age_range_text(trial: Trial) -> str:
    """The ages the trial accepts, as a sentence."""
    f, who = trial.fields, trial.nct_id or trial.doc_id
    if f.min_age and f.max_age:
        return f"{who} accepts participants aged {parse_age_text(f.min_age)} to {age_words(f.max_age)}."
    if f.min_age:
        return f"{who} accepts participants aged {age_words(f.min_age)} and older."
    return f"{who} accepts participants up to {age_words(f.max_age or '')}."


def parse_age_text(value: str) -> str:
    """'18 Years' -> '18' when the unit repeats in the upper bound."""
    return re.sub(r"\s*Years?\b", "", value).strip()


def enrollment_quote(t: Trial) -> Sentence | None:
    """The sentence stating the trial's enrollment."""
    return quote_for(t, [str(t.fields.enrollment)], ["Enrollment", "Design"]) if t.fields.enrollment is not None else None
