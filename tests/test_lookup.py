"""Prompt-lookup decoding: the draft proposer and stop handling (fast), and, on the bundled
model, the same text as llama-cpp-python's own greedy decoding (integration)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialqa import prompts
from trialqa.lookup import StopText, longest_prefix, propose


def test_propose_copies_what_followed_the_latest_earlier_occurrence():
    seq = [5, 6, 7, 8, 9, 1, 6, 7, 2, 3, 4, 6, 7]
    assert propose(seq, 3) == [2, 3, 4]             # the later "6 7" wins
    assert propose(seq, 1) == [2]
    assert propose([1, 2, 3, 4], 5) == []            # the tail never appeared before
    assert propose(seq, 0) == []
    assert propose([9, 1, 2, 3, 8, 8, 1, 2, 3], 4, max_ngram=3) == [8, 8, 1, 2]


def test_propose_needs_two_tokens_of_context_by_default():
    assert propose([4, 5, 1, 5], 2) == []            # only "5" matches: too weak a cue
    assert propose([4, 5, 1, 5], 2, min_ngram=1) == [1, 5]


def test_stop_text_holds_back_a_possible_stop_and_cuts_at_it():
    out = StopText(["\nQuestion:"])
    assert out.feed(b"Yes [S1].") == "Yes [S1]."
    assert out.feed(b"\nQues") == ""                 # might be the stop string: held
    assert out.feed(b"tion: next") == ""
    assert out.stopped and out.flush() == ""


def test_stop_text_releases_held_text_that_was_not_a_stop_and_waits_for_split_characters():
    out = StopText(["\nQuestion:"])
    assert out.feed(b"a\nQu") == "a"
    assert out.feed(b"ite") == "\nQuite"
    assert out.feed("é".encode()[:1]) == ""           # half a character
    assert out.feed("é".encode()[1:]) == "é"
    assert out.flush() == "" and not out.stopped


def test_longest_prefix():
    assert longest_prefix([1, 2, 3], [1, 2, 4, 5]) == 2
    assert longest_prefix([], [1]) == 0


SOURCES = ("NCT00000003:\n[S1] Interventions: Drug Y 5 mg/kg is given intravenously every 3 weeks for "
           "up to 6 cycles.\n[S2] Eligibility: Adults aged 18 to 75 years with measurable disease.")
QUESTIONS = ["How is drug Y given?", "Who can take part?", "How long is treatment with drug Y?"]


@pytest.mark.integration
def test_lookup_decoding_gives_llama_cpp_greedy_text(bundled_gguf: Path):
    from trialqa.generate import LlamaGenerator
    from trialqa.settings import Settings

    plain = LlamaGenerator(bundled_gguf, Settings(llm={"lookup_draft": 0}))
    for question in QUESTIONS:  # greedy one token at a time equals create_chat_completion
        messages = prompts.answer_messages(SOURCES, question)
        ours = "".join(plain.stream(messages, max_tokens=48, stop=["\nQuestion:"]))
        theirs = "".join(part["choices"][0]["delta"].get("content") or "" for part in plain._llm.create_chat_completion(
            messages=messages, max_tokens=48, temperature=0.0, stream=True, stop=["\nQuestion:"]))
        assert ours == theirs and ours.strip()
    del plain
    drafted = LlamaGenerator(bundled_gguf, Settings(llm={"lookup_draft": 8}))
    reference = LlamaGenerator(bundled_gguf, Settings(llm={"lookup_draft": 0}))
    for question in QUESTIONS:  # and drafting changes nothing but the speed
        messages = prompts.answer_messages(SOURCES, question)
        assert "".join(drafted.stream(messages, max_tokens=48)) == "".join(reference.stream(messages, max_tokens=48))
