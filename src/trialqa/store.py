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

A build is written to a temporary directory beside the target and renamed into place,
so an interrupted build leaves the previous index usable.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import time
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from trialqa import __version__
from trialqa.chunk import chunk_trials
from trialqa.answer.db import DB_FILE, TrialDB, write_database
from trialqa.embed import Embedder
from trialqa.errors import BadInput, IndexCorrupt, IndexMismatch, IndexNotFound
from trialqa.settings import Settings, get_settings
from trialqa.types import Chunk, Trial

#: Bumped whenever the files' layout or meaning changes; older indexes must be rebuilt.
FORMAT_VERSION = 3  # 2: trials.db (AACT-shaped fields); 3: bm25_trials over the matching fields
#: Version tag of `sparse_tokens`; part of the manifest so a tokenizer change forces a rebuild.
SPARSE_TOKENIZER = "lower-alnum-nostem-stopwords-v1"
_TOKEN = re.compile(r"[a-z0-9]+")
_EMBED_BATCH = 256
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


# ---------------------------------------------------------------- build


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


def _dense_rows(chunks: list[Chunk], policy: dict[str, Any]) -> np.ndarray:
    sections, per_section = policy["sections"], policy["per_section"]
    if sections is None:
        return np.arange(len(chunks), dtype=np.int64)
    wanted, taken, rows = set(sections), {}, []
    first: dict[str, int] = {}
    for i, c in enumerate(chunks):
        first.setdefault(c.trial_id, i)
        name = c.section.split(":")[0]
        if name not in wanted:
            continue
        key = (c.trial_id, name)
        taken[key] = taken.get(key, 0) + 1
        if not per_section or taken[key] <= per_section:
            rows.append(i)
    covered = {chunks[i].trial_id for i in rows}
    rows += [i for tid, i in first.items() if tid not in covered]  # a page without those sections: its first chunk
    return np.array(sorted(rows), dtype=np.int64)


def dense_kind(settings: Settings, n_chunks: int) -> str:
    kind = settings.retrieval.faiss_index
    if kind == "auto":
        return "ivfpq" if n_chunks > settings.retrieval.ivf_above else "flat"
    return kind


