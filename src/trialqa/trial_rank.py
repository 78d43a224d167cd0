"""Trial-level ranking: the one path `trialqa search --trials`, the assistant's trial finding
and the retrieval benchmark share (`Retriever.rank_trials`).

A query (a short question or a long patient note) is analysed once into a `TrialQuery`:
its sparse tokens with weights (terms of condition phrases that the indexed trials name
are weighted up, negated ones by `trial_negated_weight` (1 = as any other), bare numbers
and single letters left out, and no token above `trial_query_weight_cap` however often
the note repeats it), the patient's age and sex when stated, and a short "key text" of
those phrases for the dense side. A note longer than the embedder's window is embedded
window by window and averaged (`embed_long`), never truncated. Every trial then gets three
scores:

    record  BM25 over the whole record (the index's `bm25_trials`), with pseudo-relevance
            feedback (RM3-like): a first record ranking (with the demographic penalty) picks its
            best `trial_feedback_docs` trials; each trial's BM25 term contributions, normalised
            to sum 1 and weighted by exp(its z-score - the best one's), are summed, and the
            `trial_feedback_terms` strongest terms join the query at up to `trial_feedback_weight`
            before the record is scored again (10 trials, 5 terms, 0.75; see below for the choice)
    chunks  its best chunk's BM25 (every chunk of the trial competes, not only a first hit;
            weight 0 by default: the tuning cohort gained nothing from it beside the whole record)
    dense   its best chunk vector's cosine to the query (note windows averaged, + the key
            text's vector when `trial_key_vector_weight` > 0)

each standardised over the trials (z-scores), summed with weights, minus a penalty when the
stated age or sex is outside the trial's eligibility. A component whose weight is 0 is not
computed. The weights are settings (`retrieval.trial_*`). Their defaults were chosen on the
sigir cohort alone by coordinate ascent (benchmarks/tune_ranking.py, over the 2,000 XML
records) and are reported on the held-out trec_2021 and trec_2022 (benchmarks/retrieval.py).
Sigir's notes describe findings more than they name a diagnosis; settings chosen there carry
over to the trec cohorts (held out: 1.72x and 1.60x whole-record bm25s), while settings
chosen on trec_2022 did not carry over to sigir (1.02x-1.14x, by where the ascent starts).
With a key term weighed at the cap (1 + `trial_key_boost` > `trial_query_weight_cap`), a
condition the trials name counts as much as a word the note repeats, and no more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trialqa.store import sparse_tokens
from trialqa.types import Trial

#: A query of at most this many word pieces is its own key text (no second vector).
_KEY_VECTOR_ABOVE = 48
#: Feedback trials are weighted by exp((z - best z) / this): sigir kept 1 among 0.5, 1, 2 and flat weights.
_FEEDBACK_TEMPERATURE = 1.0
#: Longest condition phrase (in sparse tokens) looked up in a query.
_MAX_PHRASE = 5
_AGE = re.compile(
    r"\b(\d{1,3}(?:\.\d)?)[- ]?(years?|yrs?|y|months?|mo|weeks?|wk|days?)[- ]?old\b"
    r"|\baged? (\d{1,3})\b|\b(\d{1,3}) ?(?:yo|y/o|y\.o\.)\b",
    re.IGNORECASE,
)
#: Clinical shorthand: "48 M with a h/o HTN", "63 yo F".
_AGE_SEX = re.compile(r"\b(\d{1,3}) ?(?:yo|y/o|y\.o\.)? ?([MF])\b")
_FEMALE = re.compile(r"\b(woman|female|girl|lady|mother|she|her|pregnant)\b", re.IGNORECASE)
_MALE = re.compile(r"\b(man|male|boy|gentleman|father|he|his)\b", re.IGNORECASE)
_NEG_TRIGGER = re.compile(
    r"\b(no|not|denies|denied|deny|without|negative for|absence of|free of|never|rules? out|ruled out)\b",
    re.IGNORECASE,
)
#: A negation's scope ends at the end of the sentence or at one of these words.
_NEG_STOP = re.compile(r"[.;:!?]|\b(but|however|although|though|except|which|who|presents?|reports?)\b", re.IGNORECASE)
_UNIT_YEARS = {"y": 1.0, "yr": 1.0, "year": 1.0, "mo": 1 / 12, "month": 1 / 12, "wk": 1 / 52, "week": 1 / 52,
               "day": 1 / 365, "hour": 1 / 8760, "minute": 1 / 525600}


@dataclass(frozen=True)
class TrialQuery:
    """A query analysed for trial ranking."""

    text: str
    weights: dict[str, float]  # sparse token -> weight (summed over occurrences)
    key_phrases: list[str] = field(default_factory=list)  # condition phrases found, not negated
    age: float | None = None  # years
    sex: str | None = None  # "Female" / "Male"

    @property
    def key_text(self) -> str:
        """A short text of what matters for matching: who the patient is and the conditions."""
        who = " ".join(p for p in (f"{self.age:g} year old" if self.age is not None else "",
                                   (self.sex or "").lower()) if p)
        return "; ".join(p for p in (who, ", ".join(self.key_phrases)) if p)


class ConditionVocabulary:
    """Condition phrases the indexed trials name (conditions, MeSH terms, keywords), as token tuples."""

    def __init__(self, trials: list[Trial]) -> None:
        phrases: set[tuple[str, ...]] = set()
        for trial in trials:
            f = trial.fields
            for phrase in (*f.conditions, *f.condition_mesh, *f.keywords):
                tokens = tuple(sparse_tokens(phrase))
                if 0 < len(tokens) <= _MAX_PHRASE and not all(t.isdigit() for t in tokens):
                    phrases.add(tokens)
        self.phrases = phrases

    def find(self, tokens: list[str]) -> list[tuple[int, int]]:
        """Spans (start, end) of the longest known phrases in `tokens`, left to right."""
        spans, i = [], 0
        while i < len(tokens):
            for n in range(min(_MAX_PHRASE, len(tokens) - i), 0, -1):
                if tuple(tokens[i : i + n]) in self.phrases:
                    spans.append((i, i + n))
                    i += n
                    break
            else:
                i += 1
        return spans


def analyse(text: str, vocabulary: ConditionVocabulary, key_boost: float, negated_weight: float,
            weight_cap: float = 0.0) -> TrialQuery:
    """Weighted tokens, condition phrases, age and sex of a query (see the module docstring).
    A token's weight is summed over its occurrences, then capped at `weight_cap` (0 = no cap):
    a long note repeats its narrative words ("pain", "left", "history") more than its
    diagnosis, and uncapped those repeats outweigh the terms that decide the match."""
    weights: dict[str, float] = {}
    phrases: list[str] = []
    for clause, negated in _clauses(text):
        tokens = sparse_tokens(clause)
        boost = np.ones(len(tokens))
        for start, end in vocabulary.find(tokens):
            boost[start:end] = 1.0 + key_boost
            if not negated:
                phrases.append(" ".join(tokens[start:end]))
        if negated:
            boost *= negated_weight
        for token, b in zip(tokens, boost, strict=True):
            if len(token) > 1 and not token.isdigit():  # lab values and doses match trials at random
                weights[token] = weights.get(token, 0.0) + float(b)
    if weight_cap > 0:
        weights = {t: min(w, weight_cap) for t, w in weights.items()}
    return TrialQuery(text=text, weights=weights, key_phrases=list(dict.fromkeys(phrases)),
                      age=patient_age(text), sex=patient_sex(text))


def _clauses(text: str) -> list[tuple[str, bool]]:
    """The text cut into (piece, negated) at negation triggers and the ends of their scopes."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for trigger in _NEG_TRIGGER.finditer(text):
        if trigger.start() < pos:
            continue
        out.append((text[pos : trigger.start()], False))
        stop = _NEG_STOP.search(text, trigger.end())
        end = stop.start() if stop else len(text)
        out.append((text[trigger.end() : end], True))
        pos = end
    out.append((text[pos:], False))
    return [(piece, neg) for piece, neg in out if piece.strip()]


