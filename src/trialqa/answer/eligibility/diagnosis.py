"""Conflicting diagnosis: the person states a diagnosis that contradicts the one a criterion
requires (or names the one a criterion forbids).

- Tumour (or vascular malformation) type and site: "Histologically confirmed supratentorial
  glioma" is unmet by an astrocytoma of the spine; "anaplastic oligodendroglioma" by an
  astrocytoma; "breast cancer" by a lung cancer. Criteria listed as alternatives need one
  compatible item only. "No history of cancer of the cervix" applies to a cervical cancer.
- Named diseases of one group: "diagnosis of Huntington's disease" vs Parkinson's disease;
  type 1 vs type 2 diabetes.
- Reproductive state: "Regular menses" vs a postmenopausal woman, and the other way round.

Only a stated diagnosis can conflict: a person whose text names no tumour (or no site for
it), no disease of the group, or no state, is never ruled out here (absence of a diagnosis
is not a conflict). The tables are general clinical language, not keyed to any trial or note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trialqa.answer.eligibility.criteria import Criterion
from trialqa.answer.eligibility.vocab import _negated

#: Tumour types: name -> (pattern, broader types). A criterion naming a broader type
#: ("glioma") is met by any narrower one ("astrocytoma") and the other way round.
TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "glioma": (r"gliomas?|glial (?:tumou?r|neoplasm)s?", ()),
    "astrocytoma": (r"astrocytomas?|astrocytic (?:tumou?r|neoplasm)s?", ("glioma",)),
    "glioblastoma": (r"glioblastoma(?: multiforme)?s?|\bgbm\b", ("glioma",)),
    "gliosarcoma": (r"gliosarcomas?", ("glioblastoma",)),
    "oligodendroglioma": (r"oligodendrogliomas?|oligodendroglial (?:tumou?r|neoplasm)s?", ("glioma",)),
    "oligoastrocytoma": (r"oligo-?astrocytomas?|mixed (?:glioma|glial tumou?r)s?", ("glioma",)),
    "ependymoma": (r"ependymomas?", ("glioma",)),
    "medulloblastoma": (r"medulloblastomas?|primitive neuroectodermal tumou?rs?|\bpnet\b", ()),
    "meningioma": (r"meningiomas?", ()),
    "lymphoma": (r"lymphomas?", ()),
    "hodgkin lymphoma": (r"(?<!non-)(?<!non )hodgkin'?s? (?:lymphoma|disease)", ("lymphoma",)),
    "non-hodgkin lymphoma": (r"non-?\s?hodgkin'?s? lymphomas?|\bnhl\b|burkitt'?s?(?: lymphoma)?|"
                             r"diffuse large b-cell lymphoma|\bdlbcl\b", ("lymphoma",)),
    "leukemia": (r"leuka?emias?", ()),
    "myeloma": (r"(?:multiple )?myelomas?|plasma cell (?:neoplasm|dyscrasia)s?", ()),
    "melanoma": (r"melanomas?", ()),
    # not tumours, but lesions with a site all the same
    "vascular malformation": (r"(?:arteriovenous|vascular|cavernous) malformations?|\bavms?\b|cavernomas?", ()),
}

#: Body sites: name -> (pattern, broader sites).
SITES: dict[str, tuple[str, tuple[str, ...]]] = {
    "cns": (r"central nervous system|\bcns\b", ()),
    "brain": (r"brain|cerebral|cerebrum|intracranial|cranial|cerebell\w*", ("cns",)),
    "supratentorial": (r"supratentorial", ("brain",)),
    "brainstem": (r"brain ?stem|pontine|infratentorial", ("brain",)),
    "spine": (r"spine|spinal(?: cord)?|intramedullary|conus(?: medullaris)?", ("cns",)),
    "lung": (r"lungs?|pulmonary|bronch\w*|\bnsclc\b|\bsclc\b", ()),
    "breast": (r"breasts?|mammary", ()),
    "liver": (r"liver|hepat\w*|\bhcc\b", ()),
    "pancreas": (r"pancrea\w*", ()),
    "prostate": (r"prostat\w*", ()),
    "colorectum": (r"colon|colorectal|rectal|rectum|bowel", ()),
    "stomach": (r"stomach|gastric", ()),
    "esophagus": (r"o?esophag\w*", ()),
    "kidney": (r"kidney|renal|\brcc\b", ()),
    "bladder": (r"bladder|urothelial", ()),
    "cervix": (r"cervix|cervical", ()),
    "ovary": (r"ovary|ovarian", ()),
    "uterus": (r"uterus|uterine|endometri\w*", ()),
    "vagina": (r"vagina\w*|vulva\w*", ()),
    "thyroid": (r"thyroid", ()),
}

_TUMOUR_WORDS = (r"cancers?|tumou?rs?|neoplasms?|malignan\w+|carcinomas?|adenocarcinomas?|"
                 + "|".join(p for p, _ in TYPES.values()))
_TUMOUR = re.compile(r"(?<![\w-])(?:" + _TUMOUR_WORDS + r")(?![\w-])", re.I)
#: In a person's text a "mass" found on imaging places the tumour too ("a spinal cord mass").
_PERSON_TUMOUR = re.compile(r"(?<![\w-])(?:" + _TUMOUR_WORDS + r"|mass(?:es)?)(?![\w-])", re.I)
_TYPE_RE = {name: re.compile(r"(?<![\w-])(?:" + p + r")(?![\w-])", re.I) for name, (p, _) in TYPES.items()}
_SITE_RE = {name: re.compile(r"(?<![\w-])(?:" + p + r")(?![\w-])", re.I) for name, (p, _) in SITES.items()}
#: A site named with these words is where the disease spread or a treatment went, not its origin.
_SPREAD = re.compile(r"metasta\w*|spread|radiation|radiotherapy|irradiation|surgery|resection|mri|\bct\b|scan|"
                     r"fluid|csf|biopsy of", re.I)
#: Criteria that permit, widen or list alternatives elsewhere are not a required diagnosis.
_OPEN = re.compile(r"\b(?:allowed|eligible|permitted|may|not limited to|other|any|prior|previous|history|"
                   r"second|except|excluding|secondary|metasta\w*|curatively|in situ|basal cell|skin cancers?|surgery only)\b", re.I)
_LABEL = re.compile(r"^[A-Z][A-Z /-]{3,}:\s*")
HEAD_WORDS = 16
_SENTENCE = re.compile(r"(?<=[.;!?])\s+|\n")


def _up(name: str, table: dict[str, tuple[str, tuple[str, ...]]]) -> set[str]:
    out, stack = {name}, [name]
    while stack:
        for p in table[stack.pop()][1]:
            if p not in out:
                out.add(p)
                stack.append(p)
    return out


def _compatible(a: set[str], b: set[str], table: dict[str, tuple[str, tuple[str, ...]]]) -> bool:
    """True when some name of `a` equals, contains or lies inside some name of `b`."""
    return any(x in _up(y, table) or y in _up(x, table) for x in a for y in b)


def _found(text: str, regexes: dict[str, re.Pattern[str]]) -> set[str]:
    return {name for name, rx in regexes.items() if rx.search(text)}


@dataclass(frozen=True)
class Diagnosis:
    """The tumour types and primary sites a person's text states (empty when none)."""

    types: frozenset[str] = frozenset()
    sites: frozenset[str] = frozenset()


