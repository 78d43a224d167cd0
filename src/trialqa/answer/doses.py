"""The highest or lowest dose of one trial, computed from the doses its record writes.

"What's the highest dose per kilogram?" is a comparison, and comparisons are code's job:
every dose the trial's sentences state ("1.5x10E6/kg", "1*10^8 cells/dose", "10 mg/kg",
"2 x 10^6 cells per kg") is read with its value and its unit, the doses of the unit the
question asks for (per kilogram, per m2) or else of the unit the record uses most are
compared (those of the arms and interventions when they state any), and the answer
quotes the sentence that states the extreme one.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from trialqa.evidence import Sentence, sentences
from trialqa.types import Trial

#: "highest dose", "maximum dosage", "the dose ... is the largest", "lowest dose level"
EXTREME_DOSE_RE = re.compile(
    r"\b(?P<word>highest|largest|biggest|greatest|maximum|max|top|lowest|smallest|minimum|min|least)\b"
    r"(?:\s+[\w-]+){0,3}?\s+(?:dose|dosage|dosing)s?\b", re.I)
_LOW = {"lowest", "smallest", "minimum", "min", "least"}
_PER_ASKED = re.compile(r"\bper[\s-]+(kg|kilo(?:gram)?|m2|square\s+met(?:er|re))\b|/\s*(kg|m2)\b|\bweight[- ]based\b", re.I)
_NUMBER = r"(?P<base>\d+(?:\.\d+|,\d{1,2}(?!\d))?)(?:\s*[x×*]\s*10\s*(?:e|\^|\*\*)?\s*(?P<exp>[-−]?\d{1,2}))?"
_UNIT = r"(?P<unit>mg|mcg|µg|ug|g|ml|iu|units?|cells?|copies|vg|pfu)?"
_PER = r"(?:(?:\s+of\s+[\w-]+)?\s*(?:/|per\s+)\s*(?P<per>kg|kilogram|m2|m²|dose|day|d)\b)?"
_ARM_SECTIONS = ("Arms", "Interventions")
DOSE_RE = re.compile(rf"(?<![\w.,]){_NUMBER}\s*{_UNIT}\b{_PER}(?!\s*/\s*(?:l|dl|ml|mm3|µl|ul|hpf)\b)", re.I)


@dataclass(frozen=True)
class Dose:
    value: float
    unit: str  # "cells/kg", "/kg", "mg", ...
    text: str  # as the record writes it
    sentence: Sentence


def doses(trial: Trial) -> list[Dose]:
    """Every dose a trial's sentences state: a number with a unit, or a number per kg / m2
    (not in its eligibility criteria, whose numbers are lab limits and ages)."""
    out = []
    for sent in sentences(trial):
        if sent.section.startswith("Eligibility"):
            continue
        for m in DOSE_RE.finditer(sent.text):
            unit, per = (m.group("unit") or "").lower(), (m.group("per") or "").lower()
            per = {"kilogram": "kg", "m²": "m2"}.get(per, per)
            if not unit and per not in ("kg", "m2"):
                continue  # a bare number: a count, an age, a visit
            if not (m.group("exp") or per or unit in ("mg", "mcg", "µg", "ug", "g", "iu")):
                continue  # "12 cells" without a power of ten or a denominator is not a dose
            value = float(m.group("base").replace(",", ".")) * 10 ** int((m.group("exp") or "0").replace("−", "-"))
            out.append(Dose(value, f"{unit.rstrip('s')}/{per}" if per else unit, m.group(0).strip(), sent))
    return out


def asked_per(question: str) -> str | None:
    """"kg" or "m2" when the question asks for a dose per kilogram or per square metre."""
    per = _PER_ASKED.search(question)
    return None if per is None else "m2" if re.search(r"m2|square", per.group(0), re.I) else "kg"


def extreme_dose(question: str, trial: Trial) -> tuple[str, Dose] | None:
    """("highest" | "lowest", the dose) when the question asks for one of the trial's extreme
    doses and the record states comparable doses; None otherwise."""
    asked = EXTREME_DOSE_RE.search(question)
    if not asked:
        return None
    found = doses(trial)
    per = asked_per(question)
    if per:
        found = [d for d in found if d.unit.endswith("/" + per)]
    in_arms = [d for d in found if d.sentence.section.startswith(_ARM_SECTIONS)]
    found = in_arms or found  # the arms' doses, when the arms state any (not a rescue drug's in the description)
    if not found:
        return None
    family = Counter(d.unit.split("/")[-1] if per else d.unit for d in found).most_common(1)[0][0]
    same = [d for d in found if (d.unit.split("/")[-1] if per else d.unit) == family]
    low = asked.group("word").lower() in _LOW
    pick = min(same, key=lambda d: d.value) if low else max(same, key=lambda d: d.value)
    return ("lowest" if low else "highest"), pick


def dose_claim_text(question: str, trial: Trial, which: str, dose: Dose) -> str:
    """'The highest dose per kilogram in NCT... is 3.0x10E6/kg.'"""
    unit = {"kg": " per kilogram", "m2": " per square metre", None: ""}[asked_per(question)]
    return f"The {which} dose{unit} stated in {trial.nct_id or trial.doc_id} is {dose.text}."
