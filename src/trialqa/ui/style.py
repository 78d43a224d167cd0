"""The page's CSS and the two small scripts (no web fonts, no CDN: the page stays offline).

BRIDGE_JS turns a click on a button named "tq" (a plan chip's ×, a sort header,
a pager button, an NCT id, the CSV button) into a call of a hidden Gradio button, with
the action as JSON in `window.__tqAction`. Record text never reaches these scripts as
code: actions carry only our own attribute values (escaped), and the server ignores
actions it does not know.
"""

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
.tq-busy, .tq-info { border: 1px solid var(--border-color-primary);
  background: var(--background-fill-secondary); border-radius: 8px; padding: 8px 12px; }
.tq-meta, .tq-note { color: var(--body-text-color-subdued); font-size: 0.8em; margin-top: 6px; }
.tq-pending { color: var(--body-text-color-subdued); font-style: italic; }
.tq-sources { margin-top: 6px; font-size: 0.9em; }
.tq-sources-head, .tq-plan-head { color: var(--body-text-color-subdued); font-size: 0.85em; }
#tq-chat button.example { border: 1px solid var(--border-color-primary); border-radius: 10px;
  background: var(--background-fill-secondary); }
#tq-chat button.example:hover { border-color: var(--color-accent); }
.tq-footer { color: var(--body-text-color-subdued); font-size: 0.82em; text-align: center; }
.tq-plan { margin: 0 0 6px; display: flex; flex-wrap: wrap; gap: 4px; align-items: center; }
.tq-pchip { display: inline-flex; align-items: center; gap: 4px; padding: 0 8px;
  border-radius: 6px; font-size: 0.8em; line-height: 1.8;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary); }
.tq-pchip-filter { border-color: var(--color-accent); }
.tq-pchip-x { border: 0; background: none; cursor: pointer; padding: 0 2px; font-size: 1.1em;
  line-height: 1; color: var(--body-text-color-subdued); }
.tq-pchip-x:hover { color: #dc2626; }
.tq-result { margin-top: 8px; }
.tq-table-head { display: flex; gap: 12px; align-items: center; font-size: 0.85em;
  color: var(--body-text-color-subdued); margin-bottom: 4px; }
.tq-result-row { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
.tq-table-wrap { flex: 3 1 420px; overflow-x: auto; }
table.tq-table { border-collapse: collapse; width: 100%; font-size: 0.85em; }
table.tq-table th, table.tq-table td { border-bottom: 1px solid var(--border-color-primary);
  padding: 3px 6px; text-align: left; vertical-align: top; word-break: normal;
  overflow-wrap: break-word; }
table.tq-table td.tq-short, table.tq-table th { white-space: nowrap; }
.tq-sort, .tq-trial, .tq-page, .tq-csv, .tq-open { border: 0; background: none; padding: 0;
  cursor: pointer; color: var(--color-accent); font: inherit; }
.tq-sort { font-weight: 600; color: inherit; }
.tq-trial { white-space: nowrap; }
button.tq-row-cite { cursor: pointer; font: inherit; font-size: 0.78em; }
.tq-csv, .tq-page, .tq-open { border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 0 8px; font-size: 0.9em; }
.tq-open { display: inline-block; margin-top: 4px; }
.tq-pager { display: flex; gap: 10px; align-items: center; font-size: 0.85em; margin-top: 4px; }
.tq-chart { flex: 1 1 200px; max-width: 320px; font-size: 0.8em; }
.tq-bar-row { display: flex; align-items: center; gap: 6px; margin: 2px 0; }
.tq-bar-label { flex: 0 0 40%; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.tq-bar-track { flex: 1 1 auto; background: var(--background-fill-secondary); height: 12px; }
.tq-bar { display: block; height: 12px; background: var(--color-accent); }
.tq-bar-n { flex: 0 0 auto; min-width: 2.5em; text-align: right; }
.tq-panel { font-size: 0.9em; max-height: 78vh; overflow-y: auto; }
.tq-panel-title { font-weight: 600; }
.tq-panel-cited { color: var(--body-text-color-subdued); font-size: 0.85em; }
.tq-sec h4 { margin: 10px 0 2px; font-size: 0.95em; }
.tq-sec-text { white-space: normal; }
mark.tq-hl { background: #fde68a; color: inherit; padding: 0 1px; }
.tq-hidden { display: none !important; }
.tq-more > summary { cursor: pointer; color: var(--body-text-color-subdued); font-size: 0.85em; }
"""

BRIDGE_JS = """
(() => {
  if (window.__tqBridge) return;
  window.__tqBridge = true;
  document.addEventListener('click', (e) => {
    const el = e.target.closest && e.target.closest('button[name="tq"]');
    if (!el) return;
    e.preventDefault();
    e.stopPropagation();
    const [a, v, ...rest] = (el.getAttribute('value') || '').split('|');
    window.__tqAction = JSON.stringify({a: a, v: Number(v), x: rest.join('|'), t: Date.now()});
    const target = document.querySelector(a === 'drop' ? '#tq-reask' : '#tq-act');
    if (target) target.click();
  }, true);
})();
"""

# Runs before the action's Python function: its first input becomes the clicked action.
TAKE_ACTION_JS = "(...args) => { const a = args.slice(0, %d); a[0] = window.__tqAction || ''; return a; }"

# Runs after a quick action: save a download the server prepared, show the highlighted sentence.
AFTER_ACTION_JS = """(payload) => {
  if (payload) {
    const d = JSON.parse(payload);
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([d.text], {type: d.type + ';charset=utf-8'}));
    a.download = d.name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 5000);
  }
  setTimeout(() => {
    const m = document.querySelector('#tq-panel mark.tq-hl');
    if (m) m.scrollIntoView({block: 'center'});
  }, 80);
  return [];
}"""
