"""The browser chat: a Gradio app over one shared `Assistant`.

    run(index_dir, model, host, port)      load the assistant, build the app, serve it
    build_app(assistant) -> gr.Blocks      the page and the "/chat" API endpoint
    serve(app, host, port)                 launch with the safety settings (no files served)

Rendering is plain functions of `Answer` (testable without a browser). Every piece of
text that comes from the model, a trial page or the user is passed through
`html.escape` before it is put into HTML; the only markup on the page is ours.
Each session keeps its own history (`gr.State`), so conversations never mix; one
queue with a concurrency limit guards the single model instance.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trialqa.errors import TrialQAError
from trialqa.types import Answer, Citation, Turn

log = logging.getLogger(__name__)

TITLE = "trialqa"
REGISTRY_URL = "https://clinicaltrials.gov/study/"
EXAMPLES = [
    "What is the enrollment of NCT05106972?",
    "Who is sponsoring the psoriasis stem cell study?",
    "Which trials dose per kg intravenously?",
    "What ages can join NCT03765957?",
]
PENDING = "Searching the indexed trials\u2026"
BUSY = ("The assistant is busy answering other questions. Please wait a moment and send "
        "your question again; it is back in the box below.")
CONCURRENCY_ID = "assistant"
SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"]  # no web fonts:
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "monospace"]  # the page stays offline
LABEL_RE = re.compile(r"\[([^\[\]\n]+?) \u00b7 ([^\[\]\n]+?)\]")
NCT_RE = re.compile(r"NCT\d{8}")

CSS = """
.tq-header h1 { margin: 0; font-size: 1.6rem; }
.tq-header p { margin: 2px 0 0; color: var(--body-text-color-subdued); }
.tq-q, .tq-answer { line-height: 1.6; }
.tq-answer ul { margin: 4px 0 4px 1.2em; padding: 0; }
.tq-chip, .tq-cite > summary {
  display: inline-block; margin: 0 2px; padding: 0 8px; border-radius: 999px;
  font-size: 0.78em; line-height: 1.7; white-space: nowrap; vertical-align: 1px;
  background: var(--color-accent-soft); color: var(--color-accent);
  border: 1px solid var(--color-accent); }
.tq-cite { display: inline-block; max-width: 100%; vertical-align: top; }
.tq-cite > summary { cursor: pointer; list-style: none; }
.tq-cite > summary::-webkit-details-marker { display: none; }
.tq-cite > summary::marker { content: ""; }
.tq-cite[open] > summary { background: var(--color-accent); color: white; }
.tq-card { display: block; margin: 6px 0 10px; padding: 10px 12px; border-radius: 8px;
  border: 1px solid var(--border-color-primary); border-left: 4px solid var(--color-accent);
  background: var(--background-fill-secondary); font-size: 0.92em; white-space: normal; }
.tq-card-title { display: block; font-weight: 600; }
.tq-card-meta { display: block; color: var(--body-text-color-subdued); margin: 2px 0 4px; }
.tq-answer .tq-card blockquote { margin: 4px 0 0; padding: 2px 0 2px 10px;
  border-left: 2px solid var(--border-color-primary); font-style: italic; }
.tq-abstain { border: 1px dashed #d97706; background: rgba(245, 158, 11, 0.08);
  border-radius: 8px; padding: 8px 12px; }
.tq-abstain-head { font-weight: 600; color: #b45309; margin-bottom: 2px; }
.tq-error { border: 1px solid #dc2626; background: rgba(220, 38, 38, 0.07);
  border-radius: 8px; padding: 8px 12px; }
.tq-busy { border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary);
  border-radius: 8px; padding: 8px 12px; }
.tq-meta, .tq-note { color: var(--body-text-color-subdued); font-size: 0.8em; margin-top: 6px; }
.tq-pending { color: var(--body-text-color-subdued); font-style: italic; }
#tq-chat button.example { border: 1px solid var(--border-color-primary); border-radius: 10px;
  background: var(--background-fill-secondary); }