def patient_age(text: str) -> float | None:
    """The first stated age in years ("a 58-year-old woman", "aged 7", "3-month-old")."""
    match = _AGE.search(text)
    if not match:
        short = _AGE_SEX.search(text)
        return float(short.group(1)) if short else None
    if match.group(1):
        unit = match.group(2).lower().rstrip("s")
        return float(match.group(1)) * _UNIT_YEARS.get(unit, 1.0)
    return float(match.group(3) or match.group(4))


def patient_sex(text: str) -> str | None:
    """Female or Male from the words that say so, by majority; None when unclear."""
    short = _AGE_SEX.search(text)
    female, male = len(_FEMALE.findall(text)), len(_MALE.findall(text))
    if short:
        female, male = female + 2 * (short.group(2) == "F"), male + 2 * (short.group(2) == "M")
    if female > male:
        return "Female"
    if male > female:
        return "Male"
    return None


def trial_age_years(value: str | None) -> float | None:
    """'18 Years', '6 Months', 'N/A' -> years or None."""
    if not value:
        return None
    match = re.match(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)", value)
    if not match:
        return None
    unit = match.group(2).lower().rstrip("s")
    return float(match.group(1)) * _UNIT_YEARS.get(unit, 1.0)


@dataclass
class Demographics:
    """Per-trial age bounds (years, nan when open) and sex (0 all, 1 female, 2 male)."""

    min_age: np.ndarray
    max_age: np.ndarray
    sex: np.ndarray

    @classmethod
    def of(cls, trials: list[Trial]) -> Demographics:
        lo = [trial_age_years(t.fields.min_age) for t in trials]
        hi = [trial_age_years(t.fields.max_age) for t in trials]
        sex = [{"Female": 1, "Male": 2}.get(t.fields.sex or "", 0) for t in trials]
        as_array = lambda xs: np.array([np.nan if x is None else x for x in xs], dtype=np.float64)  # noqa: E731
        return cls(as_array(lo), as_array(hi), np.array(sex, dtype=np.int8))

    def excluded(self, age: float | None, sex: str | None) -> np.ndarray:
        """True for trials whose stated age range or sex leaves the patient out."""
        out = np.zeros(len(self.sex), dtype=bool)
        if age is not None:
            with np.errstate(invalid="ignore"):
                out |= (self.min_age > age + 0.5) | (self.max_age < age)
        if sex is not None:
            out |= self.sex == (2 if sex == "Female" else 1)
        return out


