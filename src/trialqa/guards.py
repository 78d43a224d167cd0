"""Guards on what goes in and what comes out: questions are cleaned, page sentences that
try to steer the assistant never reach the model, and model answers that name unknown
trials, repeat the instructions or say what their sources do not are not shown.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from trialqa import prompts
from trialqa.prompts import TEMPLATE_TOKEN_RE
from trialqa.errors import BadInput
from trialqa.query import words
from trialqa.types import Citation

MAX_QUESTION_CHARS = 4000
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Sentences that address the reader or the assistant: data pages state facts.
STEERING_RE = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|sources?|rules?|prompts?|above|previous|context)\b"
    r"|\b(assistant|chatbot|language model|AI model|LLM)\b|\bsystem prompt\b"
    r"|\byou (must|should|are required to|will) (now )?(answer|say|reply|respond|cite|tell|state|print|email|send)\b"
    r"|\b(always|only) (answer|reply|respond|cite)\b|\bnew instructions?\b",
    re.IGNORECASE,
)
LINK_RE = re.compile(r"https?://|www\.|\b[\w.+-]+@[\w-]+\.[\w.]+\b")
#: Citation-label-shaped text; only code writes labels, so any other is forged.
LABEL_RE = re.compile(r"\[[^\[\]]*\u00b7[^\[\]]*\]|\[\s*NCT\d{8}[^\]]*\]")
STOP_FOR_GROUNDING = frozenset(
    "with from that this they their there these those have been were will would which what when where "
    "about into also only than then them such each other more most some very does given gives using used "
    "participants patients trial study studies subjects according sources source answer".split()
)


def clean_question(question: str) -> tuple[str, list[str]]:
    """Strip control characters, chat-template tokens and excess whitespace; cut very long
    questions (with a note). Raises BadInput for empty or non-UTF-8 text."""
    if not isinstance(question, str):
        raise BadInput("question must be a string")
    try:
        question.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadInput(f"question is not valid UTF-8 text (character {exc.start})") from None
    text = " ".join(CONTROL_RE.sub(" ", TEMPLATE_TOKEN_RE.sub(" ", question)).split())
    if not text:
        raise BadInput("question is empty: ask something about the indexed trials")
    notes = []
    if len(text) > MAX_QUESTION_CHARS:
        text = text[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0]
        notes.append(f"question trimmed to its first {MAX_QUESTION_CHARS} characters")
    return text, notes


def steering(text: str, section: str) -> bool:
    """A sentence that instructs the reader or the assistant, or sends them elsewhere."""
    if STEERING_RE.search(text) or TEMPLATE_TOKEN_RE.search(text) or LABEL_RE.search(text):
        return True
    return bool(LINK_RE.search(text)) and not section.startswith(("Contacts", "Locations"))


def strip_labels(text: str) -> str:
    return LABEL_RE.sub("", text).strip()


def ungrounded(text: str, question: str, cites: list[Citation], known: Collection[str]) -> str | None:
    """Why a model answer cannot be shown, or None: it names a trial outside the index,
    repeats the instructions, or says things that neither its sources nor the question contain."""
    for nct in re.findall(r"NCT\d{8}", text):
        if nct not in known:
            return "the model named a trial that is not indexed."
    said = " ".join(text.lower().split())
    if any(line in said for line in prompts.prompt_leak_lines()):
        return "that request is about the assistant, not the indexed trials."
    if not cites:
        return None
    support = set(words(" ".join(c.quote for c in cites) + " " + question))
    claimed = [w for w in words(strip_labels(text)) if (len(w) > 3 or w.isdigit()) and w not in STOP_FOR_GROUNDING]
    unsupported = [w for w in claimed if w not in support and not any(
        w.startswith(x[:5]) or x.startswith(w[:5]) for x in support if len(x) > 4)]
    if claimed and len(unsupported) > max(2, 0.5 * len(claimed)):
        return "the model's answer is not supported by the cited sections."
    return None
