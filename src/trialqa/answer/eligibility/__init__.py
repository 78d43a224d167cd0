"""Eligibility: a described person or a patient note against a trial's criteria.

- `vocab.py`     general clinical concepts, lay words, abbreviations; negation scoping
- `criteria.py`  a trial's eligibility text -> single criteria (inclusion / exclusion), parsed
- `stage.py`     disease stages named by a criterion or stated for a person
- `diagnosis.py` a stated diagnosis that conflicts with a required one (tumour type or site,
                 named disease of the same group, reproductive state)
- `store.py`     the `criteria` table of an index's trials.db, with on-the-fly fallback
- `person.py`    a question or patient note -> `Person` (age, sex, healthy, facts)
- `rules.py`     one criterion against one person: met / not met / unknown / irrelevant
- `judge.py`     the bundled model for criteria rules leave unknown (optional)
- `check.py`     the verdict with its deciding sentences
- `match.py`     a patient note -> ranked trials with verdicts (`trialqa match`)
"""

from trialqa.answer.eligibility.check import EligibilityResult, answer_eligibility
from trialqa.answer.eligibility.match import MatchRow, match_note
from trialqa.answer.eligibility.person import person_from_text

__all__ = ["EligibilityResult", "MatchRow", "answer_eligibility", "match_note", "person_from_text"]
