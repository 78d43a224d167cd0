"""Claim-level verification of a model-written answer, before anyone sees it as final.

    checks = verify(text, sources, question, trials, embedder)   # one Check per sentence
    kept   = [c for c in checks if c.supported]

The answer (with the model's source keys, "[S1]") is split into sentences, the claims.
A claim stands only when

- it cites at least one source key that was in the prompt;
- every number it states (with its unit: %, mg, kg, years, weeks ...) is written in a cited
  sentence, and a number with a unit has that unit within a few words after it there;
- every content word (drug, condition, outcome, population, procedure ...) is stated by
  the cited sentences or the cited trials' titles, matched with retrieval's stems and
  synonyms (`query.has_term`). Words of the question only frame a claim: they may stay
  unsupported when the claim also states something its sources hold, never when the claim
  adds nothing from its sources or affirms the question ("Yes, ...");
- a claim whose every quote states an aim or an outcome measure ("To evaluate the safety
  of ...") must itself speak of aims or measures: "the cells are safe" is not in it;
- the embedder finds the claim near its quotes (cosine >= MIN_SIMILARITY), a second signal
  against words scattered over the sources; claims that state numbers (all of them checked
  verbatim) skip it, as sentence embeddings read numbers poorly.

A claim that fails on the key the model wrote stands on another source of the prompt when
that one alone passes every rule (the key is corrected). A claim without content (a bare
"Yes." or "No.") frames the others and stands with them.
`what_records_hold` words the abstention when nothing stands.
"""

from __future__ import annotations

from trialqa.types import CANONICAL_SECTIONS  # noqa: E402

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from trialqa.citations import BARE_KEY_RE, KEY_GROUP_RE, KEY_RE
from trialqa.evidence import Sentence, sentences
from trialqa.query import STOPWORDS, has_term, stem, term_variants, words
from trialqa.types import Trial

#: Cosine similarity (embedder) below which a claim is too far from its quotes to stand.
MIN_SIMILARITY = 0.15
#: Words that frame a claim about trial records without stating anything of their own.
FRAMING = frozenset(
    """trial trials study studies studied record records registry indexed source sources
    participants participant patients patient subjects subject people individuals persons
    according state states stated list lists listed describe describes described mention mentions
    mentioned include includes included including aims aim aimed purpose goal objective objectives
    designed conducted conducts involves involve involved yes no however therefore thus both either
    based section sections following follows called named titled specifically respectively
    information data answer question treat treats treated treating treatment treatments receive
    receives received receiving given give gives giving undergo undergoes undergoing take takes
    go goes going went come comes came make makes made""".split()
)
#: A quote that states what a trial sets out to do or measures, not what it found ...
AIM_RE = re.compile(
    r"\b(?:to|will|would|aims? to|designed to|in order to)\s+(?:\w+\s+){0,2}?(?:evaluate|assess|observe|explore|"
    r"investigate|determine|compare|examine|test|study|measure|establish|verify|confirm|see|find out)\b"
    r"|\b(?:aims?|purpose|objectives?|goals?|hypothes[ie]s|hypothesi[sz]ed?)\b", re.IGNORECASE)
#: ... so a claim citing only such quotes must say so in words like these.
AIM_CLAIM_RE = re.compile(
    r"\b(?:evaluat|assess|observ|explor|investigat|determin|compar|examin|test|stud|measur|establish|"
    r"verif|confirm|aim|purpose|objective|goal|outcome|endpoint|whether|track|monitor|record|look|"
    r"hypothes|plan|intend|seek)", re.IGNORECASE)