#tq-chat button.example:hover { border-color: var(--color-accent); }
.tq-footer { color: var(--body-text-color-subdued); font-size: 0.82em; text-align: center; }
"""


# ------------------------------------------------------------------ rendering (pure)


def esc(text: str) -> str:
    """HTML-escape text, keeping line breaks as <br> (no raw newline reaches the markdown)."""
    return "<br>".join(html.escape(line, quote=True) for line in str(text).split("\n"))


def registry_url(nct_id: str | None) -> str | None:
    """The public registry page of a well-formed NCT number, else None."""
    return REGISTRY_URL + nct_id if nct_id and NCT_RE.fullmatch(nct_id) else None


def _card(ident: str, section: str, cites: list[Citation]) -> str:
    first = cites[0]
    url = registry_url(first.nct_id)
    link = (f'<a href="{url}" target="_blank" rel="noopener noreferrer">{esc(ident)}</a>'
            if url else esc(ident))
    title = f'<div class="tq-card-title">{esc(first.title)}</div>' if first.title else ""
    quotes = "".join(f"<blockquote>\u201c{esc(c.quote)}\u201d</blockquote>" for c in cites)
    return (f'<span class="tq-card">{title}<span class="tq-card-meta">{link} \u00b7 '
            f'{esc(section)}</span>{quotes}</span>')


def _with_chips(text: str, citations: list[Citation] | None) -> str:
    """Escape `text`, turning each '[ID · Section]' label into a chip; with citations the
    chip is a <details> that opens the cited section."""
    by_label: dict[tuple[str, str], list[Citation]] = {}
    for c in citations or []:
        by_label.setdefault((c.nct_id or c.doc_id, c.section), []).append(c)
    out, pos = [], 0
    for m in LABEL_RE.finditer(text):
        out.append(esc(text[pos:m.start()]))
        ident, section = m.group(1).strip(), m.group(2).strip()
        cites = by_label.get((ident, section))
        chip = esc(f"{ident} \u00b7 {section}")
        if cites:
            out.append(f'<details class="tq-cite"><summary>{chip}</summary>'
                       f"{_card(ident, section, cites)}</details>")
        else:
            out.append(f'<span class="tq-chip">{chip}</span>')
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def _body(text: str, citations: list[Citation] | None) -> str:
    """Lines of the answer; consecutive '- ' lines become a list."""
    parts, items = [], []
    for line in text.split("\n"):
        if line.startswith("- "):
            items.append(f"<li>{_with_chips(line[2:], citations)}</li>")
            continue
        if items:
            parts.append(f"<ul>{''.join(items)}</ul>")
            items = []
        parts.append(f"<div>{_with_chips(line, citations)}</div>")
    if items:
        parts.append(f"<ul>{''.join(items)}</ul>")
    return "".join(parts)


def render_partial(text: str) -> str:
    """The answer while it streams: escaped text, labels as (inert) chips."""
    return f'<div class="tq-answer">{_body(text, None) if text else esc(PENDING)}</div>'


def render_answer(answer: Answer) -> str:
    """The finished answer: clickable citation chips, or a visibly different abstention."""
    body = _body(answer.text, answer.citations)
    if answer.abstained:
        body = ('<div class="tq-abstain"><div class="tq-abstain-head">No answer in the indexed '
                f"trials</div>{body}</div>")
    notes = "".join(f'<div class="tq-note">note: {esc(n)}</div>' for n in answer.notes)
    t = answer.timings
    meta = (f'<div class="tq-meta">first words {t.first_token_s or 0:.1f} s \u00b7 '
            f"answered in {t.total_s:.1f} s</div>")
    return f'<div class="tq-answer">{body}{notes}{meta}</div>'


def render_notice(message: str, kind: str = "error") -> str:
    """A one-line message in place of an answer: kind 'error' or 'busy'."""
    return f'<div class="tq-answer tq-{kind}">{esc(message)}</div>'


def render_question(question: str) -> str:
    return f'<div class="tq-q">{esc(question)}</div>'


def answer_text(answer: Answer) -> str:
    """Plain text for API callers: the answer with inline labels, then its sources."""
    lines = [answer.text]
    if answer.citations:
        lines += ["", "Sources:"]
        for i, c in enumerate(answer.citations, 1):
            head = f"[{i}] {c.nct_id or c.doc_id} \u00b7 {c.section}"
            lines.append(f"{head} \u2014 {c.title}" if c.title else head)
            lines.append(f"    \u201c{c.quote}\u201d")
            if url := registry_url(c.nct_id):
                lines.append(f"    {url}")
    return "\n".join(lines)


def model_label(assistant: Any) -> str:
    """The model's name without loading it."""
    return str(assistant.model_label)


