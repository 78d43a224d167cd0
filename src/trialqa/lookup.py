"""Prompt-lookup decoding for llama.cpp at temperature 0, without `logits_all`.

An answer copies phrases from its sources, so the tokens that follow the answer's last few
tokens often appear in the prompt already. Each step proposes those tokens (the draft),
evaluates the current token and the draft in one batch, and keeps the draft's tokens for as
long as they equal the model's own greedy choice. On a memory-bound CPU a batch of a few
tokens costs about as much as one, so every accepted draft token is nearly free. The output
is the greedy output, token for token: a draft token is kept only where greedy decoding
would have produced it.

llama-cpp-python's `LlamaPromptLookupDecoding` does the same but turns on `logits_all`,
which keeps a row of 151,936 floats for every token of the context (2.4 GB at 4,096
tokens). Here only the batch's own rows are read, straight from llama.cpp.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np


def propose(tokens: Sequence[int], max_draft: int, max_ngram: int = 3, min_ngram: int = 2) -> list[int]:
    """The tokens that followed the latest earlier occurrence of the sequence's last n tokens
    (n from `max_ngram` down to `min_ngram`), at most `max_draft` of them; [] if none."""
    if max_draft <= 0:
        return []
    seq = np.asarray(tokens, dtype=np.int64)
    for n in range(max_ngram, min_ngram - 1, -1):
        if len(seq) <= n:
            continue
        tail = seq[-n:]
        windows = np.lib.stride_tricks.sliding_window_view(seq[:-1], n)  # earlier windows only
        hits = np.flatnonzero((windows == tail).all(axis=1))
        for start in hits[::-1]:
            follow = seq[start + n: start + n + max_draft]
            if len(follow):
                return follow.tolist()
    return []


def longest_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


class StopText:
    """Turns token bytes into text pieces, holding back what may be the start of a stop
    string, and says when a stop string has appeared (the text before it is released)."""

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = [s for s in stops if s]
        self._bytes = b""
        self.text = ""
        self._sent = 0
        self.stopped = False

    def feed(self, data: bytes) -> str:
        self._bytes += data
        try:
            self.text = self._bytes.decode("utf-8")
        except UnicodeDecodeError:  # a character split across tokens: wait for the rest
            return ""
        cut = min((i for i in (self.text.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            return self._release(cut)
        hold = max((k for s in self.stops for k in range(1, len(s)) if self.text.endswith(s[:k])), default=0)
        return self._release(len(self.text) - hold)

    def flush(self) -> str:
        return "" if self.stopped else self._release(len(self.text))

    def _release(self, upto: int) -> str:
        piece = self.text[self._sent: upto] if upto > self._sent else ""
        self._sent = max(self._sent, upto)
        return piece


def decode_greedy(llm: Any, prompt: list[int], *, max_tokens: int, stops: Sequence[str],
                  max_draft: int, stats: dict[str, int] | None = None) -> Iterator[str]:
    """Greedy decoding of `prompt` on a llama-cpp-python `Llama`, drafting with prompt
    lookup (`max_draft` 0 = one token at a time). Reuses the KV cache's common prefix with
    the previous prompt, as `create_completion` does, and leaves `llm.input_ids`/`n_tokens`
    matching the cache. Yields text pieces. `stats`, when given, is filled with the counts of
    prompt tokens evaluated, decode steps, tokens produced, and draft tokens proposed and kept."""
    from llama_cpp import llama_cpp as lib

    n_ctx, n_vocab = llm.n_ctx(), llm.n_vocab()
    if len(prompt) >= n_ctx:
        raise ValueError(f"Requested tokens ({len(prompt)}) exceed context window of {n_ctx}")
    vocab = lib.llama_model_get_vocab(llm._model.model)
    reuse = longest_prefix(llm.input_ids[: llm.n_tokens].tolist(), prompt)
    llm.n_tokens = min(reuse, len(prompt) - 1)  # at least one token evaluated: its logits
    stats = stats if stats is not None else {}
    stats.update(prompt_evaluated=len(prompt) - llm.n_tokens, steps=0, tokens=0, drafted=0, accepted=0)
    llm.eval(prompt[llm.n_tokens:])
    ctx = llm._ctx.ctx

    def greedy(i: int) -> int:
        return int(np.ctypeslib.as_array(lib.llama_get_logits_ith(ctx, i), shape=(n_vocab,)).argmax())

    current = greedy(-1)
    history = list(prompt)
    out = StopText(stops)
    produced = 0
    while produced < max_tokens and not lib.llama_vocab_is_eog(vocab, current):
        # `current` is the greedy choice already: show it before evaluating it
        piece = out.feed(llm.detokenize([current]))
        produced += 1
        stats["tokens"] = produced
        if piece:
            yield piece
        room = min(max_tokens - produced, n_ctx - llm.n_tokens - 1)
        if out.stopped or produced >= max_tokens or room < 0:
            return  # nothing more to write, or no room to evaluate `current`
        draft = propose(history + [current], min(max_draft, room))
        batch = [current, *draft]
        llm._batch.set_batch(batch=batch, n_past=llm.n_tokens, logits_all=True)
        llm._ctx.decode(llm._batch)
        kept: list[int] = []
        following = greedy(0)
        for i, token in enumerate(draft, start=1):
            if token != following:
                break
            kept.append(token)
            following = greedy(i)
        llm.input_ids[llm.n_tokens: llm.n_tokens + 1 + len(kept)] = [current, *kept]
        llm.n_tokens += 1 + len(kept)
        llm._ctx.kv_cache_seq_rm(-1, llm.n_tokens, -1)  # the rejected draft's cache entries
        history += [current, *kept]
        stats["steps"] += 1
        stats["drafted"] += len(draft)
        stats["accepted"] += len(kept)
        ended = next((j for j, t in enumerate(kept) if lib.llama_vocab_is_eog(vocab, t)), None)
        shown = kept if ended is None else kept[:ended]
        produced += len(shown)
        stats["tokens"] = produced
        piece = out.feed(llm.detokenize(shown)) if shown else ""
        if piece:
            yield piece
        if out.stopped or ended is not None:
            return
        current = following
    tail = out.flush()
    if tail:
        yield tail