NCT_RE = re.compile(r"\bNCT\d{8}\b", re.IGNORECASE)
NUMBER_RE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?(?:\s*[x\u00d7*]\s*10\s*(?:e|\^|\*\*)\s*[-\u2212]?\d+)?)(?![\d])", re.I)
THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d{3}\b)")
LABEL_RE = re.compile(r"\[[^\[\]]*\u00b7[^\[\]]*\]")
#: Sentence ends: . ! ? followed by space and a capital, digit, quote or bracket; or a line break.
_SPLIT_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"\u201c(\[])|\s*\n+\s*")
_ABBREV_RE = re.compile(r"\b(?:e\.g|i\.e|vs|approx|dr|no|fig|et al|ca)\.$", re.IGNORECASE)
_LEADING_KEYS_RE = re.compile(r"^(?:\s*[\[(\u3010]\s*(?:source\s*)?S\d+[^\])\u3011]*[\])\u3011]\s*[.,;]?)+", re.IGNORECASE)
_BULLET_RE = re.compile(r"^\s*(?:[-*\u2022]|\d{1,2}[.)])\s+")
_UNITS: dict[str, str] = {
    "%": "%", "percent": "%", "per": "%",
    "mg": "mg", "milligram": "mg", "milligrams": "mg", "g": "g", "gram": "g", "grams": "g",
    "mcg": "mcg", "\u00b5g": "mcg", "ug": "mcg", "microgram": "mcg", "micrograms": "mcg",
    "kg": "kg", "kilogram": "kg", "kilograms": "kg", "ml": "ml", "milliliter": "ml", "milliliters": "ml",
    "l": "l", "liter": "l", "liters": "l", "iu": "iu", "units": "iu", "unit": "iu",
    "mg/kg": "mg/kg", "mg/m2": "mg/m2", "mg/day": "mg", "/kg": "/kg",
    "year": "year", "years": "year", "yr": "year", "yrs": "year", "y": "year",
    "month": "month", "months": "month", "mo": "month",
    "week": "week", "weeks": "week", "wk": "week", "wks": "week",
    "day": "day", "days": "day", "d": "day", "hour": "hour", "hours": "hour", "h": "hour", "hr": "hour", "hrs": "hour",
    "minute": "minute", "minutes": "minute", "min": "minute", "mins": "minute",
    "cells": "cells", "cell": "cells", "patients": "patients", "participants": "patients", "subjects": "patients",
}
_UNIT_AFTER_RE = re.compile(r"\s*-?\s*(%|[A-Za-z\u00b5/]+(?:/[A-Za-z0-9]+)?)")
UNIT_WINDOW = 40  # characters after a number in a quote where its unit may stand ("18 to 38 years")


@dataclass(frozen=True)
class Claim:
    """One sentence of an answer: its text without keys, as written, and the keys it cites."""

    text: str
    raw: str
    keys: tuple[int, ...]


@dataclass
class Check:
    """The verdict on one claim, with the reason when it does not stand."""

    claim: Claim
    supported: bool
    reason: str = ""
    similarity: float | None = None
    framing: bool = False  # no content of its own: stands only beside a supported claim
    recited: bool = False  # stands on another source than the one the model cited


@dataclass
class Support:
    """What a claim's cited sources state: quotes and titles, lowercased, and their numbers."""

    text: str
    words: set[str] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, texts: Sequence[str]) -> Support:
        text = " \n ".join(THOUSANDS_RE.sub("", t) for t in texts).lower()
        return cls(text, set(words(text)), set(_numbers(text)))


# -- splitting -------------------------------------------------------------------------

def split_claims(text: str) -> list[Claim]:
    """Sentences (and list items), each with the source keys it carries. Keys written right
    after a sentence's full stop ("... weeks. [S1]") belong to that sentence."""
    pieces: list[str] = []
    for part in _SPLIT_RE.split(text.strip()):
        part = part.strip()
        if not part:
            continue
        lead = _LEADING_KEYS_RE.match(part)
        if lead and pieces:
            pieces[-1] = f"{pieces[-1]} {lead.group(0).strip()}"
            part = part[lead.end():].strip()
            if not part:
                continue
        if pieces and _ABBREV_RE.search(pieces[-1]):
            pieces[-1] = f"{pieces[-1]} {part}"
        else:
            pieces.append(part)
    claims = []
    for raw in pieces:
        keys = tuple(dict.fromkeys(int(k) for g in KEY_GROUP_RE.finditer(raw) for k in KEY_RE.findall(g.group(1))))
        bare = tuple(int(m.group(1)) for m in BARE_KEY_RE.finditer(KEY_GROUP_RE.sub(" ", raw)))
        plain = BARE_KEY_RE.sub(" ", KEY_GROUP_RE.sub(" ", LABEL_RE.sub(" ", raw)))
        plain = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(_BULLET_RE.sub("", plain).split()))
        claims.append(Claim(plain, raw, tuple(dict.fromkeys(keys + bare))))
    return claims