def build_index(
    trials: list[Trial],
    out: Path,
    embedder: Embedder,
    settings: Settings | None = None,
    progress: bool = True,
) -> Manifest:
    """Chunk, embed and index `trials` into directory `out`, atomically replacing any old index."""
    settings = settings or get_settings()
    if not trials:
        raise BadInput(f"no trials to index into {out}: check the source paths")
    trials = _unique(trials)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    params = index_params(embedder, settings)
    timings: dict[str, float] = {}
    content_hash = corpus_hash(trials)
    with _progress(progress) as bar:
        t0 = time.perf_counter()
        chunks = _previous_chunks(out, embedder, params["chunker"], content_hash)
        if chunks is None:
            chunks = _chunk_with_progress(trials, embedder, params["chunker"]["max_tokens"], bar)
        timings["chunk_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        policy = dense_policy(settings, len(chunks))
        rows = _dense_rows(chunks, policy)
        vectors, reused = _embed_reusing([chunks[r] for r in rows], out, embedder, bar)
        timings["embed_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        _remove_leftovers(out)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
        try:
            dense_params = _write_dense(tmp, vectors, dense_kind(settings, len(chunks)))
            dense_params.update(policy)
            np.save(tmp / "dense_rows.npy", rows)
            _write_sparse(tmp / "bm25", (c.embed_text for c in chunks))
            _write_sparse(tmp / "bm25_trials", (trial_text(t) for t in trials))
            _write_jsonl(tmp / "trials.jsonl", trials)
            _write_jsonl(tmp / "chunks.jsonl", chunks)
            write_database(tmp / DB_FILE, trials)
            np.save(tmp / "embeddings.npy", vectors)
            timings["write_s"] = time.perf_counter() - t0
            manifest = Manifest(
                format_version=FORMAT_VERSION,
                trialqa_version=__version__,
                created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                embedder_id=embedder.id,
                embedder_dim=embedder.dim,
                chunker=params["chunker"],
                dense=dense_params,
                sparse=params["sparse"],
                corpus_hash=content_hash,
                counts={
                    "trials": len(trials), "chunks": len(chunks), "vectors": len(rows),
                    "embedded": len(rows) - reused, "reused": reused,
                },
                build={k: round(v, 3) for k, v in timings.items()},
                files={rel: _file_info(tmp / rel) for rel in _data_files(tmp)},
            )
            (tmp / "manifest.json").write_text(manifest.model_dump_json(indent=2) + "\n")
            _swap_into_place(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return manifest


def corpus_hash(trials: list[Trial]) -> str:
    digest = hashlib.sha256()
    for trial in trials:
        digest.update(trial.model_dump_json().encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _unique(trials: list[Trial]) -> list[Trial]:
    """First record per trial_id (chunk ids and the trials map are keyed by it)."""
    seen: dict[str, Trial] = {}
    for trial in trials:
        seen.setdefault(trial.trial_id, trial)
    return list(seen.values())


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=False,
    ) as bar:
        yield bar


def _chunk_with_progress(trials: list[Trial], embedder: Embedder, max_tokens: int, bar: Any) -> list[Chunk]:
    task = bar.add_task("chunking", total=len(trials)) if bar else None
    chunks: list[Chunk] = []
    step = 100
    for start in range(0, len(trials), step):
        chunks.extend(chunk_trials(trials[start : start + step], embedder, max_tokens))
        if bar:
            bar.advance(task, min(step, len(trials) - start))
    return chunks


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _embed_reusing(chunks: list[Chunk], out: Path, embedder: Embedder, bar: Any) -> tuple[np.ndarray, int]:
    """Vectors for `chunks`, reusing the previous index's vectors of identical embed_text."""
    texts = [c.embed_text for c in chunks]
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    old = _previous_vectors(out, embedder)
    todo: list[int] = []
    for row, text in enumerate(texts):
        hit = old.get(_text_key(text))
        if hit is None:
            todo.append(row)
        else:
            vectors[row] = hit
    task = bar.add_task("embedding", total=len(todo)) if bar else None
    todo.sort(key=lambda r: len(texts[r]))  # similar lengths per batch: less padding
    for start in range(0, len(todo), _EMBED_BATCH):
        rows = todo[start : start + _EMBED_BATCH]
        vectors[rows] = embedder.embed([texts[r] for r in rows])
        if bar:
            bar.advance(task, len(rows))
    return vectors, len(texts) - len(todo)


def _previous_chunks(out: Path, embedder: Embedder, chunker: dict[str, int], content_hash: str) -> list[Chunk] | None:
    """The chunks of the index at `out` if it was built from the same trials, chunker and tokenizer."""
    try:
        manifest = _read_manifest(out)
        built_by = (manifest.trialqa_version, manifest.format_version, manifest.embedder_id)
        if (manifest.corpus_hash, manifest.chunker, built_by) != (content_hash, chunker, (__version__, FORMAT_VERSION, embedder.id)):
            return None
        _verify_file(out, "chunks.jsonl", manifest.files.get("chunks.jsonl"))
        return _read_chunks(out / "chunks.jsonl")
    except (IndexNotFound, IndexCorrupt, OSError, ValueError):
        return None


def _previous_vectors(out: Path, embedder: Embedder) -> dict[str, np.ndarray]:
    """embed_text hash -> vector from the index at `out`, if it is intact and used this embedder."""
    try:
        manifest = _read_manifest(out)
        if manifest.embedder_id != embedder.id or manifest.embedder_dim != embedder.dim:
            return {}
        for rel in ("chunks.jsonl", "embeddings.npy", "dense_rows.npy"):
            _verify_file(out, rel, manifest.files.get(rel))
        vectors = np.load(out / "embeddings.npy")
        rows = np.load(out / "dense_rows.npy")
        chunks = _read_chunks(out / "chunks.jsonl")
    except (IndexNotFound, IndexCorrupt, IndexMismatch, OSError, ValueError):
        return {}
    if len(rows) != len(vectors) or (len(rows) and rows.max() >= len(chunks)):
        return {}
    return {_text_key(chunks[row].embed_text): vectors[i] for i, row in enumerate(rows)}


def _write_dense(directory: Path, vectors: np.ndarray, kind: str) -> dict[str, Any]:
    import faiss

    n, dim = vectors.shape
    params: dict[str, Any] = {"library": "faiss", "kind": kind, "metric": "inner_product"}
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        params.update(m=32, ef_construction=80)
    else:  # ivfpq
        nlist = max(1, min(int(4 * np.sqrt(n)), n // 39))
        m = next(m for m in (48, 32, 24, 16, 12, 8, 6, 4, 3, 2, 1) if dim % m == 0)
        nbits = 8 if n >= 1024 else max(1, int(np.log2(max(2, n // 4))))
        index = faiss.IndexIVFPQ(faiss.IndexFlatIP(dim), dim, nlist, m, nbits, faiss.METRIC_INNER_PRODUCT)
        sample = vectors[np.random.default_rng(0).choice(n, size=min(n, 256 * nlist), replace=False)]
        index.train(sample)
        params.update(nlist=nlist, m=m, nbits=nbits)
    index.add(vectors)
    faiss.write_index(index, str(directory / "dense.faiss"))
    return params


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


def _write_sparse(directory: Path, texts: Iterable[str]) -> None:
    import bm25s

    retriever = bm25s.BM25(method="lucene", k1=1.5, b=0.75)
    retriever.index(_tokenized(texts), show_progress=False)
    retriever.save(str(directory), show_progress=False)


def _tokenized(texts: Iterable[str]) -> Any:
    """bm25s's Tokenized(ids, vocab) of `sparse_tokens` of each text, built one text at a time:
    each document is a compact int32 array, never a list of token strings (165,000 chunks of
    token strings would hold about a gigabyte at once)."""
    from bm25s.tokenization import Tokenized

    vocab: dict[str, int] = {"": 0}
    ids = [array("i", [vocab.setdefault(t, len(vocab)) for t in sparse_tokens(text)]) for text in texts]
    return Tokenized(ids=ids, vocab=vocab)


def _write_jsonl(path: Path, records: list[BaseModel]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(record.model_dump_json() + "\n")


def _data_files(directory: Path) -> list[str]:
    return sorted(
        p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file() and p.name != "manifest.json"
    )


def _file_info(path: Path) -> dict[str, Any]:
    return {"size": path.stat().st_size, "sha256": _sha256(path)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _remove_leftovers(out: Path) -> None:
    """Delete temporary directories of builds whose process died (killed, power loss)."""
    for leftover in out.parent.glob(f".{out.name}.*-*-*"):
        match = re.fullmatch(rf"\.{re.escape(out.name)}\.(?:tmp|old)-(\d+)-\w+", leftover.name)
        if match and leftover.is_dir() and not _alive(int(match.group(1))):
            shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _swap_into_place(tmp: Path, out: Path) -> None:
    """Rename the finished build to `out`; the old index is removed only after that worked."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-{os.getpid()}-", dir=out.parent)) / "index"
        os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        if old is not None:
            os.replace(old, out)
            shutil.rmtree(old.parent, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old.parent, ignore_errors=True)


# ---------------------------------------------------------------- load


def _rebuild_hint(path: Path) -> str:
    return f"rebuild with 'trialqa index SOURCE... --out {path}'"


def _read_manifest(path: Path) -> Manifest:
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise IndexNotFound(f"no index at {path}: build it with 'trialqa index SOURCE... --out {path}'")
    try:
        return Manifest.model_validate_json(manifest_path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise IndexCorrupt(f"index manifest {manifest_path} is unreadable ({type(exc).__name__}): {_rebuild_hint(path)}") from exc


def _verify_file(path: Path, rel: str, info: dict[str, Any] | None) -> None:
    file = path / rel
    if info is None:
        raise IndexCorrupt(f"index {path}: manifest lists no {rel}: {_rebuild_hint(path)}")
    if not file.is_file():
        raise IndexCorrupt(f"index file {file} is missing: {_rebuild_hint(path)}")
    size = file.stat().st_size
    if size != info["size"]:
        raise IndexCorrupt(f"index file {file} is {size} bytes, manifest says {info['size']} (truncated?): {_rebuild_hint(path)}")
    if _sha256(file) != info["sha256"]:
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
    manifest = _read_manifest(path)
    check_manifest(manifest, path, embedder, settings)
    for rel, info in manifest.files.items():
        _verify_file(path, rel, info)
    for rel in ("trials.jsonl", "chunks.jsonl", "embeddings.npy", "dense_rows.npy", "dense.faiss", DB_FILE):
        if rel not in manifest.files:
            raise IndexCorrupt(f"index {path}: manifest lists no {rel}: {_rebuild_hint(path)}")
    try:
        trials = {t.trial_id: t for t in _read_trials(path / "trials.jsonl")}
        chunks = _read_chunks(path / "chunks.jsonl")
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


def _read_chunks(path: Path) -> list[Chunk]:
    with path.open(encoding="utf-8") as fh:
        return [Chunk.model_validate_json(line) for line in fh if line.strip()]


def ensure_index(path: Path, source: Path, embedder: Embedder, settings: Settings | None = None) -> Index:
    """Load the index at `path`; if there is none yet, build it from `source` first."""
    path = Path(path)
    if not (path / "manifest.json").is_file():
        from trialqa.parse import ingest

        result = ingest([Path(source)])
        build_index(result.trials, path, embedder, settings, progress=False)
    return load_index(path, embedder, settings)
