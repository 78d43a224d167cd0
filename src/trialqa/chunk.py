"""Split trials into section chunks that fit the embedder's window, header included.

Every chunk quotes its section verbatim: a section that fits is one chunk; a longer
one is cut between criterion items ("- ", "• ", "1.", "a)" ...), then between
sentences, and only a sentence longer than the window is cut between words.
Lengths are counted with the embedder's own tokenizer, on `Chunk.embed_text`,
in batches (one tokenizer call per stage for the whole corpus).

An embedder whose `additive_counts` is true (its tokenizer splits words at whitespace
before cutting them into word pieces, as BERT's does) promises that a text's count is the
sum of the counts of its whitespace-separated parts. Then headers are counted as a
per-trial prefix plus the section name, and a packed piece is not tokenized a second time
unless it was cut inside a word: the same chunks (checked on the 6,786 XML records), with
the section texts tokenized once instead of twice (the build's tokenizer calls took 135 s
before, under load; the re-count and header passes were 68 s of them).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from trialqa.embed import Embedder
from trialqa.types import Chunk, Trial

#: A line that starts a criterion item: a bullet, or a number or letter followed by "." or ")".
_ITEM = re.compile(r"^\s*(?:[-•*·▪●◦‣]\s|\(?\d{1,3}[.)]\s|\(?[a-zA-Z][.)]\s)")
#: A sentence ends with . ! ? or ; followed by space and what looks like a new sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[\"'(\[A-Z0-9•-])")
_WORD = re.compile(r"\S+")

Span = tuple[int, int]
Counter = Callable[[list[str]], list[int]]
Starts = Callable[[list[str]], list[list[int]]]


@dataclass
class _Section:
    proto: Chunk  # trial ids, shortened title and section name; id/ordinal/text filled later
    text: str
    budget: int  # word pieces left for the text once the header and special tokens are counted
    pieces: list[str] = field(default_factory=list)


def chunk_trials(trials: list[Trial], embedder: Embedder, max_tokens: int) -> list[Chunk]:
    """Section chunks of every trial, each with `count_tokens(embed_text) <= max_tokens`."""
    count, specials = _counter(embedder)
    if max_tokens - specials < 16:
        raise ValueError(f"max_tokens={max_tokens} leaves no room for text")
    additive = bool(getattr(embedder, "additive_counts", False))
    sections = _sections(trials, count, max_tokens - specials, additive)
    _split_all(sections, count, _starts(embedder, count), additive)
    chunks: list[Chunk] = []
    ordinal: dict[str, int] = {}
    for section in sections:
        for piece in section.pieces:
            n = ordinal.get(section.proto.trial_id, 0)
            ordinal[section.proto.trial_id] = n + 1
            chunks.append(section.proto.model_copy(
                update={"id": f"{section.proto.trial_id}#{n}", "ordinal": n, "text": piece}
            ))
    return chunks


def _counter(embedder: Embedder) -> tuple[Counter, int]:
    """(word pieces of each text without special tokens, special tokens per text), batched if possible."""
    batch = getattr(embedder, "count_tokens_batch", None)
    raw: Counter = batch if batch is not None else (lambda texts: [embedder.count_tokens(t) for t in texts])
    specials = raw([""])[0]
    return (lambda texts: [n - specials for n in raw(texts)] if texts else []), specials


def _starts(embedder: Embedder, count: Counter) -> Starts:
    """Token start offsets of each text: from the embedder if it offers them, else one
    offset per word piece at the start of its word."""
    native = getattr(embedder, "token_starts_batch", None)
    if native is not None:
        return native

    def by_word(texts: list[str]) -> list[list[int]]:
        out = []
        for text in texts:
            spans = _word_spans(text, 0, len(text))
            sizes = count([text[a:b] for a, b in spans])
            out.append([a for (a, _), n in zip(spans, sizes, strict=True) for _ in range(n)])
        return out

    return by_word


def _sections(trials: list[Trial], count: Counter, room: int, additive: bool = False) -> list[_Section]:
    """One _Section per non-empty, non-repeated section (a Title first when the trial has none).

    `room` is the window less the special tokens: header + text must fit in it.
    """
    titles = _fit_titles(trials, count, room // 2)
    out: list[_Section] = []
    for trial, title in zip(trials, titles, strict=True):
        pairs = [(s.name, s.text.strip()) for s in trial.sections if s.text.strip()]
        if trial.title.strip() and not any(name == "Title" for name, _ in pairs):
            pairs.insert(0, ("Title", trial.title.strip()))
        for name, text in dict.fromkeys(pairs):
            proto = Chunk(id="", trial_id=trial.trial_id, nct_id=trial.nct_id, doc_id=trial.doc_id,
                          title=title, section=name, ordinal=0, text="")
            out.append(_Section(proto, text, 0))
    for section, n in zip(out, _header_counts([s.proto for s in out], count, additive), strict=True):
        section.budget = room - n
    return out


def _header_counts(protos: list[Chunk], count: Counter, additive: bool) -> list[int]:
    """Word pieces of each chunk header (+ newline). With additive counts, "<id> | <title> | "
    is counted once per trial and each section name once (headers differ only there)."""
    if not additive:
        return count([p.header + "\n" for p in protos])
    def prefix(p: Chunk) -> str:
        return p.header[: len(p.header) - len(p.section)]

    prefixes = list(dict.fromkeys(map(prefix, protos)))
    names = list(dict.fromkeys(p.section + "\n" for p in protos))
    prefix_n = dict(zip(prefixes, count(prefixes), strict=True))
    name_n = dict(zip(names, count(names), strict=True))
    return [prefix_n[prefix(p)] + name_n[p.section + "\n"] for p in protos]


def _fit_titles(trials: list[Trial], count: Counter, limit: int) -> list[str]:
    """Titles as they go into headers, shortened only where a header would exceed `limit`."""
    def header(trial: Trial, words: list[str]) -> str:
        return f"{trial.nct_id or trial.doc_id} | {' '.join(words)} | Eligibility: Exclusion"

    out = [" ".join(t.title.split()) for t in trials]
    sizes = count([header(t, t.title.split()) for t in trials])
    for i, (trial, n) in enumerate(zip(trials, sizes, strict=True)):
        words, keep = trial.title.split(), len(trial.title.split())
        while keep and n > limit:
            keep = keep * 3 // 4
            n = count([header(trial, words[:keep])])[0]
        if keep < len(words):
            out[i] = " ".join(words[:keep]) + " ..."
    return out


def _split_all(sections: list[_Section], count: Counter, starts: Starts, additive: bool = False) -> None:
    """Fill each section's pieces.

    The texts are tokenized once (token start offsets); a unit's length is the number of
    tokens starting inside it, which is exact wherever the tokenizer splits at whitespace.
    Packed pieces are then re-counted for real, so the window holds for any tokenizer;
    with `additive` counts only the pieces that begin or end inside a word are.
    """
    long = []
    for section, offsets in zip(sections, starts([s.text for s in sections]), strict=True):
        if len(offsets) <= section.budget:
            section.pieces = [section.text]
        else:
            long.append((section, _Tokens(offsets)))
    candidates = []
    for section, tokens in long:
        units = []
        for a, b in _items(section.text):
            if tokens.count(a, b) <= section.budget:
                units.append((a, b, tokens.count(a, b)))
                continue
            for c, d in _sentences(section.text, a, b):
                if tokens.count(c, d) <= section.budget:
                    units.append((c, d, tokens.count(c, d)))
                else:
                    units.extend(_word_units(section.text, c, d, section.budget, tokens.count))
        for group in _pack(units, section.budget):
            a, b = group[0][0], group[-1][1]
            exact = additive and _at_word_bounds(section.text, a, b)  # its estimate is its count
            candidates.append((section, section.text[a:b].strip(), exact))
    counts = iter(count([p for _, p, exact in candidates if not exact]))
    for section, piece, exact in candidates:
        if exact or next(counts) <= section.budget:
            section.pieces.append(piece)
        else:  # the tokenizer did not add up across whitespace: cut this piece by real counts

            def size(a: int, b: int, piece: str = piece) -> int:
                return count([piece[a:b]])[0]

            section.pieces.extend(piece[a:b] for a, b, _ in _word_units(piece, 0, len(piece), section.budget, size))


#: Characters every tokenizer treats as word breaks (Python's isspace() also accepts
#: control characters that BERT's normaliser deletes instead).
_BREAK = frozenset(" \t\n\r")


def _at_word_bounds(text: str, a: int, b: int) -> bool:
    """True when text[a:b] neither begins nor ends inside a whitespace-separated word."""
    return (a == 0 or text[a - 1] in _BREAK or text[a] in _BREAK) and (
        b == len(text) or text[b] in _BREAK or text[b - 1] in _BREAK)


class _Tokens:
    """Sorted token start offsets of one text; counts the tokens starting inside a span."""

    def __init__(self, starts: list[int]) -> None:
        self.starts = starts

    def count(self, a: int, b: int) -> int:
        return bisect.bisect_left(self.starts, b) - bisect.bisect_left(self.starts, a)


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
        line = text[start:end]
        if spans and bulleted and not _ITEM.match(line) and not _is_heading(line):
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


def _word_spans(text: str, start: int, end: int) -> list[Span]:
    return [(m.start(), m.end()) for m in _WORD.finditer(text, start, end)]


def _word_units(text: str, start: int, end: int, budget: int, size: Callable[[int, int], int]) -> list[tuple[int, int, int]]:
    """Cut a span between words into (start, end, tokens) pieces of at most `budget` tokens.

    A single "word" longer than the window (a URL, a table row) is cut between its tokens.
    """
    out: list[tuple[int, int, int]] = []
    piece: list[int] = []  # [start, end, tokens] of the piece being filled
    for a, b in _word_spans(text, start, end):
        n = size(a, b)
        if piece and piece[2] + n <= budget:
            piece[1], piece[2] = b, piece[2] + n
            continue
        if piece:
            out.append((piece[0], piece[1], piece[2]))
        while n > budget:  # shrink a too-long word from the right until a prefix fits
            cut = b
            while size(a, cut) > budget:
                cut = a + (cut - a) * 3 // 4
            cut = max(cut, a + 1)
            out.append((a, cut, size(a, cut)))
            a, n = cut, size(cut, b)
        piece = [a, b, n] if a < b else []
    if piece:
        out.append((piece[0], piece[1], piece[2]))
    return out
