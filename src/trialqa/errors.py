"""One exception tree for trialqa; the CLI and UI map it to one-line messages.

    TrialQAError
     ├── BadInput            a question, file or batch line that cannot be used
     │    └── UnknownFormat  a file whose format no parser recognises
     ├── ConfigError         settings that contradict each other
     ├── IndexError_         base for on-disk index problems
     │    ├── IndexNotFound  no index at the given directory
     │    ├── IndexMismatch  built with other settings, embedder or version
     │    └── IndexCorrupt   a truncated, missing or altered index file
     ├── ModelUnavailable    the GGUF or embedder cannot be found or is corrupt
     └── GenerationError     the generator backend failed (server down, garbage reply)

Every message is one line that names the file, field or setting and, where
there is one, the command that fixes it.
"""

from __future__ import annotations


class TrialQAError(Exception):
    """Base of every error trialqa raises on purpose."""

    exit_code = 1

    def __str__(self) -> str:  # always one line
        return " ".join(super().__str__().split())


class BadInput(TrialQAError):
    exit_code = 2


class UnknownFormat(BadInput):
    pass


class ConfigError(TrialQAError):
    exit_code = 2


class IndexError_(TrialQAError):  # noqa: N801 - avoid shadowing builtins.IndexError
    exit_code = 3


class IndexNotFound(IndexError_):
    pass


class IndexMismatch(IndexError_):
    pass


class IndexCorrupt(IndexError_):
    pass


class ModelUnavailable(TrialQAError):
    exit_code = 4


class GenerationError(TrialQAError):
    exit_code = 5
