"""Small trial records and an assistant over them, for the answering tests (hashing embedder,
scripted generator: no models)."""

from __future__ import annotations

from pathlib import Path

from trialqa.assistant import Assistant
from trialqa.embed import HashingEmbedder
from trialqa.generate import ScriptedGenerator
from trialqa.index_build import build_index
from trialqa.store import load_index
from trialqa.types import Section, Source, Trial, TrialFields


def record(nct: str, title: str, sections: list[tuple[str, str]], fmt: str = "ctgov-xml", **fields) -> Trial:
    """A trial with a Title section, then `sections` as (name, text), and `fields`."""
    return Trial(trial_id=nct, nct_id=nct, doc_id=nct, title=title, source=Source(path=f"{nct}.{fmt}", format=fmt),
                 sections=[Section(name="Title", heading="Title", text=title)]
                 + [Section(name=n, heading=n, text=t) for n, t in sections],
                 fields=TrialFields(**fields))


def assistant_over(trials: list[Trial], out: Path, replies: list[str]) -> Assistant:
    """An assistant over an index of `trials` built in `out`, whose model says `replies` in turn."""
    embedder = HashingEmbedder()
    build_index(trials, out, embedder, progress=False)
    return Assistant(load_index(out, embedder), embedder, ScriptedGenerator(replies))
