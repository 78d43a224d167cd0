"""Split a trial's eligibility text into single criteria and parse what rules can parse.

A criterion is one item (one line) of an "Eligibility: Inclusion", "Eligibility: Exclusion"
or unlabelled "Eligibility: Criteria" section. Its `kind` says where it was listed; its
`polarity` says what it asks of the person: "require" (the person must have it) or
"forbid" (the person must not). An inclusion item "No prior chemotherapy" forbids; an
exclusion item "Pregnancy" forbids; an exclusion item "Unable to give consent" also forbids.

Parsed, where stated: an age range, a sex, named concepts (vocab.py), a time window
("within 6 months"), lab thresholds ("creatinine > 2 mg/dL"), and content words for
matching facts no concept covers, disease stages, a healthy-volunteer requirement. Sub-items
inherit their parent line's polarity. Allowances ("Prior chemotherapy allowed") and items for a
subgroup only ("Age 65-70 years: Karnofsky 80-100%") rule nobody out; a heading such as
"INCLUSION CRITERIA - NORMAL CONTROL:" inside a section switches the kind of the items below it.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from trialqa.answer.eligibility.stage import criterion_stages
from trialqa.answer.eligibility.vocab import find_concepts, normalize
from trialqa.types import Trial

Kind = Literal["inclusion", "exclusion"]
#: Bumped whenever parsing changes: criteria stored by another version are parsed again.
PARSER_VERSION = 7

_STOP = frozenset("""a an the and or of in on at to for with without by from as be is are was were been being
has have had having patient patients subject subjects participant participants person people individual
individuals who which that this these those any all other must should will may can not no none known
history prior previous current currently diagnosis diagnosed evidence presence clinical clinically
significant severe active documented confirmed stable study trial protocol entry criteria investigator
following including include includes e.g i.e etc per than more less at least within last past months
month years year weeks week days day time during after before able unable willing age aged over under
greater equal men women male female""".split())

_NEG_START = re.compile(
    r"^(?:no|not|never|without|absence of|free of|must not|may not|cannot|can't|should not|lack of|"
    r"negative|none of)\b", re.IGNORECASE)
_NEG_INSIDE = re.compile(r"\b(?:must not|may not|should not|cannot|is not|are not|have not|has not|did not|"
                         r"do not|does not|no prior|no history of|no evidence of|no known|not have|not (?:be )?(?:allowed|permitted)|"
                         r"(?:are|is|will be|be) (?:excluded|not eligible|ineligible))\b", re.I)
_LABEL = re.compile(r"^\s*[A-Z][A-Za-z]+(?: [a-zA-Z/]+){0,3}:\s*")
_SERONEGATIVE = re.compile(r"\b(?:hiv|hbv|hcv|hepatitis [bc]|hbsag|tb|tuberculosis)\W{0,3}(?:sero)?negative", re.I)
_HEADING = re.compile(r"^(?:--.*--|[A-Z][A-Za-z /&-]{0,40}:|[A-Z /&-]{4,60}:?)$")
_NOT_SPECIFIED = re.compile(r":\s*(?:not specified|see \w+.*|n/?a|none)\.?$", re.IGNORECASE)
_GENERIC = re.compile(r"informed consent|willing(?:ness)? to|able to (?:comply|understand|read|give)|"
                      r"comply with|sign(?:ed)? (?:the )?consent|follow[- ]up visits|contracepti\w*|"
                      r"birth control|investigator'?s? (?:opinion|judg)", re.IGNORECASE)

_ALLOWANCE = re.compile(r"(?<!not )(?<!not be )(?<!never )(?<!never be )\b(?:allowed|permitted|(?:is|are|be) acceptable|(?:are|is|be|remain) eligible|"
                        r"eligible (?:provided|if)|may (?:have|be on|receive|be included|be enrolled|participate)|"
                        r"can be (?:included|enrolled))\b", re.IGNORECASE)
_CONDITIONAL = re.compile(r"\b(?:if|provided|unless|when|in case of)\b|^(?:for|in) (?:patients|subjects|those|"
                          r"participants)\b", re.IGNORECASE)
_SINCE = re.compile(r"\W*(?:at least|more than|greater than|over|>=?|≥)\s*(?:\d+|one|two|three|four|six|twelve)\s*"
                    r"(?:days?|weeks?|months?|years?|wks?|mos?)\s+(?:since|after|from)\b", re.IGNORECASE)
_EXCLUDES = re.compile(r"\b(?:protocol|study|trial) (?:excludes|will exclude)\b", re.IGNORECASE)


_CLAUSES = re.compile(r"(?<=[.;:])\s+")
_EXCEPTION = re.compile(r"\b(?:eligible|allowed|permitted|acceptable|except|unless|may|will (?:undergo|be (?:tested|asked|required))|"
                        r"must (?:use|agree|have a negative)|test(?:ing)?)\b", re.IGNORECASE)
_HEALTHY = re.compile(r"\b(?:healthy (?:adult |male |female |normal |elderly |young )?(?:volunteers?|subjects?|men|women|"
                      r"males?|females?|adults?|individuals?|participants?|persons?|people|children)|"
                      r"in good (?:general )?health|normal (?:healthy )?volunteers?)\b", re.IGNORECASE)


def _qualified(head: str, concepts: list[str]) -> bool:
    """True when a qualifier ("uncontrolled", "requiring") stands with the named concepts, not
    with a later item of the same line ("stroke within 6 months, major cardiac surgery")."""
    if not concepts:
        return False
    spans = find_concepts(head, negation=False, broaden=False)
    end = max((spans[c][1] for c in concepts if c in spans), default=len(head))
    return bool(QUALIFIER.search(_ANY_TIME.sub(" ", head[:end + 25])))


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.;])\s", text, maxsplit=1)[0]


#: Where a criterion's head (what it is about) ends: "... illness that would jeopardize chemotherapy".
_SUBORDINATE = re.compile(r"\b(?:that|which|would|could|might|interfer\w*|jeopardi[sz]\w*|preclud\w*|"
                          r"compromis\w*|unless|except|other than|excluding|in the opinion|"
                          r"as evidenced by|defined (?:as|by)|suggest\w*)\b", re.IGNORECASE)
#: Words that make a criterion narrower than the plain condition or treatment it names.
QUALIFIER = re.compile(r"\b(?:uncontrolled|poorly controlled|active|symptomatic|severe|significant|unstable|serious|"
                        r"decompensated|advanced|major|current(?:ly)?|concurrent|ongoing|untreated|refractory|"
                        r"recurrent|requiring|dependent|at least \d+|since|increase[sd]? in|change[sd]? in|(?:more|less|fewer) than (?:\d+|one|two|three)|"
                        r"class (?:ii|iii|iv|3|4))\b", re.I)
#: "prior or concurrent", "past or current": any time, not a narrower condition.
_ANY_TIME = re.compile(r"\b(?:prior|previous|past|history of)\s+(?:or|and/or|and)\s+(?:concurrent|current)\b", re.I)
_NUM = r"(\d+(?:\.\d+)?)"
_NOT_RELATIVE = r"(?!\d|\s*(?:times|x\b|×|%?\s*(?:of\s*)?(?:the\s*)?(?:uln|upper|institutional|normal)))"
_LAB_NUM = r"(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
_AGE_RANGE = re.compile(rf"(?:aged?|ages?)\s*(?:of|:|between|from)?\s*{_NUM}\s*(?:years?\s*)?(?:-|–|to|and)\s*{_NUM}",
                        re.IGNORECASE)
_AGE_MIN = re.compile(rf"(?:age[ds]?\s*(?::|of|is)?\s*(?:>=|≥|=>|>|at least|over|above|older than|greater than(?: or equal to)?)\s*{_NUM}"
                      rf"|{_NUM}\s*(?:years?(?: of age)?|yrs?)\s*(?:of age\s*)?(?:or|and) (?:older|above|over)"
                      rf"|(?:>=|≥)\s*{_NUM}\s*years|at least {_NUM}\s*(?:years?|yrs?) (?:of age|old))", re.IGNORECASE)
_AGE_MAX = re.compile(rf"(?:age[ds]?\s*(?::|of|is)?\s*(?:<=|≤|<|under|below|younger than|less than(?: or equal to)?|up to)\s*{_NUM}"
                      rf"|{_NUM}\s*(?:years?(?: of age)?|yrs?)\s*(?:of age\s*)?(?:or|and) (?:younger|under|below))",
                      re.IGNORECASE)
_WINDOW = re.compile(r"(?:within|in|during|over)\s+(?:the\s+)?(?:last|past|previous|preceding|prior)?\s*"
                     r"(\d+|one|two|three|four|six|twelve|a)?\s*(day|week|month|year)s?", re.IGNORECASE)
#: "< 120 days prior to randomization", "less than 6 months before entry"
_WINDOW_BEFORE = re.compile(r"(?:<|≤|<=|less than|fewer than|no more than|not more than|up to)\s*"
                            r"(\d+|one|two|three|four|six|twelve)\s*(day|week|month|year)s?\s+"
                            r"(?:prior|before|of|preceding)\b", re.IGNORECASE)
_WORD_NUM = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "six": 6, "twelve": 12}
_PER_MONTH = {"day": 1 / 30, "week": 7 / 30, "month": 1, "year": 12}

#: Lab names (general abbreviations) -> canonical key.
LABS = {
    "creatinine clearance": "crcl", "crcl": "crcl", "egfr": "egfr", "gfr": "egfr",
    "creatinine": "creatinine", "hemoglobin a1c": "hba1c", "hba1c": "hba1c", "a1c": "hba1c",
    "glycated hemoglobin": "hba1c", "hemoglobin": "hemoglobin", "haemoglobin": "hemoglobin", "hgb": "hemoglobin",
    "hb": "hemoglobin", "platelets": "platelets", "platelet count": "platelets", "plt": "platelets",
    "absolute neutrophil count": "anc", "anc": "anc", "bilirubin": "bilirubin", "alt": "alt", "ast": "ast",
    "body mass index": "bmi", "bmi": "bmi", "ejection fraction": "ef", "lvef": "ef", "ef": "ef",
    "karnofsky": "karnofsky", "ecog": "ecog", "fev1": "fev1", "psa": "psa",
    # rating scales
    "ham-d": "hamd", "hamd": "hamd", "ham-d17": "hamd", "hamd17": "hamd", "ham-d-17": "hamd",
    "hamilton depression rating scale": "hamd", "hamilton rating scale for depression": "hamd",
    "mmse": "mmse", "mini-mental state examination": "mmse", "madrs": "madrs",
}
_LAB_NAMES = sorted(LABS, key=len, reverse=True)
_CMP = (r"(>\s?or\s?=|<\s?or\s?=|>=|<=|≥|≤|=>|=<|>|<|at least|no more than|not more than|no greater than|not greater than|"
        r"not exceeding|no higher than|not higher than|greater than or equal to|"
        r"less than or equal to|greater than|more than|less than|below|above|under|over|exceeding|of at least|"
        r"of less than|of greater than|of more than)")
_LAB_RE = re.compile(r"(?<![\w-])(" + "|".join(re.escape(n) for n in _LAB_NAMES) + r")\b[^.;\d<>≥≤]{0,25}?"
                     + _CMP + r"\s*" + _LAB_NUM + _NOT_RELATIVE, re.IGNORECASE)
_LAB_BETWEEN = re.compile(r"(?<![\w-])(" + "|".join(re.escape(n) for n in _LAB_NAMES) + r")\b[^.;\d]{0,25}?"
                          r"(?:between|of|:)?\s*" + _NUM + r"\s*(?:%|mg/dl|kg/m2|kg/m²)?\s*(?:-|–|to|and)\s*" + _NUM,
                          re.IGNORECASE)


LAB_VALUE = re.compile(
    r"(?<![\w-])(" + "|".join(re.escape(n) for n in _LAB_NAMES) + r")\b"
    r"(?:\s*(?:level|count|value|(?:total )?score))?\s*(?:is|was|of|=|:|at)?\s*(?:about\s*)?" + _LAB_NUM + r"(?!\s*(?:-|to)\s*\d)",
    re.IGNORECASE)


def lab_scale(lab: str, value: float) -> float:
    """One scale per lab: platelets and neutrophils per mm3, hemoglobin in g/dL."""
    if lab == "platelets" and value < 2000:
        return value * 1000
    if lab == "anc" and value < 100:
        return value * 1000
    if lab == "hemoglobin" and value > 25:
        return value / 10
    return value


def _op(word: str) -> str:
    w = word.lower()
    if w in (">=", "≥", "=>") or "at least" in w or "or equal" in w and "greater" in w or re.match(r">\s?or\s?=", w):
        return "ge"
    if w in ("<=", "≤", "=<") or w.startswith(("no ", "not ")) or "or equal" in w or re.match(r"<\s?or\s?=", w):
        return "le"
    if w in (">",) or any(x in w for x in ("greater", "more", "above", "over", "exceeding")):
        return "gt"
    return "lt"


@dataclass
class Parsed:
    polarity: Literal["require", "forbid"] = "require"
    concepts: list[str] = field(default_factory=list)
    age: list[float | None] | None = None
    sex: Literal["Female", "Male"] | None = None
    window_months: float | None = None
    labs: list[dict[str, Any]] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    stages: list[list[int]] = field(default_factory=list)  # stage ranges named (stage.py ordinals)
    generic: bool = False
    healthy: bool = False    # asks for healthy volunteers ("Healthy men aged 18-45")
    qualified: bool = False  # "uncontrolled hypertension": the plain condition does not settle it

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "Parsed":
        return cls(**json.loads(text))


@dataclass
class Criterion:
    kind: Kind
    ordinal: int
    text: str               # the item as listed (no bullet)
    section: str            # the trial section it comes from, e.g. "Eligibility: Exclusion"
    parsed: Parsed = field(default_factory=Parsed)
    context: str = ""       # the parent line of a sub-item ("No prior therapy, including:")


def content_words(text: str) -> list[str]:
    """Lower-case content words of a criterion, in order, without duplicates."""
    words = re.findall(r"[a-z][a-z0-9'-]{2,}", text.lower())
    return list(dict.fromkeys(w.strip("'-") for w in words if w not in _STOP))


def _window(text: str) -> float | None:
    m = _SINCE.match(_LABEL.sub("", text))
    if m:
        n, unit = re.search(r"(\d+|one|two|three|four|six|twelve)\s*(d|w|m|y)", m.group(0), re.I).groups()
        value = float(_WORD_NUM.get(n.lower(), n) if not n.isdigit() else n)
        return round(value * _PER_MONTH[{"d": "day", "w": "week", "m": "month", "y": "year"}[unit.lower()]], 3)
    m = _WINDOW.search(text) or _WINDOW_BEFORE.search(text)
    if not m or not (m.group(1) or re.search(r"last|past|previous|preceding|prior", m.group(0), re.I)):
        return None
    n = m.group(1) or "1"
    value = float(_WORD_NUM.get(n.lower(), n) if not n.isdigit() else n)
    return round(value * _PER_MONTH[m.group(2).lower()], 3)


def _labs(text: str) -> list[dict[str, Any]]:
    out = []
    for m in _LAB_BETWEEN.finditer(text):
        out.append({"lab": LABS[m.group(1).lower()], "op": "between", "value": [float(m.group(2)), float(m.group(3))]})
    for m in _LAB_RE.finditer(text):
        key = LABS[m.group(1).lower()]
        if not any(lab["lab"] == key for lab in out):
            value = lab_scale(key, float(m.group(3).replace(",", "")))
            out.append({"lab": key, "op": _op(m.group(2)), "value": value})
    return out


def _age(text: str) -> list[float | None] | None:
    """An age limit, only from a criterion about age ("Age: under 65", "Aged 18 to 70 years")."""
    if not (re.match(r"\W*(?:age|aged|patients? aged|\d+ years)", text, re.I) or len(text) <= 60) or \
            re.search(r"\bgroup\b|\bor (?:greater|older|more|less|younger)\b.*\bor\b|\bif\b|\bfor patients\b", text, re.I):
        return None
    m = _AGE_RANGE.search(text)
    if m:
        lo, hi = float(m.group(1)), float(m.group(2))
        if lo < hi <= 120:
            return [lo, hi]
    lo = hi = None
    m = _AGE_MIN.search(text)
    if m:
        v = float(next(g for g in m.groups() if g))
        lo = v + 1 if re.search(r"(?<![<>=])>(?!=)|over|above|older than|greater than(?! or)", m.group(0)) else v
    m = _AGE_MAX.search(text)
    if m:
        v = float(next(g for g in m.groups() if g))
        hi = v - 0.001 if re.search(r"<(?!=)|under|below|younger than|less than(?! or)", m.group(0)) else v
    if lo is None and hi is None:
        return None
    return [lo, hi]


def _sex(text: str, kind: Kind) -> Literal["Female", "Male"] | None:
    if kind != "inclusion" or len(text) > 80 or re.search(r"\d", text) and _age(text) is None or \
            re.search(r"child[- ]?bearing|potential|pregnan|contracep|partner|lactat", text, re.I):
        return None
    has_f = re.search(r"\b(?:women|woman|females?|girls?|postmenopausal|premenopausal)\b", text, re.I)
    has_m = re.search(r"\b(?:men|man|males?|boys?)\b", text, re.I)
    if has_f and not has_m:
        return "Female"
    if has_m and not has_f:
        return "Male"
    return None


def parse_criterion(text: str, kind: Kind, context: str = "") -> Parsed:
    """Parse one criterion's text (with its parent line's text as `context` for a sub-item)."""
    text, context = normalize(text), normalize(context)
    full = f"{context} {text}".strip() if context else text
    negative = any(_NEG_START.match(lead.strip()) or _NEG_INSIDE.search(_first_sentence(lead)) or _EXCLUDES.search(lead)
                   or _SERONEGATIVE.search(lead) for lead in (_LABEL.sub("", context), _LABEL.sub("", text)) if lead)
    polarity: Literal["require", "forbid"]
    if kind == "exclusion" or _SINCE.match(_LABEL.sub("", text)):  # "At least 4 weeks since prior chemotherapy"
        polarity = "forbid"
    else:
        polarity = "forbid" if negative else "require"
    own_head = _SUBORDINATE.split(_first_sentence(text), maxsplit=1)[0]
    head = f"{_SUBORDINATE.split(_first_sentence(context), maxsplit=1)[0]} {own_head}".strip() if context else own_head
    concepts = _head_concepts(head)
    if polarity == "forbid":  # "Current pregnancy ...; breast-feeding", "History of seizures. Pregnant": each clause forbids
        for clause in _CLAUSES.split(text)[1:]:
            if (kind == "exclusion" or len(clause) <= 90) and not _EXCEPTION.search(clause):
                concepts += [c for c in _head_concepts(_SUBORDINATE.split(clause, maxsplit=1)[0]) if c not in concepts]
    if context and not _head_concepts(own_head) and len(context) > 40 \
            and (_NEG_START.match(_LABEL.sub("", text)) or _NEG_INSIDE.search(_first_sentence(text))):
        # a negated sub-item of a long parent ("Failure of prior cytotoxic therapy defined by: -
        # Never responded") is not about the parent's subject's absence
        concepts = []
    # an allowance ("Prior chemotherapy allowed", "Renal failure eligible provided: ...") or an item
    # that applies only to a subgroup ("Age 65-70 years: Karnofsky 80-100%") rules nobody out
    conditional = bool(context) and _age(text) is None and (_age(context) is not None or _CONDITIONAL.search(context))
    allowance = bool(_ALLOWANCE.search(_first_sentence(full))) and not negative
    return Parsed(
        polarity=polarity,
        concepts=concepts,
        age=_age(text) if _age(text) is not None or conditional else _age(full),
        sex=_sex(text, kind),
        window_months=_window(text) if _window(text) is not None else _window(full),
        labs=_labs(full),
        stages=criterion_stages(_SUBORDINATE.split(text, maxsplit=1)[0]),
        healthy=kind == "inclusion" and polarity == "require" and bool(_HEALTHY.search(own_head)),
        words=content_words(text),
        generic=bool((_GENERIC.search(text) and not concepts) or allowance or conditional),
        qualified=_qualified(head, concepts),
    )


_CONNECTOR = re.compile(r",|/|\bor\b|\band\b|\bnor\b", re.IGNORECASE)
_PREPOSITION = re.compile(r"\b(?:to|for|with|in|by|from|due|after|during|on|at|than|as|because|since)\b", re.I)


def _listed(gap: str) -> bool:
    """True when the text between two concepts only lists them: ", ", " or ", "mellitus, "."""
    return len(gap) <= 30 and bool(_CONNECTOR.search(gap) or not gap.strip()) and not _PREPOSITION.search(gap)


def _head_concepts(head: str) -> list[str]:
    """The concepts a criterion is about: the first one named, and those listed with it
    ("pregnant or nursing"), not those in its complements ("allergy to ... chemotherapy")."""
    spans = sorted(find_concepts(head, negation=False, broaden=False).items(), key=lambda kv: kv[1])
    kept: list[str] = []
    end = -1
    taken: list[tuple[int, int]] = []
    for name, (start, stop) in spans:
        if any(a <= start and stop <= b for a, b in taken):
            continue  # "dialysis" inside "peritoneal dialysis"
        taken.append((start, stop))
        if not kept or start <= end or _listed(head[end:start]):
            kept.append(name)
            end = max(end, stop)
    return kept


#: Old NCI (PDQ) records flatten many criteria into one line: "Other: Not pregnant Negative
#: pregnancy test No diabetes mellitus". Split before labels and before "No"/"Not"/"At least".
_FLAT_SPLIT = re.compile(
    r"(?<=[A-Za-z0-9%)\].])\s+(?=(?:[A-Z][a-z]+(?: [a-zA-Z/]+){0,3}:\s|No |Not |At least |Must |Negative |Prior |"
    r"Concurrent |Fertile |Adequate |Recovered |--|(?:Platelet|Hemoglobin|Hematocrit|Bilirubin|Creatinine|AST|ALT|"
    r"SGOT|SGPT|HIV|Absolute|WBC|Granulocyte)\b))|\s*--\s*(?=[A-Z])|(?<=--)\s+")


def _pieces(line: str) -> list[str]:
    if len(line) < 30:
        return [line]
    return [p.strip(" -") for p in _FLAT_SPLIT.split(line) if len(p.strip(" -")) >= 3]


_SUBHEADING = re.compile(r"^(?:[\w/-]+\s){0,3}(?:characteristics|criteria|volunteers|patients|subjects|participants|"
                         r"population|therapy|information|history|requirements)\W*$", re.IGNORECASE)


_SWITCH = re.compile(r"^\W*(inclusion|exclusion) criteria\b[^.]{0,60}$", re.IGNORECASE)


def _is_heading(line: str) -> bool:
    if _SUBHEADING.match(line) and not re.search(r"\d", line) and not find_concepts(line, negation=False):
        return True
    return bool(_HEADING.match(line)) or line.endswith(":") and len(line) < 40 and not find_concepts(line, negation=False)


def split_criteria(trial: Trial) -> list[Criterion]:
    """Every single criterion of the trial, in order, labelled inclusion or exclusion."""
    out: list[Criterion] = []
    for section in trial.sections:
        if not section.name.startswith("Eligibility:"):
            continue
        sub = section.name.split(":", 1)[1].strip().lower()
        if sub not in ("inclusion", "exclusion", "criteria"):
            continue
        parents: list[tuple[int, str]] = []  # (indent, text) of open parent items
        kind: Kind = "exclusion" if sub == "exclusion" else "inclusion"
        for raw in section.text.splitlines():
            if not raw.strip():
                continue
            switch = _SWITCH.match(raw)  # "INCLUSION CRITERIA - NORMAL CONTROL:" inside an exclusion list
            if switch:
                kind = "exclusion" if switch.group(1).lower() == "exclusion" else "inclusion"
                parents = []
                continue
            indent = len(raw) - len(raw.lstrip())
            line = re.sub(r"^\s*(?:[-•*·]|\d{1,2}[.)])\s+", "", raw).strip().strip("-").strip()
            if len(line) < 3:
                continue
            while parents and parents[-1][0] >= indent:
                parents.pop()
            if _is_heading(line) or _NOT_SPECIFIED.search(line):
                keep = line.endswith(":") and not line.isupper() and not line.startswith("--")
                parents.append((indent, line if keep else ""))
                continue
            context = " ".join(p for _, p in parents if p)
            for piece in _pieces(line):
                if _is_heading(piece) or _NOT_SPECIFIED.search(piece):
                    continue
                out.append(Criterion(kind, len(out), piece, section.name, parse_criterion(piece, kind, context), context))
            if line.endswith(":"):
                parents.append((indent, line))
    return out
