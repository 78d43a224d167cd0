"""Guards on what goes in and what comes out: questions are cleaned, page sentences that
try to steer the assistant never reach the model, and model answers that name unknown
trials or repeat the instructions are not shown (what model answers claim is checked
sentence by sentence in trialqa.answer.verify).
"""

from __future__ import annotations

import re

from trialqa.prompts import TEMPLATE_TOKEN_RE
from trialqa.errors import BadInput

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


def abbreviated(term: str, question: str, texts: list[str]) -> bool:
    """True when the question's phrase starting with `term` (two or three words) has initials
    that one of `texts` (the retrieved text) writes as a capitalised abbreviation ("prothrombin time" -> "PT")."""
    tokens = re.findall(r"[A-Za-z][A-Za-z'-]*", question)
    starts = [i for i, w in enumerate(tokens) if w.lower() == term.lower()]
    for i in starts:
        for n in (2, 3):
            if i + n > len(tokens):
                break
            acronym = "".join(w[0] for w in tokens[i: i + n]).upper()
            pattern = re.compile(rf"\b{acronym}s?\b")
            if any(pattern.search(text) for text in texts):
                return True
    return False