# -- checking --------------------------------------------------------------------------

#: "Arms: ..." or "Eligibility: Exclusion: ..." at the start of a claim names the section the
#: prompt showed it under; it states nothing about the trial.
SECTION_LABEL_RE = re.compile(r"\b(?:" + "|".join(CANONICAL_SECTIONS) + r")(?::\s*[A-Z][\w-]*)?:(?=\s)")


def content_terms(text: str) -> list[str]:
    """The words of a claim that state something: not function words, not framing."""
    out: list[str] = []
    text = SECTION_LABEL_RE.sub("", text)
    for w in words(NCT_RE.sub(" ", text)):
        if len(w) < 2 or w.isdigit() or re.fullmatch(r"\d+(\.\d+)?", w) or w in STOPWORDS or w in FRAMING:
            continue
        if w not in out:
            out.append(w)
    return out


def _numbers(text: str) -> list[str]:
    return [_canon(m.group(1)) for m in NUMBER_RE.finditer(text)]


def _canon(num: str) -> str:
    if len(num) > 4 and "10" in num and not num.replace(".", "").isdigit():  # 1.5 x 10^6 -> 1.5x10e6
        return re.sub(r"\*\*|\^", "e", re.sub(r"\s+", "", num.lower())).replace("\u00d7", "x").replace("*", "x")
    return num.rstrip("0").rstrip(".") if "." in num else num.lstrip("0") or "0"


def numbers_with_units(text: str) -> list[tuple[str, str | None]]:
    """Every number of the text (NCT ids and thousands separators aside) with its unit, if any."""
    text = THOUSANDS_RE.sub("", NCT_RE.sub(" ", text))
    out = []
    for m in NUMBER_RE.finditer(text):
        after = _UNIT_AFTER_RE.match(text, m.end())
        unit = None
        if after:
            token = after.group(1).lower()
            unit = _UNITS.get(token) or _UNITS.get(token.split("/")[0]) if token not in ("to", "and", "or") else None
            if token.startswith("per") and token != "per":
                unit = None
            if token == "per" and not re.match(r"\s*cent\b", text[after.end():]):
                unit = None
        out.append((_canon(m.group(1)), unit))
    return out


def number_stated(num: str, unit: str | None, support: Support) -> bool:
    """The number is in the cited text; with a unit, that unit follows it closely there."""
    if num not in support.numbers:
        return False
    if unit is None:
        return True
    for m in NUMBER_RE.finditer(support.text):
        if _canon(m.group(1)) != num:
            continue
        window = support.text[m.end(): m.end() + UNIT_WINDOW]
        for token in re.findall(r"%|[a-z\u00b5/]+(?:/[a-z0-9]+)?", window):
            if _UNITS.get(token) == unit or _UNITS.get(token.split("/")[0]) == unit:
                return True
        if unit == "%" and "per cent" in window:
            return True
    return False


def term_stated(term: str, support: Support) -> bool:
    """Retrieval's test (stem or synonym starts a word of the text), in both directions."""
    if has_term(support.text, support.words, term):
        return True
    t = term.lower()
    return any(len(v) > 2 and v.isalnum() and t.startswith(v) for w in support.words for v in term_variants(w)
               if len(w) > 2)


