"""The question as understood (plan chips) and computed answers as a table.

    View                          one finished answer in the chat and how its table is shown
    plan_chips(plan, view)        the scope, the intent and each filter; filters are removable
    drop_from_plan(plan, key)     the plan without one filter (or without its grouping)
    table_html(view, i)           sortable, paged table (20 a page) with a citation chip per row
    chart_html(groups)            a small bar chart of a grouped count
    table_csv(answer)             every matching trial as CSV
    render_view(view, i)          the whole bubble of a finished answer

All record text is escaped (render.esc / attr); sorting and paging happen here, on the
server, so a page holds at most PAGE rows however large the result set is.
"""

from __future__ import annotations

import csv
import io
import re

from pydantic import BaseModel

from trialqa.answer.plan import Plan, Row, Table, filter_label
from trialqa.types import Answer
from trialqa.ui.render import action, attr, esc, render_answer

PAGE = 20
FIXED = {"trial": "NCT id", "title": "Title"}
NUMBER_RE = re.compile(r"^-?\d[\d,]*(\.\d+)?$")


class View(BaseModel):
    """One finished answer in a session: where its bubble is and how its table is shown."""

    question: str
    answer: Answer
    at: int = 0  # position of the answer's bubble in the chat
    streamed: str = ""  # the text as it was streamed (the final answer may replace it)
    sort: str | None = None
    desc: bool = False
    page: int = 0

    @property
    def revised(self) -> bool:
        return bool(self.streamed.strip()) and self.streamed.strip() != self.answer.text.strip()


# ------------------------------------------------------------------ the plan


def plan_chips(plan: Plan | None, view: int | None = None) -> str:
    """Chips for the plan: trials in scope, the intent, each filter (removable), the grouping."""
    if plan is None:
        return ""
    chips = [f'<span class="tq-pchip tq-pchip-scope">{esc(f"trial: {t}")}</span>' for t in plan.scope]
    intent = f"intent: {plan.intent}" + (f" ({plan.field})" if plan.field else "")
    chips.append(f'<span class="tq-pchip tq-pchip-intent">{esc(intent)}</span>')
    for j, f in enumerate(plan.filters):
        chips.append(_removable(filter_label(f), view, j))
    if plan.group_by:
        chips.append(_removable(f"by {plan.group_by}", view, "group"))
    return (f'<div class="tq-plan"><span class="tq-plan-head">As understood:</span> '
            f'{"".join(chips)}</div>')


def _removable(label: str, view: int | None, key: int | str) -> str:
    button = (f'<button class="tq-pchip-x" title="answer again without this"'
              f'{action("drop", view, key)}>\u00d7</button>' if view is not None else "")
    return f'<span class="tq-pchip tq-pchip-filter">{esc(label)}{button}</span>'


def drop_from_plan(plan: Plan, key: str) -> tuple[Plan, str]:
    """A copy of `plan` without filter number `key` (or its grouping for 'group');
    returns (new plan, label of what was dropped). Raises KeyError for a stale key."""
    new = plan.model_copy(deep=True)
    if key == "group":
        if not new.group_by:
            raise KeyError(key)
        label, new.group_by = f"by {new.group_by}", None
        return new, label
    j = int(key)
    if not 0 <= j < len(new.filters):
        raise KeyError(key)
    dropped = new.filters.pop(j)
    return new, filter_label(dropped)


# ------------------------------------------------------------------ the table


def columns(table: Table) -> list[str]:
    """The matched-field columns: the table's own, else every field any row matched on."""
    if table.columns:
        return [c for c in table.columns if c not in FIXED]
    seen: dict[str, None] = {}
    for r in table.rows:
        seen.update(dict.fromkeys(r.values))
    return list(seen)


def cell(row: Row, key: str) -> str:
    if key == "trial":
        return row.trial_id
    if key == "title":
        return row.title
    return str(row.values.get(key, ""))


def slug(key: str) -> str:
    """A class-name-safe form of a column key."""
    return re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-") or "x"


def _sort_key(value: str) -> tuple:
    v = value.strip()
    if NUMBER_RE.match(v):
        return (0, float(v.replace(",", "")), "")
    return (1 if v else 2, 0.0, v.lower())


def sorted_rows(table: Table, key: str | None, desc: bool) -> list[Row]:
    if not key:
        return list(table.rows)
    filled = [r for r in table.rows if cell(r, key).strip()]
    empty = [r for r in table.rows if not cell(r, key).strip()]
    return sorted(filled, key=lambda r: _sort_key(cell(r, key)), reverse=desc) + empty


