"""The ranking tuner's search (coordinate ascent) and its memoised embedder."""

from __future__ import annotations

import numpy as np

from benchmarks.tune_ranking import MemoEmbedder, ascend
from trialqa.embed import HashingEmbedder, embed_long


def test_ascent_reaches_the_best_point_of_a_separable_score():
    space = {"a": [0, 1, 2, 3], "b": [0.0, 0.5, 1.0]}
    score = lambda s: -((s["a"] - 2) ** 2) - (s["b"] - 0.5) ** 2  # noqa: E731
    chosen, best = ascend(score, {"a": 0, "b": 0.0}, space)
    assert chosen == {"a": 2, "b": 0.5} and best == 0.0


def test_ascent_keeps_the_current_value_on_a_tie_and_never_scores_lower():
    space = {"a": [0, 1, 2], "b": [0, 1]}
    score = lambda s: float(s["a"] >= 1)  # noqa: E731 - 1 and 2 tie; b never matters
    start = {"a": 0, "b": 1}
    chosen, best = ascend(score, start, space)
    assert chosen == {"a": 1, "b": 1} and best == 1.0
    assert ascend(score, chosen, space) == (chosen, best)


def test_ascent_follows_an_interaction_over_rounds():
    # b pays only once a is 1: a one-round search from (0, 0) stops short of (1, 1)
    space = {"b": [0, 1], "a": [0, 1]}
    score = lambda s: s["a"] + 2 * s["a"] * s["b"]  # noqa: E731
    assert ascend(score, {"a": 0, "b": 0}, space) == ({"a": 1, "b": 1}, 3)
    assert ascend(score, {"a": 0, "b": 0}, space, rounds=1) == ({"a": 1, "b": 0}, 1)


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__(dim=64, max_tokens=16)
        self.texts: list[str] = []

    def embed(self, texts, *, show_progress=False):
        self.texts.extend(texts)
        return super().embed(texts)


def test_memo_embedder_embeds_each_text_once_with_the_same_vectors():
    inner = CountingEmbedder()
    memo = MemoEmbedder(inner)
    note = " ".join(f"word{i}" for i in range(40))  # longer than the window: embedded in parts
    first = embed_long(memo, note)
    calls = len(inner.texts)
    assert calls > 1 and np.allclose(first, embed_long(memo, note)) and len(inner.texts) == calls
    assert np.allclose(first, embed_long(HashingEmbedder(dim=64, max_tokens=16), note))
    assert memo.embed([]).shape == (0, 64)