def check_claim(claim: Claim, support: Support, question: str, known_ids: set[str]) -> Check:
    """The lexical rules of the module docstring, for one claim and the text it cites."""
    if not claim.keys:
        return Check(claim, False, "cites no source")
    named = {n.upper() for n in NCT_RE.findall(claim.text)}
    if stray := sorted(named - known_ids):
        return Check(claim, False, f"names {stray[0]}, which it does not cite")
    q_lower = question.lower()
    q_words = set(words(question))
    q_numbers = set(_numbers(THOUSANDS_RE.sub("", question)))
    missing: list[str] = []  # unsupported items that the question holds (framing, maybe)
    adds = False  # the claim states something of its sources that the question did not
    for num, unit in numbers_with_units(claim.text):
        shown = f"'{num} {unit}'" if unit else f"'{num}'"
        if number_stated(num, unit, support):
            adds = adds or num not in q_numbers
        elif num in q_numbers:
            missing.append(shown)
        else:
            return Check(claim, False, f"{shown} is not in its sources")
    for term in content_terms(claim.text):
        asked = _in_question(term, q_lower, q_words)
        if term_stated(term, support):
            adds = adds or not asked
        elif asked:
            missing.append(f"'{term}'")
        else:
            return Check(claim, False, f"'{term}' is not in its sources")
    if missing and (not adds or re.match(r"\s*yes\b", claim.text, re.I)):
        return Check(claim, False, f"{missing[0]} is not in its sources (the question's word only frames a claim)")
    if not adds and not missing and not _states_any(claim, support):
        return Check(claim, False, "states nothing its sources hold")
    return Check(claim, True)


def _states_intent(sent: Sentence) -> bool:
    return sent.section.split(":")[0] == "Outcomes" or bool(AIM_RE.search(sent.text))


def _states_any(claim: Claim, support: Support) -> bool:
    return any(term_stated(t, support) for t in content_terms(claim.text)) or any(
        number_stated(n, u, support) for n, u in numbers_with_units(claim.text))


def _in_question(term: str, q_lower: str, q_words: set[str]) -> bool:
    s = stem(term)
    return has_term(q_lower, q_words, term) or any(stem(w) == s for w in q_words)


def verify(text: str, sources: Sequence[Sentence], question: str, trials: Mapping[str, Trial],
           embedder=None, min_similarity: float = MIN_SIMILARITY) -> list[Check]:
    """One Check per claim of `text`; source key n is `sources[n - 1]`. Keys outside the
    sources are dropped first. With an embedder, a claim that passes the lexical rules must
    also lie within `min_similarity` (cosine) of one of its quotes."""
    checks: list[Check] = []
    for claim in split_claims(text):
        keys = tuple(k for k in claim.keys if 1 <= k <= len(sources))
        claim = Claim(claim.text, claim.raw, keys)
        if not content_terms(claim.text) and not numbers_with_units(claim.text) and not NCT_RE.search(claim.text):
            checks.append(Check(claim, True, framing=True))
            continue
        check = _check_with(claim, keys, sources, question, trials)
        if not check.supported and keys:  # the model cited the wrong key: one source that states it all
            for k in range(1, len(sources) + 1):
                other = _check_with(claim, (k,), sources, question, trials)
                if k not in keys and other.supported:
                    check = Check(Claim(claim.text, _rekey(claim.raw, k), (k,)), True, recited=True)
                    break
        checks.append(check)
    if embedder is not None:
        _similarity(checks, sources, embedder, min_similarity)
    if not any(c.supported and not c.framing for c in checks):
        for c in checks:
            if c.framing:
                c.supported, c.reason = False, "frames nothing that stands"
    return checks


def _check_with(claim: Claim, keys: tuple[int, ...], sources: Sequence[Sentence], question: str,
                trials: Mapping[str, Trial]) -> Check:
    claim = Claim(claim.text, claim.raw, keys)
    cited = [sources[k - 1] for k in keys]
    tids = list(dict.fromkeys(s.trial_id for s in cited))
    titles = [trials[t].title for t in tids if t in trials]
    known = {trials[t].nct_id.upper() for t in tids if t in trials and trials[t].nct_id}
    check = check_claim(claim, Support.of([s.text for s in cited] + titles), question, known)
    if check.supported and cited and all(_states_intent(s) for s in cited) and not AIM_CLAIM_RE.search(claim.text):
        check = Check(claim, False, "its sources state what the trial sets out to do or measure, not a finding")
    return check


def _rekey(raw: str, key: int) -> str:
    """The sentence with its keys replaced by one key."""
    bare = BARE_KEY_RE.sub("", KEY_GROUP_RE.sub("", raw)).rstrip()
    end = re.search(r"[.!?]$", bare)
    return f"{bare[:-1].rstrip()} [S{key}]." if end else f"{bare} [S{key}]"


