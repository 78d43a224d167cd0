"""Facts about a person from a question ("a 58-year-old woman with diabetes on dialysis") or a
whole patient note: age, sex, healthy volunteer, and the stated facts.

Only what the text states: nothing is inferred from absence. Negated facts are kept as
"no X" ("not pregnant" -> "no pregnancy") so a criterion requiring X's absence can be met.
"""

from __future__ import annotations

import re

from trialqa.answer.eligibility.criteria import LAB_VALUE
from trialqa.answer.eligibility.vocab import find_concepts, negated_concepts, normalize
from trialqa.answer.plan import Person

#: A text longer than this (or of several sentences with clinical shorthand) is kept as a note.
NOTE_CHARS = 280

_AGE = [
    re.compile(r"\b(\d{1,3}(?:\.\d)?)[- ]?(?:years?|yrs?|yo|y/o|y\.o\.|year-old)[- ]?(?:old)?\b", re.I),
    re.compile(r"\baged? (?:of )?(\d{1,3})\b", re.I),
    re.compile(r"\b(\d{1,3}) ?(?:M|F|yo ?[MF]|y/o ?[MF])\b"),
    re.compile(r"\b(?:i am|i'm|im|(?:he|she|who|father|mother|dad|mom|patient|son|daughter|wife|husband|i) "
               r"(?:is|am|was)(?: now)?|(?:just )?turned)\s+(\d{1,3})\b(?!\.\d|[\d,/%])"
               r"(?!\s*(?:kg|lbs?|pounds|cm|mg|weeks?|days?|months?|percent|times))", re.I),
    re.compile(r"\bin (?:his|her|their) (\d)0s\b", re.I),
]
_NOT_AGE_AFTER = re.compile(r"[- ]?(?:old)?\s*(?:ago|earlier|before|prior|later|since|duration|history)\b", re.I)
_NOT_AGE_BEFORE = re.compile(r"\b(?:for|over|past|last|since|of|x|within|after)\s+(?:the\s+)?(?:\d+\s*[-\u2013]\s*)?$", re.I)
_MONTHS_OLD = re.compile(r"\b(\d{1,2})[- ](?:months?|mo)[- ]old\b", re.I)
_WEEKS_OLD = re.compile(r"\b(\d{1,2})[- ](?:weeks?|days?)[- ]old\b", re.I)
_FEMALE = re.compile(r"\b(?:woman|women|female|girl|lady|she|her|herself|mrs|"
                     r"\d{1,3} ?F|\d{1,3}[- ]year[- ]old F|pregnant|postmenopausal|menopaus\w*|"
                     r"g\dp\d)\b", re.I)
_MALE = re.compile(r"\b(?:man|men|male|boy|gentleman|he|his|him|himself|mr|"
                   r"\d{1,3} ?M|\d{1,3}[- ]year[- ]old M)\b", re.I)
_HEALTHY = re.compile(r"\bhealthy(?: volunteers?| adults?| (?:wo)?m[ae]n| person| people| subjects?)?\b(?! (?:diet|lifestyle))",
                      re.I)
_UNHEALTHY_CUE = re.compile(r"\b(?:with|has|have|had|diagnosed|history of|on|taking|suffer\w*)\b", re.I)

#: Phrases that state a fact: "on dialysis", "with type 2 diabetes", "had a stroke last year".
_FACT = re.compile(
    r"\b(?:on|with|has|have|had|having|taking|takes|uses|using|receiving|received|undergoing|underwent|"
    r"diagnosed with|history of|suffers? from|suffering from|who is|is|was|currently)\s+"
    r"(?P<fact>(?:a |an |the )?[a-z0-9][a-z0-9' /-]*?)"
    r"(?=\s*(?:[,.;:?!]|\band\b|\bbut\b|\bwho\b|\bjoin\b|\bbe\b|\benrol\w*|\bparticipat\w*|\beligible\b|\bqualif\w*|"
    r"\bcould\b|\bcan\b|\bin\b(?= (?:nct|the trial|this|that|trial|study))|\bfor\b(?= (?:nct|the |this|that))|"
    r"\ban option\b|$))",
    re.I,
)
_CUE = re.compile(r"\b(?:on|with|has|have|had|having|taking|takes|uses|using|receiving|received|undergoing|"
                  r"underwent|diagnosed|history|suffer\w*|who|is|was|currently)\b", re.I)
