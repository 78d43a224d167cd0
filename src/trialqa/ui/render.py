"""Rendering answers as HTML: pure functions of `Answer` (testable without a browser).

Every piece of text that comes from the model, a trial record or the user goes through
`esc` before it is put into HTML; the only markup on the page is ours. A rendered block
holds no raw newline, so the chatbot's markdown never parses inside it.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from trialqa.types import Answer, Citation

REGISTRY_URL = "https://clinicaltrials.gov/study/"
PENDING = "Searching the indexed trials\u2026"
LABEL_RE = re.compile(r"\[([^\[\]\n]+?) \u00b7 ([^\[\]\n]+?)\]")
NCT_RE = re.compile(r"NCT\d{8}")


def esc(text: Any) -> str:
    """HTML-escape text, keeping line breaks as <br> (no raw newline reaches the markdown)."""
    return "<br>".join(html.escape(line, quote=True) for line in str(text).split("\n"))


def attr(text: Any) -> str:
    """A value for a double-quoted HTML attribute (one line)."""
    return html.escape(" ".join(str(text).split()), quote=True)


def registry_url(nct_id: str | None) -> str | None:
    """The public registry page of a well-formed NCT number, else None."""
    return REGISTRY_URL + nct_id if nct_id and NCT_RE.fullmatch(nct_id) else None


def action(kind: str, view: int | None, arg: Any = "") -> str:
    """Attributes that make a button send a UI action 'kind|view|arg' (see style.BRIDGE_JS;
    the chat's sanitizer keeps `name` and `value`, not data-* attributes)."""
    if view is None:
        return ""
    return f' name="tq" value="{attr(f"{kind}|{int(view)}|{arg}")}"'


def open_record(c: Citation, view: int | None, cite: int | None) -> str:
    """A button that opens the cited record in the trial panel."""
    if view is None:
        return ""
    key = f"{c.trial_id}|{'' if cite is None else cite}"
    return f'<button class="tq-open"{action("trial", view, key)}>open the record</button>'


def card(ident: str, section: str, cites: list[tuple[int, Citation]], view: int | None = None) -> str:
    first = cites[0][1]
    url = registry_url(first.nct_id)
    link = (f'<a href="{url}" target="_blank" rel="noopener noreferrer">{esc(ident)}</a>'
            if url else esc(ident))
    title = f'<span class="tq-card-title">{esc(first.title)}</span>' if first.title else ""
    quotes = "".join(f"<blockquote>\u201c{esc(c.quote)}\u201d</blockquote>" for _, c in cites)
    return (f'<span class="tq-card">{title}<span class="tq-card-meta">{link} \u00b7 '
            f"{esc(section)}</span>{quotes}{open_record(first, view, cites[0][0])}</span>")


def cite_chip(ident: str, section: str, cites: list[tuple[int, Citation]], view: int | None = None,
              text: str | None = None) -> str:
    chip = esc(text if text is not None else f"{ident} \u00b7 {section}")
    return (f'<details class="tq-cite"><summary>{chip}</summary>'
            f"{card(ident, section, cites, view)}</details>")


def _with_chips(text: str, citations: list[Citation] | None, view: int | None = None) -> str:
    """Escape `text`, turning each '[ID · Section]' label into a chip; with citations the
    chip is a <details> that opens the cited section."""
    by_label: dict[tuple[str, str], list[tuple[int, Citation]]] = {}
    for i, c in enumerate(citations or []):
        by_label.setdefault((c.nct_id or c.doc_id, c.section), []).append((i, c))
    out, pos = [], 0
    for m in LABEL_RE.finditer(text):
        out.append(esc(text[pos:m.start()]))
        ident, section = m.group(1).strip(), m.group(2).strip()
        cites = by_label.get((ident, section))
        if cites:
            out.append(cite_chip(ident, section, cites, view))
        else:
            out.append(f'<span class="tq-chip">{esc(f"{ident} · {section}")}</span>')
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def body(text: str, citations: list[Citation] | None, view: int | None = None) -> str:
    """Lines of the answer; consecutive '- ' lines become a list."""
    parts, items = [], []
    for line in text.split("\n"):
        if line.startswith("- "):
            items.append(f"<li>{_with_chips(line[2:], citations, view)}</li>")
            continue
        if items:
            parts.append(f"<ul>{''.join(items)}</ul>")
            items = []
        parts.append(f"<div>{_with_chips(line, citations, view)}</div>")
    if items:
        parts.append(f"<ul>{''.join(items)}</ul>")
    return "".join(parts)


def sources_list(citations: list[Citation]) -> str:
    """The sources found so far (before the model writes), as chips."""
    if not citations:
        return ""
    groups: dict[tuple[str, str], list[tuple[int, Citation]]] = {}
    for i, c in enumerate(citations):
        groups.setdefault((c.nct_id or c.doc_id, c.section), []).append((i, c))
    chips = "".join(cite_chip(k[0], k[1], v) for k, v in groups.items())
    return f'<div class="tq-sources"><span class="tq-sources-head">Sources found:</span> {chips}</div>'


def render_partial(text: str, sources: list[Citation] | None = None) -> str:
    """The answer while it streams: escaped text, labels as (inert) chips, and the sources
    as soon as retrieval has chosen them."""
    shown = body(text, None) if text else esc(PENDING)
    return f'<div class="tq-answer">{shown}{sources_list(sources or [])}</div>'


def render_answer(answer: Answer, *, view: int | None = None, extra: str = "", top: str = "",
                  revised: bool = False, fold: bool = False) -> str:
    """The finished answer: clickable citation chips, or a visibly different abstention.
    `top` (the plan chips) goes above the text, `extra` (a table) below it; `view` makes
    the chips and buttons send actions for that answer; `fold` keeps only the first line
    open (the table shows the rest)."""
    first, _, rest = answer.text.partition("\n")
    if fold and rest.strip():
        n = rest.strip().count("\n") + 1
        text = (body(first, answer.citations, view) + f'<details class="tq-more"><summary>the answer '
                f"as text ({n} more lines)</summary>{body(rest, answer.citations, view)}</details>")
    else:
        text = body(answer.text, answer.citations, view)
    if answer.abstained:
        text = ('<div class="tq-abstain"><div class="tq-abstain-head">No answer in the indexed '
                f"trials</div>{text}</div>")
    notes = "".join(f'<div class="tq-note">note: {esc(n)}</div>' for n in answer.notes)
    if revised:
        notes += ('<div class="tq-note tq-revised">The streamed draft was replaced by the checked '
                  "answer.</div>")
    t = answer.timings
    meta = (f'<div class="tq-meta">first words {t.first_token_s or 0:.1f} s \u00b7 '
            f"answered in {t.total_s:.1f} s</div>")
    return f'<div class="tq-answer">{top}{text}{extra}{notes}{meta}</div>'


def render_notice(message: str, kind: str = "error") -> str:
    """A one-line message in place of an answer: kind 'error', 'busy' or 'info'."""
    return f'<div class="tq-answer tq-{kind}">{esc(message)}</div>'


def render_question(question: str, *, limit: int = 400) -> str:
    """The user's question; a long one (a pasted note) folds after its first lines."""
    if len(question) <= limit:
        return f'<div class="tq-q">{esc(question)}</div>'
    head = esc(question[:200].rstrip() + "\u2026")
    return (f'<div class="tq-q"><details class="tq-qnote"><summary>{head} <span class="tq-note">'
            f"(a patient note of {len(question):,} characters)</span></summary>{esc(question)}"
            "</details></div>")


def answer_text(answer: Answer) -> str:
    """Plain text for API callers: the answer with inline labels, then its sources."""
    lines = [answer.text]
    if answer.citations:
        lines += ["", "Sources:"]
        for i, c in enumerate(answer.citations, 1):
            head = f"[{i}] {c.nct_id or c.doc_id} \u00b7 {c.section}"
            lines.append(f"{head} \u2014 {c.title}" if c.title else head)
            lines.append(f"    \u201c{c.quote}\u201d")
            if url := registry_url(c.nct_id):
                lines.append(f"    {url}")
    return "\n".join(lines)


def model_label(assistant: Any) -> str:
    """The model's name without loading it."""
    return str(assistant.model_label)


def footer_html(assistant: Any) -> str:
    """Names the index (and its size) and the model, from the index manifest and the settings."""
    index = assistant.index
    m = index.manifest
    counts = m.counts
    return (
        f'<div class="tq-footer">Index <b class="tq-index-name">{esc(Path(index.path).name)}</b> '
        f"({counts.get('trials', 0):,} trials \u00b7 {counts.get('chunks', 0):,} chunks \u00b7 "
        f"embedder {esc(m.embedder_id)}) \u00b7 Model <b>{esc(model_label(assistant))}</b> \u00b7 "
        "answers come only from the indexed trial records; open a source to check it.</div>"
    )
