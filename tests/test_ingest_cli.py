"""`trialqa ingest` through click's CliRunner: JSON lines, warnings, summary, --strict."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from trialqa.cli import cli
from trialqa.cli.ingest import _summary
from trialqa.parse import IngestResult, parse_file

RECORD_KEYS = {"trial_id", "nct_id", "doc_id", "title", "source", "sections", "fields"}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def mixed_dir(tmp_path: Path, seeds_dir: Path) -> Path:
    shutil.copy(next(seeds_dir.glob("004_*.txt")), tmp_path / "004.txt")
    (tmp_path / "empty.xml").write_bytes(b"")
    (tmp_path / "cut.xml").write_bytes(b"<clinical_study><brief_title>Cut")
    return tmp_path


def test_json_lines_match_the_record_shape(runner: CliRunner, seeds_dir: Path) -> None:
    result = runner.invoke(cli, ["ingest", "--json", str(seeds_dir)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 5
    for record in records:
        assert set(record) == RECORD_KEYS
        assert set(record["source"]) == {"path", "format"}
        assert all(set(s) == {"name", "heading", "text"} for s in record["sections"])
    by_id = {r["trial_id"]: r for r in records}
    assert by_id["NCT03765957"]["fields"]["enrollment"] == 12
    assert by_id["NCT01728727"]["source"]["format"] == "ctgov-page"
    no_nct = next(r for r in records if r["nct_id"] is None)
    assert no_nct["trial_id"] == no_nct["doc_id"] and no_nct["doc_id"].startswith("000_")
    assert parse_file(Path(by_id["NCT05106972"]["source"]["path"])).model_dump(mode="json") == by_id["NCT05106972"]
    assert "ingested 5, skipped 0" in result.stderr


def test_bad_files_warn_on_stderr_and_good_ones_still_print(runner: CliRunner, mixed_dir: Path) -> None:
    result = runner.invoke(cli, ["ingest", "--json", str(mixed_dir)])
    assert result.exit_code == 0
    assert [json.loads(line)["trial_id"] for line in result.stdout.splitlines()] == ["NCT01728727"]
    warnings = [line for line in result.stderr.splitlines() if line.startswith("trialqa: warning:")]
    assert len(warnings) == 2
    assert any(str(mixed_dir / "empty.xml") in w and "empty file" in w for w in warnings)
    assert any(str(mixed_dir / "cut.xml") in w and "XML" in w for w in warnings)
    assert result.stderr.splitlines()[-1] == "ingested 1, skipped 2"
    assert "Traceback" not in result.output + result.stderr


def test_strict_exits_non_zero_when_anything_is_skipped(runner: CliRunner, mixed_dir: Path, seeds_dir: Path) -> None:
    result = runner.invoke(cli, ["ingest", "--json", "--strict", str(mixed_dir)])
    assert result.exit_code != 0
    error = result.stderr.splitlines()[-1]
    assert error.startswith("trialqa: error:") and "2 file(s) skipped" in error
    assert "Traceback" not in result.stderr
    clean = runner.invoke(cli, ["ingest", "--strict", "--json", str(seeds_dir)])
    assert clean.exit_code == 0


def test_human_table(runner: CliRunner, seeds_dir: Path) -> None:
    result = runner.invoke(cli, ["ingest", str(seeds_dir)])
    assert result.exit_code == 0
    for trial_id in ("NCT04232592", "NCT03765957", "NCT05106972", "NCT01728727"):
        assert trial_id in result.stdout
    assert "{" not in result.stdout


def test_missing_path_and_empty_directory(runner: CliRunner, tmp_path: Path) -> None:
    missing = runner.invoke(cli, ["ingest", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "Traceback" not in missing.output
    empty = runner.invoke(cli, ["ingest", str(tmp_path)])
    assert empty.exit_code != 0 and "no files found" in empty.stderr


def test_help_and_summary_format(runner: CliRunner, seeds_dir: Path) -> None:
    assert "--strict" in runner.invoke(cli, ["ingest", "--help"]).output
    trial = parse_file(next(seeds_dir.glob("002_*.txt")))
    assert _summary(IngestResult(trials=[trial] * 1998, skipped=2)) == "ingested 1,998, skipped 2"