_TIME = re.compile(r"\b(?:last (?:year|month|week)|\d+ (?:days?|weeks?|months?|years?) ago|yesterday|"
                   r"(?:a|one|two|three|few|several) (?:days?|weeks?|months?|years?) ago|recently|this year)\b", re.I)
_SKIP_FACT = re.compile(r"^(?:a |an |the )?(?:\d+|patient|person|man|woman|girl|boy|someone|somebody|"
                        r"eligible|able|allowed|it|this|that|there|they|he|she|my|our|your|trial|study|"
                        r"nct\d+|years?|old|male|female|adult|child|kid|option|possible|ok|okay|"
                        r"(?:wo)?m[ae]n)\b", re.I)


def _age(text: str) -> float | None:
    m = _MONTHS_OLD.search(text)
    if m:
        return round(int(m.group(1)) / 12, 2)
    m = _WEEKS_OLD.search(text)
    if m:
        return 0.1
    found: list[tuple[int, float]] = []  # the earliest stated age wins ("74M ... a stroke 10-15 years ago")
    for pattern in _AGE:
        for m in pattern.finditer(text):
            if _NOT_AGE_AFTER.match(text, m.end()) or _NOT_AGE_BEFORE.search(text[max(0, m.start() - 12):m.start()]):
                continue
            value = float(m.group(1)) * (10 if pattern is _AGE[4] else 1) + (5 if pattern is _AGE[4] else 0)
            if 0 < value < 120:
                found.append((m.start(), value))
                break
    return min(found)[1] if found else None


def _sex(text: str) -> str | None:
    f = len(_FEMALE.findall(text))
    m = len(_MALE.findall(text))
    if f > m:
        return "Female"
    if m > f:
        return "Male"
    return None


def _facts(text: str) -> list[str]:
    """Short fact phrases stated in a question, with their time words when given."""
    out: list[str] = []
    starts = sorted({c.start() for c in _CUE.finditer(text)})
    for m in filter(None, (_FACT.match(text, i) for i in starts)):
        if re.search(r"\b(?:not|no|never|without|n't)\s*$", text[max(0, m.start() - 12):m.start()], re.I):
            continue
        fact = m.group("fact").strip(" -")
        fact = re.sub(r"^(?:a|an|the)\s+", "", fact, flags=re.I)
        if not fact or _SKIP_FACT.match(fact) or len(fact) > 60 or re.match(r"(?:no|not|never|without)\b", fact, re.I):
            continue
        when = _TIME.search(text[m.end():m.end() + 30])
        if when and when.group(0).lower() not in fact.lower():
            fact = f"{fact} {when.group(0)}"
        if m.group(0).lower().startswith("had ") and not fact.lower().startswith("had "):
            fact = f"had {fact}"
        out.append(fact.lower())
    out += [f"{m.group(1).lower()} {m.group(2)}" for m in LAB_VALUE.finditer(text)]
    return out


def person_from_text(text: str) -> Person:
    """The person a question or note describes: age, sex, healthy, facts (and the note itself)."""
    text = normalize(" ".join((text or "").split()))
    is_note = len(text) > NOTE_CHARS
    facts: list[str] = [] if is_note else _facts(text)
    # in a question the family member is often the person asked about ("my mother has diabetes")
    concepts = find_concepts(text, broaden=False, family=is_note)
    covered = {c for f in facts for c in find_concepts(f, broaden=False)}
    for name in concepts:
        if name not in covered and not any(name in f for f in facts):
            facts.append(name)
    facts += [f"no {name}" for name in sorted(negated_concepts(text))]
    healthy = None
    hm = None if is_note else _HEALTHY.search(text)
    if hm and not re.search(r"\bnot healthy\b|\bunhealthy\b", text, re.I):
        healthy = not concepts or not _UNHEALTHY_CUE.search(text[hm.end():hm.end() + 40])
        healthy = True if healthy else None
    sex = _sex(text)
    if "pregnancy" in concepts or "breastfeeding" in concepts:
        sex = sex or "Female"
    return Person(age=_age(text), sex=sex, healthy=healthy, facts=list(dict.fromkeys(facts)),
                  note=text if is_note else None)
