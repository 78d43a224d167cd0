"""The verdict: can this person join this trial, criterion by criterion?

Order of precedence: an exclusion criterion that applies ("Excluded by") beats an unmet
structured limit or inclusion criterion ("Not eligible"), which beats a criterion that needs
a fact not given ("Cannot tell"); otherwise "Eligible as far as stated". Nothing is ruled out
on facts not given: a criterion about something the person did not mention is skipped.
Every deciding item is a verbatim sentence of the trial (`trialqa.evidence.sentences`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from trialqa.answer.db import age_years
from trialqa.answer.eligibility.criteria import Criterion, split_criteria
from trialqa.answer.eligibility.diagnosis import (conflicts, disease_conflicts, forbidden, person_diagnosis,
                                                  person_diseases, person_state, state_conflict)
from trialqa.answer.eligibility.rules import PersonView, Status, evaluate, healthy_only, trial_concepts, view
from trialqa.answer.plan import Person
from trialqa.evidence import Sentence, sentences
from trialqa.types import Trial

Verdict = Literal["eligible", "excluded", "not_eligible", "cannot_tell"]

MAX_QUOTED = 3


@dataclass
class CriterionCheck:
    criterion: Criterion
    status: Status
    reason: str
    by: Literal["rules", "model"] = "rules"


class Judge(Protocol):
    """Decides criteria the rules leave open: `pick` chooses among the rule checks, the call
    returns "met" / "not_met" / "unknown" for each chosen criterion (judge.ModelJudge)."""

    def pick(self, checks: list[CriterionCheck]) -> list[CriterionCheck]: ...

    def __call__(self, trial: Trial, person: Person, criteria: list[Criterion]) -> list[Status]: ...


@dataclass
class EligibilityResult:
    verdict: Verdict
    text: str                      # starts with the verdict phrase; cites nothing itself
    deciding: list[Sentence]       # the deciding criteria / field sentences, verbatim from the trial
    checks: list[CriterionCheck] = field(default_factory=list)


def _find(trial: Trial, section: str, text: str) -> Sentence | None:
    """The trial sentence (of `section`) that states `text`, or the one holding most of it
    (a long line is cut into several quotable sentences)."""
    sents = [s for s in sentences(trial) if s.section == section]
    for s in sents:
        if s.text == text:
            return s
    for s in sents:
        if s.text in text or text in s.text:
            return s
    for n in (60, 30, 15):
        for s in sents:
            if len(text) >= n and text[:n] in s.text:
                return s
    words = set(text.lower().split())
    best = max(sents, key=lambda s: len(words & set(s.lower.split())), default=None)
    return best if best is not None and words & set(best.lower.split()) else None


def _field_sentence(trial: Trial, label: str) -> Sentence | None:
    for s in sentences(trial):
        if s.section == "Eligibility" and s.text.lower().startswith(label.lower()):
            return s
    return None


def _quote(text: str, n: int = 160) -> str:
    return "\u201c" + (text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + "\u2026") + "\u201d"


def structured(trial: Trial, person: Person) -> tuple[str, Sentence | None] | None:
    """The first structured limit (age, sex, healthy volunteers) the person fails, if any."""
    f = trial.fields
    if person.age is not None:
        lo, hi = age_years(f.min_age), age_years(f.max_age)
        if (lo is not None and person.age < lo) or (hi is not None and person.age > hi):
            span = f"{f.min_age or 'any age'} to {f.max_age or 'no upper limit'}"
            return f"it admits ages {span}; the person is {person.age:g}", _field_sentence(trial, "Ages:")
    if person.sex and f.sex in ("Female", "Male") and f.sex != person.sex:
        return (f"it enrolls only {'women' if f.sex == 'Female' else 'men'}; the person is "
                f"{'a woman' if person.sex == 'Female' else 'a man'}"), _field_sentence(trial, "Sex:")
    if person.healthy and f.healthy_volunteers is False:
        return "it does not accept healthy volunteers", _field_sentence(trial, "Healthy volunteers:")
    return None


def check_criteria(trial: Trial, person: Person, criteria: list[Criterion] | None = None,
                   judge: Judge | None = None) -> list[CriterionCheck]:
    """Every criterion's status for the person (rules first; `judge` for what rules leave unknown)."""
    criteria = split_criteria(trial) if criteria is None else criteria
    pv: PersonView = view(person)
    topic, healthy = trial_concepts(trial), healthy_only(trial)
    text = person.note or ". ".join(person.facts)
    dx, state = person_diagnosis(text), person_state(text)
    clash = conflicts(criteria, dx) | disease_conflicts(criteria, person_diseases(text))
    out = []
    for crit in criteria:
        status, reason = evaluate(crit, pv, topic, healthy)
        if crit.ordinal in clash and status != "not_met":
            status, reason = "not_met", clash[crit.ordinal]  # the stated tumour is of another type or site
        elif status in ("irrelevant", "unknown") and (crit.kind == "exclusion" or crit.parsed.polarity == "forbid") \
                and (why := forbidden(crit.text, dx)):
            status = "met" if crit.kind == "exclusion" else "not_met"  # it names the stated tumour
            reason = why
        elif crit.kind == "inclusion" and crit.parsed.polarity == "require" and status != "not_met" \
                and (why := state_conflict(crit.text, state)):
            status, reason = "not_met", why  # "regular menses" for a postmenopausal woman
        out.append(CriterionCheck(crit, status, reason))
    if judge is not None and not _decided(trial, person, out):
        picked = judge.pick(out)
        for chk, verdict in zip(picked, judge(trial, person, [c.criterion for c in picked])):
            if verdict in ("met", "not_met"):
                chk.status, chk.by, chk.reason = verdict, "model", "as judged by the model"
    return out


