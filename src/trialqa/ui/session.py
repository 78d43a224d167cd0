"""Session logic, free of Gradio: one user's chat, history and answered views.

    accept(message, chat)                         instant step: show the question, clear the box
    run_turn(assistant, question, chat, turns, views, plan=None)
                                                  queued step: stream, then the finished view
    act(assistant, payload, chat, views)          sort / page / open a trial / CSV / export
    reask(payload, chat, views)                   a plan chip removed: the edited plan to answer
    busy(question, chat), api_chat(assistant, message, turns)

The chat list holds the rendered bubbles; `views[i].at` is the bubble of answer i.
"""

from __future__ import annotations

import inspect
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trialqa.answer.plan import Plan
from trialqa.errors import BadInput, TrialQAError
from trialqa.types import Answer, SourcesReady, Turn
from trialqa.ui.notes import looks_like_note, note_answer
from trialqa.ui.panel import conversation_markdown, open_trial
from trialqa.ui.render import answer_text, render_notice, render_partial, render_question
from trialqa.ui.tables import View, drop_from_plan, pages, render_view, table_csv

log = logging.getLogger(__name__)

UPDATE_EVERY_S = 0.15
BUSY = ("The assistant is busy answering other questions. Please wait a moment and send "
        "your question again; it is back in the box below.")


@dataclass
class Outcome:
    """What a quick action changes: the chat, the views, the trial panel, a download."""

    chat: list[dict]
    views: list[View]
    panel: str | None = None  # None: leave the panel as it is
    download: str = ""  # JSON {name, type, text} for the page to save, or ""


def _bot(content: str) -> dict[str, str]:
    return {"role": "assistant", "content": content}


def failure(exc: Exception) -> str:
    if isinstance(exc, TrialQAError):
        return str(exc)
    log.exception("chat turn failed")
    return f"Something went wrong on our side ({type(exc).__name__}); please try again."


def _assistant_turn(answer: Answer) -> Turn:
    """The history entry of an answer: its text, trials and plan (follow-ups refine it)."""
    return Turn(role="assistant", content=answer.text, trials=answer.trials, plan=answer.plan)


def accept(message: str | None, chat: list[dict]) -> tuple[str, list[dict], list[dict], str]:
    """Instant step: show the question and a placeholder, clear the box.
    Returns (textbox, chatbot, chat state, pending question)."""
    question = (message or "").strip()
    if not question:
        return message or "", chat, chat, ""
    chat = [*chat, {"role": "user", "content": render_question(question)}, _bot(render_partial(""))]
    return "", chat, chat, question


def _stream(assistant: Any, question: str, turns: list[Turn], plan: Plan | None) -> Iterator[Any]:
    if plan is not None:
        if "plan" not in inspect.signature(assistant.stream).parameters:
            raise BadInput("this assistant cannot answer an edited plan yet; ask the question again "
                           "without that condition")
        yield from assistant.stream(question, turns, plan=plan)
    elif looks_like_note(question):
        yield note_answer(assistant, question)
    else:
        yield from assistant.stream(question, turns)


def run_turn(assistant: Any, question: str, chat: list[dict], turns: list[Turn],
             views: list[View], plan: Plan | None = None, *, every: float = UPDATE_EVERY_S
             ) -> Iterator[tuple[list[dict], list[Turn], list[View]]]:
    """Stream the answer into the last bubble, then render the finished view (plan chips,
    table) and extend this session's history. Yields (chat, turns, views): the first text
    at once, then at most one partial update per `every` seconds (each update re-renders
    the bubble in the browser; a computed answer arrives in hundreds of pieces)."""
    if not question:
        yield chat, turns, views
        return
    text, sources, last, held = "", [], 0.0, False
    try:
        for event in _stream(assistant, question, turns, plan):
            if not isinstance(event, Answer):
                if isinstance(event, SourcesReady):
                    sources = list(event.citations)
                else:
                    text += event
                now = time.perf_counter()
                if last and now - last < every:
                    held = True
                    continue
                last, held = now, False
                chat = [*chat[:-1], _bot(render_partial(text, sources))]
                yield chat, turns, views
                continue
            view = View(question=question, answer=event, at=len(chat) - 1, streamed=text)
            views = [*views, view]
            chat = [*chat[:-1], _bot(render_view(view, len(views) - 1))]
            turns = [*turns, Turn(role="user", content=question), _assistant_turn(event)]
            held = False
            yield chat, turns, views
        if held:  # a stream that ended without an Answer: show what it said
            yield [*chat[:-1], _bot(render_partial(text, sources))], turns, views
    except Exception as exc:  # one line to the user, never a traceback
        chat = [*chat[:-1], _bot(render_notice(failure(exc)))]
        yield chat, turns, views


