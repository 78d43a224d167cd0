"""The embedder: the direct mean-pooling path for plain sentence-transformers directories."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from trialqa.embed import _plain_mean_pooling


def _st_dir(tmp_path: Path, modules: list[dict], pooling: dict | None) -> Path:
    (tmp_path / "modules.json").write_text(json.dumps(modules))
    if pooling is not None:
        (tmp_path / "1_Pooling").mkdir()
        (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    return tmp_path


TRANSFORMER = {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}
POOLING = {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}
NORMALIZE = {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}
MEAN = {"word_embedding_dimension": 384, "pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False}


@pytest.mark.parametrize(("modules", "pooling", "plain"), [
    ([TRANSFORMER, POOLING, NORMALIZE], MEAN, True),
    ([TRANSFORMER, POOLING], MEAN, True),
    ([TRANSFORMER, POOLING, NORMALIZE], {**MEAN, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}, False),
    ([TRANSFORMER, POOLING, NORMALIZE], {**MEAN, "pooling_mode_max_tokens": True}, False),
    ([TRANSFORMER, POOLING, {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}], MEAN, False),
    ([TRANSFORMER], None, False),
])
def test_only_transformer_plus_mean_pooling_takes_the_direct_path(tmp_path, modules, pooling, plain) -> None:
    assert _plain_mean_pooling(_st_dir(tmp_path, modules, pooling)) is plain


def test_directory_without_modules_json_is_left_to_sentence_transformers(tmp_path) -> None:
    assert _plain_mean_pooling(tmp_path) is False


@pytest.mark.integration
def test_direct_path_gives_sentence_transformers_vectors() -> None:
    from sentence_transformers import SentenceTransformer

    from trialqa.embed import SentenceTransformerEmbedder, bundled_embedder_path

    path = bundled_embedder_path()
    ours = SentenceTransformerEmbedder(path)
    assert ours._model is None, "the bundled model should take the direct path"
    texts = ["Which trials dose per kg intravenously?", "Ages: 18 to 65 years\nSex: All",
             "NCT01728727 | Umbilical cord MSC for liver cirrhosis | Arms\n" + "Participants receive cells via hepatic artery. " * 40]
    reference = SentenceTransformer(str(path), device="cpu", local_files_only=True).encode(texts, normalize_embeddings=True)
    np.testing.assert_allclose(ours.embed(texts), reference, atol=1e-5)
    assert ours.dim == 384 and ours.max_tokens == 256


@pytest.mark.integration
def test_bfloat16_batches_match_float32_vectors() -> None:
    """A batch embedded in bfloat16 (the default on CPUs with bfloat16 instructions) points
    where the float32 vectors point; small inputs stay in float32."""
    from trialqa.embed import _SMALL, SentenceTransformerEmbedder, bundled_embedder_path

    path = bundled_embedder_path()
    exact = SentenceTransformerEmbedder(path, dtype="float32")
    fast = SentenceTransformerEmbedder(path, dtype="bfloat16")
    assert not exact.bf16 and fast.bf16
    texts = [f"Group {i} receives {i}.5 mg/kg of drug X intravenously every {i % 4 + 1} weeks for psoriasis."
             for i in range(3 * _SMALL)]
    cosine = (exact.embed(texts) * fast.embed(texts)).sum(axis=1)
    assert cosine.min() > 0.999
    np.testing.assert_array_equal(exact.embed(texts[:_SMALL]), fast.embed(texts[:_SMALL]))