def _sites_near(sentence: str) -> set[str]:
    """Sites a sentence names, leaving out those it names as a spread or a procedure's target."""
    out = set()
    for name, rx in _SITE_RE.items():
        for m in rx.finditer(sentence):
            if not _SPREAD.search(sentence[max(0, m.start() - 30):m.end() + 15]):
                out.add(name)
    return out


def person_diagnosis(text: str) -> Diagnosis:
    """The tumours the person's text affirms (not denied, not a relative's), with the sites the
    same sentences give them."""
    types: set[str] = set()
    sites: set[str] = set()
    for sentence in _SENTENCE.split(text or ""):
        hits = [m for m in _PERSON_TUMOUR.finditer(sentence) if not _negated(sentence, m.start(), m.end())]
        if not hits:
            continue
        for m in hits:
            types |= _found(m.group(0), _TYPE_RE)
        sites |= _sites_near(sentence)
    return Diagnosis(frozenset(types), frozenset(sites))


def _head(criterion: str) -> tuple[str, str]:
    """A criterion's first sentence (without a "DISEASE CHARACTERISTICS:" label) and its first
    HEAD_WORDS words: a flattened list line states its requirement first, then its items and
    their permissions ("... low-grade glioma allowed if ...")."""
    lead = _SENTENCE.split(_LABEL.sub("", criterion.strip()), maxsplit=1)[0]
    return lead, " ".join(lead.split()[:HEAD_WORDS])


