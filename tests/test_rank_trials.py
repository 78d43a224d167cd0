"""Trial ranking (`Retriever.rank_trials`, `trialqa.trial_rank`): query analysis, the weighted
BM25 against bm25s itself, aggregation over every chunk, demographics, fusion (HashingEmbedder)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_retrieve import make_trial, tiny_corpus

from trialqa.embed import HashingEmbedder
from trialqa.index_build import build_index
from trialqa.retrieve import Retriever
from trialqa.settings import Settings
from trialqa.store import load_index, sparse_tokens
from trialqa.trial_rank import (
    ConditionVocabulary,
    Demographics,
    RecordTerms,
    analyse,
    patient_age,
    patient_sex,
    trial_age_years,
    weighted_bm25,
    zscore,
)
from trialqa.types import Trial, TrialFields

EMBEDDER = HashingEmbedder()


def with_fields(trial: Trial, **fields: object) -> Trial:
    return trial.model_copy(update={"fields": TrialFields(**fields)})


def corpus() -> list[Trial]:
    """The tiny corpus with conditions and eligibility fields, plus a long trial whose
    matching text is far down, in its eleventh Eligibility chunk."""
    a, b, c, d = tiny_corpus()
    long_text = "\n".join(f"- Criterion {i}: stable residence and a working telephone line" for i in range(400))
    long = make_trial("NCT00000005", "A Registry of Outpatients", {
        "Summary": "An outpatient registry.",
        "Eligibility: Inclusion": long_text + "\n- Confirmed sarcoidosis of the lung on biopsy",
    })
    return [
        with_fields(a, conditions=["Asthma"], min_age="18 Years", max_age="65 Years", sex="All"),
        with_fields(b, conditions=["Type 2 Diabetes"], condition_mesh=["Diabetes Mellitus, Type 2"], min_age="18 Years"),
        with_fields(c, conditions=["Metastatic Breast Cancer"], sex="Female", min_age="18 Years"),
        with_fields(d, conditions=["Knee Osteoarthritis"], min_age="50 Years", max_age="N/A"),
        with_fields(long, conditions=["Sarcoidosis"]),
    ]


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    out = tmp_path_factory.mktemp("idx") / "ranked"
    build_index(corpus(), out, EMBEDDER, Settings(), progress=False)
    return Retriever(load_index(out, EMBEDDER, Settings()), EMBEDDER, Settings())


@pytest.mark.parametrize(("text", "age", "sex"), [
    ("A 58-year-old African-American woman presents to the ER with chest pain.", 58.0, "Female"),
    ("Patient is a 45-year-old man with anaplastic astrocytoma. He has pain.", 45.0, "Male"),
    ("A 3-month-old boy with fever.", 0.25, "Male"),
    ("Patient aged 72, history of falls.", 72.0, None),
    ("48 M with a h/o HTN and hyperlipidemia. EF was 25%.", 48.0, "Male"),
    ("What trials study asthma?", None, None),
])
def test_patient_age_and_sex(text: str, age: float | None, sex: str | None) -> None:
    assert patient_age(text) == pytest.approx(age) if age is not None else patient_age(text) is None
    assert patient_sex(text) == sex


def test_trial_age_years() -> None:
    assert trial_age_years("18 Years") == 18.0
    assert trial_age_years("6 Months") == pytest.approx(0.5)
    assert trial_age_years("N/A") is None and trial_age_years(None) is None


def test_analyse_boosts_condition_phrases_and_lowers_negated_ones() -> None:
    vocabulary = ConditionVocabulary(corpus())
    q = analyse("A 60-year-old woman with type 2 diabetes and tiredness. She denies asthma or smoking.",
                vocabulary, key_boost=2.0, negated_weight=0.25)
    assert q.weights["diabetes"] == pytest.approx(3.0) and q.weights["tiredness"] == pytest.approx(1.0)
    assert q.weights["asthma"] == pytest.approx(0.75) and q.weights["smoking"] == pytest.approx(0.25)
    assert q.key_phrases == ["type 2 diabetes"]  # asthma is negated
    assert q.age == 60.0 and q.sex == "Female"
    assert "60 year old female" in q.key_text and "type 2 diabetes" in q.key_text


def test_weight_cap_stops_repeated_narrative_words_outweighing_the_diagnosis() -> None:
    note = "Left knee pain. Pain at night, pain on stairs, pain at rest. Known asthma."
    vocabulary = ConditionVocabulary(corpus())
    uncapped = analyse(note, vocabulary, key_boost=0.5, negated_weight=0.3)
    assert uncapped.weights["pain"] == pytest.approx(4.0) and uncapped.weights["asthma"] == pytest.approx(1.5)
    capped = analyse(note, vocabulary, key_boost=0.5, negated_weight=0.3, weight_cap=1.5)
    assert capped.weights["pain"] == pytest.approx(1.5) and capped.weights["asthma"] == pytest.approx(1.5)
    assert capped.weights["knee"] == pytest.approx(1.0)  # one occurrence, under the cap: unchanged


def test_weight_cap_setting_reaches_the_ranker(retriever: Retriever) -> None:
    note = "Pain, pain, pain and more pain; also asthma."
    capped = Retriever(retriever.index, EMBEDDER, Settings(retrieval={"trial_query_weight_cap": 1.0}))
    free = Retriever(retriever.index, EMBEDDER, Settings(retrieval={"trial_query_weight_cap": 0.0}))
    assert capped.trial_ranker.analyse(note).weights["pain"] == pytest.approx(1.0)
    assert free.trial_ranker.analyse(note).weights["pain"] == pytest.approx(4.0)


def test_negation_scope_ends_at_but() -> None:
    q = analyse("No fever but severe asthma.", ConditionVocabulary(corpus()), key_boost=1.0, negated_weight=0.0)
    assert q.weights.get("fever", 0.0) == 0.0 and q.weights["asthma"] == pytest.approx(2.0)


def test_weighted_bm25_equals_bm25s_for_unit_weights(retriever: Retriever) -> None:
    bm25 = retriever.index.trial_sparse
    tokens = sparse_tokens("insulin diabetes knee pain asthma")
    want = bm25.get_scores_from_ids(bm25.get_tokens_ids(tokens))
    got = weighted_bm25(bm25, dict.fromkeys(tokens, 1.0))
    assert np.allclose(got, want, atol=1e-5)
    doubled = weighted_bm25(bm25, dict.fromkeys(tokens, 2.0))
    assert np.allclose(doubled, 2 * want, atol=1e-5)
    assert not weighted_bm25(bm25, {"unknownword": 1.0}).any()


def test_demographics_exclude_by_age_and_sex() -> None:
    demo = Demographics.of(corpus())
    assert demo.excluded(70.0, "Male").tolist() == [True, False, True, False, False]
    assert demo.excluded(30.0, "Female").tolist() == [False, False, False, True, False]
    assert not demo.excluded(None, None).any()


def test_zscore_handles_missing_scores() -> None:
    z = zscore(np.array([1.0, 2.0, 3.0, -np.inf], dtype=np.float32))
    assert z[1] == pytest.approx(0.0) and z[3] == z[0] and z[2] > z[1]


def test_rank_trials_finds_text_in_any_chunk(retriever: Retriever) -> None:
    rows = retriever.index.chunk_rows("NCT00000005")
    assert len(rows) > 10  # the sarcoidosis criterion is in a late chunk, without a vector of its own
    ranked = retriever.rank_trials("Biopsy confirmed sarcoidosis of the lung", 3)
    assert ranked[0][0] == "NCT00000005"


@pytest.mark.parametrize(("note", "trial"), [
    ("A 40-year-old man with type 2 diabetes on metformin, HbA1c 9%. He denies asthma.", "NCT00000002"),
    ("A 52-year-old woman with metastatic breast cancer after surgery, offered docetaxel.", "NCT00000003"),
    ("A 67-year-old man with knee osteoarthritis, knee pain on most days.", "NCT00000004"),
])
def test_rank_trials_known_top_trial_for_notes(retriever: Retriever, note: str, trial: str) -> None:
    ranked = retriever.rank_trials(note, 5)
    assert ranked[0][0] == trial
    assert len({t for t, _ in ranked}) == len(ranked) == 5
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)


def test_demographic_penalty_demotes_excluded_trials(retriever: Retriever) -> None:
    note = "A 35-year-old man with knee osteoarthritis and knee pain, and asthma exacerbations."
    plain = Retriever(retriever.index, EMBEDDER, Settings(retrieval={"trial_demographic_penalty": 0.0}))
    assert plain.rank_trials(note, 1)[0][0] == "NCT00000004"
    strict = Retriever(retriever.index, EMBEDDER, Settings(retrieval={"trial_demographic_penalty": 10.0}))
    assert strict.rank_trials(note, 1)[0][0] == "NCT00000001"  # the knee trial starts at 50


def test_rank_trials_edge_cases(retriever: Retriever) -> None:
    assert retriever.rank_trials("   ", 5) == [] and retriever.rank_trials("asthma", 0) == []
    assert len(retriever.rank_trials("asthma", 50)) == 5


def test_each_weight_changes_the_ranking_it_should(retriever: Retriever) -> None:
    """With only the record weight the fused order is the whole-record BM25 order."""
    only_record = Retriever(retriever.index, EMBEDDER, Settings(retrieval={
        "trial_chunk_weight": 0.0, "trial_dense_weight": 0.0, "trial_demographic_penalty": 0.0, "trial_key_boost": 0.0,
        "trial_feedback_docs": 0}))
    query = "insulin glargine asthma knee"
    bm25 = retriever.index.trial_sparse
    scores = bm25.get_scores_from_ids(bm25.get_tokens_ids(sparse_tokens(query)))
    ids = list(retriever.index.trials)
    want = [ids[i] for i in np.lexsort((np.arange(len(ids)), -scores))]
    assert [t for t, _ in only_record.rank_trials(query, 5)] == want


def test_trial_ranker_on_an_index_with_few_vectors(tmp_path: Path) -> None:
    """A large-corpus index embeds only some sections: trials without vectors still rank."""
    settings = Settings(retrieval={"dense_all_up_to": 0, "dense_sections": ["Conditions"]})
    build_index(corpus(), tmp_path / "few", EMBEDDER, settings, progress=False)
    index = load_index(tmp_path / "few", EMBEDDER, settings)
    assert len(index.dense_rows) < len(index.chunks)
    ranked = Retriever(index, EMBEDDER, settings).rank_trials("confirmed sarcoidosis of the lung", 5)
    assert ranked[0][0] == "NCT00000005" and len(ranked) == 5


def test_long_note_dense_side_sees_past_the_first_window(tmp_path: Path) -> None:
    """A note far longer than the embedder's window is windowed, not truncated: its only
    topical words, after 600 filler words, still lead the dense-only ranking."""
    build_index(corpus()[:4], tmp_path / "four", EMBEDDER, Settings(), progress=False)
    dense_only = Retriever(load_index(tmp_path / "four", EMBEDDER, Settings()), EMBEDDER, Settings(retrieval={
        "trial_record_weight": 0.0, "trial_chunk_weight": 0.0, "trial_demographic_penalty": 0.0,
        "trial_key_vector_weight": 0.0}))
    note = "patient reports feeling tired lately " * 120 + "insulin glargine weekly type 2 diabetes"
    assert EMBEDDER.count_tokens(note) > 2 * EMBEDDER.max_tokens
    assert dense_only.rank_trials(note, 1)[0][0] == "NCT00000002"


def test_a_component_with_zero_weight_is_not_computed(retriever: Retriever) -> None:
    note = "Biopsy confirmed sarcoidosis of the lung"
    without = Retriever(retriever.index, EMBEDDER, Settings(retrieval={"trial_chunk_weight": 0.0}))
    with_chunks = Retriever(retriever.index, EMBEDDER, Settings(retrieval={"trial_chunk_weight": 0.5}))
    assert "chunks" not in without.trial_ranker.components(note)[1]
    _, scores = with_chunks.trial_ranker.components(note)
    assert set(scores) == {"record", "chunks", "dense"}
    assert with_chunks.rank_trials(note, 1)[0][0] == "NCT00000005"


def test_record_terms_hold_each_documents_bm25_contributions(retriever: Retriever) -> None:
    """Turned around, the index gives back bm25s's own scores: a document's contributions of
    the query tokens add up to its weighted_bm25 score."""
    bm25 = retriever.index.trial_sparse
    terms = RecordTerms(bm25)
    tokens = sparse_tokens("insulin diabetes knee pain asthma sarcoidosis exacerbations")
    want = weighted_bm25(bm25, dict.fromkeys(tokens, 1.0))
    for doc in range(len(want)):
        a, b = terms.starts[doc], terms.starts[doc + 1]
        got = sum(float(v) for t, v in zip(terms.tokens[a:b], terms.values[a:b], strict=True) if terms.names[t] in tokens)
        assert got == pytest.approx(float(want[doc]), abs=1e-4)


def test_expansion_weights_terms_by_the_feedback_documents(retriever: Retriever) -> None:
    terms = RecordTerms(retriever.index.trial_sparse)
    ids = list(retriever.index.trials)
    diabetes, knee = ids.index("NCT00000002"), ids.index("NCT00000004")
    alone = terms.expansion(np.array([diabetes]), np.array([1.0]), 50)
    assert max(alone.values()) == pytest.approx(1.0) and "glargine" in alone and "knee" not in alone
    assert not any(t.isdigit() or len(t) == 1 for t in alone)  # "2" of "type 2" is left out
    mixed = terms.expansion(np.array([diabetes, knee]), np.array([1.0, 0.01]), 50)
    assert mixed.get("knee", 0.0) < 0.05 < mixed["glargine"]  # the weak document adds little
    assert terms.expansion(np.array([diabetes]), np.array([1.0]), 0) == {}


def test_feedback_finds_a_trial_that_shares_the_best_records_words_not_the_notes(tmp_path: Path) -> None:
    """The note names findings, not the diagnosis; the best-matching record names it, and its
    terms bring in the trial on that diagnosis which shares no word with the note."""
    trials = [
        make_trial("NCT00000011", "Seizures and Headache as First Signs of Glioblastoma", {
            "Summary": "Glioblastoma of the frontal lobe presenting with new seizures and morning headache."}),
        make_trial("NCT00000012", "Temozolomide for Glioblastoma", {
            "Summary": "Temozolomide chemotherapy after resection of glioblastoma."}),
        make_trial("NCT00000013", "Inhaled Budesonide for Severe Asthma", {
            "Summary": "Budesonide to reduce asthma exacerbations."}),
    ]
    build_index(trials, tmp_path / "fb", EMBEDDER, Settings(), progress=False)
    index = load_index(tmp_path / "fb", EMBEDDER, Settings())
    note = "New seizures over two weeks, then headache on waking."
    scores = {}
    for docs in (0, 3):
        settings = Settings(retrieval={"trial_feedback_docs": docs, "trial_feedback_terms": 10})
        record = Retriever(index, EMBEDDER, settings).trial_ranker.components(note)[1]["record"]
        scores[docs] = dict(zip(index.trials, record.tolist(), strict=True))
    assert scores[0]["NCT00000012"] == 0.0 and scores[0]["NCT00000011"] > 0
    assert scores[3]["NCT00000012"] > scores[3]["NCT00000013"] == 0.0
    assert scores[3]["NCT00000011"] > scores[3]["NCT00000012"]