def footer_html(assistant: Any) -> str:
    """Names the index and the model, from the index manifest and the settings."""
    index = assistant.index
    m = index.manifest
    counts = m.counts
    return (
        f'<div class="tq-footer">Index <b>{esc(Path(index.path).name)}</b> '
        f"({counts.get('trials', 0):,} trials \u00b7 {counts.get('chunks', 0):,} chunks \u00b7 "
        f"embedder {esc(m.embedder_id)}) \u00b7 Model <b>{esc(model_label(assistant))}</b> \u00b7 "
        "answers come only from the indexed trial records; open a source to check it.</div>"
    )


# ------------------------------------------------------------------ session logic


def _bot(content: str) -> dict[str, str]:
    return {"role": "assistant", "content": content}


def _failure(exc: Exception) -> str:
    if isinstance(exc, TrialQAError):
        return str(exc)
    log.exception("chat turn failed")
    return f"Something went wrong on our side ({type(exc).__name__}); please try again."


def accept(message: str | None, chat: list[dict]) -> tuple[str, list[dict], list[dict], str]:
    """Instant step: show the question and a placeholder, clear the box.
    Returns (textbox, chatbot, chat state, pending question)."""
    question = (message or "").strip()
    if not question:
        return message or "", chat, chat, ""
    chat = [*chat, {"role": "user", "content": render_question(question)}, _bot(render_partial(""))]
    return "", chat, chat, question


def answer_turn(assistant: Any, question: str, chat: list[dict], turns: list[Turn]
                ) -> Iterator[tuple[list[dict], list[dict], list[Turn]]]:
    """Queued step: stream the answer into the last bubble; extend this session's history.
    Yields (chatbot, chat state, turns)."""
    if not question:
        yield chat, chat, turns
        return
    text = ""
    try:
        for event in assistant.stream(question, turns):
            if isinstance(event, Answer):
                chat = [*chat[:-1], _bot(render_answer(event))]
                turns = [*turns, Turn(role="user", content=question),
                         Turn(role="assistant", content=event.text, trials=event.trials)]
            else:
                text += event
                chat = [*chat[:-1], _bot(render_partial(text))]
            yield chat, chat, turns
    except Exception as exc:  # one line to the user, never a traceback
        chat = [*chat[:-1], _bot(render_notice(_failure(exc)))]
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
                turns = [*turns, Turn(role="user", content=message),
                         Turn(role="assistant", content=event.text, trials=event.trials)]
                yield answer_text(event), turns
            else:
                text += event
                yield text, turns
    except Exception as exc:
        import gradio as gr

        raise gr.Error(_failure(exc), print_exception=False) from None


# ------------------------------------------------------------------ the app


