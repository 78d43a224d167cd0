"""The on-disk index: round trip, verification errors, atomic rebuilds, embedding reuse."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from test_retrieve import make_trial, tiny_corpus

import trialqa.index_build as index_build
from trialqa import __version__
from trialqa.embed import HashingEmbedder
from trialqa.errors import IndexCorrupt, IndexMismatch, IndexNotFound
from trialqa.index_build import build_index
from trialqa.retrieve import Retriever
from trialqa.settings import Settings
from trialqa.store import ensure_index, load_index

EMBEDDER = HashingEmbedder()


class CountingEmbedder(HashingEmbedder):
    """Counts the texts it embeds."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def embed(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        self.embedded += len(texts)
        return super().embed(texts)


@pytest.fixture
def built(tmp_path: Path) -> Path:
    out = tmp_path / "indexes" / "tiny"
    build_index(tiny_corpus(), out, EMBEDDER, Settings(), progress=False)
    return out


def assert_one_line(exc: pytest.ExceptionInfo, *needles: str) -> None:
    message = str(exc.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message


def test_round_trip(built: Path) -> None:
    index = load_index(built, EMBEDDER, Settings())
    assert list(index.trials) == [t.trial_id for t in tiny_corpus()]
    assert index.trials["NCT00000002"] == tiny_corpus()[1]
    assert [c.id for c in index.chunks][:2] == ["NCT00000001#0", "NCT00000001#1"]
    m = index.manifest
    assert (m.embedder_id, m.embedder_dim, m.normalisation, m.trialqa_version) == (EMBEDDER.id, 256, "l2", __version__)
    assert m.counts["trials"] == 4 and m.counts["chunks"] == len(index.chunks)
    assert m.chunker["max_tokens"] == 248 and len(m.corpus_hash) == 64
    assert {"trials.jsonl", "chunks.jsonl", "embeddings.npy", "dense.faiss", "bm25/params.index.json"} <= set(m.files)
    assert all(len(info["sha256"]) == 64 for info in m.files.values())
    assert list(index.chunk_rows("NCT00000002")) == [i for i, c in enumerate(index.chunks) if c.trial_id == "NCT00000002"]


def test_missing_index(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFound) as exc:
        load_index(tmp_path / "nope", EMBEDDER)
    assert_one_line(exc, "nope", "trialqa index")


def test_other_embedder_is_a_mismatch(built: Path) -> None:
    with pytest.raises(IndexMismatch) as exc:
        load_index(built, HashingEmbedder(dim=128), Settings())
    assert_one_line(exc, "hashing-256", "hashing-128", f"trialqa index SOURCE... --out {built}")


def test_other_chunk_settings_are_a_mismatch(built: Path) -> None:
    with pytest.raises(IndexMismatch) as exc:
        load_index(built, EMBEDDER, Settings(chunk={"max_tokens": 128}))
    assert_one_line(exc, "chunker", "trialqa index")


def test_other_faiss_kind_is_a_mismatch(built: Path) -> None:
    with pytest.raises(IndexMismatch) as exc:
        load_index(built, EMBEDDER, Settings(retrieval={"faiss_index": "hnsw"}))
    assert_one_line(exc, "flat", "hnsw", "TRIALQA_RETRIEVAL__FAISS_INDEX")


@pytest.mark.parametrize(("field", "value"), [("trialqa_version", "0.0.1"), ("format_version", 0)])
def test_older_version_is_a_mismatch(built: Path, field: str, value: object) -> None:
    manifest = json.loads((built / "manifest.json").read_text())
    manifest[field] = value
    (built / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch) as exc:
        load_index(built, EMBEDDER, Settings())
    assert_one_line(exc, "was built by trialqa", "trialqa index")


def test_garbled_manifest_is_corrupt(built: Path) -> None:
    (built / "manifest.json").write_text("{not json")
    with pytest.raises(IndexCorrupt) as exc:
        load_index(built, EMBEDDER, Settings())
    assert_one_line(exc, "manifest.json", "trialqa index")


@pytest.mark.parametrize("rel", ["chunks.jsonl", "embeddings.npy", "dense.faiss", "bm25/data.csc.index.npy"])
def test_truncated_file_is_corrupt(built: Path, rel: str) -> None:
    path = built / rel
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(IndexCorrupt) as exc:
        load_index(built, EMBEDDER, Settings())
    assert_one_line(exc, rel.split("/")[-1], "truncated", "trialqa index")


def test_deleted_file_is_corrupt(built: Path) -> None:
    (built / "trials.jsonl").unlink()
    with pytest.raises(IndexCorrupt) as exc:
        load_index(built, EMBEDDER, Settings())
    assert_one_line(exc, "trials.jsonl", "missing", "trialqa index")


def test_altered_file_same_size_is_corrupt(built: Path) -> None:
    path = built / "chunks.jsonl"
    data = path.read_bytes()
    path.write_bytes(data.replace(b"Mercy", b"Merci", 1))
    with pytest.raises(IndexCorrupt) as exc:
        load_index(built, EMBEDDER, Settings())
    assert_one_line(exc, "chunks.jsonl", "sha256")


def test_interrupted_build_keeps_old_index(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(index_build, "_write_sparse", boom)
    changed = tiny_corpus()[:2]
    with pytest.raises(KeyboardInterrupt):
        build_index(changed, built, EMBEDDER, Settings(), progress=False)
    index = load_index(built, EMBEDDER, Settings())
    assert len(index.trials) == 4
    assert sorted(p.name for p in built.parent.iterdir()) == ["tiny"]  # no temp dirs left behind


def test_leftovers_of_a_killed_build_are_removed(built: Path) -> None:
    dead = built.parent / ".tiny.tmp-999999999-abc123"
    dead.mkdir()
    (dead / "chunks.jsonl").write_text("partial")
    mine = built.parent / f".tiny.tmp-{os.getpid()}-xyz789"  # a live process's build stays
    mine.mkdir()
    build_index(tiny_corpus(), built, EMBEDDER, Settings(), progress=False)
    assert not dead.exists() and mine.exists()


def test_reindex_reuses_embeddings(built: Path) -> None:
    counting = CountingEmbedder()
    manifest = build_index(tiny_corpus(), built, counting, Settings(), progress=False)
    assert counting.embedded == 0 and manifest.counts["reused"] == manifest.counts["chunks"]
    trials = tiny_corpus() + [make_trial("NCT00000005", "A New Trial", {"Summary": "Brand new."})]
    manifest = build_index(trials, built, counting, Settings(), progress=False)
    assert counting.embedded == manifest.counts["embedded"] == 2  # its Title and Summary chunks
    fresh = load_index(built, EMBEDDER, Settings())
    np.testing.assert_allclose(fresh.embeddings, EMBEDDER.embed([c.embed_text for c in fresh.chunks]), atol=1e-6)


def test_large_corpus_embeds_only_dense_sections(tmp_path: Path) -> None:
    big = Settings(retrieval={"dense_all_up_to": 3, "dense_sections": ["Title", "Summary"], "dense_chunks_per_section": 0})
    out = tmp_path / "big"
    build_index(tiny_corpus(), out, EMBEDDER, big, progress=False)
    counting = CountingEmbedder()
    manifest = build_index(tiny_corpus(), out, counting, big, progress=False)
    assert counting.embedded == 0 and manifest.counts["reused"] == manifest.counts["vectors"]
    with pytest.raises(IndexMismatch, match="DENSE"):
        load_index(out, EMBEDDER, Settings())
    index = load_index(out, EMBEDDER, big)
    dense = {index.chunks[r].section.split(":")[0] for r in index.dense_rows}
    assert "Locations" not in dense and {"Title", "Summary"} <= dense
    assert manifest.counts["vectors"] < manifest.counts["chunks"]
    hits = Retriever(index, EMBEDDER, big).search("asthma trial locations", 2)
    assert (hits[0].chunk.trial_id, hits[0].chunk.section) == ("NCT00000001", "Locations")
    dense_only = Retriever(index, EMBEDDER, big.model_copy(update={"retrieval": big.retrieval.model_copy(update={"sparse_weight": 0.0})}))
    scoped = dense_only.search("Lakeside Medical Center in Riverton", 1, trial_ids=["NCT00000002"])
    assert scoped[0].chunk.section == "Locations"  # embedded on the spot for a scoped search


def test_ensure_index_builds_from_seeds(seeds_dir: Path, tmp_path: Path) -> None:
    index = ensure_index(tmp_path / "seeds-index", seeds_dir, EMBEDDER)
    assert len(index.trials) == 5 and "NCT04232592" in index.trials
    assert ensure_index(tmp_path / "seeds-index", tmp_path / "unused", EMBEDDER).manifest == index.manifest


def test_dense_chunks_per_section_keeps_the_first_chunks_of_each_trial(tmp_path: Path) -> None:
    long_summary = " ".join(f"Sentence number {i} about the asthma inhaler dose." for i in range(80))
    trials = tiny_corpus() + [make_trial("NCT00000009", "Long Summary Trial", {"Summary": long_summary}),
                              make_trial("NCT00000010", "No Summary Trial", {"Locations": "Harbor Clinic, Riverton"})]
    first_only = Settings(retrieval={"dense_all_up_to": 3, "dense_sections": ["Summary"], "dense_chunks_per_section": 1})
    manifest = build_index(trials, tmp_path / "ix", EMBEDDER, first_only, progress=False)
    index = load_index(tmp_path / "ix", EMBEDDER, first_only)
    summaries = [r for r, c in enumerate(index.chunks) if c.trial_id == "NCT00000009" and c.section == "Summary"]
    assert len(summaries) > 1, "the long summary should span several chunks"
    dense = [int(r) for r in index.dense_rows]
    assert summaries[0] in dense and not set(summaries[1:]) & set(dense)
    no_summary = [r for r, c in enumerate(index.chunks) if c.trial_id == "NCT00000010"]
    assert no_summary[0] in dense and not set(no_summary[1:]) & set(dense)  # its first chunk stands in
    assert {index.chunks[r].section for r in dense if index.chunks[r].trial_id != "NCT00000010"} == {"Summary"}
    assert manifest.dense["per_section"] == 1 and manifest.counts["vectors"] == len(dense)


def test_trial_text_keeps_the_matching_fields_only() -> None:
    from trialqa.store import trial_text
    from trialqa.types import Intervention, TrialFields

    trial = make_trial("NCT00000007", "Budesonide in Asthma", {
        "Summary": "Inhaled budesonide for adults.", "Eligibility: Inclusion": "- Asthma for a year",
        "Locations": "Mercy General Hospital, Springfield", "Sponsor": "Acme Pharma",
    }).model_copy(update={"fields": TrialFields(conditions=["Asthma"], condition_mesh=["Respiratory Tract Diseases"],
                                                interventions=[Intervention(name="Budesonide")], keywords=["inhaler"],
                                                official_title="A Randomised Study of Budesonide")})
    text = trial_text(trial)
    for wanted in ("Budesonide in Asthma", "A Randomised Study", "Inhaled budesonide", "Asthma for a year",
                   "Respiratory Tract Diseases", "inhaler"):
        assert wanted in text
    assert "Mercy" not in text and "Acme" not in text
    page = make_trial("doc1", "A scraped page", {"Locations": "Harbor Clinic"})  # no matching fields: everything
    assert "Harbor Clinic" in trial_text(page)
