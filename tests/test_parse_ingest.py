"""`ingest`: directories, duplicates, and every kind of bad input."""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import pytest

from trialqa.errors import BadInput, UnknownFormat
from trialqa.parse import ingest, iter_files, parse_file

BAD = {
    "empty.xml": (b"", "empty file"),
    "blank.txt": (b"  \n\n ", "empty file"),
    "noise.bin": (random.Random(4).randbytes(4096), "binary"),
    "high.bin": (bytes(b | 0x80 for b in random.Random(5).randbytes(4096)), "UTF-8"),
    "controls.bin": (bytes(1 + b % 31 for b in random.Random(6).randbytes(4096)), "binary"),
    "truncated.xml": (b"<clinical_study>\n  <id_info><nct_id>NCT01234567</nct_id></id_info>\n  <brief_title>", "XML"),
    "latin1.txt": ("ClinicalTrials.Veeva\n\nMenu\n\nEssai caf\u00e9\n".encode("latin-1"), "UTF-8"),
    "notes.txt": (b"Shopping list\n- eggs\n- milk\n", "unknown format"),
    "other.xml": (b"<?xml version='1.0'?><rss><channel/></rss>", "clinical_study"),
    "other.json": (b'{"name": "not a trial"}', "neither"),
    "truncated.json": (b'{"protocolSection": {"identificationModule": {"nctId": "NCT0', "JSON"),
}


@pytest.fixture
def mixed_dir(tmp_path: Path, seeds_dir: Path) -> Path:
    """Two good seed pages (one in a sub-directory) and one file of each bad kind."""
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    shutil.copy(next(seeds_dir.glob("002_*.txt")), root / "002.txt")
    shutil.copy(next(seeds_dir.glob("003_*.txt")), root / "sub" / "003.txt")
    for name, (data, _) in BAD.items():
        (root / name).write_bytes(data)
    (root / ".hidden").write_bytes(b"\x00\x01")
    return root


@pytest.mark.parametrize("name", sorted(BAD))
def test_parse_file_names_file_and_reason(tmp_path: Path, name: str) -> None:
    data, reason = BAD[name]
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(BadInput) as info:
        parse_file(path)
    message = str(info.value)
    assert str(path) in message and re.search(reason, message) and "\n" not in message


def test_unknown_format_is_its_own_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\n", encoding="utf-8")
    with pytest.raises(UnknownFormat):
        parse_file(path)


def test_ingest_skips_bad_files_and_keeps_good_ones(mixed_dir: Path) -> None:
    seen: list[str] = []
    result = ingest([mixed_dir], on_warning=seen.append)
    assert [t.trial_id for t in result.trials] == ["NCT03765957", "NCT05106972"]
    assert result.ingested == 2 and result.skipped == len(BAD)
    assert seen == result.warnings and len(seen) == len(BAD)
    for name in BAD:
        assert sum(str(mixed_dir / name) in w for w in seen) == 1, name
    assert not any(".hidden" in w for w in seen)


def test_iter_files_is_sorted_and_recursive(mixed_dir: Path) -> None:
    files = list(iter_files([mixed_dir]))
    assert files == sorted(files) and mixed_dir / "sub" / "003.txt" in files
    assert all(not p.name.startswith(".") for p in files)


def test_duplicate_nct_ids_become_one_record_with_a_warning(tmp_path: Path, seeds_dir: Path) -> None:
    source = next(seeds_dir.glob("002_*.txt"))
    for name in ("a_copy.txt", "NCT03765957.txt", "z_copy.txt"):
        shutil.copy(source, tmp_path / name)
    result = ingest([tmp_path])
    (trial,) = result.trials
    assert trial.doc_id == "NCT03765957"  # the file named after the trial wins
    assert result.duplicates == 2 and result.skipped == 0 and len(result.warnings) == 2
    first = result.warnings[0]
    assert str(tmp_path / "a_copy.txt") in first and str(tmp_path / "NCT03765957.txt") in first


def test_shared_json_duplicate(shared_dir: Path) -> None:
    folder = shared_dir / "corpus" / "ctgov-api-v2"
    result = ingest([folder])
    ids = [t.trial_id for t in result.trials]
    assert len(ids) == len(set(ids)) == 15 and result.duplicates == 1
    (warning,) = result.warnings
    assert "NCT02552212" in warning and "NCT02278341.json" in warning and "NCT02552212.json" in warning
    kept = next(t for t in result.trials if t.trial_id == "NCT02552212")
    assert kept.doc_id == "NCT02552212"


def test_pages_without_nct_are_never_merged(tmp_path: Path, seeds_dir: Path) -> None:
    source = next(seeds_dir.glob("000_*.txt"))
    (tmp_path / "x").mkdir()
    shutil.copy(source, tmp_path / "page.txt")
    shutil.copy(source, tmp_path / "x" / "page.txt")
    result = ingest([tmp_path])
    assert [t.trial_id for t in result.trials] == ["page", "page"] and not result.warnings


def test_missing_path_is_a_warning(tmp_path: Path) -> None:
    result = ingest([tmp_path / "nope.xml"])
    assert result.skipped == 1 and "nope.xml" in result.warnings[0] and not result.trials


def test_a_parser_bug_skips_only_that_file(tmp_path: Path, seeds_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trialqa.parse import batch

    for prefix in ("002", "003"):
        shutil.copy(next(seeds_dir.glob(f"{prefix}_*.txt")), tmp_path / f"{prefix}.txt")
    real = batch.parse_records

    def flaky(path: Path) -> list:  # type: ignore[type-arg]
        if path.name == "002.txt":
            raise KeyError("boom")
        return real(path)

    monkeypatch.setattr(batch, "parse_records", flaky)
    result = ingest([tmp_path])
    assert [t.trial_id for t in result.trials] == ["NCT05106972"] and result.skipped == 1
    assert "002.txt" in result.warnings[0] and "KeyError" in result.warnings[0]


def test_two_workers_give_the_same_result(mixed_dir: Path, seeds_dir: Path) -> None:
    shutil.copy(next(seeds_dir.glob("002_*.txt")), mixed_dir / "sub" / "NCT03765957.txt")  # a duplicate too
    one, two = ingest([mixed_dir]), ingest([mixed_dir], workers=2)
    assert [t.model_dump() for t in two.trials] == [t.model_dump() for t in one.trials]
    assert (two.warnings, two.skipped, two.duplicates) == (one.warnings, one.skipped, one.duplicates)
    assert two.skipped == len(BAD) and two.duplicates == 1


def test_a_file_whose_worker_died_is_parsed_here(tmp_path: Path, seeds_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from trialqa.parse import batch

    for prefix in ("002", "003"):
        shutil.copy(next(seeds_dir.glob(f"{prefix}_*.txt")), tmp_path / f"{prefix}.txt")
    real, parent = batch.parse_records, os.getpid()

    def dies_in_a_worker(path: Path) -> list:  # type: ignore[type-arg]
        if os.getpid() != parent and path.name == "002.txt":
            os._exit(9)
        return real(path)

    monkeypatch.setattr(batch, "parse_records", dies_in_a_worker)
    result = ingest([tmp_path], workers=2)
    assert [t.trial_id for t in result.trials] == ["NCT03765957", "NCT05106972"] and not result.warnings