def pages(table: Table) -> int:
    return max(1, -(-len(table.rows) // PAGE))


def _header(key: str, name: str, view: View, i: int | None) -> str:
    mark = ""
    if view.sort == key:
        mark = " \u25bc" if view.desc else " \u25b2"
    button = f'<button class="tq-sort"{action("sort", i, key)}>{esc(name)}{mark}</button>'
    return f'<th class="tq-col-{slug(key)}">{button if i is not None else esc(name)}</th>'


def row_cite(row: Row, answer: Answer) -> int | None:
    """The row's citation: its own, else the answer's first citation of that trial."""
    if row.cite is not None and 0 <= row.cite < len(answer.citations):
        return row.cite
    return next((k for k, c in enumerate(answer.citations) if c.trial_id == row.trial_id), None)


def _value_cell(value: str, limit: int = 140) -> str:
    """A matched value: short ones never wrap, long ones are clipped (whole in the tooltip)."""
    if len(value) <= 16:
        return f'<td class="tq-short">{esc(value)}</td>'
    if len(value) > limit:
        return f'<td title="{attr(value)}">{esc(value[:limit].rstrip())}\u2026</td>'
    return f"<td>{esc(value)}</td>"


def _row_html(row: Row, cols: list[str], answer: Answer, i: int | None) -> str:
    cite = row_cite(row, answer)
    key = f"{row.trial_id}|{'' if cite is None else cite}"
    if i is not None:
        ident = f'<button class="tq-trial"{action("trial", i, key)}>{esc(row.trial_id)}</button>'
    else:
        ident = esc(row.trial_id)
    cells = [f"<td>{ident}</td>", f"<td>{esc(row.title)}</td>"]
    cells += [_value_cell(str(row.values.get(c, ""))) for c in cols]
    chip = ""
    if cite is not None:  # opens the record in the panel, the cited sentence highlighted
        c = answer.citations[cite]
        if i is None:
            chip = f'<span class="tq-chip">{esc(c.section)}</span>'
        else:
            chip = (f'<button class="tq-chip tq-row-cite" title="{attr(c.quote)}"'
                    f'{action("trial", i, key)}>{esc(c.section)}</button>')
    cells.append(f'<td class="tq-cell-cite">{chip}</td>')
    return f'<tr class="tq-row">{"".join(cells)}</tr>'


def table_html(view: View, i: int | None = None) -> str:
    """The answer's table: one page of rows, sortable headers, a pager and the CSV button."""
    table = view.answer.table
    if table is None or not table.rows:
        return chart_html(table.groups) if table is not None and table.groups else ""
    cols = columns(table)
    n = pages(table)
    page = min(max(view.page, 0), n - 1)
    rows = sorted_rows(table, view.sort, view.desc)[page * PAGE:(page + 1) * PAGE]
    head = "".join(_header(k, name, view, i) for k, name in FIXED.items())
    head += "".join(_header(c, c.replace("_", " "), view, i) for c in cols)
    head += "<th>Source</th>"
    body = "".join(_row_html(r, cols, view.answer, i) for r in rows)
    first, last = page * PAGE + 1, page * PAGE + len(rows)
    total = max(table.total, len(table.rows))
    scope = f" of the {table.of:,} indexed trials" if table.of else ""
    caption = (f'<div class="tq-table-head"><span class="tq-count">{first}\u2013{last} of '
               f"{total:,} matching trials{scope}</span>")
    if i is not None:
        caption += (f' <button class="tq-csv"{action("csv", i)}>Download CSV '
                    f"({len(table.rows):,} rows)</button>")
    caption += "</div>"
    pager = ""
    if n > 1 and i is not None:
        prev = (f'<button class="tq-page"{action("page", i, page - 1)}>\u2039 previous</button>'
                if page > 0 else "")
        nxt = (f'<button class="tq-page"{action("page", i, page + 1)}>next \u203a</button>'
               if page < n - 1 else "")
        pager = f'<div class="tq-pager">{prev}<span>page {page + 1} of {n}</span>{nxt}</div>'
    chart = chart_html(table.groups)
    grid = (f'<div class="tq-table-wrap"><table class="tq-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>{pager}</div>")
    return f'<div class="tq-result">{caption}<div class="tq-result-row">{grid}{chart}</div></div>'


def chart_html(groups: dict[str, int], *, limit: int = 12) -> str:
    """A small horizontal bar chart of a grouped count (largest groups first)."""
    if not groups:
        return ""
    items = sorted(groups.items(), key=lambda kv: (-kv[1], str(kv[0])))
    rest = items[limit:]
    items = items[:limit] + ([("other", sum(v for _, v in rest))] if rest else [])
    top = max(v for _, v in items) or 1
    bars = "".join(
        f'<div class="tq-bar-row"><span class="tq-bar-label" title="{attr(k)}">{esc(k or "not stated")}</span>'
        f'<span class="tq-bar-track"><span class="tq-bar" style="width:{max(2, round(100 * v / top))}%">'
        f'</span></span><span class="tq-bar-n">{v:,}</span></div>'
        for k, v in items)
    return f'<div class="tq-chart" role="img" aria-label="trials per group">{bars}</div>'


def table_csv(answer: Answer) -> str:
    """Every row of the answer's table (the whole matching set) as CSV with its citation."""
    table = answer.table or Table()
    cols = columns(table)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["nct_id", "title", *cols, "cited_section", "cited_quote"])
    for r in table.rows:
        k = row_cite(r, answer)
        c = answer.citations[k] if k is not None else None
        w.writerow([_csv_safe(x) for x in [r.trial_id, r.title, *(r.values.get(k, "") for k in cols),
                                           c.section if c else "", c.quote if c else ""]])
    return out.getvalue()


def _csv_safe(value: object) -> str:
    """Neutralise spreadsheet formulas in record text ('=cmd|...' runs in some programs)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not NUMBER_RE.match(text) else text


def render_view(view: View, i: int | None = None) -> str:
    """The finished bubble: plan chips, the short text, the table and chart, notes."""
    table = view.answer.table
    return render_answer(view.answer, view=i, top=plan_chips(view.answer.plan, i),
                         extra=table_html(view, i), revised=view.revised,
                         fold=bool(table is not None and table.rows))