def weighted_bm25(bm25: Any, weights: dict[str, float]) -> np.ndarray:
    """BM25 scores of every document of a bm25s index for token weights (a weighted query):
    sum over tokens of weight x the token's precomputed BM25 contribution."""
    vocab = bm25.vocab_dict
    data, indices, indptr = bm25.scores["data"], bm25.scores["indices"], bm25.scores["indptr"]
    out = np.zeros(bm25.scores["num_docs"], dtype=np.float32)
    parts, part_weights = [], []
    for token, weight in weights.items():
        tid = vocab.get(token)
        if tid is None or weight <= 0:
            continue
        a, b = indptr[tid], indptr[tid + 1]
        if b > a:
            parts.append((a, b))
            part_weights.append(weight)
    if not parts:
        return out
    idx = np.concatenate([indices[a:b] for a, b in parts])
    vals = np.concatenate([data[a:b] * w for (a, b), w in zip(parts, part_weights, strict=True)])
    return np.bincount(idx, weights=vals, minlength=len(out)).astype(np.float32)


class RecordTerms:
    """A bm25s index turned around for feedback: each document's tokens and their BM25
    contributions (bm25s stores them token by token)."""

    def __init__(self, bm25: Any) -> None:
        data, indices, indptr = bm25.scores["data"], bm25.scores["indices"], bm25.scores["indptr"]
        n_docs, n_tokens = bm25.scores["num_docs"], len(indptr) - 1
        order = np.argsort(indices, kind="stable")
        self.tokens = np.repeat(np.arange(n_tokens, dtype=np.int32), np.diff(indptr))[order]
        self.values = np.asarray(data, dtype=np.float32)[order]
        self.starts = np.concatenate([[0], np.cumsum(np.bincount(indices, minlength=n_docs))]).astype(np.int64)
        self.names = [""] * n_tokens
        for token, tid in bm25.vocab_dict.items():
            self.names[tid] = token
        # the same tokens `analyse` leaves out of a query: single letters and bare numbers
        self.usable = np.array([len(t) > 1 and not t.isdigit() for t in self.names], dtype=bool)

    def expansion(self, docs: np.ndarray, doc_weights: np.ndarray, n_terms: int) -> dict[str, float]:
        """The `n_terms` tokens weighing most over `docs` (each document's contributions
        normalised to sum 1, times its weight), scaled so that the strongest weighs 1."""
        total = np.zeros(len(self.names), dtype=np.float64)
        for doc, weight in zip(docs, doc_weights, strict=True):
            a, b = self.starts[doc], self.starts[doc + 1]
            values = self.values[a:b].astype(np.float64)
            if b > a and values.sum() > 0:
                total[self.tokens[a:b]] += weight * values / values.sum()  # a document lists a token once
        total[~self.usable] = 0.0
        best = np.argsort(-total, kind="stable")[:n_terms]
        top = float(total[best[0]]) if len(best) else 0.0
        return {self.names[t]: float(total[t]) / top for t in best if total[t] > 0} if top > 0 else {}


