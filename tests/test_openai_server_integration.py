"""The server backend against llama-cpp-python's own server running the bundled GGUF.

Greedy decoding on the same model must give the same text in-process and over HTTP,
so every answer is compared with LlamaGenerator's, piece by piece and through
`trialqa ask` and `trialqa eval`. Both sides must also have served the same requests
before: llama.cpp reuses the previous prompt's cached prefix, and a prefix computed in
other batches can tip a close greedy choice. So the generator tests send the same
sequence to both, and each CLI test gets a fresh server. Servers are always stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from trialqa.generate import LlamaGenerator
from trialqa.generate_openai import OpenAIGenerator
from trialqa.settings import Settings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
THREADS = 2
#: The server loads the GGUF with llama.cpp's defaults (weights repacked) and evaluates each
#: prompt whole, so the in-process side does the same: repacked kernels round differently,
#: and a prefix restored or evaluated apart can tip a close greedy choice.
LLM = {"temperature": 0.0, "n_threads": THREADS, "repack": True}
PROMPTS = [
    [{"role": "user", "content": "In one short sentence: what is a placebo?"}],
    [{"role": "system", "content": "Answer with one word."},
     {"role": "user", "content": "Which organ does a cardiologist treat?"}],
    # repeats: fails if the server's own repeat penalty (1.1 in llama-cpp-python) applies
    [{"role": "user", "content": "Write the word 'trial' five times, separated by spaces, then define a placebo."}],
]
YES_NO = 'root ::= "yes" | "no"'


@contextlib.contextmanager
def _serve(gguf: Path, log: Path) -> Iterator[str]:
    """`python -m llama_cpp.server` on a free port; yields its base URL, stops it on exit."""
    pytest.importorskip("llama_cpp.server.app", reason="llama-cpp-python[server] extras not installed")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", str(Settings().llm.n_ctx), "--n_threads", str(THREADS), "--verbose", "False"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/v1"
        _wait_until_up(proc, url, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def base_url(bundled_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _serve(bundled_gguf, tmp_path_factory.mktemp("server") / "server.log") as url:
        yield url


@pytest.fixture
def fresh_base_url(bundled_gguf: Path, tmp_path: Path) -> Iterator[str]:
    with _serve(bundled_gguf, tmp_path / "server.log") as url:
        yield url


def _wait_until_up(proc: subprocess.Popen, url: str, log: Path, timeout_s: float = 180.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(f"llama_cpp.server did not answer {url}/models within {timeout_s:.0f} s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def local(bundled_gguf: Path) -> LlamaGenerator:
    return LlamaGenerator(bundled_gguf, Settings(llm=LLM))


@pytest.fixture(scope="module")
def remote(base_url: str) -> Iterator[OpenAIGenerator]:
    gen = OpenAIGenerator(Settings(backend="openai", base_url=base_url, llm=LLM))
    yield gen
    gen.close()


def test_server_is_probed_as_llama_cpp_python_with_the_same_tokenizer(local, remote):
    assert remote.server == "llama-cpp-python"
    text = "Phase 2 trial of NCT04232592: intrauterine adhesion (n=30)."
    assert remote.count_tokens(text) == local.count_tokens(text)


@pytest.mark.parametrize("messages", PROMPTS, ids=["placebo", "one-word", "repeats"])
def test_same_text_as_in_process(local, remote, messages):
    want = "".join(local.stream(messages, max_tokens=24))
    got = "".join(remote.stream(messages, max_tokens=24))
    assert want.strip()
    assert got == want


def test_grammar_reaches_the_server(local, remote):
    messages = [{"role": "user", "content": "Is water wet? Answer yes or no."}]
    want = "".join(local.stream(messages, max_tokens=4, grammar=YES_NO))
    assert want in ("yes", "no")
    assert "".join(remote.stream(messages, max_tokens=4, grammar=YES_NO)) == want


def _trialqa(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", "from trialqa.cli import main; main()", *args]
    return subprocess.run(cmd, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One seed index for every CLI run (the first run builds it)."""
    return tmp_path_factory.mktemp("index") / "seeds"


@pytest.fixture
def cli_envs(fresh_base_url: str, index_dir: Path) -> dict[str, dict[str, str]]:
    """Environments for the in-process and the server backend; the server is new, like the process."""
    common = {"TRIALQA_LLM__N_THREADS": str(THREADS), "TRIALQA_LLM__TEMPERATURE": "0",
              "TRIALQA_INDEX": str(index_dir)}
    return {
        "llama": {**common, "TRIALQA_BACKEND": "llama", "TRIALQA_LLM__REPACK": "true",
                  "TRIALQA_LLM__PREFIX_CACHE": "false"},
        "openai": {**common, "TRIALQA_BACKEND": "openai", "TRIALQA_BASE_URL": fresh_base_url},
    }


def test_ask_matches_in_process(cli_envs):
    answers = {}
    for backend, env in cli_envs.items():
        run = _trialqa(["ask", "--json", "Who sponsors the intrauterine adhesion stem cell study?"], env)
        assert run.returncode == 0, f"{backend}: {run.stderr[-1500:]}"
        answers[backend] = json.loads(run.stdout.strip().splitlines()[-1])
    assert answers["llama"]["timings"]["first_token_s"] is not None, "the question never reached the model"
    for out in answers.values():
        del out["timings"]
    assert answers["openai"] == answers["llama"]


def test_eval_slice_matches_in_process(cli_envs, tmp_path):
    results = {}
    for backend, env in cli_envs.items():
        report = tmp_path / f"{backend}.json"
        run = _trialqa(["eval", "evals/gold.jsonl", "--limit", "2", "--json", "--report", str(report)], env)
        assert run.returncode in (0, 1) and report.exists(), f"{backend}: {run.stderr[-1500:]}"
        cases = json.loads(report.read_text())["results"]
        if backend == "llama":
            assert any(c["timings"]["first_token_s"] is not None for c in cases), "no case reached the model"
        results[backend] = [{k: c[k] for k in ("id", "answer", "abstained", "citations", "passed")} for c in cases]
    assert len(results["llama"]) == 2
    assert results["openai"] == results["llama"]
