"""Prompts are files in prompts/, loaded by name, their placeholders checked at load."""

from __future__ import annotations

import re
import string
from functools import lru_cache
from pathlib import Path

from trialqa.errors import ConfigError

#: The placeholders each prompt must use, no more and no fewer.
REQUIRED: dict[str, set[str]] = {
    "system": set(),
    "example_question": set(),
    "example_answer": set(),
    "answer": {"sources", "question"},
}


def prompts_dir() -> Path:
    here = Path(__file__).resolve()
    for base in (here.parents[2], Path.cwd()):
        if (base / "prompts" / "system.txt").is_file():
            return base / "prompts"
    raise ConfigError(f"prompts directory not found next to {here.parents[2]}: reinstall trialqa")


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@lru_cache(maxsize=None)
def load(name: str) -> str:
    path = prompts_dir() / f"{name}.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"prompt file {path} cannot be read: {exc.strerror}") from exc
    found, want = placeholders(text), REQUIRED.get(name, set())
    if found != want:
        raise ConfigError(
            f"prompt {path} has placeholders {sorted(found)}, expected {sorted(want)}"
        )
    return text.strip()


def render(name: str, **values: str) -> str:
    return load(name).format(**values)


#: Chat-template control tokens (<|im_start|>, </s>, [INST]); text from users or pages never carries them to the model.
TEMPLATE_TOKEN_RE = re.compile(r"<\|[^|<>]{1,40}\|>|</?s>|\[/?INST\]")
LEAK_MIN_CHARS = 30


def prompt_leak_lines() -> list[str]:
    """The distinctive lines of the system prompt, whitespace-normalised and lowercased;
    an answer that contains one is repeating the instructions."""
    lines = (" ".join(line.lstrip("- ").split()).lower() for line in load("system").splitlines())
    return [line for line in lines if len(line) >= LEAK_MIN_CHARS]


def answer_messages(sources: str, question: str) -> list[dict[str, str]]:
    """Chat messages for an answer: a fixed prefix (system + one worked example, reused
    from llama.cpp's prompt cache across questions), then the sources and the question."""
    return [
        {"role": "system", "content": load("system")},
        {"role": "user", "content": load("example_question")},
        {"role": "assistant", "content": load("example_answer")},
        {"role": "user", "content": TEMPLATE_TOKEN_RE.sub(" ", render("answer", sources=sources, question=question))},
    ]
