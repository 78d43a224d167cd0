"""The browser chat: a Gradio app over one shared `Assistant` per index.

    run(index_dir, model, host, port)      load the assistant, build the app, serve it
    build_app(assistant) -> gr.Blocks      the page and the "/chat" API endpoint
    serve(app, host, port, auth=, routes=) launch with the safety settings (no files served)
    check_exposure(host, auth_file)        the login guard; refuses non-loopback hosts without one

Modules: render (answers as HTML), tables (plan chips, tables, charts, CSV), panel
(trial panel, Markdown export), session (one user's chat, Gradio-free), indexes (the
index picker), notes (patient notes), style (CSS and scripts), health (/healthz),
app (the page).
Gradio is imported only when a page is built.
"""

from trialqa.ui.app import (
    CONCURRENCY_ID, EXAMPLES, MONO_FONTS, SYSTEM_FONTS, TITLE, build_app, check_exposure, concurrency, run, serve, warm,
    workers,
)
from trialqa.ui.indexes import IndexInfo, Library, list_indexes
from trialqa.ui.notes import looks_like_note, note_answer
from trialqa.ui.panel import conversation_markdown, open_trial, trial_html
from trialqa.ui.render import (
    LABEL_RE, NCT_RE, PENDING, REGISTRY_URL, answer_text, esc, footer_html, model_label, registry_url,
    render_answer, render_notice, render_partial, render_question,
)
from trialqa.ui.session import BUSY, Outcome, accept, act, answer_turn, api_chat, busy, reask, run_turn
from trialqa.ui.style import CSS
from trialqa.ui.tables import PAGE, View, chart_html, drop_from_plan, plan_chips, render_view, table_csv, table_html

__all__ = [
    "BUSY", "CONCURRENCY_ID", "CSS", "EXAMPLES", "LABEL_RE", "MONO_FONTS", "NCT_RE", "PAGE", "PENDING",
    "REGISTRY_URL", "SYSTEM_FONTS", "TITLE", "IndexInfo", "Library", "Outcome", "View", "accept", "act",
    "answer_text", "answer_turn", "api_chat", "build_app", "busy", "chart_html", "check_exposure", "concurrency",
    "conversation_markdown",
    "drop_from_plan", "esc", "footer_html", "list_indexes", "looks_like_note", "model_label", "note_answer",
    "open_trial", "plan_chips", "reask", "registry_url", "render_answer", "render_notice", "render_partial",
    "render_question", "render_view", "run", "run_turn", "serve", "table_csv", "table_html", "trial_html", "warm",
    "workers",
]
