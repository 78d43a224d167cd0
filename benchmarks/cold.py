"""Phase `cold`: `trialqa ask` as a person runs it from a shell, whole command, wall clock:
an instant answer (computed from the fields) and a model-written one, each in a new
process; then the same commands while `trialqa serve` keeps an assistant warm.

Each command runs once untimed first (page cache, the prefix state file), then `repeats`
times. The peak RSS is the largest of the child processes'.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import Config, Result, Skipped, call, embedder_for, ensure_index, log, runs, settings_for, stop

INSTANT = "What is the enrollment of NCT05106972?"
MODEL = "According to the HBV cirrhosis trial NCT01728727, what are the problems with liver transplantation?"


def trialqa_command() -> list[str]:
    script = Path(sys.executable).with_name("trialqa")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from trialqa.cli import main; main()"]


def _time(args: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[-3:])} exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
    return seconds


def _series(cfg: Config, args: list[str], env: dict[str, str]) -> Result:
    _time(args, env)  # untimed: page cache, the prefix state file
    return runs([_time(args, env) for _ in range(cfg.repeats)])


def _wait_for(sock: Path, server: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"trialqa serve exited {server.returncode}: {server.stderr.read()[-300:] if server.stderr else ''}")
        if sock.exists():
            return
        time.sleep(0.2)
    raise RuntimeError(f"trialqa serve did not open {sock} in {timeout:.0f} s")


def measure(cfg: Config) -> Result:
    if cfg.fakes:
        raise Skipped("times the real `trialqa ask` (no fakes in a new process)")
    settings = settings_for()
    index = ensure_index(cfg, "seeds", embedder_for(cfg, settings, "index"), settings).path
    cmd = trialqa_command()
    env = {**os.environ, "TRIALQA_SERVE_SOCKET": str(cfg.cache / "no-server.sock")}
    out: Result = {"index": str(index)}
    for name, question in (("instant", INSTANT), ("model", MODEL)):
        log(f"cold: `trialqa ask` {name} answer, {cfg.repeats} runs")
        out[name] = {"question": question, **_series(cfg, [*cmd, "ask", "--index", str(index), question], env)}
    out.update(_served(cfg, cmd, index))
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    return out


def _served(cfg: Config, cmd: list[str], index: Path) -> Result:
    """The same commands with `trialqa serve` running (a socket of its own under the cache)."""
    sock = cfg.cache / "bench-serve.sock"
    sock.unlink(missing_ok=True)
    env = {**os.environ, "TRIALQA_SERVE_SOCKET": str(sock)}
    started = time.perf_counter()
    server = subprocess.Popen([*cmd, "serve", "--index", str(index)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(sock, server)
        out: Result = {"serve_ready_s": round(time.perf_counter() - started, 2)}
        for name, question in (("served_instant", INSTANT), ("served_model", MODEL)):
            log(f"cold: `trialqa ask` {name}, {cfg.repeats} runs")
            out[name] = {"question": question, **_series(cfg, [*cmd, "ask", "--index", str(index), question], env)}
        return out
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        return {"served": {"status": "error", "reason": str(exc)}}
    finally:
        stop(server, timeout=30)
        sock.unlink(missing_ok=True)


def phase(cfg: Config) -> Result:
    result = call(cfg, measure)
    if "instant" in result and "served_instant" in result:
        result["serve_saves_s"] = {k: round(result[k]["median_s"] - result[f"served_{k}"]["median_s"], 3)
                                   for k in ("instant", "model")}
    return result
