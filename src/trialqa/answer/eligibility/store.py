"""Criteria parsed once at index time, stored in the index's `trials.db` table `criteria`
(nct_id, kind, ordinal, text, parsed_json), and read back per trial. An index built before
the table existed, a trial missing from it, or rows written by another `PARSER_VERSION` fall
back to parsing on the fly.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict
from typing import Any

from trialqa.answer.eligibility.criteria import PARSER_VERSION, Criterion, Parsed, split_criteria
from trialqa.types import Trial


def criteria_rows(trial: Trial) -> list[tuple[Any, ...]]:
    """Rows of the `criteria` table for one trial."""
    rows = []
    for c in split_criteria(trial):
        payload = {"v": PARSER_VERSION, "section": c.section, "context": c.context, **asdict(c.parsed)}
        rows.append((trial.trial_id, c.kind, c.ordinal, c.text, json.dumps(payload, separators=(",", ":"))))
    return rows


def from_rows(rows: list[tuple[Any, ...]]) -> list[Criterion] | None:
    """Criteria from (kind, ordinal, text, parsed_json) rows; None when another parser version wrote them."""
    out = []
    for kind, ordinal, text, parsed_json in sorted(rows, key=lambda r: r[1]):
        data = json.loads(parsed_json)
        if data.pop("v", None) != PARSER_VERSION:
            return None
        section, context = data.pop("section"), data.pop("context", "")
        out.append(Criterion(kind, ordinal, text, section, Parsed(**data), context))
    return out


def load_criteria(db: Any, trial: Trial) -> list[Criterion]:
    """The trial's criteria from an index database (a `TrialDB`), else parsed now."""
    if db is not None:
        try:
            rows = db.query("SELECT kind, ordinal, text, parsed_json FROM criteria WHERE nct_id = ?",
                            (trial.trial_id,))
        except sqlite3.Error:
            rows = []
        stored = from_rows(rows) if rows else None
        if stored is not None:
            return stored
    return split_criteria(trial)
