"""Phase `load`: the chat serving a team, 16 people asking at the same moment, on loopback.

Two set-ups over the seed index, each a real `trialqa chat` in a child process driven
through `gradio_client` (the "/chat" API, one client and session per simulated user):

    in_process    the bundled model inside the chat, one model answer at a time (its lock)
    llama_server  llama.cpp's `llama-server -np 4` (built by `make llama-server`) and the chat
                  with TRIALQA_BACKEND=openai, TRIALQA_CHAT__CONCURRENCY=4

For each: every question once, one user at a time (the single-user answers and times), then
USERS clients submit together (a barrier) and each answer is timed from submit to its final
text. Half the users ask instant questions (answered from the records' fields, no model),
half model-written ones. Reported: p50/p95/max answer time of the 16, per kind, failures,
and how many answers are identical to that set-up's single-user answer (greedy decoding;
llama-server batches slots together, which need not give bit-identical logits). Bounded: each
answer has REQUEST_TIMEOUT_S and the phase a deadline; everything binds 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.common import REPO, Config, Result, Skipped, call, log, pct, stop

USERS = 16
SLOTS = 4
REQUEST_TIMEOUT_S = 300.0
PHASE_TIMEOUT_S = 1500.0
#: answered from the records' fields (no model call on the seed index)
INSTANT = [
    "What is the enrollment of NCT05106972?",
    "What ages can join NCT03765957?",
    "Who is sponsoring the psoriasis stem cell study?",
    "What is the enrollment of NCT03765957?",
]
#: phrased by the model from evidence sentences
MODEL = [
    "According to the HBV cirrhosis trial NCT01728727, what are the problems with liver transplantation?",
    "Does the HPV study use stem cells?",
    "Why is the psoriasis stem cell study being done?",
    "What is the purpose of NCT05106972?",
]
LLAMA_SERVER = Path(os.environ.get("TRIALQA_LLAMA_SERVER") or REPO / "build/llama-server/bin/llama-server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, log_path: Path, timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-600:] if log_path.exists() else ""
            raise RuntimeError(f"{Path(proc.args[0]).name} exited {proc.returncode}: {tail}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {timeout:.0f} s")


@contextlib.contextmanager
def _process(cmd: list[str], log_path: Path, ready_url: str, env: dict[str, str] | None = None,
             timeout: float = 300.0) -> Iterator[subprocess.Popen]:
    """Start `cmd` (output to `log_path`), wait until `ready_url` answers 200, stop it on exit."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_http(ready_url, proc, log_path, timeout)
        yield proc
    finally:
        stop(proc)


@contextlib.contextmanager
def llama_server(gguf: Path, log_path: Path, slots: int = SLOTS, n_ctx: int = 2048,
                 threads: int | None = None) -> Iterator[str]:
    """`llama-server -np slots` on a free loopback port, each slot `n_ctx` tokens; yields the
    base URL (…/v1) once /health answers, stops the server on exit."""
    if not LLAMA_SERVER.is_file():
        raise Skipped(f"no llama-server at {LLAMA_SERVER}: run 'make llama-server'")
    port = free_port()
    cmd = [str(LLAMA_SERVER), "-m", str(gguf), "--host", "127.0.0.1", "--port", str(port),
           "-np", str(slots), "-c", str(n_ctx * slots), "-t", str(threads or os.cpu_count() or 2),
           "--no-webui", "--load-mode", "none", "--no-repack"]
    with _process(cmd, log_path, f"http://127.0.0.1:{port}/health", timeout=180):
        yield f"http://127.0.0.1:{port}/v1"


@contextlib.contextmanager
def chat(index: Path, log_path: Path, env: dict[str, str]) -> Iterator[str]:
    """`trialqa chat --index index` on a free loopback port; yields its URL once /healthz is ready."""
    from benchmarks.cold import trialqa_command

    port = free_port()
    cmd = [*trialqa_command(), "chat", "--index", str(index), "--port", str(port), "--host", "127.0.0.1"]
    with _process(cmd, log_path, f"http://127.0.0.1:{port}/healthz", {**os.environ, **env}, timeout=300):
        yield f"http://127.0.0.1:{port}/"


def _client(url: str):
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False)


def _ask(client, question: str) -> tuple[float, str | None, str | None]:
    """(seconds, answer text, error) for one question through "/chat"."""
    t0 = time.perf_counter()
    try:
        text = client.submit(question, api_name="/chat").result(timeout=REQUEST_TIMEOUT_S)
        return time.perf_counter() - t0, str(text), None
    except Exception as exc:  # noqa: BLE001 - a failure is a figure here
        return time.perf_counter() - t0, None, f"{type(exc).__name__}: {str(exc)[:160]}"


def _figures(seconds: list[float]) -> Result:
    if not seconds:
        return {"n": 0}
    return {"n": len(seconds), "p50_s": round(pct(seconds, 50), 2), "p95_s": round(pct(seconds, 95), 2),
            "max_s": round(max(seconds), 2), "mean_s": round(statistics.mean(seconds), 2)}


