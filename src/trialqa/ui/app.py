"""The Gradio page over a shared `Assistant` (one per index, see indexes.Library).

Each session keeps its own chat, history and answered views (`gr.State`), so
conversations never mix; one queue with a limit on the questions worked on at once. The model
itself admits as many answers as it has slots (one in-process), so answers computed from the
records never wait behind model-written ones.
Clicks inside answers (plan chips, sort headers, pager, NCT ids, CSV) reach Python
through two hidden buttons (style.BRIDGE_JS); every such event is private (the only
public API is "/chat").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trialqa.ui import session
from trialqa.ui.indexes import Library
from trialqa.ui.panel import PANEL_EMPTY
from trialqa.ui.render import footer_html, render_notice
from trialqa.ui.style import AFTER_ACTION_JS, BRIDGE_JS, CSS, TAKE_ACTION_JS

TITLE = "trialqa"
EXAMPLES = [
    "What is the enrollment of NCT05106972?",
    "Who is sponsoring the psoriasis stem cell study?",
    "Which trials dose per kg intravenously?",
    "What ages can join NCT03765957?",
]
CONCURRENCY_ID = "assistant"
SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "monospace"]
PRIVATE = {"api_visibility": "private"}
LOGIN_MESSAGE = "Sign in with the name and password your trialqa administrator gave you."


def build_app(assistant: Any, *, concurrency_limit: int = 1, max_queue: int = 16,
              indexes_dir: Path | None = None, library: Library | None = None):
    """The chat page and the "/chat" API, sharing one queue in front of the assistant(s).
    `indexes_dir` is where the index picker looks (default: beside the assistant's index)."""
    import gradio as gr

    library = library or Library(assistant, indexes_dir)
    queued = {"concurrency_id": CONCURRENCY_ID, "concurrency_limit": concurrency_limit, **PRIVATE}

    with gr.Blocks(title=TITLE, fill_height=True, analytics_enabled=False) as app:
        chat_state, turns, views = gr.State([]), gr.State([]), gr.State([])
        pending, pending_plan, index_name = gr.State(""), gr.State(None), gr.State(library.default)
        gr.HTML(f'<div class="tq-header"><h1>{TITLE}</h1><p>Cited answers from clinical-trial '
                "records, offline. Click a source chip to read the cited section, an NCT id to "
                "open the record, a \u00d7 on the question as understood to answer without it."
                "</p></div>")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="trialqa", show_label=False, elem_id="tq-chat", scale=1, height="66vh",
                    examples=[{"text": q} for q in EXAMPLES], latex_delimiters=[], allow_tags=False,
                    sanitize_html=True, feedback_options=None, buttons=["copy"],
                    placeholder="**Ask about the indexed clinical trials.** Answers cite the trial "
                                "and section they come from. Paste a patient note to rank trials.",
                )
                with gr.Row():
                    box = gr.Textbox(placeholder="Ask about the indexed trials, or paste a patient "
                                     "note\u2026", show_label=False, scale=8, max_lines=8,
                                     max_length=8000, autofocus=True, submit_btn="Ask", elem_id="tq-box")
                    new = gr.Button("New conversation", scale=0, min_width=210, variant="secondary",
                                    elem_id="tq-new")
                with gr.Row():
                    picker = gr.Dropdown(choices=library.choices(), value=library.default,
                                         label="Index", elem_id="tq-index", scale=3,
                                         interactive=True, filterable=False)
                    export = gr.Button("Export conversation (Markdown)", scale=1,
                                       variant="secondary", elem_id="tq-export")
            with gr.Column(scale=2, elem_id="tq-side", visible=False) as side:
                close = gr.Button("Close the record", size="sm", elem_id="tq-close")
                panel = gr.HTML(PANEL_EMPTY, elem_id="tq-panel")
        footer = gr.HTML(footer_html(assistant), elem_id="tq-footer")
        with gr.Row(elem_classes=["tq-hidden"]):
            action_box = gr.Textbox(elem_id="tq-action", container=False)
            download = gr.Textbox(elem_id="tq-download", container=False)
            act_btn = gr.Button("act", elem_id="tq-act")
            reask_btn = gr.Button("reask", elem_id="tq-reask")

        def answer(question, chat, history, answered, plan, name):
            try:
                current = library.get(name)
            except Exception as exc:  # noqa: BLE001 - one line to the user
                chat = [*chat[:-1], {"role": "assistant", "content": render_notice(session.failure(exc))}]
                yield chat, chat, history, answered
                return
            for chat, history, answered in session.run_turn(current, question, chat, history,
                                                            answered, plan):
                yield chat, chat, history, answered

        def take(message, chat):
            text, shown, state, question = session.accept(message, chat)
            return gr.update(value=text, interactive=not question), shown, state, question, None

        def take_example(chat, evt):
            value = evt.value
            return take(value.get("text", "") if isinstance(value, dict) else str(value), chat)

        take_example.__annotations__["evt"] = gr.SelectData  # how gradio injects the event

        def give_back(question, chat):
            shown, state, text = session.busy(question, chat)
            return shown, state, gr.update(value=text, interactive=True)

        def chain(first):
            job = first.then(answer, [pending, chat_state, turns, views, pending_plan, index_name],
                             [chatbot, chat_state, turns, views], show_progress="minimal", **queued)
            job.success(lambda: gr.update(interactive=True), None, box, queue=False, **PRIVATE)
            job.failure(give_back, [pending, chat_state], [chatbot, chat_state, box], queue=False,
                        **PRIVATE)
            return job

        shown = [box, chatbot, chat_state, pending, pending_plan]
        jobs = [chain(box.submit(take, [box, chat_state], shown, queue=False, **PRIVATE)),
                chain(chatbot.example_select(take_example, [chat_state], shown, queue=False,
                                             **PRIVATE))]

        def do_reask(payload, chat, answered):
            chat, question, plan = session.reask(payload, chat, answered)
            return chat, chat, question, plan, gr.update(interactive=not question)

        reask_inputs = [action_box, chat_state, views]
        jobs.append(chain(reask_btn.click(
            do_reask, reask_inputs, [chatbot, chat_state, pending, pending_plan, box],
            js=TAKE_ACTION_JS % len(reask_inputs), queue=False, show_progress="hidden", **PRIVATE)))

        def do_act(payload, chat, answered, name):
            out = session.act(library.get(name), payload, chat, answered)
            side_update = gr.update(visible=True) if out.panel is not None else gr.update()
            panel_update = out.panel if out.panel is not None else gr.update()
            return out.chat, out.chat, out.views, panel_update, side_update, out.download

        act_inputs = [action_box, chat_state, views, index_name]
        act_outputs = [chatbot, chat_state, views, panel, side, download]
        act_btn.click(do_act, act_inputs, act_outputs, js=TAKE_ACTION_JS % len(act_inputs),
                      queue=False, show_progress="hidden", **PRIVATE
                      ).then(None, [download], None, js=AFTER_ACTION_JS, queue=False, **PRIVATE)
        export.click(lambda c, a, n: do_act('{"a": "export"}', c, a, n), act_inputs[1:], act_outputs,
                     queue=False, show_progress="hidden", **PRIVATE
                     ).then(None, [download], None, js=AFTER_ACTION_JS, queue=False, **PRIVATE)
        close.click(lambda: gr.update(visible=False), None, side, queue=False, **PRIVATE)

        def switch(name, chat):
            try:
                current = library.get(name)
            except Exception as exc:  # noqa: BLE001 - one line to the user, keep the old index
                chat = [*chat, {"role": "assistant", "content": render_notice(session.failure(exc))}]
                return chat, chat, gr.update(), gr.update(), gr.update(value=None)
            counts = current.index.manifest.counts
            note = render_notice(f"Now answering from the index {name} ({counts.get('trials', 0):,} "
                                 "trials); follow-ups start afresh.", "info")
            chat = [*chat, {"role": "assistant", "content": note}]
            return chat, chat, [], footer_html(current), name

        picker.change(switch, [picker, chat_state], [chatbot, chat_state, turns, footer, index_name],
                      concurrency_id="index-load", concurrency_limit=1, **PRIVATE)

        def reset():
            return [], [], [], [], "", None, gr.update(value="", interactive=True)

        everything = [chatbot, chat_state, turns, views, pending, pending_plan, box]
        new.click(reset, None, everything, queue=False, cancels=jobs, **PRIVATE)
        chatbot.clear(reset, None, everything, queue=False, cancels=jobs, **PRIVATE)

        def chat(message, history):
            yield from session.api_chat(assistant, message, history)

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
          quiet: bool = False, auth: Any = None, routes: list | None = None):
    """Launch `app`: no share link, no file outside the app served, no uploads, no SSR.
    `auth` is a `LoginGuard` (the login page; see trialqa.auth); `routes` are extra
    Starlette routes served without login (/healthz)."""
    import gradio as gr

    return app.launch(
        server_name=host, server_port=port, share=False, inbrowser=False,
        allowed_paths=[], blocked_paths=[], max_file_size=1, show_error=False,
        ssr_mode=False, pwa=False, mcp_server=False, footer_links=["api"],
        prevent_thread_lock=prevent_thread_lock, quiet=quiet,
        auth=auth.check if auth is not None else None,
        auth_message=LOGIN_MESSAGE if auth is not None else None,
        app_kwargs={"routes": list(routes)} if routes else None,
        theme=gr.themes.Soft(primary_hue="blue", font=SYSTEM_FONTS, font_mono=MONO_FONTS), css=CSS,
        head=f"<script>{BRIDGE_JS}</script>",
    )


