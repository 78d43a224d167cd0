"""Can this person join the scoped trial? The verdict comes from the eligibility package
(structured limits checked exactly, then criterion by criterion); this handler cites the
deciding criteria verbatim."""

from __future__ import annotations

from trialqa.answer.plan import Person, Plan
from trialqa.answer.result import Context, Result
from trialqa.fields_qa import Claim, answer_field


def check(plan: Plan, ctx: Context) -> Result | None:
    try:
        from trialqa.answer.eligibility import answer_eligibility
    except ImportError:
        return None
    trial = ctx.trials.get(plan.scope[0])
    if trial is None:
        return None
    person = plan.person or Person()
    result = answer_eligibility(trial, person)
    claims = [Claim(result.text, list(result.deciding[:1]))]
    claims += [Claim(f"\u201c{s.text}\u201d", [s]) for s in result.deciding[1:4]]
    # the structured limits behind the facts the person gave, each from the record
    for given, fld in ((person.age is not None, "ages"), (person.sex is not None, "sex"),
                       (person.healthy is not None, "healthy_volunteers")):
        if given:
            claims += answer_field(trial, fld) or []
    return Result(claims, [trial.trial_id], bullets=len(claims) > 1)
