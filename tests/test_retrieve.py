"""Hybrid retrieval over a tiny fixed corpus with known top hits (HashingEmbedder, fast)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trialqa.embed import HashingEmbedder
from trialqa.index_build import build_index
from trialqa.retrieve import Retriever
from trialqa.settings import Settings
from trialqa.store import load_index, sparse_tokens
from trialqa.types import Section, Source, Trial


def make_trial(nct: str, title: str, sections: dict[str, str]) -> Trial:
    return Trial(
        trial_id=nct, nct_id=nct, doc_id=nct, title=title,
        source=Source(path=f"{nct}.xml", format="ctgov-xml"),
        sections=[Section(name=name, text=text) for name, text in sections.items()],
    )


def tiny_corpus() -> list[Trial]:
    """Four trials on different topics; each Locations section names only a hospital and city."""
    return [
        make_trial("NCT00000001", "Inhaled Budesonide for Severe Asthma", {
            "Summary": "This study tests whether inhaled budesonide reduces exacerbations in adults with severe asthma.",
            "Eligibility: Inclusion": "- Adults aged 18 to 65\n- Two or more exacerbations in the past year",
            "Locations": "Mercy General Hospital, Springfield",
        }),
        make_trial("NCT00000002", "Weekly Insulin Glargine in Type 2 Diabetes", {
            "Summary": "A trial of once weekly insulin glargine dosing for glycaemic control in type 2 diabetes.",
            "Eligibility: Exclusion": "- Pregnancy\n- Severe kidney disease",
            "Locations": "Lakeside Medical Center, Riverton",
        }),
        make_trial("NCT00000003", "Docetaxel Chemotherapy in Metastatic Breast Cancer", {
            "Summary": "Docetaxel given every three weeks to women with metastatic breast cancer.",
            "Interventions": "Drug: docetaxel 75 mg/m2 intravenously",
            "Locations": "Northside Cancer Institute, Hill Valley",
        }),
        make_trial("NCT00000004", "Exercise Therapy for Knee Osteoarthritis", {
            "Summary": "Supervised exercise therapy to reduce knee pain in osteoarthritis.",
            "Eligibility: Inclusion": "- Knee osteoarthritis on X-ray\n- Knee pain on most days",
            "Locations": "Riverside Clinic, Ogdenville",
        }),
    ]


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    embedder, settings = HashingEmbedder(), Settings()
    out = tmp_path_factory.mktemp("idx") / "tiny"
    build_index(tiny_corpus(), out, embedder, settings, progress=False)
    return Retriever(load_index(out, embedder, settings), embedder, settings)


@pytest.mark.parametrize(("query", "trial", "section"), [
    ("once weekly insulin dosing in type 2 diabetes", "NCT00000002", "Summary"),
    ("docetaxel every three weeks", "NCT00000003", "Summary"),
    ("exclusion pregnancy kidney disease", "NCT00000002", "Eligibility: Exclusion"),
    ("supervised exercise knee pain", "NCT00000004", "Summary"),
])
def test_known_top_hits(retriever: Retriever, query: str, trial: str, section: str) -> None:
    top = retriever.search(query, 3)[0]
    assert (top.chunk.trial_id, top.chunk.section) == (trial, section)
    assert top.rank == 1


def test_header_makes_locations_retrievable_by_condition(retriever: Retriever) -> None:
    hits = retriever.search("Where are the locations of the asthma trial?", 3)
    assert (hits[0].chunk.trial_id, hits[0].chunk.section) == ("NCT00000001", "Locations")
    assert "asthma" not in hits[0].chunk.text.lower()  # found through its header only


def test_nct_id_and_numbers_are_sparse_tokens() -> None:
    tokens = sparse_tokens("Is NCT01234567 a Phase 2 trial for ages 18 to 65?")
    assert {"nct01234567", "2", "18", "65", "phase"} <= set(tokens)
    assert "is" not in tokens and "a" not in tokens and "for" not in tokens


def test_query_naming_nct_id_ranks_that_trial_first(retriever: Retriever) -> None:
    assert retriever.search("NCT00000003", 1)[0].chunk.trial_id == "NCT00000003"


def test_trial_ids_filter(retriever: Retriever) -> None:
    hits = retriever.search("insulin diabetes", 10, trial_ids=["NCT00000004", "NCT00000001"])
    assert hits and {h.chunk.trial_id for h in hits} <= {"NCT00000004", "NCT00000001"}
    assert retriever.search("insulin", 5, trial_ids=["NCT99999999"]) == []


def test_sections_filter_matches_prefixes(retriever: Retriever) -> None:
    hits = retriever.search("adults knee pregnancy", 10, sections=["Eligibility"])
    assert hits and all(h.chunk.section.startswith("Eligibility: ") for h in hits)
    both = retriever.search("docetaxel", 10, trial_ids=["NCT00000003"], sections=["Interventions"])
    assert [h.chunk.section for h in both] == ["Interventions"]


def test_diverse_hits_cover_every_trial(retriever: Retriever) -> None:
    plain = retriever.search("trial summary study", 4)
    diverse = retriever.search("trial summary study", 4, diverse=True)
    assert len({h.chunk.trial_id for h in diverse}) == 4
    assert len({h.chunk.trial_id for h in diverse}) >= len({h.chunk.trial_id for h in plain})
    many = retriever.search("trial summary study", 50, diverse=True)
    per_trial = [sum(h.chunk.trial_id == t for h in many) for t in {h.chunk.trial_id for h in many}]
    assert max(per_trial) <= retriever.settings.retrieval.max_per_trial
    assert [h.rank for h in many] == list(range(1, len(many) + 1))


def test_long_query_dense_side_sees_past_the_first_window(retriever: Retriever) -> None:
    """A patient note whose only topical words come after 600 filler words still finds its trial."""
    dense_only = Retriever(retriever.index, retriever.embedder, Settings(retrieval={"sparse_weight": 0.0}))
    note = "patient reports feeling tired lately " * 120 + "insulin glargine weekly type 2 diabetes"
    assert retriever.embedder.count_tokens(note) > 2 * retriever.embedder.max_tokens
    assert dense_only.search(note, 1)[0].chunk.trial_id == "NCT00000002"


def test_rank_trials_unique_best_first(retriever: Retriever) -> None:
    ranked = retriever.rank_trials("knee osteoarthritis exercise", 4)
    ids = [t for t, _ in ranked]
    assert ids[0] == "NCT00000004" and len(ids) == len(set(ids)) == 4
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)


def test_queries_without_content_do_not_crash(retriever: Retriever) -> None:
    assert retriever.search("the of and", 3) is not None
    assert retriever.search("   ", 3) == []


@pytest.mark.parametrize("kind", ["hnsw", "ivfpq"])
def test_approximate_dense_indexes_build_and_search(tmp_path: Path, kind: str) -> None:
    embedder = HashingEmbedder(dim=64)
    settings = Settings(retrieval={"faiss_index": kind, "nprobe": 4})
    trials = [make_trial(f"NCT{i:08d}", f"Study {i} of condition {i % 7}", {
        "Summary": f"Treatment arm {i} for condition {i % 7} with drug{i % 11}",
    }) for i in range(200)]
    build_index(trials, tmp_path / kind, embedder, settings, progress=False)
    index = load_index(tmp_path / kind, embedder, settings)
    assert index.manifest.dense["kind"] == kind
    hits = Retriever(index, embedder, settings).search("Study 42 of condition 0 drug9", 3)
    assert hits[0].chunk.trial_id == "NCT00000042"
    assert np.allclose(np.linalg.norm(index.embeddings, axis=1), 1.0, atol=1e-5)


def test_ivfpq_candidates_are_reranked_with_the_exact_vectors(tmp_path: Path) -> None:
    embedder = HashingEmbedder(dim=64)
    trials = [make_trial(f"NCT{i:08d}", f"Study {i} of condition {i % 7}", {
        "Summary": f"Treatment arm {i} for condition {i % 7} with drug{i % 11} and dose {i % 5} mg",
    }) for i in range(300)]
    settings = Settings(retrieval={"faiss_index": "ivfpq", "nprobe": 1000, "refine": 1000})
    build_index(trials, tmp_path / "ivf", embedder, settings, progress=False)
    index = load_index(tmp_path / "ivf", embedder, settings)
    query = "condition 3 with drug5 and dose 2 mg"
    exact = np.asarray(index.embeddings) @ embedder.embed([query])[0]
    want = [int(index.dense_rows[i]) for i in np.argsort(-exact, kind="stable")[:10]]
    got = Retriever(index, embedder, settings)._dense(query, 10, None)
    assert np.allclose(exact[[int(index.dense_pos[r]) for r in got]], exact[[int(index.dense_pos[r]) for r in want]], atol=1e-6)
    coarse = Retriever(index, embedder, settings.model_copy(update={"retrieval": settings.retrieval.model_copy(update={"refine": 1})}))
    unranked = coarse._dense(query, 10, None)
    coarse_scores = np.sort(exact[[int(index.dense_pos[r]) for r in unranked]])[::-1]
    assert np.all(coarse_scores <= exact[[int(index.dense_pos[r]) for r in got]] + 1e-6)
