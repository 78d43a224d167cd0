"""Phase `ask`: answers over the gold questions on the seeds index, warm (after a warm-up,
`ask_passes` times) and cold (a fresh process that loads everything as `trialqa ask` does).

Figures are given for every answer, for instant answers (fields, evidence, lists: no model
call) and for model-written answers. For a model answer three times are kept: sources shown
(the `SourcesReady` event, when `Assistant.stream` yields one), first model token, total.
Also: the prompt tokens sent, the eval accuracy of the same answers, and a pyinstrument
profile of one warm model answer.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from typing import Any

from benchmarks.common import (
    Config, Result, call, embedder_for, ensure_index, generator_for, latency_figures, log, pct, settings_for, timed,
)

Messages = list[dict[str, str]]


class RecordingGenerator:
    """Wraps a Generator; records the tokens of every prompt actually sent and every reply."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.n_ctx = inner.n_ctx
        self.calls: list[dict[str, int]] = []

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def stream(self, messages: Messages, *, max_tokens: int, grammar: str | None = None,
               stop: list[str] | None = None) -> Iterator[str]:
        call_ = {"prompt_tokens": sum(self.inner.count_tokens(m["content"]) for m in messages),
                 "completion_tokens": 0}
        self.calls.append(call_)
        pieces: list[str] = []
        try:
            for piece in self.inner.stream(messages, max_tokens=max_tokens, grammar=grammar, stop=stop):
                pieces.append(piece)
                yield piece
        finally:
            call_["completion_tokens"] = self.inner.count_tokens("".join(pieces))
            call_.update({f"decode_{k}": v for k, v in (getattr(self.inner, "last_decode", None) or {}).items()})


def make_assistant(cfg: Config, corpus: str = "seeds") -> tuple[Any, RecordingGenerator, Result]:
    """An Assistant over a cached index with a recording generator, its load times and
    whether the fixed prefix was restored or evaluated."""
    from trialqa.assistant import Assistant, prime_generator

    settings = settings_for()
    load: dict[str, float] = {}
    load["embedder_s"], embedder = timed(lambda: embedder_for(cfg, settings))
    load["index_s"], index = timed(lambda: ensure_index(cfg, corpus, embedder, settings))
    load["model_s"], generator = timed(lambda: generator_for(cfg, settings))
    load["prime_s"], primed = timed(lambda: prime_generator(generator, settings))  # as `trialqa ask` does
    recorder = RecordingGenerator(generator)
    return (Assistant(index, embedder, recorder, settings=settings), recorder,
            {**{k: round(v, 3) for k, v in load.items()}, "prime": primed})


def ask_sample(assistant: Any, recorder: RecordingGenerator, question: str, history: list[Any]) -> tuple[Any, Result]:
    """Answer once through `Assistant.stream`, timing when the sources were shown."""
    from trialqa.types import Answer

    before = len(recorder.calls)
    t0 = time.perf_counter()
    sources_s, answer = None, None
    for event in assistant.stream(question, history):
        if isinstance(event, Answer):
            answer = event
        elif not isinstance(event, str) and sources_s is None:  # SourcesReady
            sources_s = time.perf_counter() - t0
    assert answer is not None
    calls = recorder.calls[before:]
    t = answer.timings
    first = t.first_token_s if t.first_token_s is not None else t.total_s
    return answer, {
        "retrieve_s": t.retrieve_s, "sources_s": sources_s if sources_s is not None else first,
        "sources_event": sources_s is not None, "first_token_s": first,
        "total_s": t.total_s, "llm_calls": len(calls),
        "prompt_tokens": sum(c["prompt_tokens"] for c in calls),
        "completion_tokens": sum(c["completion_tokens"] for c in calls),
        **{key: sum(c.get(key, 0) for c in calls) for key in DECODE_KEYS},
    }


#: Counts from the generator's greedy decoder (prompt lookup), summed over an answer's calls.
DECODE_KEYS = ("decode_steps", "decode_tokens", "decode_drafted", "decode_accepted", "decode_prompt_evaluated")


def _lookup_figures(llm: list[Result]) -> Result:
    """Prompt-lookup decoding: tokens per model step, and the share of draft tokens kept."""
    steps, tokens, drafted, kept, _ = (sum(s.get(k, 0) for s in llm) for k in DECODE_KEYS)
    if not steps:
        return {"status": "off", "reason": "no greedy lookup decode ran (lookup_draft 0, a server, or sampling)"}
    return {"tokens_per_step": round(tokens / steps, 2), "draft_kept": round(kept / drafted, 3) if drafted else None,
            "steps": steps, "tokens": tokens}


def _ask_case(assistant: Any, recorder: RecordingGenerator, prompts: list[str]) -> tuple[Any, list[Result]]:
    """Answer a case's turns in order with history (as `Assistant.converse` does), timing each."""
    from trialqa.types import Turn

    history: list[Turn] = []
    samples, answer = [], None
    for turn, question in enumerate(prompts):
        answer, sample = ask_sample(assistant, recorder, question, history)
        samples.append({"turn": turn, "question": question, **sample})
        history += [Turn(role="user", content=question),
                    Turn(role="assistant", content=answer.text, trials=answer.trials)]
    return answer, samples


def _median_over_passes(passes: list[list[Result]]) -> list[Result]:
    """Per question, the median of each timing over the passes (token counts from pass 1)."""
    merged = []
    for rows in zip(*passes, strict=True):
        row = dict(rows[0])
        for key in ("retrieve_s", "sources_s", "first_token_s", "total_s"):
            row[key] = statistics.median(r[key] for r in rows)
        merged.append(row)
    return merged