def _decided(trial: Trial, person: Person, checks: list[CriterionCheck]) -> bool:
    """True when rules alone already rule the person out (no model needed)."""
    return (any(c.criterion.kind == "exclusion" and c.status == "met" for c in checks)
            or structured(trial, person) is not None
            or any(c.criterion.kind == "inclusion" and c.status == "not_met" for c in checks))


def answer_eligibility(trial: Trial, person: Person, *, judge: Judge | None = None,
                       criteria: list[Criterion] | None = None) -> EligibilityResult:
    """Check `person` against `trial`: structured limits exactly, then each relevant criterion."""
    name = trial.nct_id or trial.doc_id
    if person.age is None and not person.sex and person.healthy is None and not person.facts and not person.note:
        limits = [s for s in (_field_sentence(trial, "Ages:"), _field_sentence(trial, "Sex:")) if s is not None]
        return EligibilityResult("cannot_tell", f"Cannot tell for {name}: nothing is stated about the person "
                                 "(age, sex, conditions or treatments) to check against its criteria.", limits)
    checks = check_criteria(trial, person, criteria, judge)

    def sents(items: list[CriterionCheck]) -> list[Sentence]:
        found = [_find(trial, c.criterion.section, c.criterion.text) for c in items[:MAX_QUOTED]]
        return [s for s in found if s is not None]

    excluding = [c for c in checks if c.criterion.kind == "exclusion" and c.status == "met"]
    if excluding:
        quotes = "; ".join(_quote(c.criterion.text) for c in excluding[:MAX_QUOTED])
        why = ", ".join(dict.fromkeys(c.reason for c in excluding[:MAX_QUOTED] if c.reason))
        return EligibilityResult("excluded", f"Excluded by {name}'s exclusion criteria: {quotes}"
                                 + (f" (stated: {why})." if why else "."), sents(excluding), checks)
    limit = structured(trial, person)
    if limit is not None:
        why, sent = limit
        return EligibilityResult("not_eligible", f"Not eligible for {name}: {why}.", [sent] if sent else [], checks)
    unmet = [c for c in checks if c.criterion.kind == "inclusion" and c.status == "not_met"]
    if unmet:
        quotes = "; ".join(_quote(c.criterion.text) for c in unmet[:MAX_QUOTED])
        why = ", ".join(dict.fromkeys(c.reason for c in unmet[:MAX_QUOTED] if c.reason))
        return EligibilityResult("not_eligible", f"Not eligible for {name}: the inclusion criteria require "
                                 f"{quotes}" + (f" (stated: {why})." if why else "."), sents(unmet), checks)
    unknown = [c for c in checks if c.status == "unknown"]
    if unknown:
        quotes = "; ".join(_quote(c.criterion.text) for c in unknown[:MAX_QUOTED])
        needs = ", ".join(dict.fromkeys(c.reason for c in unknown[:MAX_QUOTED] if c.reason))
        return EligibilityResult("cannot_tell", f"Cannot tell for {name}: {quotes} needs facts not given"
                                 + (f" ({needs})." if needs else "."), sents(unknown), checks)
    met = [c for c in checks if c.status == "met" and c.criterion.kind == "inclusion"]
    deciding = [s for s in (_field_sentence(trial, "Ages:") if person.age is not None else None,
                            _field_sentence(trial, "Sex:") if person.sex else None) if s is not None]
    deciding += sents(met)
    cleared = [c.reason for c in checks if c.reason and c.status in ("met", "not_met")]
    text = f"Eligible as far as stated for {name}: no exclusion criterion matches the stated facts"
    text += f" ({', '.join(dict.fromkeys(cleared))})" if cleared else ""
    text += "; other criteria still need checking."
    return EligibilityResult("eligible", text, deciding, checks)
