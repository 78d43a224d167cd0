"""Work beside the main process during an index build: a forked child process.

A child made by fork starts with the parent's memory, so what it works on (6,786 trials)
is not copied through a pipe: only its outcome comes back (its result, or the exception
it raised, re-raised here so the CLI prints the same one-line message). Without fork (not
Linux or macOS) or with one CPU, the work runs in this process when its result is asked for.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    """Whether child processes can start as forks of this one (Linux, macOS)."""
    return "fork" in mp.get_all_start_methods()


def build_processes(setting: int) -> int:
    """Processes an index build uses: `setting` (`Settings.index_workers`), 0 = one per usable CPU."""
    return setting if setting > 0 else usable_cpus()


class Beside(Generic[T]):
    """`work()` run in a forked child process while the caller goes on; `wait()` returns
    what it returned (sent back through a pipe) and raises what it raised. Serial (run
    inside `wait()`) when `parallel` is false or the platform cannot fork. A child that dies
    without reporting (killed, out of memory) has its work redone in this process, so
    nothing is lost but time."""

    def __init__(self, work: Callable[[], T], parallel: bool) -> None:
        self._work = work
        self._process: Any = None
        if parallel and can_fork():
            context = mp.get_context("fork")
            self._outcome, child_end = context.Pipe(duplex=False)
            self._process = context.Process(target=_report, args=(work, child_end), daemon=True)
            self._process.start()
            child_end.close()

    @property
    def forked(self) -> bool:
        return self._process is not None

    def wait(self) -> T:
        if self._process is None:
            return self._work()
        try:
            ok, value = self._outcome.recv()
        except EOFError:  # died without a word
            ok, value = None, None
        except BaseException:  # interrupted while waiting
            self.cancel()
            raise
        self._process.join()
        self._outcome.close()
        self._process = None
        if ok is None:
            return self._work()
        if not ok:
            raise value
        return value

    def cancel(self) -> None:
        """Stop the child if it still runs (the build failed or was interrupted)."""
        if self._process is not None:
            self._process.terminate()
            self._process.join()
            self._outcome.close()
            self._process = None


def _report(work: Callable[[], Any], conn: Any) -> None:
    """In the child: run `work` and send back (True, its result) or (False, its exception)."""
    try:
        conn.send((True, work()))
    except BaseException as exc:  # KeyboardInterrupt too: the parent re-raises it
        try:
            conn.send((False, exc))
        except Exception:  # an exception that cannot cross the pipe: its one-line text can
            conn.send((False, RuntimeError(f"{type(exc).__name__}: {' '.join(str(exc).split())}")))
    finally:
        conn.close()
