"""The typed question plan: made once by `understand`, read by every later stage.

A plan says which trials a question is about (scope), what it asks (intent, a closed
union) and which conditions a trial must meet (filters, composed with AND / OR / NOT).
Nothing after `understand` reads the raw question for meaning; the question text is
kept only for evidence ranking and for the model's prompt.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field

Intent = Literal[
    "field",        # one structured fact of the scoped trial(s): phase, enrollment, sponsor ...
    "section",      # a section's content: outcomes, arms, criteria ...
    "eligibility",  # can this person join the scoped trial?
    "list",         # which trials meet the filters?
    "count",        # how many trials meet the filters (optionally grouped by a field)?
    "sum",          # total of a numeric field over the matching trials
    "share",        # what fraction of the matching trials meets a further condition?
    "extreme",      # the largest / smallest / earliest / latest by a field
    "compare",      # which of the named trials has more / less / earlier ... of a field
    "open",         # anything else: evidence sentences phrased by the model
]

#: Fields a filter, a grouping, an extreme or a comparison can use.
FieldName = Literal[
    "phase", "status", "study_type", "sex", "age", "healthy_volunteers", "enrollment",
    "start_date", "completion_date", "country", "city", "facility", "sponsor", "lead_sponsor",
    "collaborator", "condition", "intervention_type", "intervention", "allocation", "masking",
    "intervention_model", "primary_purpose", "arm_type", "has_results", "topic", "trial",
    "facilities",
]

Op = Literal["eq", "in", "contains", "lt", "le", "gt", "ge", "between", "covers", "is"]


class Cond(BaseModel):
    """One condition on one field. `value` is typed by the field:

    - phase / status / study_type / sex / allocation / masking ...: a string or list of strings
      (`in` means any of them)
    - age: `covers` a number of years (the trial admits that age), or `ge` / `le` / `lt` / `gt`
      on the admitted range ("65 or older" = admits someone of at least 65: max_age >= 65 or none;
      "children" = admits someone under 18: min_age < 18)
    - enrollment / facilities: a number (`between` takes [lo, hi])
    - start_date / completion_date: ISO text "2015", "2015-03" (`lt` = before, `ge` = in or after)
    - country / city / facility / sponsor / condition / intervention / topic: text matched
      case-insensitively; `topic` is matched over every section of every trial
    - healthy_volunteers / has_results: `is` True or False
    - arm_type: "Placebo Comparator", "Active Comparator", "Experimental" ...
    - sex with op "is": "Female" = only women, "Male" = only men; with "covers": accepts that sex
    """

    kind: Literal["cond"] = "cond"
    field: FieldName
    op: Op = "eq"
    value: Any = None
    label: str = Field("", description="how the filter reads to a person, e.g. 'phase 3'")


class And(BaseModel):
    kind: Literal["and"] = "and"
    items: list["Filter"] = Field(default_factory=list)


class Or(BaseModel):
    kind: Literal["or"] = "or"
    items: list["Filter"] = Field(default_factory=list)


class Not(BaseModel):
    kind: Literal["not"] = "not"
    item: "Filter"


Filter = Annotated[Union[Cond, And, Or, Not], Field(discriminator="kind")]
And.model_rebuild()
Or.model_rebuild()
Not.model_rebuild()


class Person(BaseModel):
    """Facts about a person, for eligibility: only what the question or note states."""

    age: float | None = None
    sex: Literal["Female", "Male"] | None = None
    healthy: bool | None = None
    facts: list[str] = Field(default_factory=list, description="conditions, treatments, states ('on dialysis')")
    note: str | None = Field(None, description="a whole patient note, when one was given")


class Plan(BaseModel):
    """What a question asks, decided once."""

    question: str
    intent: Intent = "open"
    scope: list[str] = Field(default_factory=list, description="trial ids the question is about")
    scope_reason: Literal["", "named", "described", "follow-up", "ordinal", "only-trial"] = ""
    filters: list[Filter] = Field(default_factory=list, description="ANDed together")
    field: FieldName | str | None = Field(None, description="the field asked for, grouped by, ranked or compared")
    section: str | None = Field(None, description="the section asked for (intent 'section')")
    group_by: FieldName | None = None
    direction: Literal["max", "min"] | None = Field(None, description="extreme / compare: largest or smallest")
    limit: int = Field(1, description="extreme: how many (top 3 ...)")
    share_of: list[Filter] = Field(default_factory=list, description="share: the condition whose share is asked")
    person: Person | None = None
    terms: list[str] = Field(default_factory=list, description="content words left for evidence ranking")
    unknown: list[str] = Field(default_factory=list, description="things named that no indexed trial holds")
    follow_up: bool = False
    notes: list[str] = Field(default_factory=list, description="how the question was read, for display")

    def labels(self) -> list[str]:
        """The plan as short chips: scope, intent, each filter."""
        out = [f"trial: {t}" for t in self.scope]
        out.append(f"intent: {self.intent}" + (f" ({self.field})" if self.field else ""))
        out += [filter_label(f) for f in self.filters]
        if self.group_by:
            out.append(f"by {self.group_by}")
        return out


def filter_label(f: Filter) -> str:
    if isinstance(f, Cond):
        return f.label or f"{f.field} {f.op} {f.value}"
    if isinstance(f, Not):
        return f"not {filter_label(f.item)}"
    joiner = " and " if isinstance(f, And) else " or "
    return "(" + joiner.join(filter_label(i) for i in f.items) + ")"


class Row(BaseModel):
    """One trial in a computed answer: what matched, and the citation keys that state it."""

    trial_id: str
    title: str = ""
    values: dict[str, str] = Field(default_factory=dict, description="field -> value that made it match")
    cite: int | None = Field(None, description="index into Answer.citations of the row's main citation")


class Table(BaseModel):
    """The full result set of a list / count / extreme / comparison answer."""

    columns: list[str] = Field(default_factory=list)
    rows: list[Row] = Field(default_factory=list)
    total: int = Field(0, description="matching trials, all of them, even when the text shows fewer")
    of: int = Field(0, description="trials in the index")
    groups: dict[str, int] = Field(default_factory=dict, description="grouped count: value -> trials")
