"""The eval's own check that an answer states only what it cites, kept independent of the
runtime verifier (`trialqa.answer.verify`) so that the eval can catch what the verifier lets by.

    unsupported_sentences(answer, question) -> ["<sentence>: '<word>' not in its quotes", ...]

Strict and lexical: the answer text is split into sentences; a sentence's citation labels
("[NCT01234567 · Arms]") pick its quotes (and the cited trials' titles). Every number in
the sentence must be written in those quotes, and every longer word that is not general
language must share its first five letters with a word of the quotes (no synonyms, no
stems, no embeddings). Words and numbers of the question may frame a sentence that states
something of its quotes; a sentence that only restates the question, or affirms it ("Yes,
..."), needs them in its quotes too. A sentence without a label counts when it states
anything (a number or a specialised word), except in a list/count answer whose table
carries the provenance. An abstention states nothing.
"""

from __future__ import annotations

import re

from trialqa.types import Answer, Citation

LABEL_RE = re.compile(r"\[([^\[\]\u00b7]+?)\s*\u00b7\s*([^\[\]]+?)\]")
WORD_RE = re.compile(r"[a-z][a-z'-]*[a-z]|\d+(?:\.\d+)?")
ID_RE = re.compile(r"\bNCT\d{8}\b|\b\w*_[0-9a-f]{8,}\b", re.IGNORECASE)
SENT_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\[\"\u201c(])|\n+")
PREFIX = 5
YES_RE = re.compile(r"\s*yes\b", re.IGNORECASE)
#: General language and words about trial records: they frame a sentence, they state nothing.
GENERAL = frozenset(
    """about above after again against also although among another answer anyone applied apply are
    based because been before being below between both but can cannot could data described
    describes details does doing done during each either else enough especially even every
    following follows from further given gives giving have having here however include included
    includes including indexed information instead into itself just later least less like listed
    lists made main make many mentioned mentions might more most much must neither none nor not
    nothing only other others over part particular people person persons provide provided question
    rather record records registry regarding said same says section sections should shows since
    some source sources specific specifically state stated states still study studies subject
    subjects such than that their them then there therefore these they this those though through
    thus trial trials under upon used uses using various very well were what when where whether
    which while whom whose will with within without would your yes participant participants
    patient patients plans plan planned enroll enrolls enrolled accepts accept accepted aged
    lead sponsor sponsors recruitment status phase tests test conducted lists site sites title
    gives brief""".split()
)


def _words(text: str) -> list[str]:
    return WORD_RE.findall(ID_RE.sub(" ", text.lower().replace(",", "")))


def _is_number(w: str) -> bool:
    return w[0].isdigit()


def _claimed(sentence: str, question_words: set[str]) -> tuple[list[str], list[str]]:
    """Numbers and specialised words of a sentence: those the question does not hold, and
    those it does."""
    new, asked = [], []
    q_prefixes = {w[:PREFIX] for w in question_words if not _is_number(w)}
    for w in _words(LABEL_RE.sub(" ", sentence)):
        if _is_number(w):
            (asked if w in question_words else new).append(w)
        elif len(w) >= 4 and w not in GENERAL:
            (asked if w[:PREFIX] in q_prefixes else new).append(w)
    return list(dict.fromkeys(new)), list(dict.fromkeys(asked))


def _sentences(text: str) -> list[str]:
    """Sentences and lines; a label written after a full stop belongs to the sentence before."""
    out: list[str] = []
    for part in SENT_RE.split(text):
        part = part.strip()
        lead = re.match(r"^(?:\[[^\[\]]*\u00b7[^\[\]]*\]\s*)+", part)
        if lead and out:
            out[-1] += " " + lead.group(0)
            part = part[lead.end():].strip()
        if part:
            out.append(part)
    return out


def _quotes(sentence: str, citations: list[Citation]) -> list[str] | None:
    labels = {(a.strip(), b.strip()) for a, b in LABEL_RE.findall(sentence)}
    if not labels:
        return None
    cited = [c for c in citations if ((c.nct_id or c.doc_id), c.section) in labels]
    return [c.quote for c in cited] + [c.title for c in cited]


def unsupported_sentences(answer: Answer, question: str) -> list[str]:
    """Each sentence of the answer that states something its quotes do not, with the first
    unsupported number or word."""
    if answer.abstained or answer.error:
        return []
    q_words = set(_words(question))
    out = []
    for sentence in _sentences(answer.text):
        new, asked = _claimed(sentence, q_words)
        if not new and not asked:
            continue
        quotes = _quotes(sentence, answer.citations)
        if quotes is None:
            if answer.table is None:
                out.append(f"{sentence[:120]}: cites nothing")
            continue
        quoted = set(_words(" ".join(quotes)))
        prefixes = {w[:PREFIX] for w in quoted if not _is_number(w)}

        def absent(w: str) -> bool:
            return w not in quoted if _is_number(w) else w[:PREFIX] not in prefixes

        missing = [w for w in new if absent(w)]
        if not missing and (not new or YES_RE.match(sentence)):  # question words frame, they do not support
            missing = [w for w in asked if absent(w)]
        if missing:
            out.append(f"{sentence[:120]}: '{missing[0]}' not in its quotes")
    return out
