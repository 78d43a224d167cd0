"""Patient notes pasted into the chat: ranked trials with verdicts and deciding criteria,
from `trialqa.answer.eligibility.match_note(index, embedder, note, k)`.

`match_note` returns ranked rows (`MatchRow`: rank, trial_id, title, score and an
`EligibilityResult` with the verdict and the deciding sentences); `note_answer` turns them
(or an `Answer`, a `Table`, or plain dicts) into an Answer whose table the chat shows,
each row citing its first deciding criterion.
"""

from __future__ import annotations

import re
import time
from typing import Any

from trialqa.answer.plan import Plan, Row, Table
from trialqa.errors import ConfigError
from trialqa.types import Answer, Citation, Timings

NOTE_CHARS = 400
NOTE_K = 10
CLINICAL_RE = re.compile(
    r"\b\d{1,3}[- ]?(?:year|yr|y)[- ]?(?:s[- ])?old\b|\b\d{1,3} ?y/?o\b|\bpresent(?:s|ed|ing) (?:with|to)\b|"
    r"\b(?:past )?(?:medical )?history of\b|\bchief complaint\b|\bHPI\b|\bPMH\b|\bdiagnosed with\b|"
    r"\bon examination\b|\bvital signs\b|\blab(?:oratory)? (?:results|findings)\b|\badmitted\b",
    re.I)
NCT_RE = re.compile(r"NCT\d{8}")
UNAVAILABLE = ("patient-note matching is not available in this build yet "
               "(trialqa.answer.eligibility.match_note is missing); ask about one trial instead")


def looks_like_note(text: str) -> bool:
    """A pasted patient note rather than a question: long, or clinical-note phrasing
    (at least two cues) in a statement that names no trial."""
    text = (text or "").strip()
    if len(text) > NOTE_CHARS:
        return True
    if len(text) < 80 or NCT_RE.search(text) or text.endswith("?"):
        return False
    return len({m.group(0).lower() for m in CLINICAL_RE.finditer(text)}) >= 2


def _get(item: Any, *names: str, default: Any = None) -> Any:
    for n in names:
        v = item.get(n) if isinstance(item, dict) else getattr(item, n, None)
        if v is not None:
            return v
    return default


def _criteria_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return "; ".join(_criteria_text(v) for v in value if v is not None)
    text = _get(value, "text", "quote", "criterion")
    kind = _get(value, "kind", "type", "section")
    return f"{kind}: {text}" if text and kind else str(text or value)


def _deciding(item: Any) -> list[Any]:
    result = _get(item, "result")
    found = _get(result, "deciding") if result is not None else None
    return list(found if found is not None else _get(item, "deciding", "criteria", "reasons", "why", default=[]) or [])


def _result_rows(items: list[Any], trials: dict) -> tuple[list[Row], list[Citation]]:
    rows, cites = [], []
    for rank, item in enumerate(items, 1):
        tid = str(_get(item, "trial_id", "nct_id", default=""))
        trial = trials.get(tid)
        title = _get(item, "title", default="") or getattr(trial, "title", "")
        verdict = _get(item, "verdict", default="") or _get(_get(item, "result"), "verdict", default="")
        deciding = _deciding(item)
        values = {"rank": str(_get(item, "rank", default=rank)), "verdict": str(verdict).replace("_", " "),
                  "deciding criteria": _criteria_text(deciding)}
        cite = None
        for d in deciding:
            section, quote = _get(d, "section"), _get(d, "text", "quote")
            if isinstance(d, Citation):
                c = d
            elif trial is not None and section and quote:
                c = Citation(trial_id=trial.trial_id, nct_id=trial.nct_id, doc_id=trial.doc_id,
                             section=str(section), quote=str(quote), title=trial.title)
            else:
                continue
            cites.append(c)
            cite = len(cites) - 1 if cite is None else cite
        rows.append(Row(trial_id=tid, title=str(title or ""), values=values, cite=cite))
    return rows, cites


def note_answer(assistant: Any, note: str, k: int = NOTE_K) -> Answer:
    """Rank and check trials for a patient note (ConfigError when matching is missing)."""
    try:
        from trialqa.answer.eligibility.match import match_note
    except ImportError:
        try:
            from trialqa.answer.eligibility import match_note
        except ImportError as exc:
            raise ConfigError(UNAVAILABLE) from exc
    t0 = time.perf_counter()
    result = match_note(assistant.index, assistant.embedder, note, k)
    took = time.perf_counter() - t0
    trials = getattr(assistant.index, "trials", {}) or {}
    if isinstance(result, Answer):
        return result
    if isinstance(result, Table):
        rows, cites, table = result.rows, [], result
    else:
        items = list(_get(result, "rows", "results", "matches", default=result) or [])
        rows, cites = _result_rows(items, trials)
        table = Table(columns=["rank", "verdict", "deciding criteria"], rows=rows, total=len(rows))
    table.of = table.of or len(trials)
    plan = Plan(question=note[:200], intent="eligibility", notes=["a pasted patient note"])
    text = (f"The {len(rows)} trials that fit this patient note best, with the verdict on their "
            "criteria as far as the note states the facts:" if rows else
            "The indexed trials don't say: no trial matched this patient note.")
    return Answer(text=text, citations=cites, abstained=not rows, plan=plan, table=table,
                  trials=[r.trial_id for r in rows], timings=Timings(first_token_s=took, total_s=took))
