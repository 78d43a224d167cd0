"""General medical vocabulary for eligibility: concepts, their lay words and abbreviations.

This is a maintained list of general clinical language (the kind any eligibility screen
needs: dialysis, pregnancy, stroke, HIV, liver disease ...), not keyed to any trial or
question. Each concept has regular-expression patterns and optional broader concepts, so
a criterion about "cardiovascular disease" is about a person who "had a heart attack".

Negation (NegEx-style) and family-history scoping are here too: "denies chest pain",
"no history of stroke", "mother had breast cancer" do not give the person the concept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Concept:
    name: str
    patterns: tuple[str, ...]
    parents: tuple[str, ...] = ()


def _c(name: str, *patterns: str, parents: tuple[str, ...] = ()) -> Concept:
    return Concept(name, patterns, parents)


CONCEPTS: tuple[Concept, ...] = (
    # states
    _c("pregnancy", r"pregnan\w*", r"gravid\w*", r"expecting a baby"),
    _c("breastfeeding", r"breast[- ]?feed\w*", r"lactat\w*", r"nursing (?:mother|wom[ae]n|an infant|a baby)",
       r"\bnursing\b(?! home)", r"breast[- ]?milk"),
    _c("childbearing potential", r"child[- ]?bearing potential", r"of reproductive potential"),
    _c("smoking", r"smok(?:er|ers|es|ing)\b", r"tobacco (?:use|abuse)", r"cigarettes?", r"pack[- ]years?"),
    _c("alcohol abuse", r"alcohol(?:ism| abuse| dependence| use disorder)", r"etoh abuse", r"alcoholic\b",
       parents=("substance abuse",)),
    _c("substance abuse", r"(?:drug|substance) (?:abuse|dependence|use disorder|addiction)",
       r"illicit drugs?", r"opioid (?:use disorder|dependence)", r"\bivdu\b", r"heroin", r"cocaine"),
    # kidney
    _c("dialysis", r"dialysis", r"dialysed", parents=("kidney disease",)),
    _c("hemodialysis", r"ha?emodialysis", r"\bhd\b(?= (?:patient|dependent))", parents=("dialysis",)),
    _c("peritoneal dialysis", r"peritoneal dialysis", r"\bcapd\b", parents=("dialysis",)),
    _c("end-stage renal disease", r"end[- ]stage (?:renal|kidney) (?:disease|failure)", r"\besrd\b",
       parents=("kidney disease",)),
    _c("kidney disease", r"(?:renal|kidney) (?:disease|failure|insufficiency|impairment|dysfunction)",
       r"chronic kidney", r"\bckd\b", r"nephropathy", r"nephrotic syndrome", r"glomerulonephritis"),
    _c("kidney transplant", r"(?:renal|kidney) transplant\w*", parents=("organ transplant",)),
    # liver
    _c("cirrhosis", r"cirrho\w*", parents=("liver disease",)),
    _c("hepatitis b", r"hepatitis b\b", r"\bhbv\b", r"hbsag(?:\+| positive)", parents=("liver disease",)),
    _c("hepatitis c", r"hepatitis c\b", r"\bhcv\b", r"hep c\b", parents=("liver disease",)),
    _c("liver disease", r"(?:liver|hepatic) (?:disease|failure|insufficiency|impairment|dysfunction)",
       r"hepatitis", r"fatty liver", r"\bnafld\b", r"\bnash\b"),
    _c("hepatic encephalopathy", r"hepatic encephalopathy", r"portosystemic encephalopathy", parents=("liver disease",)),
    _c("pancreatitis", r"pancreatitis"),
    # heart and vessels
    _c("myocardial infarction", r"myocardial infarction", r"heart attack", r"\bstemi\b", r"\bnstemi\b",
       r"\bami\b", r"\bmi\b", parents=("cardiovascular disease", "coronary artery disease")),
    _c("coronary artery disease", r"coronary (?:artery |heart )?disease", r"\bcad\b", r"angina",
       r"coronary (?:bypass|stent|revasculari[sz]ation)", r"\bcabg\b", r"\bpci\b",
       parents=("cardiovascular disease",)),
    _c("heart failure", r"heart failure", r"cardiac failure", r"\bchf\b", r"\bhfref\b", r"\bhfpef\b",
       r"cardiomyopathy", r"ejection fraction (?:of )?(?:<|less than|below) ?(?:3|4)\d",
       parents=("cardiovascular disease",)),
    _c("arrhythmia", r"arrhythmi\w*", r"atrial fibrillation", r"\bafib\b", r"a[- ]fib\b", r"\baf\b",
       r"ventricular tachycardia", r"qtc? prolongation", r"long qt", parents=("cardiovascular disease",)),
    _c("hypertension", r"hypertension", r"high blood pressure", r"\bhtn\b"),
    _c("stroke", r"stroke", r"cerebrovascular accident", r"\bcva\b", r"cerebral infarct\w*",
       r"intracerebral ha?emorrhage", r"transient ischa?emic attack", r"\btia\b",
       parents=("cerebrovascular disease", "cardiovascular disease")),
    _c("cerebrovascular disease", r"cerebrovascular disease"),
    _c("cardiovascular disease", r"cardiovascular disease", r"cardiac disease", r"heart disease",
       r"cardiovascular (?:event|condition)s?", r"valvular (?:heart )?disease", r"aortic stenosis"),
    _c("venous thromboembolism", r"deep (?:vein|venous) thrombosis", r"\bdvt\b", r"pulmonary embol\w*",
       r"\bpe\b(?= |,|\.)", r"thromboembol\w*", r"venous thrombosis"),
    _c("anticoagulation", r"anticoagula\w*", r"warfarin", r"coumadin", r"heparin", r"apixaban",
       r"rivaroxaban", r"dabigatran", r"edoxaban", r"blood thinners?"),
    # metabolic
    _c("diabetes", r"diabet\w*", r"\bt[12]dm\b", r"\bdm\b", r"\biddm\b", r"\bniddm\b", r"hba1c of (?:[7-9]|1\d)"),
    _c("type 1 diabetes", r"type (?:1|i) diabet\w*", r"\bt1dm?\b", r"juvenile diabetes", r"\biddm\b",
       r"(?<!non-)(?<!non )insulin[- ]dependent diabet\w*", parents=("diabetes",)),
    _c("type 2 diabetes", r"type (?:2|ii) diabet\w*", r"\bt2dm?\b", r"\bniddm\b",
       r"non[- ]insulin[- ]dependent diabet\w*", parents=("diabetes",)),
    _c("insulin", r"insulin\b(?! resistance| sensitivity| secretion| levels?)"),
    _c("obesity", r"obes\w*", r"morbidly overweight"),
    _c("hyperlipidemia", r"hyperlipid\w*", r"hypercholesterol\w*", r"dyslipid\w*"),
    _c("thyroid disease", r"hypothyroid\w*", r"hyperthyroid\w*", r"thyroid disease", r"graves'? disease",
       r"hashimoto"),
    # infection / immune
    _c("hiv", r"\bhiv\b", r"human immunodeficiency virus", r"\baids\b"),
    _c("tuberculosis", r"tuberculosis", r"\btb\b"),
    _c("active infection", r"active (?:\w+ )?infection", r"uncontrolled infection", r"sepsis", r"septic"),
    _c("autoimmune disease", r"autoimmune", r"lupus", r"\bsle\b", r"rheumatoid arthritis", r"scleroderma",
       r"inflammatory bowel disease", r"crohn'?s", r"ulcerative colitis"),
    _c("immunosuppression", r"immunosuppress\w*", r"immunocompromised", r"tacrolimus", r"cyclosporin\w*",
       r"mycophenolate", r"azathioprine"),
    _c("corticosteroids", r"corticosteroids?", r"steroids?", r"prednison\w*", r"prednisolone",
       r"dexamethasone", r"methylprednisolone", r"hydrocortisone"),
    _c("organ transplant", r"(?:organ|liver|heart|lung) transplant\w*", r"transplant recipient"),
    _c("allergy", r"allerg\w*", r"hypersensitivity", r"anaphyla\w*"),
    # cancer and its treatment
    _c("cancer", r"cancer", r"malignan\w*", r"carcinoma", r"neoplasm", r"tumou?r", r"sarcoma", r"lymphoma",
       r"leukemia", r"leukaemia", r"melanoma", r"myeloma", r"glioma", r"glioblastoma", r"astrocytoma",
       r"\b(?:cll|aml|cml|nhl|nsclc|sclc|hcc|rcc|gbm)\b", r"adenocarcinoma", r"oligodendroglioma",
       r"mesothelioma", r"\w*blastoma", r"\w+sarcoma",
       r"metasta\w*", r"oncolog\w*"),
    _c("brain metastases", r"(?:brain|cns|cerebral) metastas[ie]s", r"metasta\w* to the brain"),
    _c("chemotherapy", r"chemotherap\w*", r"cytotoxic", r"temozolomide", r"cisplatin", r"carboplatin",
       r"paclitaxel", r"docetaxel", r"doxorubicin", r"cyclophosphamide", r"5-fu\b", r"fluorouracil",
       r"gemcitabine", r"oxaliplatin", r"irinotecan", r"cpt-11", r"fludarabine", r"chlorambucil", r"bendamustine",
       r"melphalan", r"vincristine", r"vinblastine", r"etoposide", r"capecitabine", r"pemetrexed", r"ifosfamide",
       r"bleomycin", r"cytarabine", r"busulfan", r"lomustine", r"carmustine", r"\bbcnu\b", r"\bccnu\b",
       r"procarbazine", r"epirubicin", r"mitomycin", r"topotecan", r"daunorubicin", r"idarubicin"),
    _c("radiotherapy", r"radiotherap\w*", r"radiation(?: therapy)?", r"irradiat\w*", r"\bxrt\b"),
    _c("immunotherapy", r"immunotherap\w*", r"checkpoint inhibitor", r"nivolumab", r"pembrolizumab",
       r"ipilimumab", r"atezolizumab", r"rituximab", r"monoclonal antibod(?:y|ies)"),
    _c("surgery", r"(?:major |recent )?surgery", r"surgical procedure"),
    # lungs
    _c("asthma", r"asthma\w*"),
    _c("copd", r"\bcopd\b", r"chronic obstructive", r"emphysema", r"chronic bronchitis"),
    _c("lung disease", r"(?:lung|pulmonary) (?:disease|fibrosis)", r"interstitial lung", r"\bild\b"),
    _c("mechanical ventilation", r"mechanical(?:ly)? ventilat\w*", r"intubat\w*", r"ventilator"),
    # nervous system and mind
    _c("seizures", r"seizures?", r"epilep\w*", r"convulsion\w*"),
    _c("dementia", r"dementia", r"alzheimer\w*", r"cognitive impairment"),
    _c("psychiatric disorder", r"psychiatric", r"psychosis", r"psychotic", r"schizophreni\w*", r"bipolar",
       r"major depressi\w*", r"mental illness", r"suicid\w*"),
    _c("depression", r"depressi\w*", parents=("psychiatric disorder",)),
    _c("multiple sclerosis", r"multiple sclerosis", r"\bms\b(?= patient|,| relapse)"),
    _c("parkinson disease", r"parkinson\w*"),
    # blood
    _c("anemia", r"ana?emi\w*", r"sickle[- ]cell (?:disease|anemia|crisis|crises)"),
    _c("bleeding disorder", r"bleeding (?:disorder|diathesis|tendency)", r"coagulopathy", r"ha?emophilia",
       r"thrombocytopeni\w*", r"active bleeding", r"gastrointestinal bleed\w*", r"\bugib\b", r"\bgi bleed"),
    # other
    _c("hearing loss", r"hearing (?:loss|impairment)", r"deaf\w*"),
    _c("osteoporosis", r"osteoporo\w*", r"osteopeni\w*"),
    _c("peptic ulcer", r"peptic ulcer", r"gastric ulcer", r"duodenal ulcer"),
    _c("wheelchair", r"wheelchair", r"non[- ]?ambulatory", r"bed[- ]?ridden"),
)

BY_NAME = {c.name: c for c in CONCEPTS}

#: Cue words before a term that deny it for the patient (NegEx-style, same clause, few words).
_NEG_BEFORE = re.compile(
    r"\b(?:no|not|never|denies|denied|deny|without|negative for|free of|absence of|absent|ruled out|"
    r"(?:does|do|did|has|have|is|was|were|are)n't|"
    r"rules out|r/o|non|neither|nor|no history of|no evidence of|no signs? of|unremarkable for|"
    r"excluding|except(?: for)?|other than|nonsmoker)\b[^.;:]{0,40}$",
    re.IGNORECASE,
)
#: Planned, offered or declined, not (yet) the person's: "a candidate for surgery", "offered levodopa".
_PLANNED = re.compile(r"\b(?:candidate for|planned|plans? (?:to|for)|scheduled for|prior to|before starting|offered|"
                      r"recommended|refused|declined|considered for|will (?:be )?(?:start|receiv|undergo|begin|initiat|"
                      r"treated|given|referred)\w*)\W+(?:[\w-]+\W+){0,3}$", re.IGNORECASE)
_NEG_AFTER = re.compile(r"^[^.;]{0,25}\b(?:was|were|is|are)? ?(?:ruled out|negative|excluded|absent|denied)\b", re.I)
_FAMILY = re.compile(r"\b(?:family history|mother|father|sister|brother|sibling|aunt|uncle|grand\w+|"
                     r"parents?|son|daughter|cousin|fh|husband|wife|spouse|partner|boyfriend|girlfriend|"
                     r"friend|roommate|co-?workers?)\b[^.;]{0,50}$", re.IGNORECASE)
#: "history of gestational diabetes", "hypertension with pregnancy", "prior pregnancies": not pregnant now.
_PAST_PREGNANCY = re.compile(r"(?:history|prior|previous|gestational|with|during|after|post|since|last)\W+(?:\w+\W+)?pregnan|"
                             r"pregnancies|pregnancy[- ](?:induced|related)", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"\b(?:but|however|although|though|which|who|presents?|presented|now)\b", re.I)


def _regex(concept: Concept) -> re.Pattern[str]:
    return _BY_REGEX[concept.name]


def _negated(text: str, start: int, end: int, family: bool = True, planned: bool = True) -> bool:
    before = text[max(0, start - 60):start]
    # only the current clause counts
    cut = max(before.rfind(". "), before.rfind("; "), before.rfind("\n"))
    before = before[cut + 1:] if cut >= 0 else before
    brk = list(_CLAUSE_BREAK.finditer(before))
    if brk:
        before = before[brk[-1].end():]
    if _NEG_BEFORE.search(before) or planned and _PLANNED.search(before) or family and _FAMILY.search(before):
        return True
    return bool(_NEG_AFTER.match(text[end:end + 40]))


def _prefixes(pattern: str, n: int = 3) -> set[str] | None:
    """Every lower-case start (up to `n` characters) a match of `pattern` can have, or None
    when that set is open (a leading \\w, a wide class) or too large: a cheap prefilter."""
    from re import _constants as C, _parser as P  # type: ignore[attr-defined]

    def walk(items: list, heads: set[str]) -> set[str] | None:
        for op, av in items:
            done = {h for h in heads if len(h) >= n}
            todo = heads - done
            if not todo:
                return heads
            if op is C.LITERAL:
                heads = done | {h + chr(av) for h in todo}
            elif op is C.IN:
                chars = [chr(v) for o, v in av if o is C.LITERAL]
                if any(o is not C.LITERAL for o, _ in av):
                    return None
                heads = done | {h + c for h in todo for c in chars}
            elif op is C.AT:
                continue
            elif op is C.BRANCH:
                out: set[str] = set(done)
                for branch in av[1]:
                    sub = walk(list(branch), todo)
                    if sub is None:
                        return None
                    out |= sub
                heads = out
            elif op is C.SUBPATTERN:
                sub = walk(list(av[-1]), todo)
                if sub is None:
                    return None
                heads = done | sub
            elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
                lo, hi, body = av
                if hi > 3 or lo > 1:
                    return None
                once = walk(list(body), todo)
                if once is None:
                    return None
                heads = done | once | (todo if lo == 0 else set())
            else:
                return None
            if len(heads) > 400:
                return None
        return heads

    return walk(list(P.parse(pattern)), {""})


def _concept_prefixes(concept: Concept) -> frozenset[str] | None:
    out: set[str] = set()
    for p in concept.patterns:
        heads = _prefixes(p)
        if heads is None or "" in heads:
            return None
        out |= heads
    return frozenset(out)


_COMPILED = [(c, re.compile(r"(?<![\w-])(?:" + "|".join(c.patterns) + ")", re.IGNORECASE), _concept_prefixes(c))
             for c in CONCEPTS]
_WORD_START = re.compile(r"(?<![\w-])\w")


def find_concepts(text: str, *, negation: bool = True, broaden: bool = True,
                  family: bool = True, planned: bool = True) -> dict[str, tuple[int, int]]:
    """Concepts mentioned in `text` (affirmed, unless `negation` is False), with the span of the
    first affirmed mention; broader concepts are added with the same span when `broaden`.
    A family member's condition (`family`) and a planned or declined treatment (`planned`)
    are not the person's."""
    lower = text.lower()
    starts = {lower[m.start():m.start() + k] for m in _WORD_START.finditer(lower) for k in (1, 2, 3)}
    found: dict[str, tuple[int, int]] = {}
    for concept, regex, prefixes in _COMPILED:
        if prefixes is not None and prefixes.isdisjoint(starts):
            continue
        for m in regex.finditer(text):
            if negation and _negated(text, m.start(), m.end(), family, planned):
                continue
            if negation and concept.name == "pregnancy" and _PAST_PREGNANCY.search(text[max(0, m.start() - 30):m.end() + 12]):
                continue
            found[concept.name] = m.span()
            break
    if not broaden:
        return found
    for name, span in list(found.items()):
        stack = list(BY_NAME[name].parents)
        while stack:
            parent = stack.pop()
            if parent not in found:
                found[parent] = span
                stack.extend(BY_NAME[parent].parents)
    return found


