"""The headline figures of a bench report, each against its target, and the printed table."""

from __future__ import annotations

from typing import Any

from benchmarks.common import BUILD_TARGET_S, Result

CORPUS_LABEL = {"seeds": "seeds", "xml2000": "2,000", "all": "6,786"}
Row = tuple[str, Any, "float | None", str]


def get(report: Result, *keys: str) -> Any:
    value: Any = report
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _build_seconds(report: Result, name: str) -> float | None:
    """A fresh build's time with parsing; for a build stopped at its deadline, the deadline."""
    return get(report, "index", name, "fresh", "with_ingest_s") or get(report, "index", name, "after_s")


def _search_rows(report: Result) -> list[Row]:
    rows: list[Row] = []
    for name, fig in (report.get("search") or {}).items():
        if name in CORPUS_LABEL and isinstance(fig, dict):
            label = CORPUS_LABEL[name]
            rows += [(f"search p50 {label} (ms)", get(fig, "short", "p50_ms"), 30.0 if name == "all" else 50.0, "max"),
                     (f"search p95 {label} (ms)", get(fig, "short", "p95_ms"), None, ""),
                     (f"search p50 {label}, patient notes (ms)", get(fig, "long", "p50_ms"), None, "")]
    return rows


def _ask_rows(report: Result) -> list[Row]:
    """Issue 22's latency targets: warm model answers, cold whole commands, the baseline."""
    return [
        ("ask instant answers p50 warm (s)", get(report, "ask", "instant", "total_p50_s"), None, ""),
        ("ask model answers: sources shown p50 warm (s)", get(report, "ask", "llm", "sources_p50_s"), 1.5, "max"),
        ("ask model answers: first model token p50 warm (s)", get(report, "ask", "llm", "first_token_p50_s"), 2.2, "max"),
        ("ask model answers: total p50 warm (s)", get(report, "ask", "llm", "total_p50_s"), 3.5, "max"),
        ("ask model answers: total p95 warm (s)", get(report, "ask", "llm", "total_p95_s"), None, ""),
        ("ask first token cold, in process (s)", get(report, "ask", "cold", "first_token_s"), None, ""),
        ("`trialqa ask` cold, instant answer, whole command (s)", get(report, "cold", "instant", "median_s"), 2.0, "max"),
        ("`trialqa ask` cold, model answer, whole command (s)", get(report, "cold", "model", "median_s"), 6.0, "max"),
        ("`trialqa ask` via `trialqa serve`, instant answer (s)", get(report, "cold", "served_instant", "median_s"), None, ""),
        ("share of answers that call the LLM", get(report, "ask", "llm_share"), None, ""),
        ("prompt tokens per LLM answer (median)", get(report, "ask", "prompt_tokens", "median"), None, ""),
        ("model tokens per decode step (prompt lookup)", get(report, "ask", "lookup_decoding", "tokens_per_step"), None, ""),
        ("uncached prompt tokens per LLM answer (median)", get(report, "ask", "uncached_prompt_tokens", "median"), None, ""),
        ("gold answer accuracy (same answers)", get(report, "ask", "eval", "answer_accuracy"), 0.9, "min"),
        ("typical RAG first token p50 / trialqa model answers'", get(report, "baseline", "ratios", "first_token_p50"), 3.0, "min"),
        ("typical RAG total p50 / trialqa model answers'", get(report, "baseline", "ratios", "total_p50"), None, ""),
        ("chat, 16 users at once, in-process model: answer p95 (s)", get(report, "load", "in_process", "answer", "p95_s"), None, ""),
        ("chat, 16 users at once, llama-server -np 4: answer p95 (s)", get(report, "load", "llama_server", "answer", "p95_s"), None, ""),
        ("chat, 16 users: p95 in-process / llama-server -np 4", get(report, "load", "p95_speedup"), 2.0, "min"),
        ("chat, 16 users: failed answers (both set-ups)", _load_failures(report), 0, "max"),
        ("list/count answers over 2,000 trials p50 warm (s)", get(report, "corpus_answers", "all", "total_p50_s"), 1.0, "max"),
        ("list/count answers over 2,000 trials p95 warm (s)", get(report, "corpus_answers", "all", "total_p95_s"), None, ""),
    ]


def _load_failures(report: Result) -> int | None:
    counts = [get(report, "load", name, "failures") for name in ("in_process", "llama_server")]
    counts = [c for c in counts if c is not None]
    return sum(counts) if counts else None


