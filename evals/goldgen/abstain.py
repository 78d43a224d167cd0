"""`abstain` cases: the records do not hold the answer, so the right answer is to say so.

Three sources, each verified over every file's full text (lower-cased XML):
- a drug or disease no record mentions (every spelling given must be absent);
- an NCT id that is not a record and is not mentioned anywhere;
- a fact a named record lacks: posted results, an enrollment figure, a completion date,
  a contact (the builder checks the record has none and no sentence stating it).
"""

from __future__ import annotations

import re

from goldgen.common import case, require, rng
from goldgen.records import Rec

# (question, spellings that must appear in no record)
ABSENT: list[tuple[str, tuple[str, ...]]] = [
    ("Which trials test semaglutide?", ("semaglutide", "ozempic", "wegovy")),
    ("Is there any study of pembrolizumab for melanoma?", ("pembrolizumab", "keytruda")),
    ("Are there trials recruiting people with COVID-19?", ("covid", "sars-cov-2", "coronavirus disease 2019")),
    ("Which trials of tirzepatide enroll women only?", ("tirzepatide", "mounjaro")),
    ("What is the dose of dupilumab used in the eczema trials?", ("dupilumab", "dupixent")),
    ("I have mpox. Is there a trial I could join?", ("mpox", "monkeypox")),
    ("Any phase 3 trials of nirmatrelvir?", ("nirmatrelvir", "paxlovid")),
    ("Which trials study Zika virus infection in pregnant women?", ("zika",)),
    ("Lecanemab for early Alzheimer's - is it being tested anywhere in the index?", ("lecanemab", "leqembi")),
    ("How many trials evaluate CAR-T cell therapy with tisagenlecleucel?", ("tisagenlecleucel", "kymriah", "car-t", "car t-cell")),
]

# made-up ids, written as a user would
FAKE_IDS: list[tuple[str, str]] = [
    ("NCT09876543", "What is the enrollment of NCT09876543?"),
    ("NCT00000101", "Who sponsors NCT00000101?"),
    ("NCT04999999", "Can a 40-year-old woman join NCT04999999?"),
]

_NUMBER_OF_PEOPLE = re.compile(r"\b\d[\d,]*\s+(?:\w+\s+){0,2}(?:patients|participants|subjects|people|persons|women|men|children|volunteers|individuals)\b")


def build(recs: list[Rec]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    n = 0

    def add(question: str) -> None:
        nonlocal n
        n += 1
        out.append(case(f"corpus-abstain-{n:02d}", "abstain", question=question, abstain=True))

    for question, spellings in ABSENT:
        for s in spellings:
            require(not any(s in r.text for r in recs), f"abstain: {s!r} is mentioned in a record")
        add(question)
    known = {r.nct for r in recs}
    for fake, question in FAKE_IDS:
        require(fake not in known and not any(fake.lower() in r.text for r in recs), f"abstain: {fake} exists")
        add(question)

    order = list(recs)
    rng("abstain").shuffle(order)
    used: set[str] = set()

    def pick(ok) -> Rec:
        r = next(r for r in order if r.nct not in used and ok(r))
        used.add(r.nct)
        return r

    r = pick(lambda r: r.status == "Completed" and not r.has_results and r.enrollment and r.start and r.completion)
    add(f"What were the results of {r.nct}? Did the treatment work?")
    r = pick(lambda r: r.status == "Completed" and not r.has_results and r.study_type == "Interventional"
             and "adverse event" not in r.text)
    add(f"Which adverse events were reported in {r.nct}?")
    r = pick(lambda r: r.enrollment is None and "<enrollment" not in r.text and "accru" not in r.text
             and not _NUMBER_OF_PEOPLE.search(r.text))
    add(f"How many participants did {r.nct} enroll?")
    r = pick(lambda r: r.completion is None and "completion" not in r.text and r.status == "Completed")
    add(f"When was {r.nct} completed?")
    r = pick(lambda r: "<overall_contact" not in r.text and "<contact" not in r.text and "phone" not in r.text
             and "@" not in r.text and r.status in ("Completed", "Terminated"))
    add(f"What phone number or email can I use to contact the study team of {r.nct}?")
    return out
