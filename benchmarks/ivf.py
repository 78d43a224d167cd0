"""Phase `ivf`: IVF-PQ against exact search on the largest index: recall@10 (raw and
re-ranked with the exact vectors), memory, latency, and end-to-end hybrid overlap."""

from __future__ import annotations

import shutil
import statistics
import time
from typing import Any

from benchmarks.common import (
    Config, Result, Skipped, call, embedder_for, ensure_index, index_dir, largest, log, patient_notes, pct, queries,
    settings_for, timed,
)

PQ_MIN_VECTORS = 256  # 8-bit product-quantiser codes train 256 centroids per sub-vector


def measure(cfg: Config) -> Result:
    """Build IVF-PQ from the exact index's stored vectors, then compare the two."""
    import faiss
    import numpy as np

    from trialqa.embed import embed_long
    from trialqa.retrieve import Retriever
    from trialqa.index_build import build_index
    from trialqa.store import load_index

    flat_settings, ivf_settings = settings_for("flat"), settings_for("ivfpq")
    embedder = embedder_for(cfg, flat_settings)
    corpus = largest(cfg)
    flat = ensure_index(cfg, corpus, embedder, flat_settings)
    if flat.dense.ntotal < PQ_MIN_VECTORS:
        raise Skipped(f"{flat.dense.ntotal} vectors: IVF-PQ with 8-bit codes needs {PQ_MIN_VECTORS}+")
    ivf_path = index_dir(cfg, f"{corpus}-ivfpq")
    shutil.rmtree(ivf_path, ignore_errors=True)
    shutil.copytree(flat.path, ivf_path)  # the rebuild reuses these embeddings by content hash
    log(f"ivf: building IVF-PQ over {flat.dense.ntotal:,} vectors")
    build_s, manifest = timed(lambda: build_index(list(flat.trials.values()), ivf_path, embedder,
                                                   ivf_settings, progress=False))
    ivf = load_index(ivf_path, embedder, ivf_settings)
    texts = queries(cfg) + patient_notes(cfg, 15)
    vectors = np.stack([embed_long(embedder, q) for q in texts]).astype(np.float32)
    k = min(10, flat.dense.ntotal)
    exact_ids = flat.dense.search(vectors, k)[1]
    exact_ms = _per_query_ms(flat.dense, vectors, k)
    ivf_index = faiss.extract_index_ivf(ivf.dense)
    sweep = []
    for nprobe in sorted({min(n, ivf_index.nlist) for n in (1, 4, ivf_settings.retrieval.nprobe, 64)}):
        ivf_index.nprobe = nprobe
        ids = ivf.dense.search(vectors, k)[1]
        refine = ivf_settings.retrieval.refine
        refined = _refined(ivf, vectors, k, refine)
        sweep.append({"nprobe": ivf_index.nprobe, "recall_at_10": round(_recall(exact_ids, ids), 4),
                      "p50_ms": round(pct(_per_query_ms(ivf.dense, vectors, k), 50), 3),
                      "refine": refine, "recall_at_10_refined": round(_recall(exact_ids, refined), 4),
                      "refined_p50_ms": round(pct(_per_query_ms(ivf.dense, vectors, k * refine), 50), 3)})
    hybrid = _hybrid_overlap(Retriever(flat, embedder, flat_settings), Retriever(ivf, embedder, ivf_settings), texts)
    size = {name: (idx.path / "dense.faiss").stat().st_size for name, idx in (("flat", flat), ("ivfpq", ivf))}
    return {
        "corpus": corpus, "chunks": len(flat.chunks), "vectors": flat.dense.ntotal, "queries": len(texts), "params": manifest.dense,
        "build_s": round(build_s, 2), "build_stages_s": manifest.build, "note": "embeddings reused from the exact index",
        "dense_exact_p50_ms": round(pct(exact_ms, 50), 3), "dense_ivfpq": sweep,
        "hybrid": hybrid,
        "memory_mib": {name: round(b / 2**20, 2) for name, b in size.items()},
        "bytes_per_vector": {name: round(b / flat.dense.ntotal, 1) for name, b in size.items()},
    }


def _refined(index: Any, vectors: Any, k: int, refine: int) -> Any:
    """IVF-PQ ids as the retriever returns them: k x refine candidates re-ranked with the exact vectors."""
    import numpy as np

    from trialqa.retrieve import rerank_exact

    out = np.full((len(vectors), k), -1, dtype=np.int64)
    for row, ids in enumerate(index.dense.search(vectors, k * refine)[1]):
        best = rerank_exact(ids, index.embeddings, vectors[row], k)
        out[row, : len(best)] = best
    return out


def _per_query_ms(index: Any, vectors: Any, k: int) -> list[float]:
    """Milliseconds of each single-query search (how the retriever calls FAISS)."""
    out = []
    for row in range(len(vectors)):
        t0 = time.perf_counter()
        index.search(vectors[row : row + 1], k)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _recall(exact: Any, approx: Any) -> float:
    hits = [len(set(e[e >= 0]) & set(a[a >= 0])) / max(1, int((e >= 0).sum())) for e, a in zip(exact, approx, strict=True)]
    return statistics.mean(hits)


def _hybrid_overlap(flat: Any, ivf: Any, texts: list[str]) -> Result:
    """End to end: how many of the exact index's top-10 fused hits the IVF-PQ index returns."""
    overlaps, flat_s, ivf_s = [], [], []
    for q in texts:
        t0 = time.perf_counter()
        a = {h.chunk.id for h in flat.search(q, 10)}
        t1 = time.perf_counter()
        b = {h.chunk.id for h in ivf.search(q, 10)}
        t2 = time.perf_counter()
        flat_s.append(t1 - t0)
        ivf_s.append(t2 - t1)
        overlaps.append(len(a & b) / max(1, len(a)))
    return {"overlap_at_10": round(statistics.mean(overlaps), 4),
            "search_p50_ms": {"flat": round(pct(flat_s, 50) * 1000, 2), "ivfpq": round(pct(ivf_s, 50) * 1000, 2)}}


def phase(cfg: Config) -> Result:
    return call(cfg, measure)
