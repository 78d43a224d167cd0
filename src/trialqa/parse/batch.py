"""Ingest many files: walk directories, parse each file, skip bad ones, merge duplicates.

With `workers` > 1 (and fork), files are parsed by that many forked processes, a few files
ahead of the one being merged; the outcome (trials, warnings, their order) is the same.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from trialqa.errors import BadInput
from trialqa.parse.reader import parse_records
from trialqa.types import Trial
from trialqa.workers import can_fork


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


def ingest(paths: Iterable[Path], on_warning: Callable[[str], None] | None = None, workers: int = 1) -> IngestResult:
    """Parse every file under `paths` (in `workers` processes); bad files become warnings, good ones trials.

    The same NCT id from two files gives one record (the file named after the id wins,
    else the first) and a warning naming both files.
    """
    result = IngestResult()
    index: dict[str, int] = {}

    def warn(message: str) -> None:
        result.warnings.append(message)
        if on_warning is not None:
            on_warning(message)

    for records in _parsed(iter_files(paths), workers):
        if isinstance(records, str):
            result.skipped += 1
            warn(records)
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


def _parse_one(path: Path) -> list[Trial] | str:
    """The records of one file, or the warning that skips it."""
    try:
        return parse_records(path)
    except BadInput as exc:
        return f"skipped {exc}"
    except Exception as exc:  # a parser bug must not lose the rest of the batch
        return f"skipped {path}: parser error {type(exc).__name__}: {' '.join(str(exc).split())} (please report)"


def _parsed(files: Iterator[Path], workers: int) -> Iterator[list[Trial] | str]:
    """`_parse_one` of each file, in order; with `workers` > 1 in forked processes that stay
    a few files ahead (a caller's progress over `files` still means parsed). A file whose
    worker died (killed) is parsed here."""
    if workers <= 1 or not can_fork():
        yield from map(_parse_one, files)
        return
    import multiprocessing as mp
    from concurrent.futures import Future, ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("fork"))
    pending: deque[tuple[Path, Future | None]] = deque()

    def oldest() -> list[Trial] | str:
        path, future = pending.popleft()
        try:
            return _parse_one(path) if future is None else future.result()
        except BrokenProcessPool:
            return _parse_one(path)

    try:
        for path in files:
            try:
                pending.append((path, pool.submit(_parse_one, path)))
            except BrokenProcessPool:
                pending.append((path, None))
            if len(pending) >= 8 * workers:
                yield oldest()
        while pending:
            yield oldest()
    finally:
        pool.shutdown(cancel_futures=True)
