"""Question analysis: what a question asks, about which trials, in which sections.

Everything here is vocabulary about trial records in general (ages, enrollment,
sponsors, routes of administration ...), never about particular questions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

NCT_RE = re.compile(r"\bNCT\s?0*(\d{1,8})\b", re.IGNORECASE)
WORD_RE = re.compile(r"[A-Za-z][A-Za-z']*[A-Za-z]|[A-Za-z]|\d+(?:\.\d+)?")

STOPWORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been before
    being below between both but by can could did do does doing don't down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is isn't it
    it's its itself just me more most my myself no nor not now of off on once only or other our ours
    out over own same she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which while
    who whom why will with would you your yours also may might must shall per via vs versus please tell
    show give list name describe explain say says said anything something there's what's whats one ones
    kind type types whether etc get got use used uses using need needs mention mentions mentioned
    often frequently frequency how long duration repeated repeat repeats every time times happen
    happens happened given give gives giving receive receives received take takes taken taking
    main key exactly approximately roughly overall specific specifically detail details info
    information know known want like look looking interested available provide provided done
    way ways else another different same regarding related relate concerning run runs running ran
    still besides apart beyond far near level levels require requires required requirement
    requirements frame someone anyone everyone anybody somebody address addresses
    one two three four five six seven eight nine ten first second third last next previous
    looking look seek seeking part join joining taking touch reach talk speak ask call contacted
    find out learn tell trying try tries sure mean means""".split()
)

#: Words about the record itself (schema words). They steer sections and fields but are
#: not topical terms that the evidence must contain.
SCHEMA_WORDS = frozenset(
    """trial trials study studies studied studying record records registry research clinical
    participant participants patient patients subject subjects people person volunteer volunteers
    enroll enrolls enrolled enrolling enrollment enrolment recruit recruits recruiting recruitment
    target planned plan plans estimated expected number many much count total size sample
    sponsor sponsors sponsored funder funders funded funding lead collaborator collaborators
    organization organisation responsible party investigator investigators
    phase phases status stage state current currently ongoing active completed
    eligible eligibility criteria criterion inclusion exclusion include includes included including
    exclude excludes excluded excluding accept accepts accepted allow allows allowed qualify qualifies
    age ages aged old older oldest young younger youngest year years minimum maximum limit limits
    upper lower range youngest max min range
    sex sexes gender genders male males female females men women man woman
    healthy condition conditions disease diseases indication indications
    intervention interventions treatment treatments therapy therapies drug drugs arm arms group groups
    design designed allocation randomized randomised masking masked blinded blind purpose model
    outcome outcomes measure measures measured endpoint endpoints primary secondary
    location locations site sites where city country countries hospital hospitals center centre
    centers centres facility facilities conducted held based located
    contact contacts email phone
    start started starts begin began date dates when completion complete end ends ended finish
    title titled called named identifier identifiers id ids number nct
    summary description brief detailed about purpose aim aims goal goals objective objectives
    keyword keywords result results
    doc document page dose doses dosing dosed dosage dosages administer administered administration
    route routes
    treat treats treated treating test tests tested testing evaluate evaluates evaluated evaluating
    investigate investigates investigated investigating examine examines use uses using""".split()
)

SCHEMA_STEMS = frozenset(w[:6] for w in SCHEMA_WORDS if len(w) >= 6)