def relation(criterion: str, dx: Diagnosis) -> str | None:
    """"conflict" when a required-diagnosis criterion's head names a tumour type or site that
    the stated diagnosis `dx` contradicts, "compatible" when the criterion names one `dx`
    agrees with, else None (not a diagnosis requirement, or nothing stated bears on it)."""
    if not dx.types and not dx.sites or not _TUMOUR.search(criterion):
        return None
    lead, head = _head(criterion)
    if _TUMOUR.search(head) and not _OPEN.search(head):
        want_types, want_sites = _found(lead, _TYPE_RE), _sites_near(lead)
        if want_types and dx.types and not _compatible(set(dx.types), want_types, TYPES) \
                or want_sites and dx.sites and not _compatible(set(dx.sites), want_sites, SITES):
            return "conflict"
    want_types, want_sites = _found(criterion, _TYPE_RE), _sites_near(criterion)
    if _compatible(set(dx.types), want_types, TYPES) or _compatible(set(dx.sites), want_sites, SITES):
        return "compatible"
    return None


def conflicts(criteria: list[Criterion], dx: Diagnosis) -> dict[int, str]:
    """The required-diagnosis inclusion criteria (by ordinal) the stated diagnosis contradicts,
    with the reason; none when any criterion names a compatible diagnosis (criteria listed as
    alternatives, "Anaplastic astrocytoma" beside "Oligodendroglioma", need only one to hold).
    A sub-item counts as an alternative only when its parent line is not itself contradicted."""
    if not dx.types and not dx.sites:
        return {}
    required = [c for c in criteria if c.kind == "inclusion" and c.parsed.polarity == "require"]
    found: dict[int, str] = {}
    for c in required:
        if c.context and relation(c.context, dx) == "conflict":
            continue
        rel = relation(c.text, dx)
        if rel == "compatible":
            return {}
        if rel == "conflict" and not c.context:
            found[c.ordinal] = _why(dx)
    return found


def _why(dx: Diagnosis) -> str:
    what = ", ".join(sorted(dx.types)) or "tumour"
    return what + (f" of the {', '.join(sorted(dx.sites))}" if dx.sites else "")


#: Words a forbidding criterion may hold besides tumour and site words and still name exactly
#: one diagnosis ("No history of cancer of the endometrium, vagina, or cervix").
_PLAIN = frozenset("no not never history of prior previous known the a an or and nor with patients patient "
                   "subjects diagnosis diagnosed evidence current active any in".split())
_FORBID_OPEN = re.compile(r"\b(?:other|second|except|excluding|in situ|basal cell|skin|curatively|treated|"
                          r"metasta\w*|suspected|family)\b", re.I)
_ANY_SITE = re.compile(r"(?<![\w-])(?:" + "|".join(f"(?:{p})" for p, _ in SITES.values()) + r")(?![\w-])", re.I)


def forbidden(criterion: str, dx: Diagnosis) -> str | None:
    """Why a criterion forbidding a tumour at a site applies to the stated diagnosis, or None.
    Only a criterion that names nothing but tumours and sites counts: a narrower form
    ("inflammatory breast cancer", "small cell lung cancer") is not settled by the plain one."""
    if not dx.sites:
        return None
    lead, _ = _head(criterion)
    if not _TUMOUR.search(lead) or _FORBID_OPEN.search(lead):
        return None
    rest = _ANY_SITE.sub(" ", _TUMOUR.sub(" ", lead.lower()))
    if set(re.findall(r"[a-z]+", rest)) - _PLAIN:
        return None
    want_types, want_sites = _found(lead, _TYPE_RE), _sites_near(lead)
    if not want_sites or not (dx.sites & want_sites):
        return None
    if want_types and not _compatible(set(dx.types), want_types, TYPES):
        return None
    return _why(dx)


