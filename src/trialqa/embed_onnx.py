"""The query-time embedder: the bundled MiniLM exported once to ONNX, run by ONNX Runtime with
the HF `tokenizers` library, so answering a question never imports torch (2.8 s) or
transformers.

`export_onnx` runs at `trialqa model install` (torch is installed then): it wraps the
encoder with the masked mean pooling that sentence-transformers applies, exports it, checks
that ONNX Runtime gives the same vectors as torch (cosine at least `MIN_COSINE`), and writes
model.onnx (and its optimized graph), tokenizer.json and meta.json atomically into a folder under $TRIALQA_HOME named
by a fingerprint of the model files. `OnnxEmbedder` has the same `id`, `dim` and
`max_tokens` as the torch embedder of the same folder, so indexes built by either stay
valid: the vectors agree to a cosine of at least 0.999 (tests/test_embed_onnx.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import warnings
from pathlib import Path

import numpy as np

from trialqa.errors import ModelUnavailable

MIN_COSINE = 0.999
#: The graph after ONNX Runtime's extended (hardware-independent) optimizations, saved at export
#: and loaded without optimizing again when the same onnxruntime version runs it.
OPTIMIZED = "model.opt.onnx"
OPSET = 17
FORMAT = 1
#: Texts per ONNX Runtime call at most, sorted by length so that a batch pads little.
_BATCH = 32
#: A text joins a batch when it is at least this share of the batch's longest text.
_FILL = 0.8
_CHECK_TEXTS = [
    "What is the enrollment of NCT05106972?",
    "Adults aged 18 to 65 with moderate to severe plaque psoriasis for at least six months.",
    "Umbilical cord mesenchymal stem cells are infused intravenously at 1x10^6 cells/kg.",
    "x",
]


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32)


def fingerprint(model_dir: Path) -> str:
    """Names the export after the model files it came from (path, sizes, modification times)."""
    parts = [str(model_dir.resolve()), str(FORMAT), str(OPSET)]
    for file in sorted(model_dir.iterdir()):
        if file.is_file():
            info = file.stat()
            parts.append(f"{file.name}:{info.st_size}:{info.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def export_dir(model_dir: Path, home: Path) -> Path:
    """Where the ONNX export of `model_dir` lives (it may not exist yet)."""
    return Path(home).expanduser() / "embedder-onnx" / f"{model_dir.name}-{fingerprint(model_dir)}"


class OnnxEmbedder:
    """The `Embedder` protocol over an export folder written by `export_onnx`."""

    def __init__(self, directory: Path, model_id: str, threads: int | None = None) -> None:
        try:
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ModelUnavailable(f"the ONNX query embedder needs tokenizers: {exc}; run 'make setup'") from exc
        try:
            meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
            self._counter = Tokenizer.from_file(str(directory / "tokenizer.json"))
            self.dim = int(meta["dim"])
            self.max_tokens = int(meta["max_tokens"])
        except Exception as exc:  # a damaged or partial export (missing file, bad JSON, a key)
            raise ModelUnavailable(f"cannot load the ONNX embedder at {directory}: {type(exc).__name__}: {exc}; "
                                   "run 'trialqa model install' again") from exc
        self.id = model_id
        self.path = directory
        self._counter.no_truncation()
        self._counter.no_padding()
        from trialqa.embed import additive_counts

        self.additive_counts = additive_counts(self._counter)
        self._tok = Tokenizer.from_str(self._counter.to_str())
        self._tok.enable_truncation(self.max_tokens)
        self._pad = (int(meta["pad_id"]), str(meta["pad_token"]))  # each batch is padded to its longest text
        # ONNX Runtime's import and session start (0.5 s of CPU, mostly outside the GIL) run in
        # a thread while the caller goes on loading the index; the first `embed` waits for it.
        self._session = None
        self._failure: BaseException | None = None
        # Not a daemon: exiting while ONNX Runtime builds the session would abort the process.
        self._loader = threading.Thread(target=self._load, args=(meta, threads), daemon=False, name="onnx-load")
        self._loader.start()

    def _load(self, meta: dict, threads: int | None) -> None:
        try:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
            options.inter_op_num_threads = 1
            # Idle threads sleep instead of spinning: on a busy 2-core machine spinning threads
            # steal the cores that llama.cpp and the other threads need.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.log_severity_level = 3
            model = self.path / "model.onnx"
            if meta.get("ort") == ort.__version__ and (self.path / OPTIMIZED).is_file():
                model = self.path / OPTIMIZED  # optimized at export: skips 0.1 s of graph rewriting
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
            self._inputs = {i.name for i in session.get_inputs()}
            self._session = session
        except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread by `session`
            self._failure = exc

    @property
    def session(self):  # type: ignore[no-untyped-def]
        """The ONNX Runtime session, once the loader thread has made it."""
        if self._session is None:
            self._loader.join()
            if self._session is None:
                exc = self._failure
                hint = "pip install onnxruntime (make setup)" if isinstance(exc, ImportError) else "run 'trialqa model install' again"
                raise ModelUnavailable(f"cannot load the ONNX embedder at {self.path}: {type(exc).__name__}: {exc}; {hint}") from exc
        return self._session

    def count_tokens(self, text: str) -> int:
        """Word pieces including [CLS]/[SEP], never truncated."""
        return len(self._counter.encode(text, add_special_tokens=True).ids)

    def count_tokens_batch(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self._counter.encode_batch(texts, add_special_tokens=True)]

    def token_starts_batch(self, texts: list[str]) -> list[list[int]]:
        return [[a for a, _ in e.offsets] for e in self._counter.encode_batch(texts, add_special_tokens=False)]

    def windows(self, text: str, size: int) -> list[str]:
        offsets = self._counter.encode(text, add_special_tokens=False).offsets
        out, step = [], max(1, size - 2)
        for start in range(0, len(offsets), step):
            span = offsets[start : start + step]
            out.append(text[span[0][0] : span[-1][1]])
        return out or [text]

    def embed(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        enc = self._tok.encode_batch(texts) if texts else []  # truncated, not padded
        for rows in batches([len(e.ids) for e in enc]):
            out[rows] = self._run([enc[i] for i in rows])
        return _normalise(out)

    def _run(self, enc: list) -> np.ndarray:
        width = max(len(e.ids) for e in enc)
        pad_id, pad_token = self._pad
        for e in enc:
            e.pad(width, pad_id=pad_id, pad_token=pad_token)
        feeds = {"input_ids": np.array([e.ids for e in enc], dtype=np.int64),
                 "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
                 "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64)}
        session = self.session
        return session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]


def batches(lengths: list[int]) -> list[list[int]]:
    """Rows in batches of similar length, longest first: a batch is padded to its longest
    text, and on a CPU padding costs as much as text (28 evidence sentences of 5 to 154
    word pieces took 1.3 s in one batch, 0.2 s in batches of similar length)."""
    out: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        if out and len(out[-1]) < _BATCH and lengths[i] >= _FILL * lengths[out[-1][0]]:
            out[-1].append(i)
        else:
            out.append([i])
    return out


def load_onnx(model_dir: Path, home: Path, model_id: str) -> OnnxEmbedder | None:
    """The ONNX embedder of `model_dir` when it has been exported, else None."""
    directory = export_dir(model_dir, home)
    if not (directory / "meta.json").is_file():
        return None
    return OnnxEmbedder(directory, model_id)


def export_onnx(model_dir: Path, home: Path) -> Path:
    """Export `model_dir` (a plain Transformer + mean-pooling sentence-transformers folder) to
    ONNX once; return the export folder. Needs torch and transformers (install time)."""
    from trialqa.embed import SentenceTransformerEmbedder, _max_seq_length, _plain_mean_pooling

    dest = export_dir(model_dir, home)
    if (dest / "meta.json").is_file():
        return dest
    if not _plain_mean_pooling(model_dir):
        raise ModelUnavailable(f"{model_dir} is not a plain mean-pooling model: it cannot be exported to ONNX")
    try:
        import torch
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:
        raise ModelUnavailable(f"exporting the embedder to ONNX needs torch and transformers: {exc}") from exc
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    tok = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    backend = getattr(tok, "backend_tokenizer", None)
    if backend is None or tok.pad_token_id is None:
        raise ModelUnavailable(f"{model_dir} has no fast tokenizer with a padding token: it cannot be exported")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f"{dest.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        names = ["input_ids", "attention_mask", "token_type_ids"]
        enc = tok(_CHECK_TEXTS[:2], padding=True, return_tensors="pt")
        args = tuple(enc[n] for n in names if n in enc)
        axes = {n: {0: "batch", 1: "tokens"} for n in names if n in enc} | {"embedding": {0: "batch"}}
        try:
            with torch.inference_mode(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tracer notes about shapes, all covered by the check below
                torch.onnx.export(_pooled_module(model, [n for n in names if n in enc]), args, str(tmp / "model.onnx"),
                                  input_names=[n for n in names if n in enc], output_names=["embedding"],
                                  dynamic_axes=axes, opset_version=OPSET, dynamo=False)
        except Exception as exc:  # the exporter's own errors (a missing `onnx` package, an unsupported op)
            raise ModelUnavailable(f"cannot export {model_dir} to ONNX: {type(exc).__name__}: {exc}") from exc
        backend_copy = type(backend).from_str(backend.to_str())
        backend_copy.no_truncation()
        backend_copy.no_padding()
        backend_copy.save(str(tmp / "tokenizer.json"))
        meta = {"format": FORMAT, "source": str(model_dir.resolve()), "dim": int(model.config.hidden_size),
                "max_tokens": _max_seq_length(model_dir) or int(tok.model_max_length),
                "pad_id": int(tok.pad_token_id), "pad_token": str(tok.pad_token), "opset": OPSET,
                "torch": torch.__version__}
        meta["ort"] = _save_optimized(tmp / "model.onnx", tmp / OPTIMIZED)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        reference = SentenceTransformerEmbedder(model_dir, "check", dtype="float32")
        onnx = OnnxEmbedder(tmp, "check")
        worst = float(min((reference.embed(_CHECK_TEXTS) * onnx.embed(_CHECK_TEXTS)).sum(axis=1)))
        if worst < MIN_COSINE:
            raise ModelUnavailable(f"the ONNX export of {model_dir} gives vectors at cosine {worst:.5f} to torch's "
                                   f"(at least {MIN_COSINE} needed); the torch embedder stays in use")
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _save_optimized(model: Path, dest: Path) -> str:
    """Write `model` after ONNX Runtime's extended optimizations to `dest`; its version."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(dest)
    options.log_severity_level = 3
    ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    return ort.__version__


def _pooled_module(model, names: list[str]):  # type: ignore[no-untyped-def]
    import torch

    class Pooled(torch.nn.Module):
        """The encoder followed by the masked mean over tokens (sentence-transformers' pooling)."""

        def __init__(self) -> None:
            super().__init__()
            self.encoder = model

        def forward(self, *inputs):  # type: ignore[no-untyped-def]
            kwargs = dict(zip(names, inputs, strict=True))
            hidden = self.encoder(**kwargs).last_hidden_state
            mask = kwargs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    return Pooled()

