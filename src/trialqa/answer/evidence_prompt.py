"""What the model reads for an answer: the evidence sentences chosen from the retrieved
chunks, and the numbered sources block made of them.

Every prompt token is read before the first word of the answer (about 60-80 tokens/s on
a 2-core CPU), so the block carries only what the model needs: trial numbers only when the
sources come from more than one trial, and the question names no trial number the sources
already stand for.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from trialqa.citations import SourceBook
from trialqa.evidence import NOT_STATED, Sentence, sentences, split_sentences
from trialqa.guards import steering
from trialqa.query import Query, has_term, words
from trialqa.settings import LLMSettings
from trialqa.types import Trial

#: Sentences always shown (when there are so many), however far below the best they score.
EVIDENCE_MIN = 2
EVIDENCE_CANDIDATES = 160
CONTINUES_RE = re.compile(r"(However|But|Therefore|Thus|Hence|This|These|Such|It|They|In addition|Moreover)\b")
#: How the question names the one trial its sources come from, once the number is dropped.
THIS_TRIAL = "this trial"
ONE_TRIAL_HEADER = "Trial:"


def choose_evidence(q: Query, hits, scope: list[str] | None, trials: dict[str, Trial], embedder,
                    llm: LLMSettings) -> list[Sentence]:
    """Sentences from the retrieved chunks, ranked by meaning (dense similarity to the
    question), shared terms and section hints; the best few go to the model."""
    hints = [h.split(":")[0] for h in q.section_hints]
    terms = q.content_terms
    if scope and len(scope) == 1:  # words that only name the trial are in all its sentences' context
        title = trials[scope[0]].title.lower()
        terms = [t for t in terms if not has_term(title, set(words(title)), t)] or terms
    cands: list[tuple[int, int, Sentence]] = []
    seen: set[tuple[str, str]] = set()
    for rank, hit in enumerate(hits):
        c = hit.chunk
        parts = split_sentences(c.text)
        for j, text in enumerate(parts):
            if NOT_STATED in text or (c.trial_id, text) in seen or steering(text, c.section):
                continue
            if j + 1 < len(parts) and CONTINUES_RE.match(parts[j + 1]):  # keep the thought whole
                text = f"{text} {parts[j + 1]}"
            seen.add((c.trial_id, text))
            s = Sentence(c.trial_id, c.section, text, j)
            overlap = sum(1 for t in terms if has_term(s.lower, s.words, t))
            if rank < 8 or overlap or c.section.split(":")[0] in hints:
                cands.append((rank, overlap, s))
    cands = cands[:EVIDENCE_CANDIDATES]
    if not cands:
        return []
    vecs = embedder.embed([q.text] + [s.text for _, _, s in cands])
    sims = vecs[1:] @ vecs[0]
    scored = []
    for (rank, overlap, s), sim in zip(cands, sims):
        hint = 1.0 if s.section.split(":")[0] in hints else 0.0
        scored.append((2.0 * float(sim) + 0.4 * overlap + hint - 0.02 * min(rank, 20), s))
    scored.sort(key=lambda x: -x[0])
    floor = scored[0][0] - llm.evidence_margin  # far below the best match: tokens the model reads for nothing
    best = [s for i, (score, s) in enumerate(scored[: llm.evidence_sentences]) if i < EVIDENCE_MIN or score >= floor]
    if scope and len(scope) == 1 and llm.evidence_title:  # the title gives the model context
        title = next((s for s in sentences(trials[scope[0]]) if s.section == "Title"), None)
        if title and all(b.text != title.text for b in best):
            best = [title, *best[: llm.evidence_sentences - 1]]
    return best


def trial_name(trial: Trial) -> str:
    return trial.nct_id or trial.doc_id


def sources_block(evidence: list[Sentence], book: SourceBook, trials: dict[str, Trial],
                  count_tokens: Callable[[str], int], budget: int) -> str:
    """The numbered sources within the token budget, best first, under one header line per
    trial naming it (a trial number costs about ten prompt tokens, so it is written once).
    Sources of a single trial need no number, their keys map back to it: their header is
    "Trial:" (with no header at all, the model, shown headers in its worked example, said
    NOT FOUND to questions its sources answer)."""
    kept: list[Sentence] = []
    headed: dict[str, None] = {}  # trials with a header line, in order of first appearance
    used = 0
    for s in evidence:
        cost = count_tokens(f"[S9] {s.section}: {s.text}") + 2
        if s.trial_id not in headed:  # counted as a number header: a lone trial's "Trial:" costs less
            cost += count_tokens(f"{trial_name(trials[s.trial_id])}:") + 1
        if used + cost > budget and kept:
            continue
        kept.append(s)
        headed[s.trial_id] = None
        used += cost
    lines = []
    for tid in headed:
        lines.append(f"{trial_name(trials[tid])}:" if len(headed) > 1 else ONE_TRIAL_HEADER)
        lines.extend(f"[{book.add(s)}] {s.section}: {s.text}" for s in kept if s.trial_id == tid)
    return "\n".join(lines)


def question_for_sources(question: str, book: SourceBook, trials: dict[str, Trial]) -> str:
    """The question as the model reads it: when every source comes from the one trial the
    question names, its number becomes "this trial" (the model needs no number to answer,
    and is told not to write one). A question naming other trials too is left as asked."""
    cited = {s.trial_id for s in book.sources}
    if len(cited) != 1:
        return question
    trial = trials[next(iter(cited))]
    named = {m.upper() for m in re.findall(r"\bNCT\d{8}\b", question, flags=re.I)}
    own = {n.upper() for n in (trial.nct_id, trial.doc_id) if n}
    if named - own:
        return question
    ids = "|".join(re.escape(n) for n in sorted(own, key=len, reverse=True))
    text = re.sub(rf"\b(trial|study)\s*\(?(?:{ids})\b\)?", r"\1", question, flags=re.I)  # "trial NCT…": "trial"
    return re.sub(rf"\b(?:the\s+)?(?:{ids})\b(?:\s+(?:trial|study)\b)?", THIS_TRIAL, text, flags=re.I)