def targets(report: Result, nprobe: int | None = None, refine: int | None = None) -> list[Result]:
    """The headline figures, each with its target from the issues where one exists
    (target None = reported for context). `ok` is None when not measured."""
    if nprobe is None or refine is None:
        from trialqa.settings import get_settings

        retrieval = get_settings().retrieval
        nprobe, refine = retrieval.nprobe, retrieval.refine
    rows: list[Row] = [
        ("ingest 2,000 XML (s)", get(report, "ingest", "median_s") if get(report, "ingest", "corpus") == "xml2000" else None, 20.0, "max"),
        ("index 2,000 XML incl. parse (s)", _build_seconds(report, "xml2000"), BUILD_TARGET_S["xml2000"], "max"),
        ("index 6,786 XML incl. parse (s)", _build_seconds(report, "all"), BUILD_TARGET_S["all"], "max"),
        ("index 6,786 chunks/s (fresh)", get(report, "index", "all", "fresh", "chunks_per_s"), None, ""),
        ("re-index 6,786 unchanged (s)", get(report, "index", "all", "reindex", "median_s"), None, ""),
        *_search_rows(report),
        *_ask_rows(report),
    ]
    asking = [get(report, name, "peak_rss_mib") for name in ("ask", "cold", "corpus_answers")]
    asking = [v for v in asking if v]
    rows.append(("peak RSS while asking (MiB)", max(asking) if asking else None, 2.0 * 1024, "max"))
    rss = [v["peak_rss_mib"] for v in report.values() if isinstance(v, dict) and "peak_rss_mib" in v]
    rows.append(("peak RSS, worst phase (MiB)", max(rss) if rss else None, 2.5 * 1024, "max"))
    for cohort, fig in (get(report, "trec", "ndcg", "cohorts") or {}).items():
        label = f"nDCG@10 {cohort} {fig.get('ndcg@10', 0):.3f} / BM25 {fig.get('bm25_ndcg@10', 0):.3f}"
        rows.append((label, fig.get("ratio"), 1.0, "min"))
    sweep = {row["nprobe"]: row for row in get(report, "ivf", "dense_ivfpq") or []}
    default = sweep.get(nprobe)
    where = CORPUS_LABEL.get(get(report, "ivf", "corpus") or "", "")
    rows.append((f"IVF-PQ recall@10 vs exact, {where}, nprobe {nprobe}", default and default["recall_at_10"], None, ""))
    rows.append((f"IVF-PQ recall@10 re-ranked (x{refine} candidates), {where}",
                 default and default.get("recall_at_10_refined"), None, ""))
    rows.append(("IVF-PQ dense index (MiB)", get(report, "ivf", "memory_mib", "ivfpq"), None, ""))
    rows.append(("exact (flat) dense index (MiB)", get(report, "ivf", "memory_mib", "flat"), None, ""))
    return [{"figure": f, "value": v, "target": t, "kind": kind,
             "ok": None if v is None or t is None else (v <= t if kind == "max" else v >= t)}
            for f, v, t, kind in rows]


def render(report: Result, phases: tuple[str, ...]) -> None:
    """Print the figures against their targets, then any phase that did not run, as rich text."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="trialqa bench (medians; see the JSON for every run)")
    for col, justify in (("figure", "left"), ("measured", "right"), ("target", "right"), ("", "left")):
        table.add_column(col, justify=justify)
    for row in report.get("targets", []):
        mark = "" if row["target"] is None else {True: "[green]ok[/]", False: "[red]MISS[/]", None: "[dim]n/a[/]"}[row["ok"]]
        target = "" if row["target"] is None else f"{'≤' if row['kind'] == 'max' else '≥'} {row['target']:g}"
        table.add_row(row["figure"], _fmt(row["value"]), target, mark)
    console.print(table)
    for name in phases:
        section = report.get(name)
        if isinstance(section, dict) and section.get("status"):
            console.print(f"[yellow]{name}: {section['status']}[/] {section.get('reason', '')}")
        elif isinstance(section, dict) and name in EXTERNAL:
            console.print(f"[bold]{name}[/] {_brief(section)}")


#: Phases written by other modules' `run() -> dict`; their figures are printed as they come.
EXTERNAL = ("retrieval", "eligibility")


def _brief(section: Result) -> str:
    keep = {k: v for k, v in section.items() if k not in {"measured_at", "commit", "wall_s", "load_avg_after"}}
    text = repr(keep)
    return text if len(text) <= 600 else text[:600] + " ..."


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:,.3g}" if abs(value) < 10 else f"{value:,.1f}"