#: Section hints: a word in the question points at the canonical sections to look in.
SECTION_HINTS: dict[str, tuple[str, ...]] = {
    "exclude": ("Eligibility: Exclusion",), "excludes": ("Eligibility: Exclusion",),
    "excluded": ("Eligibility: Exclusion",), "exclusion": ("Eligibility: Exclusion",),
    "inclusion": ("Eligibility: Inclusion",), "include": ("Eligibility",),
    "eligible": ("Eligibility",), "eligibility": ("Eligibility",), "criteria": ("Eligibility",),
    "outcome": ("Outcomes",), "outcomes": ("Outcomes",), "endpoint": ("Outcomes",),
    "measure": ("Outcomes",), "measured": ("Outcomes",), "score": ("Outcomes", "Eligibility"),
    "location": ("Locations",), "locations": ("Locations",), "where": ("Locations",),
    "site": ("Locations",), "sites": ("Locations",), "hospital": ("Locations",),
    "city": ("Locations",), "country": ("Locations",),
    "sponsor": ("Sponsor",), "sponsored": ("Sponsor",), "funded": ("Sponsor",), "funder": ("Sponsor",),
    "contact": ("Contacts",), "email": ("Contacts",), "phone": ("Contacts",),
    "dose": ("Interventions", "Arms", "Description"), "doses": ("Interventions", "Arms", "Description"),
    "dosing": ("Interventions", "Arms", "Description"),
    "arm": ("Arms",), "arms": ("Arms",), "group": ("Arms",), "groups": ("Arms",),
    "intervention": ("Interventions", "Arms"), "interventions": ("Interventions", "Arms"),
    "design": ("Design",), "allocation": ("Design",), "masking": ("Design",), "randomized": ("Design",),
    "enroll": ("Enrollment",), "enrollment": ("Enrollment",),
    "start": ("Dates",), "started": ("Dates",), "completion": ("Dates",),
    "given": ("Interventions", "Arms"), "administered": ("Interventions", "Arms"),
    "delivered": ("Interventions", "Arms"), "route": ("Interventions", "Arms"),
    "injected": ("Interventions", "Arms"), "infused": ("Interventions", "Arms"),
    "receive": ("Arms", "Interventions"), "aim": ("Summary",), "aims": ("Summary",),
    "purpose": ("Summary", "Design"), "goal": ("Summary",), "objective": ("Summary",),
    "about": ("Summary",), "find": ("Summary",), "evaluate": ("Summary",),
}

#: Spelling and form variants of words about doses and routes that count as the same term
#: when matching evidence. Medical synonyms, lay words and abbreviations are the general
#: lexicon's (trialqa.answer.lexicon), used through `term_variants` as well.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "iv": ("intraven", "infusion"), "intraven": ("iv",),
    "kg": ("kilogram", "/kg", "body weight"), "kilogram": ("kg",),
    "weight": ("kg",), "bodyweight": ("kg",),
    "women": ("female", "woman"), "woman": ("female", "women"),
    "men": ("male", "man"), "children": ("child", "pediatric", "paediatric"),
    "kids": ("child", "pediatric"), "pregnancy": ("pregnant",), "pregnant": ("pregnancy",),
    "liver": ("hepat",), "hepatic": ("liver",),
    "inject": ("infus", "administ", "transplant", "deliver"), "injected": ("inject", "infus", "administ", "transplant"),
    "injection": ("inject", "infus"), "infused": ("infus", "inject"), "infusion": ("infus", "inject"),
    "breastfeeding": ("lactat", "nursing", "breast-feed"), "lactating": ("breastfeed", "nursing"),
    "nursing": ("lactat", "breastfeed"),
}

LIST_RE = re.compile(
    r"^\s*(which|what|list|name|find|show|are there|is there|do any|does any|how many)\b.*\b(trials|studies|records|ones)\b"
    r"|^\s*(are there|is there|do any|does any)\b.*\b(trial|study)\b|\bany (trial|study)\b"
    r"|^\s*(which|what) (trial|study)s?\b|^\s*which (ones|of (them|these|those|the (trials|studies)))\b|\b(any|all|every|each) (of (the|these|those) )?(trials|studies)\b|\bhow many (of the )?(trials|studies)\b",
    re.IGNORECASE,
)
#: A quoted title: "…", “…”, ‘…’ or '…' (a single quote not inside a word, so apostrophes are not quotes).
QUOTED_RE = re.compile(r"\"([^\"]{12,})\"|“([^”]{12,})”|‘([^’]{12,})’|(?<!\w)'([^']{12,})'(?!\w)")
NEGATION_RE = re.compile(r"\b(?:not|without|never|no|none)\b|n't\b", re.IGNORECASE)
AGE_RE = re.compile(
    r"\b(\d{1,3})[\s-]*(?:years?|yrs?|y)[\s-]*old\b|\baged?\s+(\d{1,3})\b|\b(\d{1,3})[\s-]*year[\s-]*olds?\b",
    re.IGNORECASE,
)
REFERRING_RE = re.compile(
    r"\b(it|its|it's|this|that|these|those|they|them|their|the same|same trial|the trial|the study|"
    r"this trial|that trial|this study|that study|the former|the latter|each of them|both)\b",
    re.IGNORECASE,
)


def stem(word: str) -> str:
    """A crude stem: lowercase, plural 's' dropped, first 6 letters (numbers kept whole)."""
    w = word.lower().strip("'-")
    if w.isdigit() or any(c.isdigit() for c in w):
        return w
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    return w[:6] if len(w) > 6 else w


