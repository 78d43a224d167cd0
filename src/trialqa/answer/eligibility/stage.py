"""Disease stages ("stage IIB-IVA", "stage IV or recurrent", "Hoehn-Yahr stage 1 or 2"): the
stages a criterion names, the stage a person's text states, and whether they agree.

A stage is an ordinal, numeral * 10 + sub-letter (A = 1, B = 2, C = 3); a stage stated without
a letter ("stage II") covers all its sub-stages, so it is only settled against a criterion
when all of them fall on the same side.
"""

from __future__ import annotations

import re

_ROMAN = {"0": 0, "i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_ONE = r"(iv|iii|ii|i|[0-4])([abc]\d?)?(?!\w)"
_STAGE = re.compile(r"\bstages?\s+" + _ONE, re.IGNORECASE)
_RANGE = re.compile(r"\s*(?:-|–|to|through)\s*(?:stage\s+)?" + _ONE, re.IGNORECASE)
_MORE = re.compile(r"\s*(?:,|/|\bor\b|\band\b|,\s*or|and/or)\s*(?:stage\s+)?" + _ONE, re.IGNORECASE)
_UP = re.compile(r"\s*(?:or|and) (?:worse|higher|greater|above|more advanced)\b", re.IGNORECASE)
_DOWN = re.compile(r"\s*(?:or|and) (?:better|lower|less|below|earlier)\b", re.IGNORECASE)
_PARENS = re.compile(r"\([^)]*\)")


def _bounds(num: str, letter: str | None) -> tuple[int, int]:
    base = _ROMAN[num.lower()] * 10
    if letter:
        sub = " abc".index(letter[0].lower())
        return base + sub, base + sub
    return base, base + 9


def criterion_stages(text: str) -> list[list[int]]:
    """The stage ranges a criterion names, as [low, high] ordinals; [] when it names none."""
    text = _PARENS.sub(" ", text)
    m = _STAGE.search(text)
    if not m:
        return []
    out = []
    lo, hi = _bounds(m.group(1), m.group(2))
    pos = m.end()
    r = _RANGE.match(text, pos)
    if r:
        hi = _bounds(r.group(1), r.group(2))[1]
        pos = r.end()
    if _UP.match(text, pos):
        hi = 49
    elif _DOWN.match(text, pos):
        lo = 0
    out.append([lo, hi])
    while (more := _MORE.match(text, pos)) is not None:
        lo, hi = _bounds(more.group(1), more.group(2))
        pos = more.end()
        r = _RANGE.match(text, pos)
        if r:
            hi = _bounds(r.group(1), r.group(2))[1]
            pos = r.end()
        out.append([lo, hi])
    # "stage IIB, IIIA, or previously untreated stage IV": a later stage offered as an alternative
    while (later := _STAGE.search(text, pos)) is not None:
        gap = text[pos:later.start()]
        if not re.search(r"\bor\b", gap, re.I) or re.search(r"[.;]|\b(?:no|not|except|excluding|without)\b", gap, re.I):
            break
        lo, hi = _bounds(later.group(1), later.group(2))
        pos = later.end()
        out.append([lo, hi])
    return out


#: Distant spread stated for the person ("metastatic lesions on CXR"): stage IV, unless the
#: spread is to regional lymph nodes ("metastatic to two axillary nodes").
_METASTATIC = re.compile(r"\bmetasta\w*", re.IGNORECASE)
_REGIONAL = re.compile(r"lymph|nod(?:e|al)|axilla|regional|local", re.IGNORECASE)


def person_stage(text: str) -> tuple[int, int] | None:
    """The first stage a person's text states ("stage 1B cervical cancer"), as ordinal bounds;
    stage IV when it states distant metastases and no stage."""
    from trialqa.answer.eligibility.vocab import _negated

    text = text or ""
    m = _STAGE.search(text)
    if m:
        return _bounds(m.group(1), m.group(2))
    for m in _METASTATIC.finditer(text):
        near = re.split(r"[.;\n]", text[max(0, m.start() - 40):m.start()])[-1] + \
            re.split(r"[.;\n]", text[m.start():m.end() + 40])[0]
        if not _negated(text, m.start(), m.end()) and not _REGIONAL.search(near):
            return 40, 49
    return None


def stage_within(person: tuple[int, int], ranges: list[list[int]]) -> bool | None:
    """True when the person's stage lies inside one of the ranges, False when outside all of
    them, None when it straddles one (a stage stated without its sub-letter)."""
    lo, hi = person
    if any(a <= lo and hi <= b for a, b in ranges):
        return True
    if all(hi < a or lo > b for a, b in ranges):
        return False
    return None
