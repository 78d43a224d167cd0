"""Helpers shared by the CLI commands: error mapping and JSON output."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from trialqa.errors import TrialQAError

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 1) -> None:
    click.echo(f"trialqa: error: {' '.join(str(message).split())}", err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Map the exception tree to a one-line message and exit code; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TrialQAError as exc:
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except BrokenPipeError:
            sys.exit(0)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:  # a bug: still one line, traceback only on request
            if os.environ.get("TRIALQA_DEBUG"):
                raise
            fail(f"internal error: {type(exc).__name__}: {exc} (set TRIALQA_DEBUG=1 for details)", 70)

    return wrapper  # type: ignore[return-value]


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False))
