"""Index build, chunking stage: an embedder with additive word-piece counts is tokenized once
per text, and gives exactly the chunks of the full re-count (HashingEmbedder, a tiny WordPiece)."""

from __future__ import annotations

import pytest

from trialqa.chunk import chunk_trials
from trialqa.embed import HashingEmbedder, additive_counts
from trialqa.types import Section, Source, Trial


class CountingEmbedder(HashingEmbedder):
    """HashingEmbedder that records how many texts it was asked to count."""

    def __init__(self, additive: bool) -> None:
        super().__init__(max_tokens=64)
        self.additive_counts = additive
        self.counted = 0

    def count_tokens_batch(self, texts: list[str]) -> list[int]:
        self.counted += len(texts)
        return super().count_tokens_batch(texts)


def trials() -> list[Trial]:
    long_word = "-".join(["ab"] * 150)  # one whitespace 'word' of 150 tokens: cut inside it
    criteria = "\n".join(f"- Criterion {i}: adults with condition {i} and lab value {i * 3} or more" for i in range(60))
    prose = " ".join(f"Sentence {i} says the study measures outcome {i} over time." for i in range(80))
    out = []
    for n, sections in enumerate([
        [("Summary", prose), ("Eligibility: Inclusion", criteria)],
        [("Description", prose + " " + " ".join(f"tok{i}-{long_word}" for i in range(3))), ("Conditions", "Asthma")],
        [("Summary", "Short."), ("Eligibility: Exclusion", "Inclusion Criteria:\n" + criteria)],
    ]):
        nct = f"NCT0000000{n}"
        out.append(Trial(trial_id=nct, nct_id=nct, doc_id=nct, title=f"A Study {n} of Many Things " * (n + 1),
                         source=Source(path=f"{nct}.xml", format="ctgov-xml"),
                         sections=[Section(name=a, text=b) for a, b in sections]))
    return out


def test_additive_counts_give_the_same_chunks_with_fewer_texts_counted() -> None:
    full, additive = CountingEmbedder(False), CountingEmbedder(True)
    expected = chunk_trials(trials(), full, 64)
    got = chunk_trials(trials(), additive, 64)
    assert got == expected
    assert len(got) > 20
    assert all(additive.count_tokens(c.embed_text) <= 64 for c in got)
    assert additive.counted < full.counted / 2
    assert any(" " not in c.text and c.text.count("ab") > 20 for c in got)  # the in-word cut was taken


def test_additive_counts_of_tokenizers() -> None:
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers import models, normalizers, pre_tokenizers

    vocab = {"[UNK]": 0, "a": 1, "##b": 2}
    wordpiece = tokenizers.Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    wordpiece.normalizer = normalizers.BertNormalizer(lowercase=True)
    wordpiece.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    assert additive_counts(wordpiece)
    sentencepiece_like = tokenizers.Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    sentencepiece_like.pre_tokenizer = pre_tokenizers.Metaspace()
    assert not additive_counts(sentencepiece_like)
    bpe = tokenizers.Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.Whitespace()
    assert not additive_counts(bpe)
    assert not additive_counts(None)
