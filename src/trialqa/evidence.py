"""Sentence-level evidence: split a trial's sections into quotable sentences and test
which of a question's terms each trial supports, and where.

Quotes always come verbatim from a section of an indexed record, so every citation
can be checked against the record it names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trialqa.query import Query, has_term, words
from trialqa.types import Trial

_SENT_SPLIT = re.compile(r"(?<=[.;!?])\s+(?=[A-Z(\d])")
_ITEM_PREFIX = re.compile(r"^\s*(?:[-•*·]|\d{1,2}[.)])\s+")
MAX_QUOTE_CHARS = 400
#: What the parsers write where a page shows a heading whose value was lost.
NOT_STATED = "not stated on the page"


@dataclass(frozen=True)
class Sentence:
    trial_id: str
    section: str
    text: str
    index: int

    @property
    def lower(self) -> str:
        return self.text.lower()

    @property
    def words(self) -> frozenset[str]:
        return frozenset(words(self.text))


def split_sentences(text: str) -> list[str]:
    """Criterion items and lines first, then sentences; long pieces are cut at 400 chars."""
    out: list[str] = []
    for line in text.splitlines():
        line = _ITEM_PREFIX.sub("", line).strip()
        if not line:
            continue
        for sent in _SENT_SPLIT.split(line):
            sent = sent.strip()
            while len(sent) > MAX_QUOTE_CHARS:
                cut = sent.rfind(" ", 0, MAX_QUOTE_CHARS)
                cut = cut if cut > 100 else MAX_QUOTE_CHARS
                out.append(sent[:cut].strip())
                sent = sent[cut:].strip()
            if sent:
                out.append(sent)
    return out


def _build(trial: Trial) -> list[Sentence]:
    out: list[Sentence] = []
    for section in trial.sections:
        for sent in split_sentences(section.text):
            if NOT_STATED not in sent:
                out.append(Sentence(trial.trial_id, section.name, sent, len(out)))
    if trial.title and not any(s.section == "Title" for s in out):
        out.append(Sentence(trial.trial_id, "Title", trial.title, len(out)))
    return out


#: (trial id, object id) -> (the Trial itself, its sentences). The Trial is kept so that its
#: id() cannot be reused by another object while the entry lives, and is checked on a hit.
_CACHE: dict[tuple[str, int], tuple[Trial, tuple[Sentence, ...]]] = {}


def sentences(trial: Trial) -> tuple[Sentence, ...]:
    """All quotable sentences of a trial, in document order (cached per Trial object)."""
    key = (trial.trial_id, id(trial))
    cached = _CACHE.get(key)
    if cached is None or cached[0] is not trial:
        if len(_CACHE) > 50_000:
            _CACHE.clear()
        cached = _CACHE[key] = (trial, tuple(_build(trial)))
    return cached[1]


@dataclass
class TrialSupport:
    """How well one trial's text supports a question's terms."""

    trial_id: str
    matched: set[str]
    best: list[Sentence]
    full: bool

    @property
    def coverage(self) -> int:
        return len(self.matched)


def _in_sections(sent: Sentence, prefixes: list[str]) -> bool:
    return any(sent.section == p or sent.section.startswith(p + ":") or p.startswith(sent.section + ":")
               for p in prefixes)


def support(trial: Trial, query: Query, sections: list[str] | None = None,
            groups: list[list[str]] | None = None) -> TrialSupport:
    """The terms of `query` that the trial contains, and the sentences that hold them together.

    `full` is true when some sentence, or two neighbouring sentences of one section,
    satisfy every term group (alternatives joined by "or" count once): co-occurrence,
    not mere presence somewhere on the page.
    """
    groups = groups if groups is not None else (query.groups or [[t] for t in query.content_terms])
    terms = [t for g in groups for t in g]
    sents = [s for s in sentences(trial) if not sections or _in_sections(s, sections)]
    per_sent = [(s, {t for t in terms if has_term(s.lower, s.words, t)}) for s in sents]
    matched = set().union(*(m for _, m in per_sent)) if per_sent else set()

    def covers(m: set[str]) -> int:
        return sum(1 for g in groups if m.intersection(g))

    best: list[Sentence] = []
    full = False
    if groups:
        for i, (s, m) in enumerate(per_sent):
            if covers(m) == len(groups):
                best, full = [s], True
                break
            if i + 1 < len(per_sent):
                s2, m2 = per_sent[i + 1]
                if s2.section == s.section and m and m2 and covers(m | m2) == len(groups):
                    best, full = [s, s2], True
                    break
        if not full:
            ranked = sorted(per_sent, key=lambda sm: (-covers(sm[1]), sm[0].index))
            best = [s for s, m in ranked[:2] if m]
    matched_groups = {t for g in groups if matched.intersection(g) for t in g}
    return TrialSupport(trial.trial_id, matched_groups, best, full)


def rank_sentences(trial: Trial, query: Query, n: int, sections: list[str] | None = None,
                   boost_sections: list[str] | None = None) -> list[Sentence]:
    """The `n` sentences of a trial that share most terms with the question, in document order."""
    terms = query.content_terms
    scored = []
    for s in sentences(trial):
        if sections and not _in_sections(s, sections):
            continue
        score = sum(1.0 for t in terms if has_term(s.lower, s.words, t))
        if boost_sections and _in_sections(s, boost_sections):
            score += 0.75
        scored.append((score, s))
    scored.sort(key=lambda x: (-x[0], x[1].index))
    top = [s for score, s in scored[:n] if score > 0] or [s for _, s in scored[: min(n, 1)]]
    return sorted(top, key=lambda s: s.index)


def find_quote(trial: Trial, needles: list[str], sections: list[str]) -> Sentence | None:
    """The first sentence containing every needle (case-insensitive), trying `sections` in order."""
    needles = [n.lower() for n in needles if n]
    sents = sentences(trial)
    for prefix in sections:
        for s in sents:
            if _in_sections(s, [prefix]) and all(n in s.lower for n in needles):
                return s
    return None


_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
          r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
#: a calendar date: "September 2012", "March 3, 2020", "3 March 2020", "2020-03", "03/2020"
DATE_RE = re.compile(rf"\b{_MONTH}\s+(?:\d{{1,2}},?\s+)?(?:19|20)\d\d\b|\b\d{{1,2}}\s+{_MONTH}\s+(?:19|20)\d\d\b"
                     r"|\b(?:19|20)\d\d-[01]\d\b|\b[01]?\d/(?:19|20)\d\d\b", re.I)


def states_a_date(trial: Trial) -> bool:
    """True when some section of the record (its identifiers aside) holds a calendar date."""
    return any(DATE_RE.search(s.text) for s in trial.sections if "identifier" not in s.heading.lower())


def not_stated(trial: Trial, labels: list[str]) -> bool:
    """True when the page shows one of these headings (or 'Label:' lines) with its value lost."""
    for section in trial.sections:
        if NOT_STATED not in section.text:
            continue
        if section.heading in labels and section.text.strip() == NOT_STATED:
            return True
        if any(f"{lab}: {NOT_STATED}" in section.text for lab in labels):
            return True
    return False


def clip(text: str, n: int = 220) -> str:
    """Shorten a quote for display at a word boundary."""
    return text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + "\u2026"
