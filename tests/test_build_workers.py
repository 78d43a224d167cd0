"""Index build with a worker process: the same files as a one-process build, the worker's
errors raised as one-line messages, a killed worker's part redone."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_retrieve import make_trial, tiny_corpus

import trialqa.index_build as index_build
from trialqa.embed import HashingEmbedder
from trialqa.errors import BadInput
from trialqa.index_build import build_index
from trialqa.settings import Settings
from trialqa.store import load_index
from trialqa.workers import Beside, build_processes

EMBEDDER = HashingEmbedder()
needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")


def files(index: Path) -> dict[str, dict]:
    return json.loads((index / "manifest.json").read_text())["files"]


@needs_fork
def test_two_processes_write_the_same_files_as_one(tmp_path: Path) -> None:
    one = build_index(tiny_corpus(), tmp_path / "one", EMBEDDER, Settings(index_workers=1), progress=False)
    two = build_index(tiny_corpus(), tmp_path / "two", EMBEDDER, Settings(index_workers=2), progress=False)
    assert files(tmp_path / "one") == files(tmp_path / "two")
    assert one.counts == two.counts and set(one.build) == set(two.build) == {"chunk_s", "embed_s", "write_s"}
    assert len(load_index(tmp_path / "two", EMBEDDER, Settings()).db.column("SELECT nct_id FROM studies")) == 4


@needs_fork
def test_an_error_in_the_worker_is_raised_here_and_the_old_index_stays(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "ix"
    build_index(tiny_corpus(), out, EMBEDDER, Settings(index_workers=2), progress=False)
    before = files(out)
    parent = os.getpid()

    def fails(path: Path, trials: object) -> None:
        assert os.getpid() != parent, "the database is written by the worker"
        raise BadInput("cannot write trials.db: disk full")

    monkeypatch.setattr(index_build, "write_database", fails)
    with pytest.raises(BadInput, match="^cannot write trials.db: disk full$"):
        build_index(tiny_corpus()[:2], out, EMBEDDER, Settings(index_workers=2), progress=False)
    assert files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ix"]  # no temp dirs left behind


@needs_fork
def test_a_killed_worker_has_its_part_redone_here(tmp_path: Path, monkeypatch) -> None:
    real, parent = index_build.write_database, os.getpid()

    def dies_in_the_worker(path: Path, trials: object) -> None:
        if os.getpid() != parent:
            os._exit(9)
        real(path, trials)

    monkeypatch.setattr(index_build, "write_database", dies_in_the_worker)
    build_index(tiny_corpus(), tmp_path / "ix", EMBEDDER, Settings(index_workers=2), progress=False)
    build_index(tiny_corpus(), tmp_path / "one", EMBEDDER, Settings(index_workers=1), progress=False)
    assert files(tmp_path / "ix") == files(tmp_path / "one")


@needs_fork
def test_a_worker_chunks_the_second_half_into_the_same_chunks(tmp_path: Path) -> None:
    words = "eligible adults with asthma or diabetes receive the study drug daily for twelve weeks".split()
    trials = [
        make_trial(f"NCT{i:08d}", f"Trial {i}", {
            "Summary": " ".join(words[(i + j) % len(words)] for j in range(20 + i % 400)),
            "Eligibility": "\n".join(f"- criterion {k}: " + " ".join(words[: 3 + (i * k) % 12]) for k in range(i % 30)),
        })
        for i in range(250)
    ]
    one = index_build._chunk_with_progress(trials, EMBEDDER, 64, None, parallel=False)
    two = index_build._chunk_with_progress(trials, EMBEDDER, 64, None, parallel=True)
    assert len(one) > 2 * len(trials) and two == one


def test_serial_when_not_parallel() -> None:
    done: list[int] = []
    side = Beside(lambda: done.append(os.getpid()), parallel=False)
    assert not side.forked and done == []
    side.wait()
    assert done == [os.getpid()]


def test_process_count_follows_the_setting_or_the_cpus() -> None:
    assert build_processes(1) == 1 and build_processes(3) == 3
    assert 1 <= build_processes(0) <= (os.cpu_count() or 1)