def _similarity(checks: list[Check], sources: Sequence[Sentence], embedder, floor: float) -> None:
    # a number stated verbatim anchors a claim better than a sentence embedding, which reads
    # "1.5x10E6/kg and 2.0x10E6/kg" or "AMH >1.2ng/mL" as far from its own source (0.24, 0.16)
    todo = [c for c in checks if c.supported and not c.framing and not numbers_with_units(c.claim.text)]
    if not todo:
        return
    texts = [c.claim.text for c in todo] + [s.text for s in sources]
    vecs = embedder.embed(texts)
    claims, quotes = vecs[: len(todo)], vecs[len(todo):]
    for c, v in zip(todo, claims):
        sim = max(float(quotes[k - 1] @ v) for k in c.claim.keys)
        c.similarity = round(sim, 3)
        if sim < floor:
            c.supported, c.reason = False, f"too far from its quotes (similarity {sim:.2f})"


# -- when nothing stands ---------------------------------------------------------------

def question_phrases(question: str, terms: Sequence[str]) -> list[str]:
    """The question's content terms, neighbours joined into phrases ("side effects")."""
    keep = {t.lower() for t in terms}
    phrases, run = [], []
    for w in [*words(question), ""]:
        if w in keep:
            run.append(w)
        elif run:
            phrases.append(" ".join(run))
            run = []
    return list(dict.fromkeys(phrases))


def what_records_hold(phrases: Sequence[str], trial_ids: Sequence[str], trials: Mapping[str, Trial],
                      limit: int = 2) -> str:
    """One sentence per trial (the first `limit`) saying which of the question's phrases its
    record states (all words in one sentence) and where, which it does not mention (phrases
    of its title only name it), and whether it posts results, e.g. "NCT03765957 measures
    'adverse events' as an outcome but posts no results in its indexed record."."""
    out = []
    for tid in list(dict.fromkeys(trial_ids))[:limit]:
        trial = trials.get(tid)
        if trial is None:
            continue
        title = trial.title.lower()
        places: dict[str, list[str]] = {}
        absent = []
        for phrase in dict.fromkeys(phrases):
            parts_of = phrase.split()
            if all(has_term(title, set(words(title)), t) for t in parts_of):
                continue  # it names the trial
            where = next((s.section.split(":")[0] for s in sentences(trial)
                          if s.section != "Title" and all(has_term(s.lower, s.words, t) for t in parts_of)), None)
            if where is None:
                absent.append(phrase)
            else:
                places.setdefault(where, []).append(phrase)
        parts = []
        for section, found in places.items():
            said = ", ".join(f"'{t}'" for t in found)
            parts.append(f"measures {said} as an outcome" if section == "Outcomes" else f"mentions {said} in its {section}")
        if absent:
            parts.append("does not mention " + ", ".join(f"'{t}'" for t in absent[:4]))
        posts = _posts_results(trial)
        if parts:
            tail = "" if posts else (" and" if absent else " but") + " posts no results in its indexed record"
            out.append(f"{trial.nct_id or trial.doc_id} {'; '.join(parts[:3])}{tail}.")
        elif not posts:
            out.append(f"{trial.nct_id or trial.doc_id} posts no results in its indexed record.")
    return " ".join(out)


def render(checks: Sequence[Check], sources: Sequence[Sentence], trials: Mapping[str, Trial]) -> tuple[str, list]:
    """The claims that stand, their keys mapped to labels, and the citations they use."""
    from trialqa.citations import SourceBook, tidy

    book = SourceBook(dict(trials), sources=list(sources))
    parts = []
    for c in checks:
        if not c.supported:
            continue
        line = tidy(book.render_fragment(c.claim.raw))
        parts.append(("\n" if _BULLET_RE.match(c.claim.raw) and parts else " ") + line if parts else line)
    return tidy("".join(parts)), book.citations()


def _posts_results(trial: Trial) -> bool:
    if trial.fields.has_results is not None:
        return trial.fields.has_results
    return any(s.name.split(":")[0].strip() == "Results" for s in trial.sections)
