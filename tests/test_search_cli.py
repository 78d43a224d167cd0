"""`trialqa index` and `trialqa search` through click's CliRunner (HashingEmbedder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_retrieve import tiny_corpus

import trialqa.embed
from trialqa.cli import cli
from trialqa.embed import HashingEmbedder
from trialqa.index_build import build_index
from trialqa.settings import Settings

EMBEDDER = HashingEmbedder()


@pytest.fixture(autouse=True)
def fake_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trialqa.embed, "load_embedder", lambda settings=None, **_: EMBEDDER)


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    out = tmp_path / "tiny"
    build_index(tiny_corpus(), out, EMBEDDER, Settings(), progress=False)
    return out


def test_search_json(index_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["search", "weekly insulin glargine", "--index", str(index_dir), "-k", "3", "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)["hits"]
    assert len(hits) == 3
    assert set(hits[0]) == {"trial_id", "nct_id", "doc_id", "section", "score", "text"}
    assert hits[0]["trial_id"] == "NCT00000002"
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_search_plain_text(index_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["search", "docetaxel", "--index", str(index_dir), "-k", "2"])
    assert result.exit_code == 0
    assert result.output.startswith(" 1. NCT00000003 [")


def test_search_batch_in_order_with_bad_lines(index_dir: Path, tmp_path: Path) -> None:
    batch = tmp_path / "q.jsonl"
    batch.write_text("\n".join([
        json.dumps({"id": "a", "query": "knee exercise"}),
        "{broken",
        json.dumps({"id": "c", "query": ""}),
        json.dumps({"id": 4, "query": "asthma budesonide"}),
    ]) + "\n")
    result = CliRunner().invoke(cli, ["search", "--batch", str(batch), "--index", str(index_dir), "-k", "2"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["id"] for line in lines] == ["a", None, "c", 4]
    assert lines[0]["hits"][0]["trial_id"] == "NCT00000004"
    assert "error" in lines[1] and ":2:" in lines[1]["error"]
    assert "query" in lines[2]["error"]
    assert lines[3]["hits"][0]["trial_id"] == "NCT00000001"


def test_search_missing_index_is_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["search", "x", "--index", str(tmp_path / "none")])
    assert result.exit_code == 3
    assert result.output.count("\n") == 1 and "trialqa index" in result.output


def test_search_needs_query_or_batch(index_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["search", "--index", str(index_dir)])
    assert result.exit_code == 2 and "QUERY or --batch" in result.output


def test_index_command_builds_and_reuses(seeds_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "seeds-index"
    first = CliRunner().invoke(cli, ["index", str(seeds_dir), "--out", str(out), "-q"])
    assert first.exit_code == 0, first.output
    assert "indexed 5 trials" in first.output and (out / "manifest.json").is_file()
    again = CliRunner().invoke(cli, ["index", str(seeds_dir), "--out", str(out), "-q"])
    assert again.exit_code == 0 and " 0 embedded" in again.output
    result = CliRunner().invoke(cli, ["search", "intrauterine adhesion", "--index", str(out), "--json", "-k", "1"])
    assert json.loads(result.output)["hits"][0]["trial_id"] == "NCT04232592"


def test_index_command_missing_path(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["index", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "no such file" in result.output


def test_search_trials_json_and_batch(index_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["search", "weekly insulin glargine for type 2 diabetes", "--index", str(index_dir),
                                      "--trials", "--json", "-k", "3"])
    assert result.exit_code == 0, result.output
    trials = json.loads(result.output)["trials"]
    assert [t["rank"] for t in trials] == [1, 2, 3]
    assert set(trials[0]) == {"rank", "trial_id", "nct_id", "title", "score"}
    assert trials[0]["trial_id"] == "NCT00000002" and len({t["trial_id"] for t in trials}) == 3
    batch = tmp_path / "notes.jsonl"
    batch.write_text(json.dumps({"id": "n1", "query": "A 60-year-old man with knee osteoarthritis and knee pain."}) + "\n"
                     + json.dumps({"id": "n2", "query": " "}) + "\n")
    out = CliRunner().invoke(cli, ["search", "--batch", str(batch), "--index", str(index_dir), "--trials", "--json", "-k", "50"])
    assert out.exit_code == 0, out.output
    first, second = (json.loads(line) for line in out.output.splitlines())
    assert first["id"] == "n1" and first["trials"][0]["trial_id"] == "NCT00000004" and len(first["trials"]) == 4
    assert second["id"] == "n2" and "error" in second


def test_search_trials_plain_text(index_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["search", "docetaxel breast cancer", "--index", str(index_dir), "--trials", "-k", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(" 1. NCT00000003 ") and result.output.count("\n") == 2
