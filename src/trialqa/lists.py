""""Which trials ..." questions, answered over every candidate trial, not the top chunks.

A structured filter (ages, sex, phase, enrollment, randomisation, recruiting, healthy
volunteers) when the question asks for one; otherwise every content term must occur
together in one sentence (or two neighbouring ones) of a trial. Negated questions
("which trials do not ...") keep the trials that lack the negated clause.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trialqa.embed import Embedder
from trialqa.evidence import Sentence, clip, sentences, support
from trialqa.field_filters import extreme_enrollment, list_filter
from trialqa.fields_qa import Claim, answer_field
from trialqa.query import NEGATION_RE, Query, has_term
from trialqa.types import Trial

RESTRICTING = ("Eligibility: Exclusion", "Eligibility: Inclusion")


@dataclass
class ListResult:
    claims: list[Claim] = field(default_factory=list)
    trials: list[str] = field(default_factory=list)
    abstain: str | None = None


def name(trial: Trial) -> str:
    """'NCT… (short title)' for list answers."""
    title = f" ({clip(trial.title, 90)})" if trial.title else ""
    return f"{trial.nct_id or trial.doc_id}{title}"


def mentions_all(trial: Trial, q: Query, groups: list[list[str]]) -> bool:
    """Every term group occurs somewhere in the trial (presence, not co-occurrence)."""
    matched = support(trial, q, groups=groups).matched
    return all(matched.intersection(g) for g in groups)


def answer_list(q: Query, trials: dict[str, Trial], cands: list[str], embedder: Embedder) -> ListResult | None:
    """Claims naming every matching candidate, an abstention reason, or None (not a list answer)."""
    topical = [t for t in cands if mentions_all(trials[t], q, q.groups)]
    total = len(trials)
    filt = list_filter(q)
    if filt is not None:
        matches, unknown = [], []
        for tid in topical:
            verdict = filt.test(trials[tid])
            if verdict is None:
                unknown.append(tid)
            elif verdict:
                matches.append(tid)
        if not matches:
            return ListResult(abstain=f"none of the {len(topical):,} candidate trials {filt.describe}.")
        claims = [Claim(f"{len(matches)} of the {total:,} indexed trials {filt.describe}:")]
        for tid in matches:
            quote = filt.cite(trials[tid])
            claims.append(Claim(filt.explain(trials[tid]), [quote] if quote else []))
        if unknown:
            claims.append(Claim(f"({len(unknown)} {'trials do' if len(unknown) != 1 else 'trial does'} not state this.)"))
        return ListResult(claims, matches)
    extreme = extreme_enrollment(q)
    if extreme:
        known = [t for t in topical if trials[t].fields.enrollment is not None]
        if not known:
            return None
        pick = (max if extreme == "max" else min)(known, key=lambda t: trials[t].fields.enrollment or 0)
        claims = answer_field(trials[pick], "enrollment")
        if not claims:
            return None
        word = "largest" if extreme == "max" else "smallest"
        head = Claim(f"Of the {len(known)} trials that state an enrollment, the {word} is {trials[pick].nct_id or pick}:")
        return ListResult([head, *claims], [pick])
    if not q.content_terms:
        return None
    hints = [h for h in q.section_hints if h in RESTRICTING] or None
    groups = q.groups or [[t] for t in q.content_terms]
    if q.negated and q.negated_terms:
        pred = [g for g in groups if set(g) & set(q.negated_terms)]
        topic = [g for g in groups if g not in pred]
        pool = [t for t in cands if mentions_all(trials[t], q, topic)]
        chosen = [s.trial_id for s in (support(trials[t], q, hints, groups=pred) for t in pool) if not s.full]
        claims = []
        for tid in chosen:
            about = _closest(trials[tid], q, ["Interventions", "Arms", "Description"], embedder)
            quote = f" \u201c{clip(about.text)}\u201d" if about else ""
            claims.append(Claim(f"{name(trials[tid])} does not state {' '.join(q.negated_terms)}; it says:{quote}",
                                [about] if about else []))
    else:
        full = [s for s in (support(trials[t], q, hints) for t in cands) if s.full]
        chosen = [s.trial_id for s in full]
        claims = [Claim(f"{name(trials[s.trial_id])}: \u201c{clip(' '.join(x.text for x in s.best))}\u201d", s.best)
                  for s in full]
    if not chosen:
        terms = [repr(t) for t in q.content_terms]
        return ListResult(abstain=f"no indexed trial mentions {terms[0]}." if len(terms) == 1
                          else f"no indexed trial states {' and '.join(terms)} together.")
    return ListResult([Claim(f"{len(chosen)} of the {total:,} indexed trials match:"), *claims], chosen)


def _closest(trial: Trial, q: Query, sections: list[str], embedder: Embedder) -> Sentence | None:
    """The sentence of these sections closest in meaning to the negated clause of the
    question, among those sharing a term with it (what the trial does instead)."""
    cands = [s for s in sentences(trial) if s.section.split(":")[0] in sections]
    sharing = [s for s in cands if any(has_term(s.lower, s.words, t) for t in q.negated_terms)]
    cands = sharing or cands
    if not cands:
        return None
    m = NEGATION_RE.search(q.text)
    clause = q.text[m.end():] if m else " ".join(q.negated_terms)
    vecs = embedder.embed([clause] + [s.text for s in cands])
    return cands[int((vecs[1:] @ vecs[0]).argmax())]
