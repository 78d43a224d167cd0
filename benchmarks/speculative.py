"""Phase `speculative`: trialqa's prompt-lookup decoding (`trialqa.lookup`, setting
`llm.lookup_draft`) against one token at a time (`lookup_draft` 0), both through
`LlamaGenerator.stream`, on the prompts trialqa sends the model for the gold seed questions.
Each runs in a process of its own (its own peak RSS), at temperature 0, over the same
prompts; the figures are generation tokens/s, tokens per decode step, first token, total,
peak RSS, and how many answers came out identical (greedy either way, so all should).

Not in the default phases: run it with `--only speculative` on an idle machine. The `ask`
phase reports tokens per step of the default setting on every run.
"""

from __future__ import annotations

import statistics
import time

from benchmarks.common import Config, Result, Skipped, call, embedder_for, ensure_index, log, peak_rss_mib, settings_for

PRED_TOKENS = 8


def model_prompts(cfg: Config, limit: int) -> list[list[dict[str, str]]]:
    """The first model call's messages for the gold questions that reach the model."""
    from trialqa.assistant import Assistant
    from trialqa.evals import load_cases
    from trialqa.generate import ScriptedGenerator

    settings = settings_for()
    embedder = embedder_for(cfg, settings)
    fake = ScriptedGenerator(lambda m: "The first source says so [S1].")
    assistant = Assistant(ensure_index(cfg, "seeds", embedder, settings), embedder, fake, settings=settings)
    out = []
    for case in load_cases(cfg.repo / "evals/gold.jsonl"):
        before = len(fake.calls)
        assistant.ask(case.prompts[0])
        if len(fake.calls) > before:
            out.append(fake.calls[before])
        if len(out) >= limit:
            break
    return out


def decode(cfg: Config, prompts: list[list[dict[str, str]]], draft: int) -> Result:
    """The product's generator (`LlamaGenerator.stream`, greedy) with `lookup_draft = draft`."""
    from trialqa.generate import LlamaGenerator
    from trialqa.models import resolve_gguf

    settings = settings_for()
    settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"lookup_draft": draft})})
    gen = LlamaGenerator(resolve_gguf(None, settings), settings)
    rows = []
    for messages in prompts:
        gen._llm.reset()
        t0, first, text = time.perf_counter(), None, ""
        for piece in gen.stream(messages, max_tokens=settings.llm.max_tokens, stop=["\nQuestion:", "\n\n\n"]):
            first = first if first is not None else time.perf_counter() - t0
            text += piece
        total = time.perf_counter() - t0
        rows.append({"first_token_s": first or total, "total_s": total, "text": text, **gen.last_decode})
    gen_s = sum(r["total_s"] - r["first_token_s"] for r in rows)
    tokens, steps = sum(r.get("tokens", 0) for r in rows), sum(r.get("steps", 0) for r in rows)
    return {"generated_tokens_per_s": round(tokens / gen_s, 2) if gen_s else None,
            "tokens_per_step": round(tokens / steps, 2) if steps else None,
            "first_token_p50_s": round(statistics.median(r["first_token_s"] for r in rows), 3),
            "total_p50_s": round(statistics.median(r["total_s"] for r in rows), 3),
            "texts": [r["text"] for r in rows], "peak_rss_mib": peak_rss_mib()}


def measure_prompts(cfg: Config, limit: int) -> Result:
    return {"prompts": model_prompts(cfg, limit)}


def phase(cfg: Config) -> Result:
    if cfg.fakes:
        raise Skipped("measures llama.cpp itself")
    got = call(cfg, measure_prompts, 3 if cfg.quick else 8)
    if got.get("status"):
        return got
    prompts = got["prompts"]
    log(f"speculative: {len(prompts)} prompts, plain then prompt lookup")
    plain = call(cfg, decode, prompts, 0)
    lookup = call(cfg, decode, prompts, PRED_TOKENS)
    if plain.get("status") or lookup.get("status"):
        return {"plain": plain, "prompt_lookup": lookup}
    same = sum(a == b for a, b in zip(plain.pop("texts"), lookup.pop("texts"), strict=True))
    return {"prompts": len(prompts), "pred_tokens": PRED_TOKENS, "plain": plain, "prompt_lookup": lookup,
            "identical_answers": same, "peak_rss_mib": max(plain["peak_rss_mib"], lookup["peak_rss_mib"])}
