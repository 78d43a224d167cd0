"""Phase `speculative`: prompt-lookup speculative decoding (llama-cpp-python's
`LlamaPromptLookupDecoding`) against plain decoding, on the prompts trialqa sends the model for
the gold seed questions. Each decoder runs in a process of its own (its own peak RSS), at
temperature 0, over the same prompts; the figures are generation tokens/s, first token,
total, peak RSS, and how many answers came out identical.

Not in the default phases: run it with `--only speculative` on an idle machine. It is not
used by trialqa (see README, Performance): llama-cpp-python turns on `logits_all` with a
draft model, which keeps a row of 151,936 logits per evaluated token.
"""

from __future__ import annotations

import os
import statistics
import time

from benchmarks.common import Config, Result, Skipped, call, embedder_for, ensure_index, log, peak_rss_mib, settings_for

PRED_TOKENS = 10


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


def decode(cfg: Config, prompts: list[list[dict[str, str]]], draft: bool) -> Result:
    from llama_cpp import Llama
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    from trialqa.models import resolve_gguf

    settings = settings_for()
    llm = Llama(model_path=str(resolve_gguf(None, settings)), n_ctx=settings.llm.n_ctx,
                n_threads=settings.llm.n_threads or os.cpu_count(), n_batch=settings.llm.n_batch, seed=0,
                verbose=False, draft_model=LlamaPromptLookupDecoding(num_pred_tokens=PRED_TOKENS) if draft else None)
    rows = []
    for messages in prompts:
        llm.reset()
        t0, first, text = time.perf_counter(), None, ""
        for part in llm.create_chat_completion(messages=messages, max_tokens=settings.llm.max_tokens, temperature=0.0,
                                               stream=True, stop=["\nQuestion:", "\n\n\n"]):
            piece = part["choices"][0].get("delta", {}).get("content")
            if piece:
                first = first if first is not None else time.perf_counter() - t0
                text += piece
        total = time.perf_counter() - t0
        rows.append({"first_token_s": first or total, "total_s": total, "text": text,
                     "tokens": len(llm.tokenize(text.encode(), add_bos=False))})
    gen_s = sum(r["total_s"] - r["first_token_s"] for r in rows)
    return {"generated_tokens_per_s": round(sum(r["tokens"] for r in rows) / gen_s, 2) if gen_s else None,
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
    plain = call(cfg, decode, prompts, False)
    lookup = call(cfg, decode, prompts, True)
    if plain.get("status") or lookup.get("status"):
        return {"plain": plain, "prompt_lookup": lookup}
    same = sum(a == b for a, b in zip(plain.pop("texts"), lookup.pop("texts"), strict=True))
    return {"prompts": len(prompts), "pred_tokens": PRED_TOKENS, "plain": plain, "prompt_lookup": lookup,
            "identical_answers": same, "peak_rss_mib": max(plain["peak_rss_mib"], lookup["peak_rss_mib"])}
