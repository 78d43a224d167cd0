"""The on-disk index: a directory of plain files described and verified by `manifest.json`.

    indexes/<name>/
      manifest.json     embedder, normalisation, chunker, dense/sparse params, corpus hash,
                        counts, versions, and the size + sha256 of every other file
      trials.jsonl      the full Trial records (the answering stage reads Trial.fields)
      chunks.jsonl      one Chunk per line, in embedding-row order
      dense_rows.npy    the chunk rows that have a dense vector (see `dense_policy`)
      embeddings.npy    float32 L2-normalised vectors of those rows (reused by the next build)
      dense.faiss       the FAISS index over those vectors (flat, IVF-PQ or HNSW)
      bm25/             the bm25s index over every chunk's header + text
      bm25_trials/      the bm25s index over whole trials (their matching fields: `trial_text`),
                        for ranking trials (`Retriever.rank_trials`)

Every chunk is in BM25. A small corpus (up to `retrieval.dense_all_up_to` chunks, e.g. the
seeds) gets a dense vector for every chunk. In a large one only the sections that say what
a trial is about (`retrieval.dense_sections`, by default Summary and Conditions,
optionally only the first `retrieval.dense_chunks_per_section` chunks of each) are embedded
at build time: on two CPU cores the embedder manages about 4,700 word pieces a second, and
embedding all 5.3 M word pieces of the 2,000 XML records would take 19 minutes instead of 2;
the other chunks are found by BM25 and embedded on first use when a search is scoped to
their trial (retrieve.py). Adding the first Eligibility chunk ("Eligibility" in
`dense_sections`) roughly doubles the words embedded and did not rank trials better on the
TREC cohorts.

A build (`index_build.build_index`) is written to a temporary directory beside the target
and renamed into place, so an interrupted build leaves the previous index usable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from trialqa import __version__
from trialqa.answer.db import DB_FILE, TrialDB
from trialqa.embed import Embedder
from trialqa.errors import IndexCorrupt, IndexMismatch, IndexNotFound
from trialqa.models import sha256_file
from trialqa.settings import Settings, get_settings
from trialqa.types import Chunk, Trial

#: Bumped whenever the files' layout or meaning changes; older indexes must be rebuilt.
FORMAT_VERSION = 3  # 2: trials.db (AACT-shaped fields); 3: bm25_trials over the matching fields
#: Version tag of `sparse_tokens`; part of the manifest so a tokenizer change forces a rebuild.
SPARSE_TOKENIZER = "lower-alnum-nostem-stopwords-v1"
_TOKEN = re.compile(r"[a-z0-9]+")


class Manifest(BaseModel):
    """What an index was built from and with; compared with the current settings at load."""

    format_version: int
    trialqa_version: str
    created_at: str
    embedder_id: str
    embedder_dim: int
    normalisation: str = "l2"
    chunker: dict[str, int]
    dense: dict[str, Any]
    sparse: dict[str, Any]
    corpus_hash: str
    counts: dict[str, int]
    build: dict[str, float] = {}
    files: dict[str, dict[str, Any]]


@dataclass
class Index:
    """A loaded index: trials, chunks and the search structures."""

    path: Path
    manifest: Manifest
    trials: dict[str, Trial]
    chunks: list[Chunk]
    dense_rows: np.ndarray  # chunk row of each dense vector
    embeddings: np.ndarray
    dense: Any  # FAISS index over `embeddings`
    sparse: Any  # bm25s over chunks, in chunk-row order
    trial_sparse: Any  # bm25s over whole trials, in `trials` order
    _by_trial: dict[str, range] = field(default_factory=dict, repr=False)
    _db: TrialDB | None = field(default=None, repr=False)
    dense_pos: np.ndarray = field(init=False, repr=False)  # chunk row -> vector id, -1 if none

    def __post_init__(self) -> None:
        self.dense_pos = np.full(len(self.chunks), -1, dtype=np.int64)
        self.dense_pos[self.dense_rows] = np.arange(len(self.dense_rows))
        start = 0
        for i in range(1, len(self.chunks) + 1):
            if i == len(self.chunks) or self.chunks[i].trial_id != self.chunks[start].trial_id:
                self._by_trial[self.chunks[start].trial_id] = range(start, i)
                start = i

    @property
    def db(self) -> TrialDB:
        """The AACT-shaped SQLite copy of the trials' structured fields (opened on first use)."""
        if self._db is None:
            self._db = TrialDB(self.path / DB_FILE)
        return self._db

    def chunk_rows(self, trial_id: str) -> range:
        """Rows of `trial_id`'s chunks (contiguous), empty for an unknown trial."""
        return self._by_trial.get(trial_id, range(0))