def group_max(values: np.ndarray, starts: np.ndarray, n_groups: int, group_of_start: np.ndarray) -> np.ndarray:
    """Max of `values` over contiguous groups beginning at `starts` (group ids `group_of_start`);
    groups without members get -inf."""
    out = np.full(n_groups, -np.inf, dtype=np.float32)
    if len(values):
        out[group_of_start] = np.maximum.reduceat(values, starts)
    return out


def zscore(x: np.ndarray) -> np.ndarray:
    """(x - mean) / std over finite entries; non-finite entries get the minimum z."""
    finite = np.isfinite(x)
    if not finite.any():
        return np.zeros_like(x, dtype=np.float32)
    mean, std = float(x[finite].mean()), float(x[finite].std())
    z = (x - mean) / (std or 1.0)
    z[~finite] = z[finite].min() if finite.any() else 0.0
    return z.astype(np.float32)


class TrialRanker:
    """Scores every trial of one index for a query (see the module docstring)."""

    def __init__(self, index: Any, embedder: Any, settings: Any) -> None:
        self.index, self.embedder, self.settings = index, embedder, settings
        trials = list(index.trials.values())
        self.trial_ids = [t.trial_id for t in trials]
        position = {tid: i for i, tid in enumerate(self.trial_ids)}
        self.vocabulary = ConditionVocabulary(trials)
        self.demographics = Demographics.of(trials)
        # chunk rows are contiguous per trial: group starts and their trial positions
        ranges = [(i, index.chunk_rows(tid)) for i, tid in enumerate(self.trial_ids) if len(index.chunk_rows(tid))]
        ranges.sort(key=lambda item: item[1].start)
        self._chunk_starts = np.array([rng.start for _, rng in ranges], dtype=np.int64)
        self._chunk_groups = np.array([pos for pos, _ in ranges], dtype=np.int64)
        trial_of_vector = np.array([position[index.chunks[r].trial_id] for r in index.dense_rows], dtype=np.int64)
        change = np.flatnonzero(np.diff(trial_of_vector)) + 1 if len(trial_of_vector) else np.array([], dtype=np.int64)
        self._vector_starts = np.concatenate([[0], change]).astype(np.int64) if len(trial_of_vector) else change
        self._vector_groups = trial_of_vector[self._vector_starts] if len(trial_of_vector) else change
        self._record_terms: RecordTerms | None = None

    def analyse(self, query: str) -> TrialQuery:
        r = self.settings.retrieval
        return analyse(query, self.vocabulary, r.trial_key_boost, r.trial_negated_weight, r.trial_query_weight_cap)

    def components(self, query: str) -> tuple[TrialQuery, dict[str, np.ndarray]]:
        """The analysed query and each trial's raw scores: record, chunks, dense."""
        r = self.settings.retrieval
        q = self.analyse(query)
        n = len(self.trial_ids)
        scores: dict[str, np.ndarray] = {}
        scores["record"] = self._with_feedback(q, weighted_bm25(self.index.trial_sparse, q.weights))
        if r.trial_chunk_weight > 0:
            chunk_scores = weighted_bm25(self.index.sparse, q.weights)
            scores["chunks"] = group_max(chunk_scores, self._chunk_starts, n, self._chunk_groups)
        if r.trial_dense_weight > 0 and len(self._vector_starts) and query.strip():
            vector = self._query_vector(query, q.key_text if r.trial_key_vector_weight > 0 else "")
            sims = np.asarray(self.index.embeddings) @ vector.astype(np.float32)
            scores["dense"] = group_max(sims.astype(np.float32), self._vector_starts, n, self._vector_groups)
        return q, scores

    def _with_feedback(self, q: TrialQuery, record: np.ndarray) -> np.ndarray:
        """The whole-record BM25 scores of the query with feedback terms (module docstring);
        `record` itself when feedback is off or nothing matched."""
        r = self.settings.retrieval
        off = min(r.trial_feedback_docs, r.trial_feedback_terms) <= 0 or r.trial_feedback_weight <= 0
        if off or not record.max(initial=0) > 0:
            return record
        first = self.fuse(q, {"record": record}, {"record": 1.0})  # the record ranking alone, with the penalty
        docs = np.lexsort((np.arange(len(first)), -first))[: r.trial_feedback_docs]
        doc_weights = np.exp((first[docs] - first[docs[0]]) / _FEEDBACK_TEMPERATURE)
        if self._record_terms is None:
            self._record_terms = RecordTerms(self.index.trial_sparse)
        weights = dict(q.weights)
        for token, weight in self._record_terms.expansion(docs, doc_weights, r.trial_feedback_terms).items():
            weights[token] = weights.get(token, 0.0) + r.trial_feedback_weight * weight
        return weighted_bm25(self.index.trial_sparse, weights)

    def _query_vector(self, query: str, key_text: str) -> np.ndarray:
        """The note's vector (its windows averaged when it is longer than the embedder's
        window, as `embed_long`) plus `trial_key_vector_weight` x the key text's, normalised.
        The short key text gets a call of its own: batched with a note it would be padded to
        the note's length (measured: twice the embedding time)."""
        from trialqa.embed import embed_long

        note = embed_long(self.embedder, query)
        if key_text and self.embedder.count_tokens(query) > _KEY_VECTOR_ABOVE:
            note = note + self.settings.retrieval.trial_key_vector_weight * self.embedder.embed([key_text])[0]
        return (note / (np.linalg.norm(note) or 1.0)).astype(np.float32)

    def fuse(self, q: TrialQuery, scores: dict[str, np.ndarray], weights: dict[str, float] | None = None,
             penalty: float | None = None) -> np.ndarray:
        r = self.settings.retrieval
        weights = weights or {"record": r.trial_record_weight, "chunks": r.trial_chunk_weight,
                              "dense": r.trial_dense_weight}
        total = np.zeros(len(self.trial_ids), dtype=np.float32)
        for name, values in scores.items():
            if weights.get(name, 0.0):
                total += weights[name] * zscore(values)
        penalty = r.trial_demographic_penalty if penalty is None else penalty
        if penalty:
            total -= penalty * self.demographics.excluded(q.age, q.sex)
        return total

    def rank(self, query: str, n: int) -> list[tuple[str, float]]:
        q, scores = self.components(query)
        if not any(float(v.max(initial=0)) > 0 for k, v in scores.items() if k != "dense"):
            if "dense" not in scores:
                return []
        total = self.fuse(q, scores)
        order = np.lexsort((np.arange(len(total)), -total))[:n]
        return [(self.trial_ids[i], round(float(total[i]), 6)) for i in order]