def warm_up(recorder: RecordingGenerator) -> None:
    """Put the fixed prompt prefix in llama.cpp's cache, as any earlier question would."""
    from trialqa import prompts

    for _ in recorder.inner.stream(prompts.answer_messages("", "warm-up"), max_tokens=1):
        pass


def _model_figures(llm: list[Result]) -> Result:
    out = latency_figures(llm)
    if llm:
        out["sources_p50_s"] = round(pct([s["sources_s"] for s in llm], 50), 3)
        out["sources_event"] = all(s["sources_event"] for s in llm)
    return out


def ask_warm(cfg: Config) -> Result:
    """Every gold question, `ask_passes` times after a warm-up, scored like `trialqa eval`."""
    from trialqa.evals import KnownSources, aggregate, load_cases, score_case

    assistant, recorder, load = make_assistant(cfg)
    cases = load_cases(cfg.repo / "evals/gold.jsonl")[: cfg.ask_limit]
    known = KnownSources.from_trials(assistant.index.trials)
    warm_up(recorder)
    passes, results = [], []
    for n in range(cfg.ask_passes):
        log(f"ask: warm pass {n + 1}/{cfg.ask_passes} over {len(cases)} gold cases")
        samples = []
        for case in cases:
            answer, rows = _ask_case(assistant, recorder, case.prompts)
            samples += [{"case": case.id, **r} for r in rows]
            if n == 0:
                results.append(score_case(case, answer, list(assistant.last_retrieved), known))
        passes.append(samples)
    samples = _median_over_passes(passes)
    llm = [s for s in samples if s["llm_calls"]]
    report = aggregate(results)
    profiled = _profile(cfg, assistant, recorder, llm)
    return {
        "load_s": load, "cases": len(cases), "passes": cfg.ask_passes,
        "all": latency_figures(samples), "instant": latency_figures([s for s in samples if not s["llm_calls"]]),
        "llm": _model_figures(llm),
        "llm_share": round(len(llm) / len(samples), 3),
        "prompt_tokens": {**_token_figures([s["prompt_tokens"] for s in llm]),
                          "counted": "generator.count_tokens over each message sent (chat template excluded)"},
        "completion_tokens": _token_figures([s["completion_tokens"] for s in llm]),
        "uncached_prompt_tokens": _token_figures([s["decode_prompt_evaluated"] for s in llm if s.get("decode_steps")]),
        "breakdown_llm_mean_s": _breakdown(llm),
        "lookup_decoding": _lookup_figures(llm),
        "eval": {k: getattr(report, k) for k in ("answer_accuracy", "citation_precision",
                                                 "hallucinated_citations", "abstention_accuracy")},
        "profile": profiled, "samples": samples,
    }


def _token_figures(values: list[int]) -> Result:
    if not values:
        return {"answers": 0}
    return {"answers": len(values), "median": statistics.median(values), "mean": round(statistics.mean(values), 1),
            "max": max(values)}


def _breakdown(llm: list[Result]) -> Result:
    """Where a model answer's time goes: retrieval, prompt evaluation (to first token), generation."""
    if not llm:
        return {}
    gen_s = [s["total_s"] - s["first_token_s"] for s in llm]
    toks = sum(s["completion_tokens"] for s in llm)
    return {"retrieve": round(statistics.mean(s["retrieve_s"] for s in llm), 3),
            "to_first_token": round(statistics.mean(s["first_token_s"] - s["retrieve_s"] for s in llm), 3),
            "generation": round(statistics.mean(gen_s), 3),
            "generated_tokens_per_s": round(toks / sum(gen_s), 1) if sum(gen_s) > 0 else None}


def _profile(cfg: Config, assistant: Any, recorder: RecordingGenerator, llm: list[Result]) -> Result | None:
    """Profile one warm model answer with pyinstrument; the text goes next to the JSON.

    The prompt cache is reset to the fixed prefix first, so the question does not find
    its own whole prompt cached from the pass before.
    """
    try:
        from pyinstrument import Profiler
    except ImportError:
        return {"status": "missing", "reason": "pyinstrument is not installed"}
    first_turns = [s for s in llm if s["turn"] == 0]
    if not first_turns:
        return None
    question = first_turns[len(first_turns) // 2]["question"]
    warm_up(recorder)
    profiler = Profiler(interval=0.002)
    with profiler:
        assistant.ask(question)
    cfg.profile_path.parent.mkdir(parents=True, exist_ok=True)
    cfg.profile_path.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    return {"question": question, "path": str(cfg.profile_path)}


def ask_cold(cfg: Config, question: str) -> Result:
    """Load everything as `trialqa ask` does (the fixed prefix restored from its state file
    when one exists), then time the first question."""
    assistant, recorder, load = make_assistant(cfg)
    _, sample = ask_sample(assistant, recorder, question, [])
    return {"load_s": load, **sample}


def phase(cfg: Config) -> Result:
    warm = call(cfg, ask_warm)
    if warm.get("status"):
        return warm
    llm_first = [s for s in warm["samples"] if s["llm_calls"] and s["turn"] == 0]
    probe = (llm_first or warm["samples"])[0]["question"]
    cold_runs = [call(cfg, ask_cold, probe) for _ in range(cfg.repeats)]
    failed = [r for r in cold_runs if r.get("status")]
    cold: Result = failed[0] if failed else {
        "question": probe, "runs": len(cold_runs), "valid": cfg.isolate,
        **{key: round(statistics.median(r[key] for r in cold_runs), 3)
           for key in ("first_token_s", "total_s", "retrieve_s", "prompt_tokens")},
        "load_s": cold_runs[0]["load_s"],
    }
    rss = [warm["peak_rss_mib"], *(r.get("peak_rss_mib", 0.0) for r in cold_runs)]
    return {**warm, "cold": cold, "peak_rss_mib": max(rss)}
