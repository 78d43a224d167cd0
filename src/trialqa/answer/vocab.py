"""What an index holds, for recognising it in questions: read from the index's `trials.db`.

Countries, cities, sponsors (with their bracketed acronyms), trial acronyms, condition and
MeSH phrases, intervention names, and the full-text vocabulary (for spelling repair). All of
it comes from the records; general language lives in `lexicon.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from trialqa.answer.db import TrialDB

_WORD = re.compile(r"[a-z0-9]+")
#: common country names people type -> the registry's spelling
COUNTRY_ALIASES = {
    "us": "United States", "u.s.": "United States", "usa": "United States", "u.s.a.": "United States",
    "america": "United States", "united states of america": "United States", "the states": "United States",
    "uk": "United Kingdom", "u.k.": "United Kingdom", "britain": "United Kingdom",
    "great britain": "United Kingdom", "england": "United Kingdom", "scotland": "United Kingdom",
    "wales": "United Kingdom", "holland": "Netherlands", "the netherlands": "Netherlands",
    "south korea": "Korea, Republic of", "korea": "Korea, Republic of", "russia": "Russian Federation",
    "iran": "Iran, Islamic Republic of", "taiwan": "Taiwan", "czechia": "Czech Republic",
    "vietnam": "Vietnam", "viet nam": "Vietnam", "hong kong": "Hong Kong",
}
#: adjectives of place -> country ("American trials", "French sites")
DEMONYMS = {
    "american": "United States", "british": "United Kingdom", "french": "France", "german": "Germany",
    "italian": "Italy", "spanish": "Spain", "chinese": "China", "japanese": "Japan", "canadian": "Canada",
    "australian": "Australia", "dutch": "Netherlands", "belgian": "Belgium", "swiss": "Switzerland",
    "swedish": "Sweden", "danish": "Denmark", "norwegian": "Norway", "finnish": "Finland",
    "brazilian": "Brazil", "mexican": "Mexico", "indian": "India", "israeli": "Israel",
    "korean": "Korea, Republic of", "egyptian": "Egypt", "turkish": "Turkey", "polish": "Poland",
    "austrian": "Austria", "greek": "Greece", "irish": "Ireland", "taiwanese": "Taiwan",
}
#: everyday names of sponsor kinds -> words of the sponsor's name
SPONSOR_ALIASES = {
    "nih": ("national institutes of health", "national institute of", "national cancer institute",
            "national heart, lung", "nih clinical center"),
    "nci": ("national cancer institute",),
    "va": ("veterans affairs",),
    "the va": ("veterans affairs",),
}


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@dataclass
class Vocabulary:
    """Phrases of one index, lowercased, each with the registry's own spelling."""

    db: TrialDB
    countries: dict[str, str] = field(default_factory=dict)
    cities: dict[str, str] = field(default_factory=dict)
    sponsors: dict[str, str] = field(default_factory=dict)  # phrase -> a sponsor name fragment
    acronyms: dict[str, list[str]] = field(default_factory=dict)  # ACRONYM -> trial ids
    conditions: set[str] = field(default_factory=set)
    interventions: set[str] = field(default_factory=set)
    sponsor_ngrams: dict[str, str] = field(default_factory=dict)  # word run of a sponsor name -> LIKE value
    everyday: set[str] = field(default_factory=set)  # words too common to name a sponsor alone
    conditions_words: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, db: TrialDB) -> "Vocabulary":
        v = cls(db)
        for (name,) in db.query("SELECT DISTINCT name FROM countries"):
            v.countries[name.lower()] = name
        for alias, name in COUNTRY_ALIASES.items():
            if name.lower() in v.countries:
                v.countries.setdefault(alias, name)
        for (name,) in db.query("SELECT DISTINCT city FROM facilities WHERE city IS NOT NULL"):
            if len(name) >= 4 and name.lower() not in v.countries:
                v.cities[name.lower()] = name
        for (name,) in db.query("SELECT DISTINCT name FROM sponsors WHERE name IS NOT NULL"):
            low = name.lower()
            v.sponsors[low] = low
            bare = re.sub(r"\s*\([^)]*\)\s*", " ", low).strip()
            if len(bare) >= 4:
                v.sponsors.setdefault(bare, bare)
            for acro in re.findall(r"\(([A-Za-z][A-Za-z&-]{1,9})\)", name):
                v.sponsors.setdefault(acro.lower(), bare or low)
        for name in v.sponsors:
            toks = [w.strip(".'") for w in re.findall(r"[\w&'.-]+", name)]
            for i in range(len(toks)):
                for n in range(1, min(7, len(toks) - i) + 1):
                    gram = " ".join(toks[i:i + n])
                    v.sponsor_ngrams.setdefault(gram, gram)
        for acro_name, bare in v.sponsors.items():
            if " " not in acro_name and bare != acro_name:
                v.sponsor_ngrams[acro_name] = bare
        for tid, acro in db.query("SELECT nct_id, acronym FROM studies WHERE acronym IS NOT NULL AND acronym != ''"):
            v.acronyms.setdefault(acro.strip().upper(), []).append(tid)
        v.conditions = {n for (n,) in db.query(
            "SELECT downcase_name FROM conditions UNION SELECT downcase_mesh_term FROM browse_conditions")}
        v.interventions = {n.lower() for (n,) in db.query(
            "SELECT name FROM interventions WHERE name IS NOT NULL UNION "
            "SELECT mesh_term FROM browse_interventions")}
        from trialqa.query import SCHEMA_WORDS, STOPWORDS

        v.everyday = set(STOPWORDS) | set(SCHEMA_WORDS)
        for phrase in v.conditions:
            v.conditions_words.update(words(phrase))
        return v

    @cached_property
    def text_words(self) -> dict[str, int]:
        """Every word of the full-text columns with its number of trials (for spelling repair)."""
        try:
            self.db.query("CREATE VIRTUAL TABLE IF NOT EXISTS temp.trial_vocab USING fts5vocab(main, 'trial_text', 'row')")
            return {t: n for t, n in self.db.query("SELECT term, doc FROM temp.trial_vocab")}
        except Exception:  # an index without the full-text table
            return {}

    def correct(self, word: str) -> str | None:
        """The index word a misspelt `word` most likely means (edit distance 1, or 2 for long
        words), preferring the word most trials use; None when `word` is known or nothing is close."""
        w = word.lower()
        vocab = self.text_words
        if not vocab or w in vocab or len(w) < 5 or not w.isalpha() or w in general_words():
            return None
        limit = 1 if len(w) < 8 else 2
        best, best_n = None, 0
        for cand, n in vocab.items():
            if abs(len(cand) - len(w)) > limit or cand[0] != w[0] or n < 2:
                continue
            if n > best_n and _distance(w, cand, limit) <= limit:
                best, best_n = cand, n
        return best


@lru_cache(maxsize=1)
def general_words() -> frozenset[str]:
    """Whole words of the bundled embedder's general English vocabulary (its WordPiece
    vocab.txt): real words, never 'repaired' into an index word ("counting" is not "coughing")."""
    try:
        from trialqa.embed import bundled_embedder_path

        path = bundled_embedder_path() / "vocab.txt"
        return frozenset(w for w in path.read_text(encoding="utf-8").split() if w.isalpha())
    except Exception:  # no bundled embedder: repair by the index alone
        return frozenset()


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance with transpositions, stopping early past `limit`."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]
