"""Filters in a question: each detector finds its phrases, returns conditions and consumes
the words it used, so that what is left is topic words. Every detector is general language
about trial records (phases, statuses, ages, dates ...) or values read from the index
(`Vocabulary`); none is keyed to a question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from trialqa.answer.lexicon import lay_phrases
from trialqa.answer.plan import Cond, Filter, Not, Or
from trialqa.answer.vocab import DEMONYMS, SPONSOR_ALIASES, Vocabulary

NUM = r"(\d{1,3}(?:,\d{3})+|\d+)"
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "1": "1", "2": "2", "3": "3", "4": "4"}
_NEG = re.compile(r"\b(not|no|without|excluding|except|non|never|n't|lack|lacking|outside)\W+(?:\w+\W+){0,2}$", re.I)
_BY_ROLE = r"(?:sponsored|funded|led|run|backed)\b"  # "NCI-sponsored", "Acme-funded"
_PEOPLE = r"(?:participants?|patients?|people|subjects?|volunteers?|persons?|individuals?|enrollees|women|men|children|adults)"


@dataclass
class Text:
    """The question with consumed spans blanked out."""

    original: str
    rest: str = ""
    found: list[Filter] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)  # where each found filter stands in the question

    def __post_init__(self) -> None:
        self.rest = self.original

    def take(self, m: re.Match[str], cond: Filter, negatable: bool = True) -> None:
        before = self.original[: m.start()]
        if negatable and _NEG.search(before[-40:]) and not isinstance(cond, Not):
            cond = Not(item=cond)
        self.add(cond, m.start())
        self.blank(m.start(), m.end())

    def add(self, cond: Filter, start: int) -> None:
        self.found.append(cond)
        self.starts.append(start)

    def blank(self, a: int, b: int) -> None:
        self.rest = self.rest[:a] + " " * (b - a) + self.rest[b:]

    def finditer(self, pattern: re.Pattern[str]):
        return list(pattern.finditer(self.rest))


def _num(s: str) -> int:
    return int(s.replace(",", ""))


# --- phase, status, type, design ------------------------------------------------------------

_PHASE = re.compile(r"\b(early\s+)?ph(?:ase)?\.?\s*(iv|iii|ii|i|[1-4])\b(?!\s*/\s*\d\s*(?:or|and|,))(?:\s*(/|-|or|and|to|,)\s*(?:ph(?:ase)?\.?\s*)?(iv|iii|ii|i|[1-4])\b(?!\s*/))?", re.I)


_BARE_COMBO = re.compile(r"(?<![\w/.])([1-4])\s*/\s*([1-4])(?![\w/.])")


def phases(t: Text) -> None:
    """Phases named in the question; several named positively mean any of them."""
    start = len(t.found)
    _phases(t)
    if re.search(r"\bphases?\b", t.original, re.I):
        for m in t.finditer(_BARE_COMBO):
            a, b = m.group(1), m.group(2)
            t.take(m, Cond(field="phase", op="eq", value=f"{a}/{b}", label=f"phase {a}/{b}"))
    new = list(zip(t.found[start:], t.starts[start:]))
    pos = [(f, at) for f, at in new if isinstance(f, Cond)]
    if len(pos) > 1:
        values: list[str] = []
        for f, _ in pos:
            values += f.value if isinstance(f.value, list) else [f.value]
        merged = Cond(field="phase", op="in", value=list(dict.fromkeys(values)),
                      label="phase " + " or ".join(str(v) for v in dict.fromkeys(values)))
        keep = [(f, at) for f, at in new if not isinstance(f, Cond)]
        del t.found[start:], t.starts[start:]
        t.add(merged, min(at for _, at in pos))
        for f, at in keep:
            t.add(f, at)


def _phases(t: Text) -> None:
    for m in t.finditer(_PHASE):
        a = _ROMAN[m.group(2).lower()]
        if m.group(1):
            t.take(m, Cond(field="phase", op="in", value=["Early Phase 1"], label="early phase 1"))
        elif m.group(4) and m.group(3) in ("/", "-"):
            b = _ROMAN[m.group(4).lower()]
            t.take(m, Cond(field="phase", op="eq", value=f"{a}/{b}", label=f"phase {a}/{b}"))
        elif m.group(4):
            b = _ROMAN[m.group(4).lower()]
            t.take(m, Cond(field="phase", op="in", value=[a, b], label=f"phase {a} or {b}"))
        else:
            t.take(m, Cond(field="phase", op="in", value=[a], label=f"phase {a}"))


_STATUS: list[tuple[re.Pattern[str], list[str], str]] = [
    (re.compile(r"\bnot\s+yet\s+recruiting\b", re.I), ["Not yet recruiting"], "not yet recruiting"),
    (re.compile(r"\bactive,?\s+(?:but\s+)?not\s+recruiting\b|\bno\s+longer\s+recruiting\b", re.I), ["Active, not recruiting"], "active, not recruiting"),
    (re.compile(r"\benrolling\s+by\s+invitation\b|\binvitation[- ]only\b", re.I), ["Enrolling by invitation"], "enrolling by invitation"),
    (re.compile(r"\b(?:currently\s+|still\s+|actively\s+)?(?:recruiting|enrolling\s+now|open\s+(?:for|to)\s+(?:enrol\w*|recruit\w*|new\s+patients)|accepting\s+(?:new\s+)?(?:patients|participants|volunteers))\b", re.I), ["Recruiting"], "recruiting"),
    (re.compile(r"\b(?:were\s+|was\s+|been\s+|got\s+)?(?:terminated|stopped\s+early|halted|ended\s+early|stopped)\b", re.I), ["Terminated"], "terminated"),
    (re.compile(r"\bwithdrawn\b", re.I), ["Withdrawn"], "withdrawn"),
    (re.compile(r"\bsuspended\b|\bon\s+hold\b", re.I), ["Suspended"], "suspended"),
    (re.compile(r"\bunknown\s+status\b|\bstatus\s+(?:is\s+)?unknown\b", re.I), ["Unknown", "Unknown status"], "unknown status"),
    (re.compile(r"\b(?:have|has|had)?\s*(?:completed|finished)\b(?!\s+(?:date|by|before|after|in\s+\d))|\bcompleted\s+(?:trials|studies)\b", re.I), ["Completed"], "completed"),
    (re.compile(r"\bongoing\b|\bstill\s+running\b|\bin\s+progress\b", re.I),
     ["Recruiting", "Active, not recruiting", "Enrolling by invitation", "Not yet recruiting"], "ongoing"),
]


def statuses(t: Text) -> None:
    for pattern, values, label in _STATUS:
        for m in t.finditer(pattern):
            t.take(m, Cond(field="status", op="in", value=values, label=f"status: {label}"))


_SIMPLE: list[tuple[re.Pattern[str], str, list[str], str]] = [
    (re.compile(r"\bobservational\b", re.I), "study_type", ["Observational"], "observational"),
    (re.compile(r"\binterventional\b", re.I), "study_type", ["Interventional"], "interventional"),
    (re.compile(r"\bexpanded\s+access\b", re.I), "study_type", ["Expanded Access"], "expanded access"),
    (re.compile(r"\bnon-?\s?randomi[sz]ed\b", re.I), "allocation", ["Non-Randomized"], "non-randomized"),
    (re.compile(r"\brandomi[sz]\w*|\brandomly\s+(?:assign|allocat)\w*|\b(?:assign\w*|allocat\w*)\s+(?:\w+\s+){0,3}?at\s+random\b|\brandom\s+(?:assignment|allocation)\b|\brcts?\b", re.I), "allocation", ["Randomized"], "randomized"),
    (re.compile(r"\bsingle[- ](?:arm|group)\b", re.I), "intervention_model", ["Single Group Assignment"], "single group"),
    (re.compile(r"\bcross-?over\b", re.I), "intervention_model", ["Crossover Assignment"], "crossover"),
    (re.compile(r"\bfactorial\b", re.I), "intervention_model", ["Factorial Assignment"], "factorial"),
    (re.compile(r"\bparallel[- ](?:group|arm|assignment|design)s?\b", re.I), "intervention_model", ["Parallel Assignment"], "parallel groups"),
    (re.compile(r"\bquadruple[- ](?:blind\w*|mask\w*)\b", re.I), "masking", ["Quadruple"], "quadruple-blind"),
    (re.compile(r"\btriple[- ](?:blind\w*|mask\w*)\b", re.I), "masking", ["Triple", "Quadruple"], "triple-blind or more"),
    (re.compile(r"\bdouble[- ](?:blind\w*|mask\w*)\b", re.I), "masking", ["Double", "Triple", "Quadruple"], "double-blind or more"),
    (re.compile(r"\bsingle[- ](?:blind\w*|mask\w*)\b", re.I), "masking", ["Single"], "single-blind"),
    (re.compile(r"\bopen[- ]label\b|\bunblinded\b|\bunmasked\b|\bno\s+masking\b|\bnot\s+blinded\b", re.I), "masking", ["None"], "open label"),
    (re.compile(r"\bprevention\s+(?:trials?|studies|study|purpose)\b|\bprevent(?:ive|ative)\s+(?:trials?|studies)\b", re.I), "primary_purpose", ["Prevention"], "purpose: prevention"),
    (re.compile(r"\bscreening\s+(?:trials?|studies|study)\b", re.I), "primary_purpose", ["Screening"], "purpose: screening"),
    (re.compile(r"\bdiagnostic\s+(?:trials?|studies|study)\b", re.I), "primary_purpose", ["Diagnostic"], "purpose: diagnostic"),
    (re.compile(r"\bsupportive[- ]care\b", re.I), "primary_purpose", ["Supportive Care"], "purpose: supportive care"),
    (re.compile(r"\bbasic\s+science\b", re.I), "primary_purpose", ["Basic Science"], "purpose: basic science"),
]
_ITYPE = re.compile(
    r"\b(behaviou?ral|device|biologics?|biological|procedures?|surgical|dietary\s+supplements?|supplements?|radiation|"
    r"genetic|drug)[\s-]+(?:interventions?|trials?|studies|study|treatments?|therap(?:y|ies))\b"
    r"|\b(?:test|testing|tests|use|using|uses|involv\w+|with)\s+(?:a\s+|an\s+)?(behaviou?ral|device|biologicals?|biologics?|dietary\s+supplement|radiation|surgical|genetic)\b(?:\s+(?:interventions?|treatments?|therapy))?", re.I)
_ITYPES = {"biologicals": "Biological", "behavioral": "Behavioral", "behavioural": "Behavioral", "device": "Device", "biologic": "Biological",
           "biologics": "Biological", "biological": "Biological", "procedure": "Procedure", "procedures": "Procedure",
           "surgical": "Procedure", "dietary supplement": "Dietary Supplement", "dietary supplements": "Dietary Supplement",
           "supplement": "Dietary Supplement", "supplements": "Dietary Supplement", "radiation": "Radiation",
           "genetic": "Genetic", "drug": "Drug"}


def designs(t: Text) -> None:
    for pattern, fld, values, label in _SIMPLE:
        for m in t.finditer(pattern):
            t.take(m, Cond(field=fld, op="in", value=values, label=label))  # type: ignore[arg-type]
    for m in t.finditer(_ITYPE):
        word = " ".join((m.group(1) or m.group(2)).lower().split())
        value = _ITYPES.get(word)
        if value:
            t.take(m, Cond(field="intervention_type", op="in", value=[value], label=f"intervention type: {value.lower()}"))


_PLACEBO = re.compile(r"(?:\b(?:against|versus|vs\.?|with|to|compared\s+(?:with|to))\s+(?:a\s+|the\s+)?)?\bplacebos?(?:[- ]controlled|\s+(?:comparators?|arms?|groups?|controls?|comparator\s+arms?))?\b", re.I)
_ACTIVE = re.compile(r"\bactive[- ](?:comparator|control(?:led)?)s?\b", re.I)


def comparators(t: Text) -> None:
    for m in t.finditer(_PLACEBO):
        arm = Cond(field="arm_type", op="in", value=["Placebo Comparator"], label="placebo comparator arm")
        if re.search(r"comparator", m.group(0), re.I):  # the registry's arm type, named as such
            t.take(m, arm)
        else:  # "placebo-controlled", "against placebo": a placebo arm or a placebo intervention
            t.take(m, Or(items=[arm.model_copy(update={"label": "placebo arm"}),
                                Cond(field="intervention", op="contains", value=[["placebo"]], label="placebo")]))
    for m in t.finditer(_ACTIVE):
        t.take(m, Cond(field="arm_type", op="in", value=["Active Comparator"], label="active comparator arm"))


_RESULTS = re.compile(r"\b(?:with|have|has|had|that\s+(?:have\s+)?posted|posted|reported|report|reporting)\s+(?:their\s+|any\s+)?results(?:\s+posted|\s+reported)?\b|\bresults\s+(?:posted|reported|available)\b", re.I)
_NO_RESULTS = re.compile(r"\b(?:without|no|not\s+(?:yet\s+)?posted|haven't\s+posted|hasn't\s+posted)\s+(?:any\s+)?results\b", re.I)


def results(t: Text) -> None:
    for m in t.finditer(_NO_RESULTS):
        t.take(m, Cond(field="has_results", op="is", value=False, label="no results posted"), negatable=False)
    for m in t.finditer(_RESULTS):
        t.take(m, Cond(field="has_results", op="is", value=True, label="results posted"))


# --- people: sex, age, healthy volunteers ---------------------------------------------------

_ONLY_F = re.compile(r"\b(?:only|exclusively|just)\s+(?:enrol\w*\s+|recruit\w*\s+|accept\w*\s+|include\w*\s+|for\s+|in\s+|open\s+to\s+)?(?:wom[ae]n|females?|girls)\b|\b(?:wom[ae]n|female|females|girls)[- ]only\b|\ball[- ]female\b|\b(?:restricted|limited)\s+to\s+(?:wom[ae]n|females?)\b|\bonly\s+(?:for\s+)?(?:wom[ae]n|females)\b", re.I)
_ONLY_M = re.compile(r"\b(?:only|exclusively|just)\s+(?:enrol\w*\s+|recruit\w*\s+|accept\w*\s+|include\w*\s+|for\s+|in\s+|open\s+to\s+)?(?:m[ae]n|males?|boys)\b|\b(?:m[ae]n|male|males|boys)[- ]only\b|\ball[- ]male\b|\b(?:restricted|limited)\s+to\s+(?:m[ae]n|males?)\b", re.I)
_ANY_F = re.compile(r"\b(?:accept\w*|open\s+to|include\w*|enrol\w*|recruit\w*|allow\w*|for|in)\s+(?:pregnant\s+|postmenopausal\s+|adult\s+|older\s+|young\s+)?(?:wom[ae]n|females?)\b", re.I)
_ANY_M = re.compile(r"\b(?:accept\w*|open\s+to|include\w*|enrol\w*|recruit\w*|allow\w*|for|in)\s+(?:adult\s+|older\s+|young\s+)?(?:m[ae]n|males?)\b", re.I)


def sexes(t: Text) -> None:
    for m in t.finditer(_ONLY_F):
        t.take(m, Cond(field="sex", op="is", value="Female", label="women only"), negatable=False)
    for m in t.finditer(_ONLY_M):
        t.take(m, Cond(field="sex", op="is", value="Male", label="men only"), negatable=False)
    for m in t.finditer(_ANY_F):
        t.take(m, Cond(field="sex", op="covers", value="Female", label="accepts women"), negatable=False)
    for m in t.finditer(_ANY_M):
        t.take(m, Cond(field="sex", op="covers", value="Male", label="accepts men"), negatable=False)


_AGE_EXACT = re.compile(r"\b(\d{1,3})[\s-]*(?:years?|yrs?|y/?o)?[\s-]*old\b|\baged?\s+(\d{1,3})\b(?!\s*(?:or|and|to|-|\+|years?\s+(?:or|and)))|\b(\d{1,3})[\s-]*year[\s-]*olds?\b|\b(\d{1,3})\s*y/?o\b", re.I)
_AGE_MIN = re.compile(r"\b(?:aged\s+|age\s+|ages\s+)?(\d{1,3})\s*(?:years?\s+)?(?:\+|(?:or|and)\s+(?:older|over|above|up))\b|\b(?:over|above|older\s+than|at\s+least)\s+(?:the\s+age\s+of\s+)?(\d{1,3})\s*(?:years?|yrs?)?(?:\s+(?:of\s+age|old))?(?=\W|$)(?!\s*" + _PEOPLE + ")", re.I)
_AGE_MAX = re.compile(r"\b(?:under|below|younger\s+than|less\s+than)\s+(?:the\s+age\s+of\s+)?(\d{1,3})\s*(?:years?|yrs?)?(?:\s+(?:of\s+age|old))?(?=\W|$)(?!\s*" + _PEOPLE + r")|\b(\d{1,3})\s*(?:years?\s+)?(?:or|and)\s+(?:younger|under|below)\b", re.I)
_AGE_RANGE = re.compile(r"\b(?:aged?|ages)\s+(\d{1,3})\s*(?:-|to|and)\s*(\d{1,3})\b|\bbetween\s+(?:the\s+ages\s+of\s+)?(\d{1,3})\s+and\s+(\d{1,3})\s+years", re.I)
_AGE_WORDS: list[tuple[re.Pattern[str], str, object, str]] = [
    (re.compile(r"\b(?:newborns?|neonates?|neonatal)\b", re.I), "lt", 0.1, "newborns"),
    (re.compile(r"\b(?:infants?|babies|baby|toddlers?)\b", re.I), "lt", 2, "infants"),
    (re.compile(r"\b(?:adolescents?|teenagers?|teens?|youths?)\b", re.I), "between", [13, 17], "adolescents"),
    (re.compile(r"\b(?:children|child|kids?|pediatric|paediatric|minors?|boys|girls)\b", re.I), "lt", 18, "children (under 18)"),
    (re.compile(r"\b(?:elderly|older\s+(?:adults|people|patients|persons|individuals)|seniors?|geriatric|aged\s+people)\b", re.I), "ge", 65, "older adults (65+)"),
]


def ages(t: Text) -> None:
    for m in t.finditer(_AGE_RANGE):
        a, b = (int(x) for x in (m.group(1) or m.group(3), m.group(2) or m.group(4)))
        t.take(m, Cond(field="age", op="between", value=[a, b], label=f"admits ages {a}-{b}"))
    for m in t.finditer(_AGE_MIN):
        n = int(m.group(1) or m.group(2))
        t.take(m, Cond(field="age", op="ge", value=n, label=f"admits {n} or older"))
    for m in t.finditer(_AGE_MAX):
        n = int(m.group(1) or m.group(2))
        op = "lt" if m.group(1) else "le"
        t.take(m, Cond(field="age", op=op, value=n, label=f"admits under {n}" if op == "lt" else f"admits {n} or younger"))
    for m in t.finditer(_AGE_EXACT):
        n = int(next(g for g in m.groups() if g))
        t.take(m, Cond(field="age", op="covers", value=n, label=f"admits a {n}-year-old"))
    for pattern, op, value, label in _AGE_WORDS:
        for m in t.finditer(pattern):
            t.take(m, Cond(field="age", op=op, value=value, label=label))  # type: ignore[arg-type]


_HEALTHY = re.compile(r"\bhealthy\s+(?:volunteers?|people|participants|subjects|adults|individuals|controls?)\b", re.I)


def healthy(t: Text) -> None:
    for m in t.finditer(_HEALTHY):
        t.take(m, Cond(field="healthy_volunteers", op="is", value=True, label="healthy volunteers"))


# --- numbers and dates ----------------------------------------------------------------------

_ENROLL = re.compile(
    r"\b(more\s+than|over|above|greater\s+than|at\s+least|fewer\s+than|less\s+than|under|below|at\s+most|up\s+to|no\s+more\s+than|between|exactly)\s+"
    + NUM + r"(?:\s*(?:and|to|-)\s*" + NUM + r")?\s+(?:planned\s+|enrolled\s+|target\s+)?" + _PEOPLE
    + r"|\b(?:enrol\w*|enrollment|sample\s+size|recruit\w*)\s+(?:of\s+)?(more\s+than|over|above|greater\s+than|at\s+least|fewer\s+than|less\s+than|under|below|at\s+most|between)\s+"
    + NUM + r"(?:\s*(?:and|to|-)\s*" + NUM + r")?"
    + r"|\b" + NUM + r"\s*\+\s*" + _PEOPLE, re.I)
_OPS = {"more than": "gt", "over": "gt", "above": "gt", "greater than": "gt", "at least": "ge",
        "fewer than": "lt", "less than": "lt", "under": "lt", "below": "lt", "at most": "le", "up to": "le",
        "no more than": "le", "exactly": "eq"}


def enrollment(t: Text) -> None:
    for m in t.finditer(_ENROLL):
        g = m.groups()
        if g[6]:
            t.take(m, Cond(field="enrollment", op="ge", value=_num(g[6]), label=f"enrollment >= {_num(g[6])}"), negatable=False)
            continue
        word, a, b = (g[0], g[1], g[2]) if g[0] else (g[3], g[4], g[5])
        word = " ".join(word.lower().split())
        if word == "between" and b:
            lo, hi = sorted((_num(a), _num(b)))
            t.take(m, Cond(field="enrollment", op="between", value=[lo, hi], label=f"enrollment {lo}-{hi}"), negatable=False)
        elif word in _OPS:
            op = _OPS[word]
            sym = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "="}[op]
            t.take(m, Cond(field="enrollment", op=op, value=_num(a), label=f"enrollment {sym} {_num(a)}"), negatable=False)


_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_DATE = rf"((?:{_MONTH}\s+)?(?:19|20)\d{{2}})"
_START_W = r"(?:start\w*|began|begin\w*|launched|initiated|opened|commenced|first\s+posted)"
_END_W = r"(?:complet\w*|finish\w*|end(?:ed|s|ing)?|conclud\w*|wrap\w*\s+up|close[ds]?)"
_WHEN = r"(before|prior\s+to|after|since|in|during|by|from|between|until)"
_DATES = re.compile(rf"\b({_START_W}|{_END_W})(?:\s+\w+)?\s+{_WHEN}\s+{_DATE}(?:\s+(?:and|to|-)\s+{_DATE})?", re.I)
_MONTHS = {m[:3]: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}


def _iso(text: str) -> str:
    parts = text.lower().split()
    if len(parts) == 2:
        return f"{parts[1]}-{_MONTHS[parts[0][:3]]:02d}"
    return parts[0]


def _next(iso: str) -> str:
    if len(iso) == 4:
        return str(int(iso) + 1)
    y, m = int(iso[:4]), int(iso[5:7])
    return f"{y + (m == 12)}-{(m % 12) + 1:02d}"


_DECADE = re.compile(rf"\b({_START_W}|{_END_W})(?:\s+\w+)?\s+(?:in|during)\s+the\s+((?:19|20)\d)0'?s\b", re.I)


_OR_LATER = re.compile(rf"\b({_START_W}|{_END_W})(?:\s+\w+)?\s+(?:in|from)\s+{_DATE}\s+or\s+(later|after|since|earlier|before|sooner)\b", re.I)


def dates(t: Text) -> None:
    for m in t.finditer(_OR_LATER):
        fld = "start_date" if re.match(_START_W, m.group(1), re.I) else "completion_date"
        a = _iso(m.group(2))
        name = "start" if fld == "start_date" else "completion"
        later = m.group(3).lower() in ("later", "after", "since")
        cond = (Cond(field=fld, op="ge", value=a, label=f"{name} in or after {a}") if later
                else Cond(field=fld, op="lt", value=_next(a), label=f"{name} in or before {a}"))
        t.take(m, cond, negatable=False)
    for m in t.finditer(_DECADE):
        fld = "start_date" if re.match(_START_W, m.group(1), re.I) else "completion_date"
        lo = f"{m.group(2)}0"
        hi = str(int(lo) + 10)
        name = "start" if fld == "start_date" else "completion"
        t.take(m, Cond(field=fld, op="between", value=[lo, hi], label=f"{name} in the {lo}s"), negatable=False)
    for m in t.finditer(_DATES):
        fld = "start_date" if re.match(_START_W, m.group(1), re.I) else "completion_date"
        when, a, b = m.group(2).lower().split()[0], _iso(m.group(3)), m.group(4)
        name = "start" if fld == "start_date" else "completion"
        if b or when == "between":
            hi = _next(_iso(b)) if b else _next(a)
            cond = Cond(field=fld, op="between", value=[a, hi], label=f"{name} {a} to {_iso(b) if b else a}")
        elif when in ("before", "prior", "by", "until"):
            cond = Cond(field=fld, op="lt", value=a if when != "by" else _next(a), label=f"{name} before {a}")
        elif when == "after":
            cond = Cond(field=fld, op="ge", value=_next(a), label=f"{name} after {a}")
        elif when in ("since", "from"):
            cond = Cond(field=fld, op="ge", value=a, label=f"{name} in or after {a}")
        else:
            cond = Cond(field=fld, op="eq", value=a, label=f"{name} in {a}")
        t.take(m, cond, negatable=False)


# --- values from the index: places, sponsors, conditions, interventions --------------------

def _phrase_iter(t: Text, phrases: dict[str, str] | set[str], min_len: int = 3):
    """(phrase, match) for each phrase of the set standing as whole words in what is left,
    longest first: word runs of the question are looked up, not every phrase searched."""
    low = t.rest.lower()
    toks = list(re.finditer(r"[\w'.&-]+", low))
    found = []
    for n in range(6, 0, -1):
        for i in range(len(toks) - n + 1):
            a, b = toks[i].start(), toks[i + n - 1].end()
            phrase = low[a:b].rstrip(".")
            if len(phrase) >= min_len and phrase in phrases:
                found.append((phrase, re.compile(re.escape(phrase)).match(low, a)))
    taken: list[tuple[int, int]] = []
    for phrase, m in found:
        if m and not any(x < m.end() and m.start() < y for x, y in taken):
            taken.append((m.start(), m.end()))
            yield phrase, m


def places(t: Text, vocab: Vocabulary) -> None:
    countries: list[tuple[str, re.Match[str]]] = []
    table = dict(vocab.countries)
    for adj, country in DEMONYMS.items():
        if country.lower() in vocab.countries:
            table.setdefault(adj, country)
    for phrase, m in _phrase_iter(t, table, 2):
        if t.rest[m.start():m.end()].strip() == "":
            continue
        if len(phrase) <= 3 and t.original[m.start():m.end()] != phrase.upper():
            continue  # "us" is a word; "US" is a country
        countries.append((table[phrase], m))
        t.blank(m.start(), m.end())
    if countries:
        names = list(dict.fromkeys(c for c, _ in countries))
        between = t.original[min(m.start() for _, m in countries):max(m.end() for _, m in countries)]
        first = min(m.start() for _, m in countries)
        conds: list[Filter] = ([Cond(field="country", op="in", value=[n], label=f"country: {n}") for n in names]
                               if len(names) > 1 and re.search(r"\band\b|\bboth\b", between, re.I)
                               else [Cond(field="country", op="in", value=names, label="country: " + " or ".join(names))])
        negated = bool(_NEG.search(t.original[:first][-40:]))
        for cond in conds:  # "sites outside the United States"
            t.add(Not(item=cond) if negated else cond, first)
    for phrase, m in _phrase_iter(t, vocab.cities, 4):
        word = t.original[m.start():m.end()]
        before = t.original[max(0, m.start() - 12):m.start()].lower()
        if word[:1].isupper() and re.search(r"\b(in|at|near|from|around)\s+(the\s+)?$", before):
            t.take(m, Cond(field="city", op="in", value=[vocab.cities[phrase]], label=f"city: {vocab.cities[phrase]}"))


_GENERIC = frozenset("""university college hospital hospitals institute institutes national center centre medical
clinic clinical research foundation health of the and inc ltd llc co school medicine sciences science
pharmaceutical pharmaceuticals group cancer children's childrens general department ministry state
regional society association network international company corporation trust care services hopital
universitaire faculty study trial trials studies""".split())


def sponsors(t: Text, vocab: Vocabulary) -> None:
    low = t.rest.lower()
    for alias, names in SPONSOR_ALIASES.items():
        m = re.search(rf"(?<![\w-]){re.escape(alias)}(?!\w|-(?!{_BY_ROLE}))", low)  # "NCI-sponsored" too
        if m and (len(alias) > 3 or t.original[m.start():m.end()].isupper() or alias.startswith("the ")):
            t.take(m, Cond(field="sponsor", op="contains", value=list(names), label=f"sponsor: {alias.upper()}"), negatable=False)
            low = t.rest.lower()
    rest = re.sub(rf"-(?={_BY_ROLE})", " ", t.rest)  # "Acme-sponsored"
    words = [(w.group(0), w.start(), w.end()) for w in re.finditer(r"[\w&'.-]+", rest)]
    i = 0
    while i < len(words):
        best = None
        for n in range(min(7, len(words) - i), 0, -1):
            chunk = words[i:i + n]
            phrase = " ".join(w for w, _, _ in chunk).lower().strip(".'")
            if phrase not in vocab.sponsor_ngrams:
                continue
            capital = [w for w, _, _ in chunk if w[:1].isupper()]
            distinctive = [w for w, _, _ in chunk if w.lower().strip(".'") not in _GENERIC
                           and w.lower().strip(".'") not in vocab.everyday and w[:1].isupper()]
            whole = phrase in vocab.sponsors and all(w[:1].isupper() for w, _, _ in chunk if len(w) > 3)
            if not (distinctive or (whole and capital)):
                continue
            root = re.sub(r"'s$", "", chunk[0][0].lower())
            if n == 1 and (len(chunk[0][0]) < 4 or root in vocab.countries or root in DEMONYMS
                           or (not chunk[0][0].isupper() and (root in vocab.everyday or root in vocab.conditions_words))):
                continue
            best = (phrase, chunk[0][1], chunk[-1][2], n)
            break
        if best:
            phrase, a, b, n = best
            role = "collaborator" if re.search(r"collaborat\w*\s+(with\s+)?$", t.original[max(0, a - 20):a], re.I) else "sponsor"
            t.add(Cond(field=role, op="contains", value=[vocab.sponsor_ngrams[phrase]], label=f"{'sponsor' if role == 'sponsor' else 'collaborator'}: {t.original[a:b]}"), a)
            t.blank(a, b)
            i += n
        else:
            i += 1


def lay_terms(t: Text) -> list[tuple[str, tuple[str, ...]]]:
    """Lexicon phrases in what is left, consumed; the caller turns them into text filters."""
    found = lay_phrases(t.rest)
    for phrase, _ in found:
        pattern = re.escape(phrase).replace("'", "'?")
        m = re.search(rf"(?<![\w-]){pattern}(?![\w-])", t.rest, re.I)
        if m:
            t.blank(m.start(), m.end())
    return found
