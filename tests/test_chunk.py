"""Chunking: sections, split points, verbatim text and the token window."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from trialqa.chunk import chunk_trials
from trialqa.embed import HashingEmbedder
from trialqa.types import Section, Source, Trial

EMBEDDER = HashingEmbedder(max_tokens=64)


def trial(sections: list[tuple[str, str]], title: str = "A Study of Things", nct: str | None = "NCT01234567") -> Trial:
    return Trial(
        trial_id=nct or "doc-1", nct_id=nct, doc_id="doc-1", title=title,
        source=Source(path="doc-1.txt", format="ctgov-page"),
        sections=[Section(name=n, text=t) for n, t in sections],
    )


def criteria(n: int) -> str:
    return "\n".join(f"- Criterion number {i} about patients with condition {i} and lab value {i * 3}" for i in range(n))


def test_short_sections_one_chunk_each_with_title_first() -> None:
    chunks = chunk_trials([trial([("Summary", "Short summary."), ("Locations", "Mercy Hospital, Springfield")])], EMBEDDER, 64)
    assert [(c.id, c.section, c.text) for c in chunks] == [
        ("NCT01234567#0", "Title", "A Study of Things"),
        ("NCT01234567#1", "Summary", "Short summary."),
        ("NCT01234567#2", "Locations", "Mercy Hospital, Springfield"),
    ]
    assert chunks[2].embed_text == "NCT01234567 | A Study of Things | Locations\nMercy Hospital, Springfield"
    assert all((c.trial_id, c.nct_id, c.doc_id, c.ordinal) == ("NCT01234567", "NCT01234567", "doc-1", i)
               for i, c in enumerate(chunks))


def test_existing_title_section_is_not_duplicated_and_doc_id_without_nct() -> None:
    chunks = chunk_trials([trial([("Title", "Brief title: A Study of Things")], nct=None)], EMBEDDER, 64)
    assert [(c.id, c.section) for c in chunks] == [("doc-1#0", "Title")]
    assert chunks[0].header.startswith("doc-1 | ")


def test_long_criteria_split_at_item_boundaries() -> None:
    text = "Inclusion Criteria:\n" + criteria(30)
    chunks = chunk_trials([trial([("Eligibility: Inclusion", text)])], EMBEDDER, 64)
    body = [c for c in chunks if c.section == "Eligibility: Inclusion"]
    assert len(body) > 3
    for c in body:
        assert EMBEDDER.count_tokens(c.embed_text) <= 64
        assert c.text in text
        assert c.text.startswith(("- ", "Inclusion Criteria:"))
        assert c.text.endswith(tuple(str(i * 3) for i in range(30)))
    items = re.findall(r"^- .*$", text, flags=re.M)
    assert sum(c.text.count("\n- ") + c.text.startswith("- ") for c in body) == len(items)


def test_numbered_items_split_at_item_boundaries() -> None:
    text = "\n".join(f"{i}. Patients must have condition {i} confirmed by biopsy and imaging" for i in range(1, 25))
    body = chunk_trials([trial([("Eligibility", text)])], EMBEDDER, 48)[1:]
    assert len(body) > 2 and all(re.match(r"\d+\. ", c.text) for c in body)


def test_long_prose_split_at_sentences() -> None:
    text = " ".join(f"Sentence {i} describes the rationale of the study in some detail." for i in range(40))
    body = chunk_trials([trial([("Description", text)])], EMBEDDER, 64)[1:]
    assert len(body) > 3
    assert all(c.text in text and c.text.endswith(".") and c.text.startswith("Sentence") for c in body)
    assert all(EMBEDDER.count_tokens(c.embed_text) <= 64 for c in body)


def test_sentence_longer_than_window_is_cut_between_words() -> None:
    text = " ".join(f"word{i}" for i in range(500))
    body = chunk_trials([trial([("Results", text)])], EMBEDDER, 64)[1:]
    assert len(body) >= 500 // 60
    assert all(EMBEDDER.count_tokens(c.embed_text) <= 64 and c.text in text for c in body)
    assert " ".join(c.text for c in body) == text


def test_very_long_title_is_shortened_in_headers_only() -> None:
    title = " ".join(f"t{i}" for i in range(100))
    chunks = chunk_trials([trial([("Summary", "Short.")], title=title)], EMBEDDER, 64)
    assert all(EMBEDDER.count_tokens(c.embed_text) <= 64 for c in chunks)
    assert chunks[0].title.endswith("...") and " ".join(c.text for c in chunks[:-1]) == title


class ProtocolOnly:
    """An embedder with nothing beyond the Embedder protocol (no batch counting, no offsets)."""

    def __init__(self) -> None:
        self._inner = HashingEmbedder(max_tokens=64)
        self.id, self.dim, self.max_tokens = "plain", 256, 64
        self.embed, self.count_tokens, self.windows = self._inner.embed, self._inner.count_tokens, self._inner.windows


def test_protocol_only_embedder_gives_the_same_chunks() -> None:
    sections = [("Eligibility", "Inclusion Criteria:\n" + criteria(20)), ("Results", " ".join(f"w{i}" for i in range(300))),
                ("Description", "A,b,c,d,e,f,g,h " * 40)]
    plain = chunk_trials([trial(sections)], ProtocolOnly(), 64)
    assert [c.text for c in plain] == [c.text for c in chunk_trials([trial(sections)], EMBEDDER, 64)]
    assert all(EMBEDDER.count_tokens(c.embed_text) <= 64 for c in plain)


def test_window_too_small_is_rejected() -> None:
    with pytest.raises(ValueError):
        chunk_trials([trial([])], EMBEDDER, 10)


@pytest.mark.integration
def test_real_embedder_chunks_of_seeds_fit_the_window(seeds_dir: Path) -> None:
    from trialqa.embed import load_embedder
    from trialqa.parse import ingest

    embedder = load_embedder()
    trials = ingest([seeds_dir]).trials
    window = embedder.max_tokens - 8
    chunks = chunk_trials(trials, embedder, window)
    assert len({c.trial_id for c in chunks}) == len(trials) == 5
    assert all(embedder.count_tokens(c.embed_text) <= window for c in chunks)
    by_id = {t.trial_id: t for t in trials}
    assert all(c.text in by_id[c.trial_id].section_text(c.section) or c.section == "Title" for c in chunks)