def words(text: str) -> list[str]:
    """Lowercase words and numbers; possessive 's dropped ("who's" -> "who")."""
    return [w.lower().removesuffix("'s").strip("'") for w in WORD_RE.findall(text)]


@dataclass
class Query:
    """What the assistant understood of a question."""

    text: str
    nct_ids: list[str] = field(default_factory=list)
    is_list: bool = False
    negated: bool = False
    age: int | None = None
    content_terms: list[str] = field(default_factory=list)
    section_hints: list[str] = field(default_factory=list)
    refers_back: bool = False
    title_phrase: str | None = None
    #: alternatives joined by "or": each group is satisfied by any of its terms
    groups: list[list[str]] = field(default_factory=list)
    #: terms after a negation ("which trials do NOT give cells intravenously")
    negated_terms: list[str] = field(default_factory=list)

    @property
    def term_stems(self) -> list[str]:
        return [stem(t) for t in self.content_terms]


def normalise_nct(num: str) -> str:
    return f"NCT{int(num):08d}"


def analyse(question: str) -> Query:
    q = Query(text=question)
    q.nct_ids = list(dict.fromkeys(normalise_nct(m.group(1)) for m in NCT_RE.finditer(question)))
    q.is_list = bool(LIST_RE.search(question))
    q.negated = bool(NEGATION_RE.search(question))
    m = AGE_RE.search(question)
    if m:
        q.age = int(next(g for g in m.groups() if g))
    quoted = QUOTED_RE.search(question)
    if quoted:
        q.title_phrase = next(g for g in quoted.groups() if g).strip()
    toks = words(NCT_RE.sub(" ", question))
    seen: list[str] = []
    for t in toks:
        if t in STOPWORDS or t in SCHEMA_WORDS or stem(t) in SCHEMA_STEMS or len(t) < 2:
            continue
        if t.isdigit() or re.fullmatch(r"\d+(\.\d+)?", t):
            continue  # numbers are checked by the field logic, not as topical terms
        if t not in seen:
            seen.append(t)
    q.content_terms = seen
    q.groups = _or_groups(toks, seen)
    neg = NEGATION_RE.search(question)
    if neg:
        after = set(words(question[neg.end():]))
        before = set(words(question[: neg.start()]))
        q.negated_terms = [t for t in seen if t in after and t not in before]
    hints: list[str] = []
    for t in toks:
        for s in SECTION_HINTS.get(t, ()):
            if s not in hints:
                hints.append(s)
    q.section_hints = hints
    q.refers_back = bool(REFERRING_RE.search(question)) and not q.nct_ids
    return q


def _or_groups(toks: list[str], terms: list[str]) -> list[list[str]]:
    """Group content terms joined by 'or' (e.g. 'pregnant or breastfeeding')."""
    groups: list[list[str]] = [[t] for t in terms]
    for i, tok in enumerate(toks):
        if tok != "or" or i == 0 or i + 1 >= len(toks):
            continue
        left, right = toks[i - 1], toks[i + 1]
        gl = next((g for g in groups if left in g), None)
        gr = next((g for g in groups if right in g), None)
        if gl is not None and gr is not None and gl is not gr:
            gl.extend(gr)
            groups.remove(gr)
    return groups


def term_variants(term: str) -> tuple[str, ...]:
    """The stems that count as evidence of `term` (its own stem and its synonyms)."""
    s = stem(term)
    return (s, *SYNONYMS.get(term.lower(), ()), *SYNONYMS.get(s, ()), *_lexicon_variants(term.lower()))


def _lexicon_variants(term: str) -> tuple[str, ...]:
    """The general lexicon's registry words for a lay word or abbreviation ("chf" -> "heart failure")."""
    from trialqa.answer.lexicon import CAPITALS_ONLY, LAY

    if term in CAPITALS_ONLY:
        return ()
    return tuple(v if " " in v or not v.isalnum() else stem(v) for v in LAY.get(term, ()) if v != term)


def has_term(text_lower: str, text_words: set[str] | list[str], term: str) -> bool:
    """True when `term` (or a variant) starts a word of the text (or, with punctuation, occurs in it)."""
    for v in term_variants(term):
        if not v.isalnum():
            if v in text_lower:
                return True
        elif any(w.startswith(v) for w in text_words):
            return True
    return False
