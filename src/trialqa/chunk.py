"""Split trials into section chunks that fit the embedder's window, header included.

Every chunk quotes its section verbatim: a section that fits is one chunk; a longer
one is cut between criterion items ("- ", "• ", "1.", "a)" ...), then between
sentences, and only a sentence longer than the window is cut between words.
Lengths are counted with the embedder's own tokenizer, on `Chunk.embed_text`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from trialqa.embed import Embedder
from trialqa.types import Chunk, Trial

#: A line that starts a criterion item: a bullet, or a number or letter followed by "." or ")".
_ITEM = re.compile(r"^\s*(?:[-•*·▪●◦‣]\s|\(?\d{1,3}[.)]\s|\(?[a-zA-Z][.)]\s)")
#: A sentence ends with . ! ? or ; followed by space and what looks like a new sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[\"'(\[A-Z0-9•-])")
_WORD = re.compile(r"\S+")

Span = tuple[int, int]


def chunk_trials(trials: list[Trial], embedder: Embedder, max_tokens: int) -> list[Chunk]:
    """Section chunks of every trial, each with `count_tokens(embed_text) <= max_tokens`."""
    chunker = _Chunker(embedder, max_tokens)
    return [chunk for trial in trials for chunk in chunker.trial_chunks(trial)]


class _Chunker:
    def __init__(self, embedder: Embedder, max_tokens: int) -> None:
        self.embedder = embedder
        self.max_tokens = max_tokens
        self.specials = embedder.count_tokens("")
        if max_tokens - self.specials < 16:
            raise ValueError(f"max_tokens={max_tokens} leaves no room for text")

    def count(self, text: str) -> int:
        """Word pieces of `text` without the special tokens."""
        return self.embedder.count_tokens(text) - self.specials

    def trial_chunks(self, trial: Trial) -> Iterator[Chunk]:
        title = self._fit_title(trial)
        sections = [(s.name, s.text) for s in trial.sections if s.text.strip()]
        if trial.title.strip() and not any(name == "Title" for name, _ in sections):
            sections.insert(0, ("Title", trial.title))
        ordinal = 0
        seen: set[tuple[str, str]] = set()
        for name, text in sections:
            if (name, text) in seen:
                continue
            seen.add((name, text))
            proto = Chunk(
                id="", trial_id=trial.trial_id, nct_id=trial.nct_id, doc_id=trial.doc_id,
                title=title, section=name, ordinal=0, text="",
            )
            for piece in self.split(text, self.max_tokens - self.embedder.count_tokens(proto.header + "\n")):
                yield proto.model_copy(
                    update={"id": f"{trial.trial_id}#{ordinal}", "ordinal": ordinal, "text": piece}
                )
                ordinal += 1

    def _fit_title(self, trial: Trial) -> str:
        """The title as it goes into headers, shortened only if it would fill half the window."""
        words = trial.title.split()
        ident = trial.nct_id or trial.doc_id
        keep = len(words)
        while keep and self.count(f"{ident} | {' '.join(words[:keep])} | Eligibility: Exclusion") > self.max_tokens // 2:
            keep = keep * 3 // 4
        return " ".join(words) if keep == len(words) else " ".join(words[:keep]) + " ..."

    def split(self, text: str, budget: int) -> list[str]:
        """Verbatim pieces of `text`, each of at most `budget` word pieces."""
        text = text.strip()
        if self.count(text) <= budget:
            return [text]
        units = [u for span in _items(text) for u in self._fit_unit(text, span, budget)]
        pieces = []
        for group in self._pack(units, budget):
            piece = text[group[0][0] : group[-1][1]].strip()
            # Word-piece counts add up across whitespace; if a tokenizer disagrees, cut by words.
            pieces.extend([piece] if self.count(piece) <= budget else _word_split(piece, budget, self.count))
        return [p for p in pieces if p]

    def _fit_unit(self, text: str, span: Span, budget: int) -> Iterator[tuple[int, int, int]]:
        """(start, end, tokens) units of at most `budget`: the item, else its sentences, else words."""
        start, end = span
        n = self.count(text[start:end])
        if n <= budget:
            yield start, end, n
            return
        for s_start, s_end in _sentences(text, start, end):
            n = self.count(text[s_start:s_end])
            if n <= budget:
                yield s_start, s_end, n
                continue
            for w_start, w_end in _word_spans(text, s_start, s_end, budget, self.count):
                yield w_start, w_end, self.count(text[w_start:w_end])

    @staticmethod
    def _pack(units: list[tuple[int, int, int]], budget: int) -> list[list[Span]]:
        """Greedy packing of consecutive units into groups whose summed length fits."""
        groups: list[list[Span]] = []
        current: list[Span] = []
        used = 0
        for start, end, n in units:
            if current and used + n > budget:
                groups.append(current)
                current, used = [], 0
            current.append((start, end))
            used += n
        if current:
            groups.append(current)
        return groups


def _items(text: str) -> list[Span]:
    """Spans of criterion items (a bulleted line plus its continuation lines), else of lines."""
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text) if m.group().strip()]
    bulleted = any(_ITEM.match(text[s:e]) for s, e in lines)
    spans: list[Span] = []
    for start, end in lines:
        if spans and bulleted and not _ITEM.match(text[start:end]) and not _is_heading(text[start:end]):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _is_heading(line: str) -> bool:
    """A short line ending with ':' such as 'Exclusion Criteria:' starts a new unit."""
    return line.rstrip().endswith(":") and len(line.split()) <= 8


def _sentences(text: str, start: int, end: int) -> list[Span]:
    spans, pos = [], start
    for m in _SENTENCE_END.finditer(text, start, end):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, end))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def _word_spans(text: str, start: int, end: int, budget: int, count) -> list[Span]:
    """Cut a span between words, each piece at most `budget` word pieces."""
    spans: list[Span] = []
    piece_start, used, last_end = None, 0, start
    for m in _WORD.finditer(text, start, end):
        n = count(m.group())
        if n > budget:  # a single "word" longer than the window (a URL, a table row): cut by chars
            if piece_start is not None:
                spans.append((piece_start, last_end))
                piece_start, used = None, 0
            spans.extend(_char_spans(text, m.start(), m.end(), budget, count))
            last_end = m.end()
            continue
        if piece_start is not None and used + n > budget:
            spans.append((piece_start, last_end))
            piece_start, used = None, 0
        if piece_start is None:
            piece_start = m.start()
        used += n
        last_end = m.end()
    if piece_start is not None:
        spans.append((piece_start, last_end))
    return spans


def _char_spans(text: str, start: int, end: int, budget: int, count) -> list[Span]:
    spans, pos = [], start
    while pos < end:
        stop = min(end, pos + budget)
        while stop > pos + 1 and count(text[pos:stop]) > budget:
            stop = pos + (stop - pos) * 3 // 4
        spans.append((pos, stop))
        pos = stop
    return spans


def _word_split(text: str, budget: int, count) -> list[str]:
    return [text[s:e] for s, e in _word_spans(text, 0, len(text), budget, count)]
