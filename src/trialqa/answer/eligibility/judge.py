"""The bundled model as judge of the criteria rules cannot decide (free-text conditions).

One prompt per trial: the start of the note (or the stated facts) and at most
`MAX_CRITERIA` criteria, numbered; a grammar makes the model answer each with yes / no /
unknown, nothing else. "yes" means the criterion's statement is true of the patient (for an
exclusion criterion: it applies). Which criteria are asked: the inclusion criteria that name
what the trial requires but the rules could not match (the condition under study comes
first in most records), then exclusion criteria left unknown. Budget: about 350 prompt
tokens and 20 generated, a few seconds on this machine's CPU.
"""

from __future__ import annotations

import re
from typing import Any

from trialqa.answer.eligibility.criteria import Criterion
from trialqa.answer.eligibility.rules import Status
from trialqa.answer.plan import Person
from trialqa.types import Trial

MAX_CRITERIA = 4
NOTE_CHARS = 700
CRITERION_CHARS = 160
SYSTEM = (
    "You screen patients for clinical trials. For each numbered criterion, answer whether it is "
    "true of the patient described: yes, no, or unknown when the description does not say. "
    "Answer 'no' only when the description contradicts the criterion."
)
_GRAMMAR_LINE = '"{n}: " ("yes" | "no" | "unknown") "\\n"'


def grammar(n: int) -> str:
    """GBNF: exactly `n` lines '<i>: yes|no|unknown'."""
    return "root ::= " + " ".join(_GRAMMAR_LINE.format(n=i) for i in range(1, n + 1)) + "\n"


def prompt(trial: Trial, person: Person, criteria: list[Criterion]) -> list[dict[str, str]]:
    if person.note:
        about = person.note[:NOTE_CHARS].rsplit(" ", 1)[0] if len(person.note) > NOTE_CHARS else person.note
    else:
        bits = [f"{person.age:g} years old" if person.age is not None else "",
                {"Female": "female", "Male": "male"}.get(person.sex or "", ""), *person.facts]
        about = "; ".join(b for b in bits if b) or "no facts given"
    lines = []
    for i, c in enumerate(criteria, start=1):
        text = f"{c.context} {c.text}".strip() if c.context else c.text
        text = text if len(text) <= CRITERION_CHARS else text[:CRITERION_CHARS].rsplit(" ", 1)[0] + "..."
        label = "Exclusion (patient has it)" if c.kind == "exclusion" else "Inclusion"
        lines.append(f"{i}. [{label}] {text}")
    user = f"Patient: {about}\n\nTrial: {trial.title}\nCriteria:\n" + "\n".join(lines)
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def parse(reply: str, n: int) -> list[Status]:
    out: list[Status] = ["unknown"] * n
    for m in re.finditer(r"(\d+)\s*:\s*(yes|no|unknown)", reply.lower()):
        i = int(m.group(1)) - 1
        if 0 <= i < n:
            out[i] = {"yes": "met", "no": "not_met"}.get(m.group(2), "unknown")  # type: ignore[assignment]
    return out


class ModelJudge:
    """Judges a trial's undecided criteria in one grammar-constrained model call."""

    def __init__(self, generator: Any, max_criteria: int = MAX_CRITERIA) -> None:
        self.generator = generator
        self.max_criteria = max_criteria
        self.calls = 0

    @classmethod
    def load(cls, model: str | None = None) -> "ModelJudge":
        from trialqa.generate import load_generator

        return cls(load_generator(model))

    def pick(self, checks: list[Any]) -> list[Any]:
        """The checks worth the model's time, at most `max_criteria`, most decisive first."""
        inclusion = [c for c in checks if c.criterion.kind == "inclusion" and c.status in ("irrelevant", "unknown")
                     and c.criterion.parsed.polarity == "require" and not c.criterion.parsed.generic
                     and len(c.criterion.parsed.words) >= 2]
        exclusion = [c for c in checks if c.criterion.kind == "exclusion" and c.status == "unknown"]
        picked = inclusion[:2] + exclusion[:2]
        picked += [c for c in inclusion[2:] if c not in picked]
        return picked[: self.max_criteria]

    def __call__(self, trial: Trial, person: Person, criteria: list[Criterion]) -> list[Status]:
        if not criteria:
            return []
        self.calls += 1
        messages = prompt(trial, person, criteria)
        reply = "".join(self.generator.stream(messages, max_tokens=8 * len(criteria) + 4,
                                              grammar=grammar(len(criteria))))
        return parse(reply, len(criteria))
