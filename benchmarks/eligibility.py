"""Phase `eligibility`: TREC Clinical Trials 2021 / 2022 eligible (2) vs excluded (1) accuracy.

The labelled (patient note, trial) pairs whose trial is among the 2,000 shared XML records
(`../shared/benchmarks/trec-patient-trials/<cohort>/{queries.jsonl,qrels.tsv}`; score 0 =
not relevant is left out). Each note becomes a `Person` (`person_from_text`), each trial is
checked by `answer_eligibility`, and the verdict is mapped:

    eligible, cannot_tell  -> eligible (2)    (nothing stated rules the patient out)
    excluded, not_eligible -> excluded (1)

Reported per cohort beside the majority-class baseline, for rules alone and, unless
TRIALQA_BENCH_ELIG_MODEL=0, for rules + the bundled model as judge (on at most
TRIALQA_BENCH_ELIG_MODEL_PAIRS pairs per cohort spread evenly, default 40; 0 = all), beside
the rules' accuracy on the same pairs, with the seconds per check.

Trials come from /work/main/indexes/corpus2000 (trials.jsonl and the stored criteria) when
it exists, else from parsing the XML records.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
COHORTS = ("trec_2021", "trec_2022")
MAPPING = {"eligible": 2, "cannot_tell": 2, "excluded": 1, "not_eligible": 1}


def _shared() -> Path:
    return Path(os.environ.get("TRIALQA_SHARED") or REPO.parent / "shared")


def load_trials(needed: set[str]) -> tuple[dict[str, Any], Any, str]:
    """(trial id -> Trial, TrialDB or None, where they came from)."""
    from trialqa.types import Trial

    index = Path(os.environ.get("TRIALQA_BENCH_ELIG_INDEX") or REPO / "indexes/corpus2000")
    if (index / "trials.jsonl").is_file():
        from trialqa.answer.db import DB_FILE, TrialDB

        trials = {}
        with (index / "trials.jsonl").open() as fh:
            for line in fh:
                t = Trial.model_validate_json(line)
                if t.trial_id in needed:
                    trials[t.trial_id] = t
        db = TrialDB(index / DB_FILE) if (index / DB_FILE).is_file() else None
        return trials, db, str(index)
    from trialqa.parse import ingest

    xml = _shared() / "corpus/ctgov-xml"
    paths = [xml / f"{nct}.xml" for nct in sorted(needed) if (xml / f"{nct}.xml").is_file()]
    return {t.trial_id: t for t in ingest(paths).trials}, None, str(xml)


def load_pairs(cohort: str) -> tuple[dict[str, str], list[tuple[str, str, int]]]:
    base = _shared() / "benchmarks/trec-patient-trials" / cohort
    notes = {}
    with (base / "queries.jsonl").open() as fh:
        for line in fh:
            obj = json.loads(line)
            notes[obj["_id"]] = obj["text"]
    pairs = []
    with (base / "qrels.tsv").open() as fh:
        next(fh)
        for line in fh:
            q, d, s = line.rstrip("\n").split("\t")
            if int(s) in (1, 2) and q in notes:
                pairs.append((q, d, int(s)))
    return notes, pairs


def sample(pairs: list[tuple[str, str, int]], limit: int | None) -> list[tuple[str, str, int]]:
    """`limit` pairs spread evenly over the list (all of them without a limit)."""
    if not limit or limit >= len(pairs):
        return pairs
    step = len(pairs) / limit
    return [pairs[int(i * step)] for i in range(limit)]


def score(pairs: list[tuple[str, str, int]], notes: dict[str, str], trials: dict[str, Any], db: Any,
          judge: Any = None, limit: int | None = None) -> dict[str, Any]:
    """Accuracy of the mapped verdicts (rules, and rules + `judge` when given) on the pairs."""
    from trialqa.answer.eligibility import answer_eligibility, person_from_text
    from trialqa.answer.eligibility.store import load_criteria

    persons = {q: person_from_text(text) for q, text in notes.items()}
    pairs = sample([p for p in pairs if p[1] in trials], limit)
    labels = Counter(s for _, _, s in pairs)
    right = {"rules": 0, "model": 0}
    verdicts: Counter[str] = Counter()
    confusion: Counter[str] = Counter()
    seconds = []
    for q, d, gold in pairs:
        criteria = load_criteria(db, trials[d])
        t0 = time.perf_counter()
        result = answer_eligibility(trials[d], persons[q], criteria=criteria)
        seconds.append(time.perf_counter() - t0)
        right["rules"] += MAPPING[result.verdict] == gold
        if judge is not None:
            t0 = time.perf_counter()
            result = answer_eligibility(trials[d], persons[q], judge=judge, criteria=criteria)
            seconds[-1] = time.perf_counter() - t0
            right["model"] += MAPPING[result.verdict] == gold
        verdicts[result.verdict] += 1
        confusion[f"gold {gold} -> {result.verdict}"] += 1
    n = len(pairs)
    seconds.sort()
    out: dict[str, Any] = {
        "pairs": n, "eligible": labels[2], "excluded": labels[1],
        "accuracy": round(right["model" if judge else "rules"] / n, 3) if n else None,
        "majority_baseline": round(max(labels.values()) / n, 3) if n else None,
        "verdicts": dict(verdicts), "confusion": dict(sorted(confusion.items())),
        "check_s_p50": round(seconds[len(seconds) // 2], 4) if seconds else None,
        "check_s_max": round(seconds[-1], 4) if seconds else None,
    }
    if judge is not None:
        out["rules_accuracy_same_pairs"] = round(right["rules"] / n, 3) if n else None
    return out


def run() -> dict[str, Any]:
    """Accuracy per cohort, rules alone and rules + model, with the majority baseline."""
    data = {c: load_pairs(c) for c in COHORTS}
    needed = {d for _, pairs in data.values() for _, d, _ in pairs}
    t0 = time.perf_counter()
    trials, db, source = load_trials(needed)
    out: dict[str, Any] = {"trials_from": source, "load_s": round(time.perf_counter() - t0, 1),
                           "mapping": "eligible, cannot_tell -> eligible (2); excluded, not_eligible -> excluded (1)",
                           "rules": {}, "rules+model": {}}
    for cohort, (notes, pairs) in data.items():
        out["rules"][cohort] = score(pairs, notes, trials, db)
    if os.environ.get("TRIALQA_BENCH_ELIG_MODEL", "1") != "0":
        try:
            from trialqa.answer.eligibility.judge import ModelJudge

            judge = ModelJudge.load()
        except Exception as exc:  # the model is optional for this phase
            out["rules+model"] = {"status": "skipped", "reason": f"{type(exc).__name__}: {exc}"}
        else:
            limit = int(os.environ.get("TRIALQA_BENCH_ELIG_MODEL_PAIRS") or 40) or None
            for cohort, (notes, pairs) in data.items():
                out["rules+model"][cohort] = {**score(pairs, notes, trials, db, judge, limit),
                                              "model_calls": judge.calls}
                judge.calls = 0
    else:
        out["rules+model"] = {"status": "skipped", "reason": "TRIALQA_BENCH_ELIG_MODEL=0"}
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
