"""Phase `baseline`: a typical local RAG over the same seeds with the same GGUF, asked the
gold questions that trialqa's model answered in the ask phase of the same run (at most
MAX_QUESTIONS of them, spread over the list; all gold questions when that phase did not
run), so that trialqa's figures have a reference.

What "typical" means here (the defaults of the common tutorials): each record's whole
text cut into fixed-size chunks of 1,000 characters with 200 overlapping, embedded with the
same MiniLM, the 4 chunks closest to the question by cosine, pasted into one prompt under a
one-line instruction, and the model's answer streamed. No fields, no evidence selection,
no prompt prefix reuse beyond what llama.cpp's cache does by itself.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import (
    Config, Result, call, embedder_for, generator_for, ingest, latency_figures, log, pct, read_report, settings_for, timed,
)

CHUNK_CHARS = 1000
OVERLAP_CHARS = 200
TOP_K = 4
MAX_TOKENS = 256
#: At most this many of the questions trialqa's model answered are asked again here.
MAX_QUESTIONS = 12
SYSTEM = ("You are a helpful assistant. Answer the question using only the context below. "
          "If the context does not contain the answer, say that you don't know.")


def fixed_chunks(text: str, size: int = CHUNK_CHARS, overlap: int = OVERLAP_CHARS) -> list[str]:
    step = max(1, size - overlap)
    return [text[i : i + size] for i in range(0, max(1, len(text) - overlap), step)]


class TypicalRAG:
    """Fixed-size chunks, top-k cosine, one prompt."""

    def __init__(self, texts: list[str], embedder: Any, generator: Any) -> None:
        self.chunks = [c for text in texts for c in fixed_chunks(text)]
        self.embedder = embedder
        self.generator = generator
        self.vectors = embedder.embed(self.chunks)

    def messages(self, question: str) -> list[dict[str, str]]:
        from trialqa.embed import embed_long

        sims = self.vectors @ embed_long(self.embedder, question)
        top = np.argsort(-sims)[:TOP_K]
        context = "\n\n---\n\n".join(self.chunks[i] for i in top)
        return [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": f"Context:\n{context}\n\nQuestion: {question}"}]

    def stream(self, question: str) -> Iterator[str]:
        yield from self.generator.stream(self.messages(question), max_tokens=MAX_TOKENS)


def _questions(cfg: Config) -> list[str]:
    """The questions trialqa gave to its model in the ask phase of this report (the ratios
    compare those; an instant answer has no model latency to compare), else every prompt of
    the gold cases the ask phase times. Turns are asked alone: no history."""
    from trialqa.evals import load_cases

    asked = _model_questions(cfg.out)
    if asked:  # spread over the list: a baseline answer reads ~1,000 prompt tokens (20-40 s here)
        step = math.ceil(len(asked) / MAX_QUESTIONS)
        return asked[::step][:MAX_QUESTIONS]
    return [q for case in load_cases(cfg.repo / "evals/gold.jsonl")[: cfg.ask_limit] for q in case.prompts]


def _model_questions(report_path: Path) -> list[str]:
    """The model-written questions of the ask phase in the report at `report_path`, in order."""
    ask = read_report(report_path).get("ask")
    samples = ask.get("samples", []) if isinstance(ask, dict) else []
    return list(dict.fromkeys(s["question"] for s in samples if isinstance(s, dict) and s.get("llm_calls")))


def _sample(rag: TypicalRAG, recorder: Any, question: str) -> Result:
    before = len(recorder.calls)
    t0 = time.perf_counter()
    first = None
    for _ in rag.stream(question):
        if first is None:
            first = time.perf_counter() - t0
    total = time.perf_counter() - t0
    return {"question": question, "first_token_s": first if first is not None else total, "total_s": total,
            **recorder.calls[before]}


def measure(cfg: Config) -> Result:
    from benchmarks.ask import RecordingGenerator
    from trialqa.store import trial_text

    settings = settings_for()
    embedder = embedder_for(cfg, settings)
    recorder = RecordingGenerator(generator_for(cfg, settings))
    trials = ingest(cfg, "seeds")[1]
    index_s, rag = timed(lambda: TypicalRAG([trial_text(t) for t in trials], embedder, recorder))
    questions = _questions(cfg)
    _sample(rag, recorder, "warm-up: what is this trial about?")  # lazy loads, as trialqa's warm-up
    log(f"baseline: typical RAG over {len(questions)} questions")
    samples = [_sample(rag, recorder, q) for q in questions]
    return {
        "chunk_chars": CHUNK_CHARS, "overlap_chars": OVERLAP_CHARS, "top_k": TOP_K, "chunks": len(rag.chunks),
        "index_s": round(index_s, 3), **latency_figures(samples),
        "prompt_tokens": {"median": statistics.median(s["prompt_tokens"] for s in samples)},
        "samples": samples,
    }


def ratios(report: Result) -> Result:
    """The baseline's p50 over trialqa's, in the same run: over the questions trialqa gave to
    the model (`first_token_p50`, `total_p50`) and over every question (`..._all`)."""
    base = {s["question"]: s for s in report.get("baseline", {}).get("samples", [])}
    ask = report.get("ask", {}).get("samples", [])
    llm = [s for s in ask if s.get("llm_calls") and s["question"] in base]
    out: Result = {}
    for key, rows in (("", llm), ("_all", [s for s in ask if s["question"] in base])):
        if not rows:
            continue
        for what in ("first_token", "total"):
            ours = pct([s[f"{what}_s"] for s in rows], 50)
            theirs = pct([base[s["question"]][f"{what}_s"] for s in rows], 50)
            out[f"{what}_p50{key}"] = round(theirs / max(ours, 1e-6), 2)
    return out


def phase(cfg: Config) -> Result:
    return call(cfg, measure)
