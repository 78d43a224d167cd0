"""Building an index (the layout is described in store.py): chunk, embed, write, swap into place.

Only the embedding needs torch. On a machine with two or more CPUs (`settings.index_workers`)
the rest runs in forked worker processes beside it, so the build keeps both cores busy: a
worker chunks the second half of the trials while this process chunks the first, then one
worker writes the files that need only the trials (trials.db, whose criteria parsing is most
of its time, bm25_trials, trials.jsonl) and one those that need only the chunks (bm25,
chunks.jsonl) while this process embeds. 1 keeps the whole build in one process; the files
are the same either way. An error in a worker is raised here as it was raised there; a
worker that dies without a word (killed) has its part redone in this process.
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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from trialqa import __version__
from trialqa.answer.db import DB_FILE, write_database
from trialqa.chunk import chunk_trials
from trialqa.embed import Embedder
from trialqa.errors import BadInput, IndexCorrupt, IndexMismatch, IndexNotFound
from trialqa.settings import Settings, get_settings
from trialqa.models import sha256_file
from trialqa.store import (
    FORMAT_VERSION, Manifest, dense_kind, dense_policy, index_params, read_chunks, read_manifest, sparse_tokens,
    trial_text, verify_file,
)
from trialqa.types import Chunk, Trial
from trialqa.workers import Beside, build_processes

_EMBED_BATCH = 256
#: Trials per `chunk_trials` call (one tokenizer call per stage per batch).
_CHUNK_STEP = 100


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
    _remove_leftovers(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    parallel = build_processes(settings.index_workers) > 1
    workers: list[Beside[None]] = []
    try:
        with _progress(progress) as bar:
            t0 = time.perf_counter()
            previous = _previous(out, embedder)
            chunks = _previous_chunks(previous, params["chunker"], content_hash)
            if chunks is None:
                chunks = _chunk_with_progress(trials, embedder, params["chunker"]["max_tokens"], bar, parallel)
            timings["chunk_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            old_vectors = _previous_vectors(out, previous)
            previous = None  # its chunks are not needed past here, nor inherited by the workers
            # forked after chunking, so that chunking has both cores and these overlap the embedding
            workers.append(Beside(lambda: _write_trial_files(tmp, trials), parallel))
            workers.append(Beside(lambda: _write_chunk_files(tmp, chunks), parallel))
            policy = dense_policy(settings, len(chunks))
            rows = _dense_rows(chunks, policy)
            vectors, reused = _embed_reusing([chunks[r] for r in rows], old_vectors, embedder, bar)
            timings["embed_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            dense_params = _write_dense(tmp, vectors, dense_kind(settings, len(chunks)))
            dense_params.update(policy)
            np.save(tmp / "dense_rows.npy", rows)
            np.save(tmp / "embeddings.npy", vectors)
            for worker in workers:
                worker.wait()
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
        for worker in workers:
            worker.cancel()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _write_trial_files(directory: Path, trials: list[Trial]) -> None:
    """The files that need only the trials: trials.db (parsing every trial's eligibility
    criteria is most of its time), bm25_trials and trials.jsonl."""
    write_database(directory / DB_FILE, trials)
    _write_sparse(directory / "bm25_trials", (trial_text(t) for t in trials))
    _write_jsonl(directory / "trials.jsonl", trials)


def _write_chunk_files(directory: Path, chunks: list[Chunk]) -> None:
    """The files that need only the chunks: bm25 (over every chunk's header + text) and chunks.jsonl."""
    _write_sparse(directory / "bm25", (c.embed_text for c in chunks))
    _write_jsonl(directory / "chunks.jsonl", chunks)


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


def _chunk_with_progress(trials: list[Trial], embedder: Embedder, max_tokens: int, bar: Any, parallel: bool) -> list[Chunk]:
    """Chunks of `trials` in batches of `_CHUNK_STEP` trials; with `parallel`, a forked worker
    chunks the second half (from a batch boundary, so the same batches and the same chunks)."""
    task = bar.add_task("chunking", total=len(trials)) if bar else None
    advance = (lambda n: bar.advance(task, n)) if bar else None
    mid = _CHUNK_STEP * (len(trials) // (2 * _CHUNK_STEP)) if parallel else 0
    second = Beside(lambda: _chunk_batches(trials[mid:], embedder, max_tokens), parallel) if mid else None
    try:
        chunks = _chunk_batches(trials[:mid] if second else trials, embedder, max_tokens, advance)
        if second is not None:
            chunks.extend(second.wait())
            if advance:
                advance(len(trials) - mid)
    except BaseException:
        if second is not None:
            second.cancel()
        raise
    return chunks


def _chunk_batches(trials: list[Trial], embedder: Embedder, max_tokens: int,
                   advance: Callable[[int], None] | None = None) -> list[Chunk]:
    chunks: list[Chunk] = []
    for start in range(0, len(trials), _CHUNK_STEP):
        batch = trials[start : start + _CHUNK_STEP]
        chunks.extend(chunk_trials(batch, embedder, max_tokens))
        if advance:
            advance(len(batch))
    return chunks


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _embed_reusing(chunks: list[Chunk], old: dict[str, np.ndarray], embedder: Embedder,
                   bar: Any) -> tuple[np.ndarray, int]:
    """Vectors for `chunks`, reusing `old` vectors (by embed_text hash) of the previous index."""
    texts = [c.embed_text for c in chunks]
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
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


@dataclass(frozen=True)
class _Previous:
    """The index a build replaces, read once: its manifest and chunks (checked against the manifest)."""

    manifest: Manifest
    chunks: list[Chunk]


def _previous(out: Path, embedder: Embedder) -> _Previous | None:
    """The index at `out` if it is intact and used this embedder, else None."""
    try:
        manifest = read_manifest(out)
        if manifest.embedder_id != embedder.id or manifest.embedder_dim != embedder.dim:
            return None
        verify_file(out, "chunks.jsonl", manifest.files.get("chunks.jsonl"))
        return _Previous(manifest, read_chunks(out / "chunks.jsonl"))
    except (IndexNotFound, IndexCorrupt, IndexMismatch, OSError, ValueError):
        return None


def _previous_chunks(previous: _Previous | None, chunker: dict[str, int], content_hash: str) -> list[Chunk] | None:
    """The previous index's chunks if it was built from the same trials, chunker and trialqa version."""
    if previous is None:
        return None
    m = previous.manifest
    same = (m.corpus_hash, m.chunker, m.trialqa_version, m.format_version) == (
        content_hash, chunker, __version__, FORMAT_VERSION)
    return previous.chunks if same else None


def _previous_vectors(out: Path, previous: _Previous | None) -> dict[str, np.ndarray]:
    """embed_text hash -> vector from the previous index, when its vector files are intact."""
    if previous is None:
        return {}
    try:
        for rel in ("embeddings.npy", "dense_rows.npy"):
            verify_file(out, rel, previous.manifest.files.get(rel))
        vectors = np.load(out / "embeddings.npy")
        rows = np.load(out / "dense_rows.npy")
    except (IndexNotFound, IndexCorrupt, IndexMismatch, OSError, ValueError):
        return {}
    chunks = previous.chunks
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
    return {"size": path.stat().st_size, "sha256": sha256_file(path)}


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
    except PermissionError:  # it exists, owned by another user
        pass
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