def crowd(url: str, users: int = USERS) -> Result:
    """Single-user answers of every question, then `users` clients asking at once."""
    questions = [(kind, q) for kind, qs in (("instant", INSTANT), ("model", MODEL)) for q in qs]
    single: dict[str, tuple[float, str | None]] = {}
    for kind, q in questions:
        seconds, text, error = _ask(_client(url), q)  # a session of its own: no follow-up history
        single[q] = (seconds, text)
        if error:
            raise RuntimeError(f"single-user answer failed: {error}")
    plan = [questions[i % len(questions)] for i in range(users)]  # half instant, half model
    clients = [_client(url) for _ in plan]
    results: list[tuple[str, str, float, str | None, str | None]] = [None] * users  # type: ignore[list-item]
    barrier = threading.Barrier(users)

    def user(i: int) -> None:
        kind, q = plan[i]
        barrier.wait()
        results[i] = (kind, q, *_ask(clients[i], q))

    t0 = time.perf_counter()
    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(REQUEST_TIMEOUT_S + 30)
    wall = time.perf_counter() - t0
    done = [r for r in results if r is not None]
    ok = [r for r in done if r[4] is None]
    same = [r for r in ok if r[3] == single[r[1]][1]]
    out: Result = {
        "users": users, "wall_s": round(wall, 2), "failures": users - len(ok),
        "errors": sorted({r[4] for r in done if r[4]})[:5],
        "answer": _figures([r[2] for r in ok]),
        **{kind: _figures([r[2] for r in ok if r[0] == kind]) for kind in ("instant", "model")},
        "identical_to_single_user": {kind: f"{sum(r[0] == kind for r in same)}/{sum(r[0] == kind for r in ok)}"
                                     for kind in ("instant", "model")},
        "differs": sorted({r[1] for r in ok if r not in same}),
        "single_user": {q: {"kind": kind, "s": round(single[q][0], 2)} for kind, q in questions},
    }
    out["single_user_texts"] = {q: single[q][1] for _, q in questions}
    return out


def measure(cfg: Config) -> Result:
    from benchmarks.common import embedder_for, ensure_index, settings_for
    from trialqa.models import bundled_gguf_path

    if cfg.fakes:
        raise Skipped("serves the real chat and model (no fakes across processes)")
    settings = settings_for()
    index = ensure_index(cfg, "seeds", embedder_for(cfg, settings, "index"), settings).path
    gguf = Path(settings.model) if settings.model else bundled_gguf_path(settings)
    logs = cfg.cache / "load"
    users = 8 if cfg.quick else USERS
    out: Result = {"index": str(index), "users": users, "slots": SLOTS, "cpus": os.cpu_count(),
                   "threads": settings.llm.n_threads or os.cpu_count(),  # both set-ups (TRIALQA_LLM__N_THREADS)
                   "load_avg_at_start": [round(v, 2) for v in os.getloadavg()]}
    log(f"load: in-process model (one model answer at a time), {users} users")
    with chat(index, logs / "chat-in-process.log", {"TRIALQA_BACKEND": "llama"}) as url:
        out["in_process"] = crowd(url, users)
    try:
        with llama_server(gguf, logs / "llama-server.log", SLOTS, settings.llm.n_ctx, settings.llm.n_threads) as base_url:
            log(f"load: llama-server -np {SLOTS} (primed slots), chat concurrency {SLOTS}, {users} users")
            env = {"TRIALQA_BACKEND": "openai", "TRIALQA_BASE_URL": base_url,
                   "TRIALQA_CHAT__CONCURRENCY": str(SLOTS)}
            with chat(index, logs / "chat-llama-server.log", env) as url:
                out["llama_server"] = crowd(url, users)
    except Skipped as exc:
        out["llama_server"] = {"status": "skipped", "reason": str(exc)}
    return _compare(out)


def _compare(out: Result) -> Result:
    a, b = out.get("in_process", {}), out.get("llama_server", {})
    pa, pb = (a.get("answer") or {}).get("p95_s"), (b.get("answer") or {}).get("p95_s")
    if pa and pb:
        out["p95_speedup"] = round(pa / pb, 2)
    texts_a, texts_b = a.pop("single_user_texts", {}), b.pop("single_user_texts", {})
    if texts_a and texts_b:
        out["single_user_same_text"] = {kind: f"{sum(texts_a[q] == texts_b.get(q) for q in qs)}/{len(qs)}"
                                        for kind, qs in (("instant", INSTANT), ("model", MODEL))}
    out["load_avg_at_end"] = [round(v, 2) for v in os.getloadavg()]
    return out


def phase(cfg: Config) -> Result:
    return call(cfg, measure, timeout=PHASE_TIMEOUT_S)