def answer_turn(assistant: Any, question: str, chat: list[dict], turns: list[Turn], *,
                every: float = UPDATE_EVERY_S) -> Iterator[tuple[list[dict], list[dict], list[Turn]]]:
    """`run_turn` without views. Yields (chatbot, chat state, turns)."""
    for chat, turns, _ in run_turn(assistant, question, chat, turns, [], every=every):
        yield chat, chat, turns


def busy(question: str, chat: list[dict]) -> tuple[list[dict], list[dict], str]:
    """After a failed queued step (e.g. a full queue): say so politely, give the question back."""
    if not question:
        return chat, chat, ""
    chat = [*chat[:-1], _bot(render_notice(BUSY, "busy"))]
    return chat, chat, question


def api_chat(assistant: Any, message: str, turns: list[Turn]) -> Iterator[tuple[str, list[Turn]]]:
    """The "/chat" endpoint: streams the answer text, ends with the text and its sources.
    Each API session keeps its own history, so follow-ups work there too."""
    text = ""
    try:
        for event in assistant.stream(message or "", turns):
            if isinstance(event, Answer):
                turns = [*turns, Turn(role="user", content=message), _assistant_turn(event)]
                yield answer_text(event), turns
            elif isinstance(event, str):
                text += event
                yield text, turns
    except Exception as exc:
        import gradio as gr

        raise gr.Error(failure(exc), print_exception=False) from None


# ------------------------------------------------------------------ actions on answers


def parse_action(payload: str) -> tuple[str, int, str]:
    """('sort' | 'page' | 'trial' | 'csv' | 'drop' | 'export', view number, argument)."""
    try:
        data = json.loads(payload or "{}")
        return str(data.get("a", "")), int(data.get("v", -1)), str(data.get("x", ""))
    except (ValueError, TypeError, AttributeError) as exc:
        raise BadInput("unreadable page action") from exc


def _rerender(chat: list[dict], views: list[View], i: int, view: View) -> tuple[list[dict], list[View]]:
    views = [*views[:i], view, *views[i + 1:]]
    if 0 <= view.at < len(chat):
        chat = [*chat[:view.at], _bot(render_view(view, i)), *chat[view.at + 1:]]
    return chat, views


def _download(name: str, kind: str, text: str) -> str:
    return json.dumps({"name": name, "type": kind, "text": text})


def act(assistant: Any, payload: str, chat: list[dict], views: list[View]) -> Outcome:
    """A quick action on an answered view (no model call). Unknown or stale actions
    change nothing."""
    kind, i, arg = parse_action(payload)
    if kind == "export":
        index = assistant.index
        md = conversation_markdown(views, Path(index.path).name, index.manifest.counts.get("trials", 0))
        return Outcome(chat, views, download=_download("trialqa-conversation.md", "text/markdown", md))
    if not 0 <= i < len(views):
        return Outcome(chat, views)
    view = views[i]
    if kind == "sort":
        desc = not view.desc if view.sort == arg else False
        view = view.model_copy(update={"sort": arg or None, "desc": desc, "page": 0})
    elif kind == "page" and view.answer.table is not None:
        try:
            page = int(arg)
        except ValueError:
            return Outcome(chat, views)
        view = view.model_copy(update={"page": min(max(page, 0), pages(view.answer.table) - 1)})
    elif kind == "trial":
        return Outcome(chat, views, panel=open_trial(assistant, view, arg))
    elif kind == "csv" and view.answer.table is not None:
        name = f"trialqa-answer-{i + 1}.csv"
        return Outcome(chat, views, download=_download(name, "text/csv", table_csv(view.answer)))
    else:
        return Outcome(chat, views)
    chat, views = _rerender(chat, views, i, view)
    return Outcome(chat, views)


def reask(payload: str, chat: list[dict], views: list[View]
          ) -> tuple[list[dict], str, Plan | None]:
    """A removed plan chip: show the re-asked question and a placeholder.
    Returns (chat, pending question, plan to answer); ('', None) when there is nothing to do."""
    kind, i, arg = parse_action(payload)
    if kind != "drop" or not 0 <= i < len(views) or views[i].answer.plan is None:
        return chat, "", None
    try:
        plan, label = drop_from_plan(views[i].answer.plan, arg)
    except (KeyError, ValueError):
        return chat, "", None
    shown = f"{plan.question} \u2014 without \u201c{label}\u201d"
    chat = [*chat, {"role": "user", "content": render_question(shown)}, _bot(render_partial(""))]
    return chat, plan.question, plan