#: Reproductive states that rule each other out ("postmenopausal" vs "regular menses").
_STATES = {
    "postmenopausal": re.compile(r"(?<![\w-])(?:post-?)?menopaus(?:al|e)\b", re.I),
    "menstruating": re.compile(r"(?<![\w-])(?:pre-?menopausal|regular (?:menses|menstrua\w*(?: (?:periods?|cycles?))?"
                               r"|periods)|menstruating)\b", re.I),
}
_OTHER_STATE = {"postmenopausal": "menstruating", "menstruating": "postmenopausal"}
_WHO = re.compile(r"^(?:(?:wom[ae]n|females?|subjects?|patients?|participants?)(?: who are| must be)?\s+|must be\s+)?", re.I)
_CONDITIONAL = re.compile(r"\b(?:must|should|will|required?|if|who|need|agree\w*|test)\b", re.I)


def person_state(text: str) -> str | None:
    """"postmenopausal" or "menstruating" when the person's text affirms one (and not the other)."""
    found = {name for name, rx in _STATES.items()
             if any(not _negated(text, m.start(), m.end()) for m in rx.finditer(text or ""))}
    return found.pop() if len(found) == 1 else None


def state_conflict(criterion: str, state: str | None) -> str | None:
    """Why an inclusion criterion requiring the other reproductive state ("Regular menses.",
    "Postmenopausal women") is unmet by the stated one; None for a conditional criterion
    ("Premenopausal women must have a negative pregnancy test")."""
    if state is None:
        return None
    lead, _ = _head(criterion)
    start = _WHO.match(lead)
    m = _STATES[_OTHER_STATE[state]].match(lead, start.end() if start else 0)
    if m is None or _CONDITIONAL.search(lead[m.end():]):
        return None
    return state


#: Named diseases that exclude each other as a person's diagnosis: one stated conflicts with a
#: criterion requiring another ("diagnosis of Huntington's disease" vs Parkinson's disease,
#: type 1 vs type 2 diabetes).
DISEASES: dict[str, tuple[str, str]] = {
    "parkinson disease": (r"(?:idiopathic )?parkinson'?s? disease", "neurodegenerative"),
    "huntington disease": (r"huntington'?s? (?:disease|chorea)", "neurodegenerative"),
    "alzheimer disease": (r"alzheimer'?s? (?:disease|dementia|type)", "neurodegenerative"),
    "amyotrophic lateral sclerosis": (r"amyotrophic lateral sclerosis", "neurodegenerative"),
    "progressive supranuclear palsy": (r"progressive supra-?nuclear palsy", "neurodegenerative"),
    "multiple system atrophy": (r"multiple system atrophy|shy-drager syndrome", "neurodegenerative"),
    "type 1 diabetes": (r"type (?:1|i|one) diabet\w*|juvenile(?:-onset)? diabetes|(?<!non )insulin[- ]dependent diabet\w*|"
                        r"\biddm\b|\bt1dm?\b", "diabetes"),
    "type 2 diabetes": (r"type (?:2|ii|two) diabet\w*|non-?\s?insulin[- ]dependent diabet\w*|\bniddm\b|\bt2dm?\b|"
                        r"\bdm ?(?:2|ii)\b|\bdmii\b|adult-onset diabetes", "diabetes"),
}
_DISEASE_RE = {name: re.compile(r"(?<![\w-])(?:" + p + r")(?![\w-])", re.I) for name, (p, _) in DISEASES.items()}
_REQUIRES = re.compile(r"\b(?:diagnos\w+|patients? with|subjects? with|confirmed|carry|have)\b", re.I)


def person_diseases(text: str) -> frozenset[str]:
    """The named diseases (DISEASES) the person's text affirms."""
    return frozenset(name for name, rx in _DISEASE_RE.items()
                     if any(not _negated(text, m.start(), m.end()) for m in rx.finditer(text or "")))


def disease_conflicts(criteria: list[Criterion], stated: frozenset[str]) -> dict[int, str]:
    """Inclusion criteria requiring a named disease (DISEASES) other than the one stated; none
    when any criterion names the stated disease (alternatives) or the person states none."""
    if not stated:
        return {}
    found: dict[int, str] = {}
    for c in criteria:
        if c.kind != "inclusion" or c.parsed.polarity != "require":
            continue
        lead, head = _head(c.text)
        named = _found(c.text, _DISEASE_RE)
        if named & stated:
            return {}
        wanted = _found(lead, _DISEASE_RE)
        groups = {DISEASES[d][1] for d in stated}
        if any(DISEASES[w][1] in groups for w in wanted) and not c.context and _REQUIRES.search(head) and not _OPEN.search(head):
            found[c.ordinal] = ", ".join(sorted(stated))
    return found