# ---------------------------------------------------------------- sparse tokenizer


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def sparse_tokens(text: str) -> list[str]:
    """Lowercase alphanumeric runs minus English stopwords; numbers and NCT ids stay tokens."""
    stop = _stopwords()
    return [t for t in _TOKEN.findall(text.lower()) if t not in stop]


# ---------------------------------------------------------------- build parameters (index_build.py builds)


def index_params(embedder: Embedder, settings: Settings, n_chunks: int | None = None) -> dict[str, Any]:
    """The settings-derived part of a manifest; a loaded index must match it."""
    window = min(settings.chunk.max_tokens, embedder.max_tokens)
    params: dict[str, Any] = {
        "embedder_id": embedder.id,
        "embedder_dim": embedder.dim,
        "chunker": {"max_tokens": window - settings.chunk.margin, "window": window, "margin": settings.chunk.margin},
        "sparse": {"library": "bm25s", "tokenizer": SPARSE_TOKENIZER, "method": "lucene", "k1": 1.5, "b": 0.75},
    }
    if n_chunks is not None:
        params["dense"] = {"kind": dense_kind(settings, n_chunks), **dense_policy(settings, n_chunks)}
    return params


def dense_policy(settings: Settings, n_chunks: int) -> dict[str, Any]:
    """Which chunks get vectors: `sections` None means every chunk; otherwise the chunks of
    those sections (a section "X: Y" counts as "X"), at most `per_section` per trial (0 = all)."""
    r = settings.retrieval
    if n_chunks <= r.dense_all_up_to:
        return {"sections": None, "per_section": 0}
    return {"sections": list(r.dense_sections), "per_section": r.dense_chunks_per_section}


def dense_kind(settings: Settings, n_chunks: int) -> str:
    kind = settings.retrieval.faiss_index
    if kind == "auto":
        return "ivfpq" if n_chunks > settings.retrieval.ivf_above else "flat"
    return kind


def trial_text(trial: Trial) -> str:
    """A trial's matching text for whole-record BM25: brief and official title, summary,
    description, conditions and their MeSH terms, intervention names, eligibility criteria and
    keywords. Locations, contacts, sponsors, outcomes and dates are left out: on the TREC
    patient cohorts they only add noise (nDCG@10 0.29 -> 0.32 on trec_2021, 0.21 -> 0.28 on
    sigir, unweighted queries); a page without those fields falls back to all its sections."""
    f = trial.fields
    parts = [trial.title, f.official_title or "", trial.section_text("Summary"), trial.section_text("Description"),
             *f.conditions, *f.condition_mesh, *(i.name or "" for i in f.interventions),
             trial.section_text("Eligibility"), *f.keywords]
    text = "\n".join(p for p in parts if p)
    if len(text) <= len(trial.title) + 1:
        return "\n".join([trial.title, *(s.text for s in trial.sections)])
    return text


# ---------------------------------------------------------------- load


def _rebuild_hint(path: Path) -> str:
    return f"rebuild with 'trialqa index SOURCE... --out {path}'"