def check_exposure(host: str, auth_file: Path | None = None):
    """The login guard for serving on `host` (None: no login); refuses any host but
    loopback without a users file (`auth_file`, else TRIALQA_CHAT__AUTH_FILE)."""
    from trialqa.auth import is_loopback, load_guard
    from trialqa.errors import ConfigError
    from trialqa.settings import get_settings

    guard = load_guard(auth_file or get_settings().chat.auth_file)
    if guard is None and not is_loopback(host):
        raise ConfigError(f"refusing to serve {host} without a login: add users with 'trialqa chat "
                          "add-user NAME --auth-file FILE', then pass --auth-file FILE (or set "
                          "TRIALQA_CHAT__AUTH_FILE)")
    return guard


def concurrency(settings: Any) -> int:
    """Model answers in parallel: the server's slots with TRIALQA_BACKEND=openai, else one."""
    return settings.chat.concurrency if settings.backend == "openai" else 1


def workers(settings: Any) -> int:
    """Questions worked on at once. More than the model's slots, so that an answer computed from
    the records does not wait behind model-written ones: those wait for the model itself (the
    in-process model's lock, the server backend's slots)."""
    return max(settings.chat.workers, concurrency(settings))


def warm(assistant: Any) -> Any:
    """Load the model and what the answering handlers read (the index vocabulary), so the
    first question does not wait for them; returns `assistant`."""
    assistant.generator  # noqa: B018
    if isinstance(getattr(type(assistant), "context", None), property):
        assistant.context  # noqa: B018
    return assistant


def run(index_dir: Path | None = None, model: Path | None = None, host: str = "127.0.0.1",
        port: int = 7860, indexes_dir: Path | None = None, auth_file: Path | None = None) -> None:
    """Load the assistant (and the model, so the first question does not wait), then serve;
    with a users file (or off loopback, where one is required) behind a login page."""
    from trialqa.settings import get_settings, set_offline

    guard = check_exposure(host, auth_file)
    set_offline()
    from trialqa.assistant import Assistant
    from trialqa.ui.health import route

    settings = get_settings()
    slots = concurrency(settings)
    assistant = warm(Assistant.from_settings(index_dir, model))
    app = build_app(assistant, concurrency_limit=workers(settings), max_queue=settings.chat.max_queue,
                    indexes_dir=indexes_dir)
    try:
        serve(app, host, port, auth=guard, routes=[route(assistant, slots)])
    except OSError as exc:
        from trialqa.errors import ConfigError

        raise ConfigError(f"cannot serve on {host}:{port} ({exc}): pick another --port "
                          "or set GRADIO_SERVER_PORT") from exc
