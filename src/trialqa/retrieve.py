"""Hybrid retrieval: FAISS (dense) and bm25s (sparse) rankings fused by weighted RRF.

    fused(c) = dense_weight / (rrf_k + rank_dense(c)) + sparse_weight / (rrf_k + rank_sparse(c))

Each side contributes its best `candidates` chunks; ranks start at 1. Queries of any
length work: the dense side embeds long queries window by window (`embed_long`), the
sparse side scores every term. In a large index only some sections have stored vectors
(see `store.dense_policy`); their other chunks compete on BM25 with their trial's
dense rank, and a search scoped to a few trials embeds them on the spot.

`rank_trials` ranks whole trials (TREC patient-to-trial, and questions that describe a
trial): see `trialqa.trial_rank`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator

import numpy as np

from trialqa.embed import Embedder, embed_long
from trialqa.settings import Settings, get_settings
from trialqa.store import Index, sparse_tokens
from trialqa.types import Hit

#: A search filtered down to at most this many chunks without a stored vector embeds them
#: on the spot (once per process), so questions scoped to a trial get dense matching everywhere.
_LAZY_MAX = 32


class Retriever:
    """Search one loaded index with one embedder."""

    def __init__(self, index: Index, embedder: Embedder, settings: Settings | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings or get_settings()
        self._sections = np.array([c.section for c in index.chunks], dtype=object)
        self._trial_of = np.array([c.trial_id for c in index.chunks], dtype=object)
        self._trial_ids = list(index.trials)
        self._lazy: dict[int, np.ndarray] = {}
        self._trial_ranker = None
        self._configure_dense()

    def _configure_dense(self) -> None:
        import faiss

        kind = self.index.manifest.dense.get("kind")
        if kind == "ivfpq":
            faiss.extract_index_ivf(self.index.dense).nprobe = self.settings.retrieval.nprobe
        elif kind == "hnsw":
            self.index.dense.hnsw.efSearch = max(64, self.settings.retrieval.candidates)

    def search(
        self,
        query: str,
        k: int | None = None,
        *,
        diverse: bool = False,
        trial_ids: Collection[str] | None = None,
        sections: Collection[str] | None = None,
    ) -> list[Hit]:
        """The `k` best chunks for `query`, best first.

        diverse: round-robin over trials (each trial's best hit first, then second hits, ...),
            at most `max_per_trial` hits per trial, so many trials are seen, not one.
        trial_ids: only chunks of these trials. sections: only these section names or prefixes
            ("Eligibility" also matches "Eligibility: Inclusion").
        """
        cfg = self.settings.retrieval
        k = cfg.k if k is None else k
        candidates = max(cfg.candidates, k * (cfg.max_per_trial if diverse else 1))
        ranked = self._fused(query, candidates, self._allowed_rows(trial_ids, sections))
        rows = _diverse(ranked, self._trial_of, k, cfg.max_per_trial) if diverse else ranked[:k]
        return [
            Hit(chunk=self.index.chunks[row], score=round(score, 6), rank=i + 1)
            for i, (row, score) in enumerate(rows)
        ]

    def rank_trials(self, query: str, n: int) -> list[tuple[str, float]]:
        """The `n` best trials for `query` (a question or a patient note) with their fused
        scores, best first: whole-record BM25, every chunk's BM25 and the chunk vectors,
        aggregated per trial and fused (`trialqa.trial_rank`). This is the one trial-ranking
        path: `trialqa search --trials`, the assistant and the benchmark use it."""
        if n <= 0 or not query.strip():
            return []
        return self.trial_ranker.rank(query, n)

    @property
    def trial_ranker(self):  # noqa: ANN201 - TrialRanker, imported lazily
        """The trial ranker of this index (built on first use)."""
        if self._trial_ranker is None:
            from trialqa.trial_rank import TrialRanker

            self._trial_ranker = TrialRanker(self.index, self.embedder, self.settings)
        return self._trial_ranker

    # ------------------------------------------------------------ internals

    def _allowed_rows(self, trial_ids: Collection[str] | None, sections: Collection[str] | None) -> np.ndarray | None:
        """Chunk rows passing the filters, or None for no filter."""
        if trial_ids is None and sections is None:
            return None
        if trial_ids is not None:
            ranges = [self.index.chunk_rows(t) for t in dict.fromkeys(trial_ids)]
            rows = np.fromiter((r for rng in ranges for r in rng), dtype=np.int64)
        else:
            rows = np.arange(len(self.index.chunks), dtype=np.int64)
        if sections is not None and len(rows):
            prefixes = tuple(sections)
            names = self._sections[rows]
            keep = [name in prefixes or name.startswith(tuple(p + ":" for p in prefixes)) for name in names]
            rows = rows[np.asarray(keep, dtype=bool)]
        return rows

    def _fused(self, query: str, candidates: int, rows: np.ndarray | None) -> list[tuple[int, float]]:
        """(row, fused score) best first, over the allowed rows.

        A chunk without a dense vector (large corpora embed only some sections) takes the
        dense rank of its trial's best vector, so a Locations chunk of the right trial can
        still win on its BM25 rank.
        """
        if rows is not None and len(rows) == 0:
            return []
        cfg = self.settings.retrieval
        dense = self._dense(query, candidates, rows) if cfg.dense_weight > 0 else []
        sparse = self._sparse(query, candidates, rows) if cfg.sparse_weight > 0 else []
        scores: dict[int, float] = {}
        trial_rank: dict[str, int] = {}
        for rank, row in enumerate(dense, start=1):
            scores[row] = cfg.dense_weight / (cfg.rrf_k + rank)
            trial_rank.setdefault(self._trial_of[row], rank)
        for rank, row in enumerate(sparse, start=1):
            score = cfg.sparse_weight / (cfg.rrf_k + rank)
            if self.index.dense_pos[row] < 0 and self._trial_of[row] in trial_rank:
                score += cfg.dense_weight / (cfg.rrf_k + trial_rank[self._trial_of[row]])
            scores[row] = scores.get(row, 0.0) + score
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))

    def _dense(self, query: str, n: int, rows: np.ndarray | None) -> list[int]:
        if not query.strip():
            return []
        index = self.index
        vector = embed_long(self.embedder, query).astype(np.float32)
        if rows is None:
            if index.dense.ntotal == 0:
                return []
            refine = self.settings.retrieval.refine if index.manifest.dense.get("kind") == "ivfpq" else 1
            with _faiss_single_thread():
                _, ids = index.dense.search(vector[None, :], min(n * max(1, refine), index.dense.ntotal))
            found = ids[0][ids[0] >= 0]
            if refine > 1:
                found = rerank_exact(found, index.embeddings, vector, n)
            return [int(index.dense_rows[i]) for i in found]
        pos = index.dense_pos[rows]
        with_vector, without = rows[pos >= 0], rows[pos < 0]
        matrix = np.asarray(index.embeddings[pos[pos >= 0]])
        if 0 < len(without) <= _LAZY_MAX:  # a scoped search: embed the few missing chunks now
            matrix = np.vstack([matrix, self._lazy_vectors(without)])
            with_vector = np.concatenate([with_vector, without])
        sims = matrix @ vector  # exact over the filtered rows
        return [int(with_vector[i]) for i in _top(sims, n)]

    def _lazy_vectors(self, rows: np.ndarray) -> np.ndarray:
        """Vectors of chunks the build left to BM25 alone, embedded on first use and kept."""
        todo = [int(r) for r in rows if int(r) not in self._lazy]
        if todo:
            vectors = self.embedder.embed([self.index.chunks[r].embed_text for r in todo])
            self._lazy.update(zip(todo, vectors, strict=True))
        return np.stack([self._lazy[int(r)] for r in rows]).astype(np.float32)

    def _sparse(self, query: str, n: int, rows: np.ndarray | None) -> list[int]:
        ids = self.index.sparse.get_tokens_ids(sparse_tokens(query))
        if not ids:
            return []
        scores = self.index.sparse.get_scores_from_ids(ids)
        if rows is None:
            return [int(i) for i in _top(scores, n) if scores[i] > 0]
        sub = scores[rows]
        return [int(rows[i]) for i in _top(sub, n) if sub[i] > 0]



def rerank_exact(candidates: np.ndarray, embeddings: np.ndarray, vector: np.ndarray, n: int) -> np.ndarray:
    """The `n` best of an approximate index's candidate vector ids, re-ranked by exact inner
    product with the stored (memory-mapped) vectors; ties keep id order."""
    ids = np.sort(candidates[candidates >= 0])
    if not len(ids):
        return ids
    exact = np.asarray(embeddings[ids]) @ vector
    return ids[np.argsort(-exact, kind="stable")][:n]


@contextlib.contextmanager
def _faiss_single_thread() -> Iterator[None]:
    """One query needs no OpenMP team: on a busy 2-core machine its barriers cost ~15 ms."""
    import faiss

    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the `n` highest scores, best first (ties by index)."""
    if n >= len(scores):
        return np.lexsort((np.arange(len(scores)), -scores))
    part = np.argpartition(-scores, n - 1)[:n]
    return part[np.lexsort((part, -scores[part]))]


def _diverse(ranked: list[tuple[int, float]], trial_of: np.ndarray, k: int, per_trial: int) -> list[tuple[int, float]]:
    """Round-robin by trial in order of each trial's best hit, at most `per_trial` each."""
    by_trial: dict[str, list[tuple[int, float]]] = {}
    for row, score in ranked:
        hits = by_trial.setdefault(trial_of[row], [])
        if len(hits) < per_trial:
            hits.append((row, score))
    out: list[tuple[int, float]] = []
    for round_ in range(per_trial):
        for hits in by_trial.values():
            if round_ < len(hits):
                out.append(hits[round_])
                if len(out) == k:
                    return out
    return out