def negated_concepts(text: str) -> set[str]:
    """Concepts that `text` only mentions to deny ("no history of stroke", "not pregnant")."""
    mentioned = set(find_concepts(text, negation=False, broaden=False))
    return mentioned - set(find_concepts(text, broaden=False, family=False, planned=False))


def ancestors(name: str) -> set[str]:
    out: set[str] = set()
    stack = list(BY_NAME[name].parents) if name in BY_NAME else []
    while stack:
        p = stack.pop()
        if p not in out:
            out.add(p)
            stack.extend(BY_NAME[p].parents)
    return out


_BY_REGEX = {c.name: r for c, r, _ in _COMPILED}


_REWRITES = ((re.compile(r"\bnon-?smok(?:er|ers|ing)\b", re.I), "not a smoker"),
             (re.compile(r"\bnever smoked\b", re.I), "not a smoker"),
             (re.compile(r"\bnon-?diabetic\b", re.I), "not diabetic"),
             (re.compile(r"\bnon-?pregnant\b", re.I), "not pregnant"))


def normalize(text: str) -> str:
    """Rewrite negative compounds the negation cues cannot see ("non-smoker" -> "not a smoker")."""
    for pattern, repl in _REWRITES:
        text = pattern.sub(repl, text)
    return text


def concept_regex(name: str) -> re.Pattern[str]:
    return _regex(BY_NAME[name])
