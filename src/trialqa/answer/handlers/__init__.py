"""One handler per intent. Each takes the plan and the answering context and returns a
`Result` (claims with their source sentences, the trials, a table) or None when it cannot
answer, in which case the assistant falls back to evidence and the model."""

from __future__ import annotations

from collections.abc import Callable

from trialqa.answer.match import TEXT_FIELDS, conditions
from trialqa.answer.plan import Plan
from trialqa.answer.result import Context, Result

Handler = Callable[[Plan, Context], "Result | None"]


def dispatch(plan: Plan, ctx: Context) -> Handler | None:
    """The handler computing this plan's answer, or None for the evidence path (single-trial
    fields, sections, eligibility by criterion, open questions)."""
    from trialqa.answer.handlers import compare, eligibility, sets

    structured = [c for c in conditions(plan.filters) if c.field not in TEXT_FIELDS]
    if plan.intent in ("count", "sum", "share", "extreme"):
        return {"count": sets.count, "sum": sets.total, "share": sets.share, "extreme": sets.extreme}[plan.intent]
    if plan.intent == "list" and (structured or plan.follow_up or len(ctx.trials) > SMALL_INDEX):
        return sets.list_trials
    if plan.intent == "compare" and len(plan.scope) >= 2:
        return compare.compare
    if plan.intent == "field" and len(plan.scope) >= 2:
        return compare.field_of_many
    if plan.intent == "eligibility" and len(plan.scope) == 1:
        return eligibility.check
    if plan.intent == "open" and len(plan.scope) == 1 and not plan.terms and not plan.filters and _only_names(plan):
        return compare.overview  # the question names a trial and asks nothing more
    return None


def _only_names(plan: Plan) -> bool:
    """The question is the trial's name and little else ("NCT05106972?", "tell me about it")."""
    import re

    rest = re.sub(r"\bNCT\s?\d+\b", " ", plan.question, flags=re.I)
    words = re.findall(r"[a-z']+", rest.lower())
    return len([w for w in words if w not in _ABOUT]) == 0


_ABOUT = frozenset("""tell me about what is the this that trial study describe summary summarise summarize
overview info information explain on please give an a of it its""".split())

#: up to this many trials, a list question with only topic words is checked sentence by
#: sentence over every trial (the evidence path); above it, trial-level full text decides.
SMALL_INDEX = 300
