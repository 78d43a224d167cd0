"""Shared pieces of the gold builder: the case record, answer-text forms, trial filters.

Filters are plain predicates `Rec -> bool` with the semantics written next to each; a list
is always computed exhaustively over all records and sorted by NCT id.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from goldgen.records import Rec

Pred = Callable[[Rec], bool]
SEED = 20261202


def rng(kind: str) -> random.Random:
    """A generator seeded per kind, so adding cases of one kind never reshuffles another."""
    return random.Random(f"{SEED}:{kind}")


def case(
    cid: str, category: str, *, question: str | None = None, turns: Sequence[str] | None = None,
    trials: Iterable[str] = (), forbid: Iterable[str] = (), text: Iterable[str] = (),
    abstain: bool = False, sections: Iterable[str] = (), exact: bool = False,
) -> dict[str, object]:
    """One gold line in the field order of `trialqa.evals.Case`."""
    out: dict[str, object] = {"id": cid}
    if question is not None:
        out["question"] = question
    if turns is not None:
        out["turns"] = list(turns)
    out |= {
        "category": category, "expect_trials": sorted(set(trials)), "forbid_trials": sorted(set(forbid)),
        "expect_docs": [], "expect_any_text": _dedup(text), "expect_abstain": abstain,
        "expect_sections": list(sections), "expect_exact": exact,
    }
    return out


def _dedup(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def num_forms(n: int | float) -> list[str]:
    """12345 -> ['12345', '12,345']."""
    n = int(n)
    return _dedup([str(n), f"{n:,}"])


def pct_forms(num: int, den: int) -> list[str]:
    """A share as a whole percent and with one decimal ('23%', '23.4%'), both accepted."""
    value = Decimal(num) * 100 / Decimal(den)
    whole = value.quantize(Decimal("1"), ROUND_HALF_UP)
    one = value.quantize(Decimal("0.1"), ROUND_HALF_UP)
    forms = [f"{one}%", f"{whole}%", f"{one} %", f"{whole} %", f"{one} percent", f"{whole} percent"]
    return _dedup(forms)


def phase_forms(phase: str) -> list[str]:
    roman = {"1": "i", "2": "ii", "3": "iii", "4": "iv"}
    if "/" in phase:
        a, b = (p.strip().split()[-1] for p in phase.split("/"))
        return [f"phase {a}/phase {b}", f"phase {a}/{b}", f"phase {a}/ phase {b}", f"phase {a} and {b}",
                f"phase {a} and phase {b}", f"phases {a} and {b}", f"phase {a}, phase {b}",
                f"phase {roman[a]}/{roman[b]}"]
    d = phase.split()[-1]
    return [f"phase {d}", f"phase {roman.get(d, d)}"]


def month_year(text: str) -> list[str]:
    """'November 3, 1999' -> ['November 3, 1999', 'November 1999', 'Nov 1999', '1999-11']."""
    from goldgen.records import parse_date

    d = parse_date(text)
    if d is None:
        return [text]
    month = d.strftime("%B")
    return _dedup([text, f"{month} {d.year}", f"{month[:3]} {d.year}", f"{d.year}-{d.month:02d}"])


def ids(recs: Iterable[Rec], pred: Pred) -> list[str]:
    return sorted(r.nct for r in recs if pred(r))


# ---- filters (each documents its semantics) ---------------------------------------------

class _Pred:
    """A filter with an optional `alt`: another fair reading of the same words. A case whose
    set changes under the other reading is ambiguous unless its question states which."""

    def __init__(self, fn: Pred):
        self.fn = fn
        self.alt: Pred | None = None

    def __call__(self, r: Rec) -> bool:
        return self.fn(r)


def readings(preds: Sequence[Pred]) -> list[tuple[Pred, ...]]:
    """The filters as given, then once with each filter's other reading swapped in."""
    out = [tuple(preds)]
    for i, p in enumerate(preds):
        alt = getattr(p, "alt", None)
        if alt is not None:
            out.append((*preds[:i], alt, *preds[i + 1:]))
    return out


def ambiguous(recs: Sequence[Rec], preds: Sequence[Pred]) -> list[str]:
    """Filters whose other reading changes the matching set (empty: the set is robust)."""
    base = ids(recs, all_of(*preds))
    out = []
    for i, p in enumerate(preds):
        alt = getattr(p, "alt", None)
        if alt is not None and ids(recs, all_of(*preds[:i], alt, *preds[i + 1:])) != base:
            out.append(f"filter {i + 1}")
    return out

