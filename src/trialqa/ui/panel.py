"""The trial panel (a record's sections, the cited sentence highlighted) and the
conversation export as Markdown with its citations."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from trialqa.types import Citation, Trial
from trialqa.ui.render import attr, esc, registry_url
from trialqa.ui.tables import View, columns

ELLIPSIS_RE = re.compile(r"^(?:\s|\u2026|\.{3})+|(?:\s|\u2026|\.{3})+$")
PANEL_EMPTY = ('<div class="tq-panel-empty">Click an NCT id in a table, or \u201copen the record\u201d '
               "in a source, to read the trial here.</div>")


def _find(text: str, quote: str) -> tuple[int, int] | None:
    """Where `quote` (possibly clipped with '…', with other spacing) occurs in `text`."""
    q = ELLIPSIS_RE.sub("", quote or "")
    if len(q) < 4:
        return None
    words = q.split()
    for n in (len(words), max(3, len(words) * 2 // 3), max(3, len(words) // 2)):
        pattern = r"\s+".join(re.escape(w) for w in words[:n])
        m = re.search(pattern, text)
        if m:
            return m.start(), m.end()
    return None


def _section_html(name: str, text: str, quote: str | None) -> str:
    span = _find(text, quote) if quote else None
    if span:
        a, b = span
        shown = f'{esc(text[:a])}<mark class="tq-hl">{esc(text[a:b])}</mark>{esc(text[b:])}'
    else:
        shown = esc(text)
    return f'<section class="tq-sec"><h4>{esc(name)}</h4><div class="tq-sec-text">{shown}</div></section>'


def trial_html(trial: Trial | None, cite: Citation | None = None, *, trial_id: str = "") -> str:
    """A record's sections; the section of `cite` first holds the highlighted quote."""
    if trial is None:
        return f'<div class="tq-panel tq-error">{esc(trial_id or "This trial")} is not in this index.</div>'
    ident = trial.nct_id or trial.doc_id
    url = registry_url(trial.nct_id)
    link = (f'<a href="{url}" target="_blank" rel="noopener noreferrer">{esc(ident)}</a>'
            if url else esc(ident))
    marked = False
    parts = []
    for s in trial.sections:
        quote = cite.quote if cite and not marked and s.name == cite.section else None
        html = _section_html(s.name, s.text, quote)
        marked = marked or "tq-hl" in html
        parts.append(html)
    if cite and not marked:  # the cited section name differs (sub-section): look everywhere
        for k, s in enumerate(trial.sections):
            if _find(s.text, cite.quote):
                parts[k] = _section_html(s.name, s.text, cite.quote)
                break
    cited = (f'<div class="tq-panel-cited">cited: {esc(cite.section)}</div>' if cite else "")
    return (f'<div class="tq-panel" data-trial="{attr(trial.trial_id)}"><div class="tq-panel-head">'
            f'<div class="tq-panel-title">{esc(trial.title)}</div><div class="tq-panel-id">{link}</div>'
            f'{cited}</div>{"".join(parts)}</div>')


def open_trial(assistant: Any, view: View | None, key: str) -> str:
    """The panel for action key 'TRIAL_ID|CITE' (cite: an index into the view's citations)."""
    trial_id, _, k = key.partition("|")
    trials = getattr(assistant.index, "trials", {}) or {}
    cite = None
    if view is not None and k.isdigit() and int(k) < len(view.answer.citations):
        cite = view.answer.citations[int(k)]
        if cite.trial_id != trial_id:
            cite = None
    return trial_html(trials.get(trial_id), cite, trial_id=trial_id)


# ------------------------------------------------------------------ markdown export


def _md(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def conversation_markdown(views: Sequence[View], index_name: str = "", trials: int = 0,
                          now: datetime | None = None) -> str:
    """The conversation: each question, the plan as understood, the answer, its whole
    table and its numbered sources with quotes and registry links."""
    now = now or datetime.now(timezone.utc)
    head = f"# trialqa conversation\n\nIndex: {index_name or 'unknown'}"
    head += f" ({trials:,} trials)" if trials else ""
    lines = [head + f" \u00b7 exported {now:%Y-%m-%d %H:%M} UTC", ""]
    for n, v in enumerate(views, 1):
        a = v.answer
        lines += [f"## {n}. {_md(v.question)}", ""]
        if a.plan is not None:
            lines += ["As understood: " + " \u00b7 ".join(_md(x) for x in a.plan.labels()), ""]
        lines += [a.text, ""]
        if a.table is not None and a.table.rows:
            cols = columns(a.table)
            lines.append("| NCT id | Title | " + " | ".join(_md(c) for c in cols) + (" |" if cols else "|"))
            lines.append("|---|---|" + "---|" * len(cols))
            for r in a.table.rows:
                vals = "".join(f" {_md(r.values.get(c, ''))} |" for c in cols)
                lines.append(f"| {_md(r.trial_id)} | {_md(r.title)} |{vals}")
            lines.append("")
        if a.table is not None and a.table.groups:
            lines += [f"- {_md(k)}: {c}" for k, c in a.table.groups.items()] + [""]
        if a.citations:
            lines.append("Sources:")
            for i, c in enumerate(a.citations, 1):
                head = f"{i}. {c.nct_id or c.doc_id} \u00b7 {c.section}" + (f" \u2014 {_md(c.title)}" if c.title else "")
                lines.append(head)
                lines.append(f"   > {_md(c.quote)}")
                if url := registry_url(c.nct_id):
                    lines.append(f"   {url}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
