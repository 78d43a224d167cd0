"""The real llama.cpp generator: the fixed prompt prefix kept as a state file and restored."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from trialqa import prompts

pytestmark = pytest.mark.integration

SOURCES = "NCT00000003:\n[S1] Interventions: Drug Y 5 mg/kg is given intravenously every 3 weeks."
QUESTION = "How is drug Y given?"


def _answer(gen) -> str:
    return "".join(gen.stream(prompts.answer_messages(SOURCES, QUESTION), max_tokens=24))


def test_prefix_state_is_saved_privately_restored_and_answers_the_same(bundled_gguf: Path, tmp_path: Path):
    from trialqa.generate import LlamaGenerator

    prefix = prompts.answer_messages("", "")
    first = LlamaGenerator(bundled_gguf)
    assert first.prime(prefix, tmp_path) == "evaluated"
    files = list(tmp_path.glob("prefix-*.state"))
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    expected = _answer(first)
    del first

    second = LlamaGenerator(bundled_gguf)  # a new context, as in a new process
    assert second.prime(prefix, tmp_path) == "restored"
    assert _answer(second) == expected

    files[0].write_bytes(files[0].read_bytes()[:4096])  # a damaged file is evaluated again
    assert second.prime(prefix, tmp_path) == "evaluated"
    assert _answer(second) == expected
    assert second.prime(prefix, tmp_path) == "restored"  # and rewritten whole
