"""`trialqa match NOTE.txt` and `match_note` over a tiny index (HashingEmbedder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_retrieve import tiny_corpus

import trialqa.embed
from trialqa.answer.eligibility.match import match_note
from trialqa.cli import cli
from trialqa.embed import HashingEmbedder
from trialqa.index_build import build_index
from trialqa.settings import Settings
from trialqa.store import load_index

EMBEDDER = HashingEmbedder()
NOTE = ("A 34-year-old woman with type 2 diabetes on metformin, poorly controlled, who is pregnant at 12 weeks. "
        "She asks about once weekly insulin glargine dosing for glycaemic control.")


@pytest.fixture(autouse=True)
def fake_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trialqa.embed, "load_embedder", lambda settings=None, **_: EMBEDDER)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("idx") / "tiny"
    build_index(tiny_corpus(), out, EMBEDDER, Settings(), progress=False)
    return out


def test_match_note_library(index_dir: Path) -> None:
    index = load_index(index_dir, EMBEDDER, Settings())
    rows = match_note(index, EMBEDDER, NOTE, 2)
    assert len(rows) == 2 and rows[0].trial_id == "NCT00000002"
    assert rows[0].verdict == "excluded"
    assert [s.text for s in rows[0].result.deciding] == ["Pregnancy"]
    assert rows[0].result.deciding[0].section == "Eligibility: Exclusion"


def test_match_cli_json(index_dir: Path, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text(NOTE)
    result = CliRunner().invoke(cli, ["match", str(note), "--index", str(index_dir), "-k", "3", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["person"]["age"] == 34 and out["person"]["sex"] == "Female"
    assert [r["rank"] for r in out["rows"]] == [1, 2, 3]
    top = out["rows"][0]
    assert top["nct_id"] == "NCT00000002" and top["verdict"] == "excluded"
    assert top["deciding"] == [{"section": "Eligibility: Exclusion", "quote": "Pregnancy"}]
    assert top["text"].startswith("Excluded by")


def test_match_cli_table(index_dir: Path, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text(NOTE)
    result = CliRunner().invoke(cli, ["match", str(note), "--index", str(index_dir), "-k", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Patient: 34 years, female")
    assert " 1. NCT00000002  EXCLUDED" in result.output
    assert "[NCT00000002 · Eligibility: Exclusion] \u201cPregnancy\u201d" in result.output


@pytest.mark.parametrize(("content", "message"), [(None, "no such note file"), ("   \n", "the note is empty")])
def test_match_cli_bad_input_is_one_line(index_dir: Path, tmp_path: Path, content: str | None, message: str) -> None:
    note = tmp_path / "note.txt"
    if content is not None:
        note.write_text(content)
    result = CliRunner().invoke(cli, ["match", str(note), "--index", str(index_dir)])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_match_has_help() -> None:
    result = CliRunner().invoke(cli, ["match", "--help"])
    assert result.exit_code == 0 and "deciding criteria" in result.output