def build_app(assistant: Any, *, concurrency_limit: int = 1, max_queue: int = 16):
    """The chat page and the "/chat" API, sharing one queue in front of `assistant`."""
    import gradio as gr

    with gr.Blocks(title=TITLE, fill_height=True, analytics_enabled=False) as app:
        chat_state = gr.State([])
        turns = gr.State([])
        pending = gr.State("")
        gr.HTML(f'<div class="tq-header"><h1>{TITLE}</h1><p>Cited answers from clinical-trial '
                "records, offline. Click a source chip to read the cited section.</p></div>")
        chatbot = gr.Chatbot(
            label="trialqa", show_label=False, elem_id="tq-chat", scale=1, height="68vh",
            examples=[{"text": q} for q in EXAMPLES], latex_delimiters=[], allow_tags=False,
            sanitize_html=True, feedback_options=None, buttons=["copy"],
            placeholder="**Ask about the indexed clinical trials.** Answers cite the trial and "
                        "section they come from.",
        )
        with gr.Row():
            box = gr.Textbox(placeholder="Ask about the indexed trials\u2026", show_label=False,
                             scale=8, max_lines=6, max_length=4000, autofocus=True,
                             submit_btn="Ask", elem_id="tq-box")
            new = gr.Button("New conversation", scale=0, min_width=210, variant="secondary",
                            elem_id="tq-new")
        gr.HTML(footer_html(assistant))

        def answer(question, chat, history):
            yield from answer_turn(assistant, question, chat, history)

        def take(message, chat):
            text, shown, state, question = accept(message, chat)
            return gr.update(value=text, interactive=not question), shown, state, question

        def take_example(chat, evt):
            value = evt.value
            return take(value.get("text", "") if isinstance(value, dict) else str(value), chat)

        take_example.__annotations__["evt"] = gr.SelectData  # how gradio injects the event

        def give_back(question, chat):
            shown, state, text = busy(question, chat)
            return shown, state, gr.update(value=text, interactive=True)

        def chain(first):
            job = first.then(answer, [pending, chat_state, turns], [chatbot, chat_state, turns],
                             concurrency_id=CONCURRENCY_ID, concurrency_limit=concurrency_limit,
                             api_visibility="private", show_progress="minimal")
            job.success(lambda: gr.update(interactive=True), None, box, queue=False,
                        api_visibility="private")
            job.failure(give_back, [pending, chat_state], [chatbot, chat_state, box], queue=False,
                        api_visibility="private")
            return job

        shown = [box, chatbot, chat_state, pending]
        jobs = [chain(box.submit(take, [box, chat_state], shown, queue=False,
                                 api_visibility="private")),
                chain(chatbot.example_select(take_example, [chat_state], shown, queue=False,
                                             api_visibility="private"))]

        def reset():
            return [], [], [], "", gr.update(value="", interactive=True)

        everything = [chatbot, chat_state, turns, pending, box]
        new.click(reset, None, everything, queue=False, cancels=jobs, api_visibility="private")
        chatbot.clear(reset, None, everything, queue=False, cancels=jobs, api_visibility="private")

        def chat(message, history):
            yield from api_chat(assistant, message, history)

        api_in = gr.Textbox(visible=False)
        api_out = gr.Textbox(label="answer", visible=False)
        api_btn = gr.Button(visible=False)
        api_btn.click(chat, [api_in, turns], [api_out, turns], api_name="chat",
                      concurrency_id=CONCURRENCY_ID, concurrency_limit=concurrency_limit,
                      api_description="Ask one question (follow-ups use this session's "
                                      "history); returns the answer text with its sources.")
    app.queue(max_size=max_queue, default_concurrency_limit=concurrency_limit)
    return app


def serve(app: Any, host: str = "127.0.0.1", port: int = 7860, *, prevent_thread_lock: bool = False,
          quiet: bool = False):
    """Launch `app`: no share link, no file outside the app served, no uploads, no SSR."""
    import gradio as gr

    return app.launch(
        server_name=host, server_port=port, share=False, inbrowser=False,
        allowed_paths=[], blocked_paths=[], max_file_size=1, show_error=False,
        ssr_mode=False, pwa=False, mcp_server=False, footer_links=["api"],
        prevent_thread_lock=prevent_thread_lock, quiet=quiet,
        theme=gr.themes.Soft(primary_hue="blue", font=SYSTEM_FONTS, font_mono=MONO_FONTS), css=CSS,
    )


def run(index_dir: Path | None = None, model: Path | None = None, host: str = "127.0.0.1",
        port: int = 7860) -> None:
    """Load the assistant (and the model, so the first question does not wait), then serve."""
    from trialqa.settings import set_offline

    set_offline()
    from trialqa.assistant import Assistant

    assistant = Assistant.from_settings(index_dir, model)
    assistant.generator  # noqa: B018 - load the model now, not on the first question
    try:
        serve(build_app(assistant), host, port)
    except OSError as exc:
        from trialqa.errors import ConfigError

        raise ConfigError(f"cannot serve on {host}:{port} ({exc}): pick another --port "
                          "or set GRADIO_SERVER_PORT") from exc
