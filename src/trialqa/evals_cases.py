"""Gold cases as data: the `Case` model and the reader of a JSONL case file.

    read_jsonl_cases(path, Case, "gold") -> [Case]   one JSON object per line, validated

The red-team file (`trialqa.redteam`) is read the same way with its own model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from trialqa.errors import BadInput
from trialqa.types import CANONICAL_SECTIONS

Category = Literal[
    "fact", "list", "numeric", "follow-up", "abstain", "described", "eligibility", "aggregate", "lay",
]
CATEGORIES: tuple[Category, ...] = (
    "fact", "list", "numeric", "follow-up", "abstain", "described", "eligibility", "aggregate", "lay",
)


class Case(BaseModel):
    """One gold case: a question (or a conversation) and what a correct answer must do."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    question: str | None = Field(None, min_length=1)
    turns: list[str] | None = Field(None, min_length=2)
    category: Category
    expect_trials: list[str] = Field(default_factory=list)
    forbid_trials: list[str] = Field(default_factory=list)
    expect_docs: list[str] = Field(default_factory=list)
    expect_any_text: list[str] = Field(default_factory=list)
    expect_abstain: bool | None = Field(False, description="None: an abstention or a strictly supported answer")
    expect_sections: list[str] = Field(default_factory=list)
    expect_exact: bool = Field(
        False, description="the answer's trial set (its table rows, else its cited trials) must equal expect_trials"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Case:
        if (self.question is None) == (self.turns is None):
            raise ValueError("give exactly one of 'question' or 'turns'")
        if self.category == "follow-up" and self.turns is None:
            raise ValueError("a 'follow-up' case needs 'turns'")
        if self.expect_abstain and (self.expected_ids or self.expect_any_text):
            raise ValueError("an abstention case cannot expect trials, docs or text")
        if self.expect_exact and not self.expect_trials:
            raise ValueError("'expect_exact' needs the exact set in 'expect_trials'")
        if clash := set(self.expected_ids) & set(self.forbid_trials):
            raise ValueError(f"ids both expected and forbidden: {sorted(clash)}")
        for name in self.expect_sections:
            if name.split(":")[0].strip() not in CANONICAL_SECTIONS:
                raise ValueError(f"'{name}' is not a canonical section ({', '.join(CANONICAL_SECTIONS)})")
        return self

    @property
    def prompts(self) -> list[str]:
        """The user turns in order; a single question is a one-turn conversation."""
        return list(self.turns) if self.turns is not None else [self.question or ""]

    @property
    def expected_ids(self) -> list[str]:
        return [*self.expect_trials, *self.expect_docs]


M = TypeVar("M", bound=BaseModel)


def read_jsonl_cases(path: Path, model: type[M], kind: str) -> list[M]:
    """Validate each line of a JSONL file as `model`; a bad line raises BadInput naming `file:line`.
    `kind` names the file in messages ("gold", "red-team")."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise BadInput(f"{path}: no such {kind} file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read {kind} file: {exc}") from None
    cases: list[M] = []
    seen: set[str] = set()
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            case = model.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            raise BadInput(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        except ValidationError as exc:
            raise BadInput(f"{where}: {_describe(exc)}") from None
        case_id = getattr(case, "id")
        if case_id in seen:
            raise BadInput(f"{where}: duplicate case id '{case_id}'")
        seen.add(case_id)
        cases.append(case)
    if not cases:
        raise BadInput(f"{path}: no cases in {kind} file")
    return cases


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{field}: {msg}" if field else msg)
    return "; ".join(parts)
