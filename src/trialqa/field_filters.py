"""Filters over every indexed trial that a "which trials ..." question asks for ("Which trials
would accept a 62-year-old?", "phase 3 trials recruiting more than 500 participants"): a
predicate over a trial's structured fields, how to describe it, and the sentence to cite."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from trialqa.evidence import Sentence
from trialqa.answer.db import age_years
from trialqa.field_values import age_quote, age_range_text, enrollment_quote, quote_for
from trialqa.query import Query
from trialqa.types import Trial


@dataclass
class Filter:
    """A predicate over TrialFields, how to describe it, and how to cite a match."""

    describe: str
    test: Callable[[Trial], bool | None]  # None: the record does not say
    cite: Callable[[Trial], Sentence | None]
    explain: Callable[[Trial], str]


_CMP_RE = re.compile(r"\b(more than|over|above|greater than|at least|fewer than|less than|under|below|at most)\s+(\d[\d,]*)\s*(participants|patients|subjects|people|volunteers)?", re.I)
_SEX_RE = re.compile(r"\b(only (wom[ae]n|females?|m[ae]n|males?)|(wom[ae]n|females?|m[ae]n|males?)[- ]only|(accept|enrol+|recruit|include|open to|allow)\w* (wom[ae]n|females?|m[ae]n|males?)|both sexes|all sexes)\b", re.I)
_PHASE_RE = re.compile(r"\b(early )?phase\s*(1|2|3|4|i{1,3}|iv)\b", re.I)
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4"}


def list_filter(query: Query) -> Filter | None:
    """A structured filter that a "which trials ..." question asks for, if any."""
    q = query.text
    neg = query.negated
    if query.age is not None:
        age = query.age

        def test_age(t: Trial) -> bool | None:
            lo, hi = age_years(t.fields.min_age), age_years(t.fields.max_age)
            if lo is None and hi is None:
                return None
            return (lo is None or lo <= age) and (hi is None or age <= hi)

        return Filter(f"accept a {age}-year-old", test_age, age_quote, age_range_text)
    m = _CMP_RE.search(q)
    if m and re.search(r"enrol|participant|patient|subject|people|volunteer|recruit", q, re.I):
        op, n = m.group(1).lower(), int(m.group(2).replace(",", ""))
        ge = op in ("more than", "over", "above", "greater than", "at least")
        strict = op not in ("at least", "at most")

        def test_enr(t: Trial) -> bool | None:
            e = t.fields.enrollment
            if e is None:
                return None
            return (e > n if strict else e >= n) if ge else (e < n if strict else e <= n)

        return Filter(f"enroll {op} {n} participants", test_enr, enrollment_quote,
                      lambda t: f"{t.nct_id or t.doc_id} enrolls {t.fields.enrollment} participants.")
    m = _SEX_RE.search(q)
    if m:
        s = m.group(0).lower()
        want = "All" if "both" in s or "all" in s else ("Female" if re.search(r"wom|fem", s) else "Male")

        def test_sex(t: Trial) -> bool | None:
            if t.fields.sex is None:
                return None
            return t.fields.sex == want if want == "All" or "only" in s else t.fields.sex in (want, "All")

        return Filter(f"accept {'all sexes' if want == 'All' else want.lower() + ' participants'}", test_sex,
                      lambda t: quote_for(t, [t.fields.sex or ""], ["Eligibility"]),
                      lambda t: f"{t.nct_id or t.doc_id} accepts {'all sexes' if t.fields.sex == 'All' else (t.fields.sex or '').lower() + ' participants'}.")
    m = _PHASE_RE.search(q)
    if m:
        digit = _ROMAN.get(m.group(2).lower(), m.group(2))
        early = bool(m.group(1))

        def test_phase(t: Trial) -> bool | None:
            p = (t.fields.phase or "").lower()
            if not p:
                return None
            hit = bool(re.search(rf"phase\s*{digit}\b|phase{digit}\b", p))
            return hit and ("early" in p) == early

        return Filter(f"are {'early ' if early else ''}phase {digit}", test_phase,
                      lambda t: quote_for(t, [t.fields.phase or ""], ["Status", "Design"]),
                      lambda t: f"{t.nct_id or t.doc_id} is in {t.fields.phase}.")
    if re.search(r"\brandomi[sz]ed\b", q, re.I):
        def test_rand(t: Trial) -> bool | None:
            a = (t.fields.allocation or "").lower()
            if not a or a in ("n/a", "na"):
                return None if not a else False
            return a.startswith("random") != neg

        return Filter("are not randomized" if neg else "are randomized", test_rand,
                      lambda t: quote_for(t, [t.fields.allocation or ""], ["Design"]),
                      lambda t: f"{t.nct_id or t.doc_id} has allocation: {t.fields.allocation}.")
    if re.search(r"\bhealthy volunteers?\b", q, re.I):
        def test_hv(t: Trial) -> bool | None:
            hv = t.fields.healthy_volunteers
            return None if hv is None else hv != neg

        return Filter("do not accept healthy volunteers" if neg else "accept healthy volunteers", test_hv,
                      lambda t: quote_for(t, ["healthy"], ["Eligibility"]),
                      lambda t: f"{t.nct_id or t.doc_id} {'accepts' if t.fields.healthy_volunteers else 'does not accept'} healthy volunteers.")
    if re.search(r"\b(still |currently |now )?recruiting\b", q, re.I) and not re.search(r"not (yet )?recruiting", q, re.I):
        def test_rec(t: Trial) -> bool | None:
            s = (t.fields.status or "").lower()
            return None if not s else (s == "recruiting") != neg

        return Filter("are recruiting", test_rec,
                      lambda t: quote_for(t, [t.fields.status or ""], ["Status"]),
                      lambda t: f"The recruitment status of {t.nct_id or t.doc_id} is {t.fields.status}.")
    return None


def extreme_enrollment(query: Query) -> str | None:
    """'max' or 'min' when the question asks for the largest or smallest trial."""
    if re.search(r"\b(largest|biggest|most (participants|patients|subjects)|highest enrol)", query.text, re.I):
        return "max"
    if re.search(r"\b(smallest|fewest (participants|patients|subjects)|lowest enrol)", query.text, re.I):
        return "min"
    return None