def phase(*values: str) -> Pred:
    """The phase field equals one of `values` ('Phase 2', 'Phase 1/Phase 2' ...).
    For one plain phase the reading-alternative also counts combined phases (1/2, 2/3)."""
    pred = _Pred(lambda r: r.phase in values)
    if len(values) == 1 and "/" not in values[0]:
        digit = values[0].split()[-1]
        pred.alt = lambda r: any(p.strip().split()[-1] == digit for p in r.phase.split("/")) if r.phase else False
    return pred


def has_phase(digit: str) -> Pred:
    """Phase includes `digit`: 'Phase 2' and 'Phase 1/Phase 2' both include 2.
    Its reading-alternative is the exact phase."""
    pred = _Pred(lambda r: any(p.strip().endswith(" " + digit) for p in r.phase.split("/")) if r.phase else False)
    pred.alt = phase(f"Phase {digit}")
    return pred


def status(*values: str) -> Pred:
    return lambda r: r.status in values


def study_type(value: str) -> Pred:
    """'Observational' also matches 'Observational [Patient Registry]'."""
    return lambda r: r.study_type.startswith(value)


def sex_only(value: str) -> Pred:
    return lambda r: r.sex == value


def healthy(value: bool) -> Pred:
    return lambda r: r.healthy is value


def accepts_age(years: float) -> Pred:
    """A person of `years` is within the stated limits (a missing limit does not bar)."""
    return lambda r: (r.min_age is None or r.min_age <= years) and (r.max_age is None or r.max_age >= years)


def enrollment(lo: int | None = None, hi: int | None = None) -> Pred:
    """lo < enrollment < hi (strict), the number present."""
    return lambda r: r.enrollment is not None and (lo is None or r.enrollment > lo) and (hi is None or r.enrollment < hi)


def start_year(lo: int, hi: int | None = None) -> Pred:
    hi = lo if hi is None else hi
    return lambda r: r.start is not None and lo <= r.start.year <= hi


def country(name: str) -> Pred:
    return lambda r: name in r.countries


def sponsor(fragment: str) -> Pred:
    """The lead sponsor's name contains `fragment` (case-insensitive)."""
    return lambda r: fragment.lower() in r.sponsor.lower()


def condition(*terms: str) -> Pred:
    """A listed condition or its MeSH term contains one of `terms` (case-insensitive)."""
    low = [t.lower() for t in terms]
    pred = _Pred(lambda r: any(t in c for c in r.cond_terms for t in low))
    pred.alt = condition_loose(*terms)
    return pred


def condition_loose(*terms: str) -> Pred:
    """Also titles and keywords: used to check that a condition filter is not ambiguous."""
    low = [t.lower() for t in terms]
    return lambda r: any(t in r.cond_text() for t in low)


def intervention_type(value: str) -> Pred:
    return lambda r: any(t == value for t, _ in r.interventions)


def intervention(*terms: str) -> Pred:
    """An intervention name, other name or intervention MeSH term contains one of `terms`."""
    low = [t.lower() for t in terms]
    return lambda r: any(t in n for n in r.interv_terms for t in low)


def placebo_arm() -> Pred:
    return lambda r: "Placebo Comparator" in r.arm_types


def allocation(value: str) -> Pred:
    return lambda r: r.allocation == value


def masked(prefix: str) -> Pred:
    """Masking starts with `prefix` ('Double', 'Quadruple', 'None')."""
    return lambda r: r.masking.startswith(prefix)


def results() -> Pred:
    return lambda r: r.has_results


def all_of(*preds: Pred) -> Pred:
    return lambda r: all(p(r) for p in preds)


def near_misses(recs: Sequence[Rec], preds: Sequence[Pred], limit: int = 5) -> list[str]:
    """Trials meeting every filter but one: plausible wrong answers to forbid."""
    out = sorted(r.nct for r in recs if sum(p(r) for p in preds) == len(preds) - 1)
    return out[:limit]


class GoldError(AssertionError):
    """A case the records do not support as written (the builder refuses to write it)."""


def require(ok: bool, message: str) -> None:
    if not ok:
        raise GoldError(message)
