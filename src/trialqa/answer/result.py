"""What a handler returns, before it is composed into an `Answer`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trialqa.answer.plan import Table
from trialqa.fields_qa import Claim

if TYPE_CHECKING:
    from trialqa.answer.db import TrialDB
    from trialqa.answer.vocab import Vocabulary
    from trialqa.types import Trial


@dataclass
class Result:
    claims: list[Claim] = field(default_factory=list)
    trials: list[str] = field(default_factory=list)
    table: Table | None = None
    bullets: bool = False
    abstain: str | None = None  # a reason: the answer is an abstention


@dataclass
class Context:
    """What handlers read: the index's trials and database, its vocabulary, the retriever."""

    trials: dict[str, "Trial"]
    db: "TrialDB"
    vocab: "Vocabulary"
    retriever: Any = None
    embedder: Any = None

    @property
    def size(self) -> int:
        return len(self.trials)
