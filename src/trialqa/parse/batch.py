"""Ingest many files: walk directories, parse each file, skip bad ones, merge duplicates."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from trialqa.errors import BadInput
from trialqa.parse.reader import parse_records
from trialqa.types import Trial


@dataclass
class IngestResult:
    """What `ingest` read: trials (one per NCT id, first-seen order) and what it skipped."""

    trials: list[Trial] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: int = 0
    duplicates: int = 0

    @property
    def ingested(self) -> int:
        return len(self.trials)


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named in `paths`, directories walked recursively in sorted order.

    Hidden files and directories (names starting with ".") inside a directory are left out;
    a path that does not exist is yielded as is, so that parsing reports it.
    """
    for path in map(Path, paths):
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path).parts
                if child.is_file() and not any(part.startswith(".") for part in rel):
                    yield child
        else:
            yield path


def _prefer(kept: Trial, new: Trial) -> bool:
    """A duplicate replaces the kept record only when its file is named after its NCT id."""
    return new.doc_id == new.nct_id and kept.doc_id != kept.nct_id


def ingest(paths: Iterable[Path], on_warning: Callable[[str], None] | None = None) -> IngestResult:
    """Parse every file under `paths`; bad files become warnings, good ones trials.

    The same NCT id from two files gives one record (the file named after the id wins,
    else the first) and a warning naming both files.
    """
    result = IngestResult()
    index: dict[str, int] = {}

    def warn(message: str) -> None:
        result.warnings.append(message)
        if on_warning is not None:
            on_warning(message)

    for path in iter_files(paths):
        try:
            records = parse_records(path)
        except BadInput as exc:
            result.skipped += 1
            warn(f"skipped {exc}")
            continue
        except Exception as exc:  # a parser bug must not lose the rest of the batch
            result.skipped += 1
            warn(f"skipped {path}: parser error {type(exc).__name__}: {' '.join(str(exc).split())} (please report)")
            continue
        for trial in records:
            key = trial.trial_id if trial.nct_id else f"{trial.trial_id}\0{trial.source.path}"
            if key not in index:
                index[key] = len(result.trials)
                result.trials.append(trial)
                continue
            kept = result.trials[index[key]]
            result.duplicates += 1
            winner = trial if _prefer(kept, trial) else kept
            if winner is trial:
                result.trials[index[key]] = trial
            warn(
                f"duplicate {trial.trial_id} in {kept.source.path} and {trial.source.path}; "
                f"kept {winner.source.path}"
            )
    return result