def read_manifest(path: Path) -> Manifest:
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise IndexNotFound(f"no index at {path}: build it with 'trialqa index SOURCE... --out {path}'")
    try:
        return Manifest.model_validate_json(manifest_path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise IndexCorrupt(f"index manifest {manifest_path} is unreadable ({type(exc).__name__}): {_rebuild_hint(path)}") from exc


def verify_file(path: Path, rel: str, info: dict[str, Any] | None) -> None:
    file = path / rel
    if info is None:
        raise IndexCorrupt(f"index {path}: manifest lists no {rel}: {_rebuild_hint(path)}")
    if not file.is_file():
        raise IndexCorrupt(f"index file {file} is missing: {_rebuild_hint(path)}")
    size = file.stat().st_size
    if size != info["size"]:
        raise IndexCorrupt(f"index file {file} is {size} bytes, manifest says {info['size']} (truncated?): {_rebuild_hint(path)}")
    if sha256_file(file) != info["sha256"]:
        raise IndexCorrupt(f"index file {file} does not match its sha256 in the manifest: {_rebuild_hint(path)}")


def check_manifest(manifest: Manifest, path: Path, embedder: Embedder | None, settings: Settings) -> None:
    """Raise IndexMismatch if the index was built by another version or with other settings."""
    hint = _rebuild_hint(path)
    if manifest.format_version != FORMAT_VERSION or manifest.trialqa_version != __version__:
        raise IndexMismatch(
            f"index {path} was built by trialqa {manifest.trialqa_version} (format {manifest.format_version}), "
            f"this is trialqa {__version__} (format {FORMAT_VERSION}): {hint}"
        )
    if embedder is not None and (manifest.embedder_id, manifest.embedder_dim) != (embedder.id, embedder.dim):
        raise IndexMismatch(
            f"index {path} was built with embedder {manifest.embedder_id} (dim {manifest.embedder_dim}), "
            f"settings use {embedder.id} (dim {embedder.dim}): {hint}"
        )
    if embedder is None:
        return
    expected = index_params(embedder, settings, manifest.counts.get("chunks", 0))
    for key, label in (("chunker", "chunker"), ("sparse", "BM25")):
        if getattr(manifest, key) != expected[key]:
            raise IndexMismatch(
                f"index {path} was built with {label} parameters {getattr(manifest, key)}, settings give {expected[key]}: {hint}"
            )
    have = (manifest.dense.get("sections"), manifest.dense.get("per_section", 0))
    want = (expected["dense"]["sections"], expected["dense"]["per_section"])
    if have != want:
        raise IndexMismatch(
            f"index {path} gives dense vectors to sections {have[0] or 'all'} ({have[1] or 'all'} per trial), "
            f"settings (TRIALQA_RETRIEVAL__DENSE_*) to {want[0] or 'all'} ({want[1] or 'all'} per trial): {hint}"
        )
    if manifest.dense.get("kind") != expected["dense"]["kind"]:
        raise IndexMismatch(
            f"index {path} has a {manifest.dense.get('kind')} FAISS index, settings "
            f"(TRIALQA_RETRIEVAL__FAISS_INDEX={settings.retrieval.faiss_index}) ask for {expected['dense']['kind']}: {hint}"
        )


def load_index(path: Path, embedder: Embedder | None = None, settings: Settings | None = None) -> Index:
    """Load and verify the index at `path` (manifest vs. settings, file sizes and sha256)."""
    import bm25s
    import faiss

    settings = settings or get_settings()
    path = Path(path)
    manifest = read_manifest(path)
    check_manifest(manifest, path, embedder, settings)
    for rel, info in manifest.files.items():
        verify_file(path, rel, info)
    for rel in ("trials.jsonl", "chunks.jsonl", "embeddings.npy", "dense_rows.npy", "dense.faiss", DB_FILE):
        if rel not in manifest.files:
            raise IndexCorrupt(f"index {path}: manifest lists no {rel}: {_rebuild_hint(path)}")
    try:
        trials = {t.trial_id: t for t in _read_trials(path / "trials.jsonl")}
        chunks = read_chunks(path / "chunks.jsonl")
        embeddings = np.load(path / "embeddings.npy", mmap_mode="r")
        dense_rows = np.load(path / "dense_rows.npy")
        dense = faiss.read_index(str(path / "dense.faiss"))
        sparse = bm25s.BM25.load(str(path / "bm25"), show_progress=False)
        trial_sparse = bm25s.BM25.load(str(path / "bm25_trials"), show_progress=False)
    except Exception as exc:  # verified files that still fail to parse: a format bug or tampering
        raise IndexCorrupt(f"index {path} cannot be read ({type(exc).__name__}: {exc}): {_rebuild_hint(path)}") from exc
    c = manifest.counts
    found = (len(trials), len(chunks), len(dense_rows), embeddings.shape[0], dense.ntotal,
             sparse.scores["num_docs"], trial_sparse.scores["num_docs"])
    if found != (c["trials"], c["chunks"], c["vectors"], c["vectors"], c["vectors"], c["chunks"], c["trials"]):
        raise IndexCorrupt(
            f"index {path} holds {found} trials/chunks/rows/vectors/faiss/bm25/bm25_trials entries, "
            f"manifest disagrees: {_rebuild_hint(path)}"
        )
    return Index(
        path=path, manifest=manifest, trials=trials, chunks=chunks, dense_rows=dense_rows,
        embeddings=embeddings, dense=dense, sparse=sparse, trial_sparse=trial_sparse,
    )


def _read_trials(path: Path) -> list[Trial]:
    with path.open(encoding="utf-8") as fh:
        return [Trial.model_validate_json(line) for line in fh if line.strip()]


def read_chunks(path: Path) -> list[Chunk]:
    with path.open(encoding="utf-8") as fh:
        return [Chunk.model_validate_json(line) for line in fh if line.strip()]


def ensure_index(path: Path, source: Path, embedder: Embedder, settings: Settings | None = None) -> Index:
    """Load the index at `path`; if there is none yet, build it from `source` first."""
    path = Path(path)
    if not (path / "manifest.json").is_file():
        from trialqa.index_build import build_index
        from trialqa.parse import ingest

        result = ingest([Path(source)])
        build_index(result.trials, path, embedder, settings, progress=False)
    return load_index(path, embedder, settings)
