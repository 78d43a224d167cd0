"""question + conversation + index -> Plan. The only stage that reads the raw question.

Rules cover the common shapes: scope (NCT ids, quoted titles, acronyms, follow-ups over the
previous answer's trials, ordinals), the intent (a closed union, decided in one ordered
table), and filters (`detect.py`), composed with AND / NOT. Words left over after the
filters become text filters over whole trials: condition words (those the index's
conditions and MeSH terms use), intervention words, and topic words; misspelt words are
repaired from the index's own vocabulary, lay words through the general lexicon.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from trialqa.answer import detect
from trialqa.answer.plan import Cond, Filter, Plan
from trialqa.answer.vocab import Vocabulary, words
from trialqa.fields_qa import ELIGIBILITY_Q_RE, field_intent, section_intent
from trialqa.query import NCT_RE, QUOTED_RE, SCHEMA_WORDS, STOPWORDS, normalise_nct
from trialqa.types import Turn

LIST_RE = re.compile(
    r"^\s*(which|what|list|name|find|show|give|are there|is there|do any|does any|any)\b.*\b(trials|studies|ones|records)\b"
    r"|^\s*(which|what)\s+(trial|study)\b|^\s*(are there|is there|do any|does any)\b.*\b(trial|study)\b"
    r"|\b(any|all|every)\s+(of\s+(the|these|those)\s+)?(trials|studies)\b|^\s*which\s+(ones|of\s+(them|these|those))\b"
    r"|^\s*(trials|studies)\s+(that|which|where|in|for|with|on|of|testing|using)\b"
    r"|^\s*(show|list|find|give)\s+(me\s+)?(all\s+)?(the\s+)?", re.I)
COUNT_RE = re.compile(r"\bhow\s+many\s+(?:[\w/'-]+\s+){0,6}?(?:trials|studies|records|ones)\b|\bhow\s+many\s+(?:of\s+(?:them|those|these))\b|\bnumber\s+of\s+(?:[\w-]+\s+){0,3}?(?:trials|studies)\b|\bcount\s+(?:the\s+|all\s+)?(?:[\w/-]+\s+){0,6}?(?:trials|studies)\b", re.I)
GROUP_RE = re.compile(r"\b(?:per|by|for\s+each|each|broken\s+down\s+by|grouped\s+by|split\s+by|across)\s+(phase|status|overall\s+status|study\s+type|country|countries|sponsor|lead\s+sponsor|sex|gender|allocation|masking|intervention\s+type|purpose|primary\s+purpose|start\s+year|year)s?\b", re.I)
GROUP_FIELDS = {"phase": "phase", "status": "status", "overall status": "status", "study type": "study_type",
                "country": "country", "countries": "country", "sponsor": "lead_sponsor", "lead sponsor": "lead_sponsor",
                "sex": "sex", "gender": "sex", "allocation": "allocation", "masking": "masking",
                "intervention type": "intervention_type", "purpose": "primary_purpose",
                "primary purpose": "primary_purpose", "start year": "start_date", "year": "start_date"}
SUM_RE = re.compile(r"\b(total|sum|add(?:ed)?\s+up|altogether|in\s+total|all\s+together)\b.{0,40}\b(enrol\w*|participants|patients|people|subjects|volunteers|sample\s+sizes?)\b|\bcombined\s+(enrol\w*|participants|sample)|\b(enrol\w*|participants|patients|people|subjects)\b.{0,60}\b(in\s+total|altogether|all\s+together|added\s+up|combined)\b", re.I)
SHARE_RE = re.compile(r"\b(what|which)\s+(share|proportion|percentage|percent|fraction|part)\b|\bhow\s+many\s+percent\b|\b(share|proportion|percentage|fraction)\s+of\b|\bwhat\s+%", re.I)
EXTREME_RE = re.compile(
    r"\b(largest|biggest|smallest|fewest|most\s+(?:participants|patients|people|subjects|enrol\w*)|least\s+(?:participants|patients)|"
    r"earliest|latest|most\s+recent(?:ly)?|newest|oldest|first|last|longest[- ]running|"
    r"most\s+(?:sites|locations|centers|centres|facilities|hospitals)|highest\s+enrol\w*|lowest\s+enrol\w*)\b", re.I)
TOP_RE = re.compile(r"\b(?:top|the)\s+(\d{1,2}|two|three|four|five|ten)\s+(?:largest|biggest|smallest|earliest|latest|most|oldest|newest)\b", re.I)
COMPARE_RE = re.compile(r"\b(more|fewer|less|larger|bigger|smaller|earlier|later|sooner|older|newer|younger|longer|higher|lower|first|which\s+of|which\s+one|compare|comparing|comparison|versus|vs\.?|difference|differ)\b", re.I)
ORDINAL_RE = re.compile(r"\b(?:the\s+)?(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last|1st|2nd|3rd|4th|5th|6th|7th|8th|9th|10th)\s+(?:one|trial|study|of\s+(?:them|those|these))\b|\b(?:number|no\.|#)\s*(\d{1,2})\b", re.I)
_ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "sixth": 5, "seventh": 6, "eighth": 7,
             "ninth": 8, "tenth": 9, "1st": 0, "2nd": 1, "3rd": 2, "4th": 3, "5th": 4, "6th": 5, "7th": 6,
             "8th": 7, "9th": 8, "10th": 9, "last": -1}
SET_REF_RE = re.compile(r"\b(?:of|among|from|in)\s+(?:those|these|them|the\s+above|that\s+list)\b|\bthe\s+ones\b|\b(?:those|these)\s+(?:trials|studies|ones)\b|^\s*which\s+ones\b|\bof\s+the\s+(?:trials|studies)\s+(?:above|listed|you\s+(?:listed|mentioned|named))\b", re.I)
PRONOUN_RE = re.compile(r"\b(it|its|it's|the\s+same|they|them|their|theirs|the\s+trial|the\s+study|this\s+trial|that\s+trial|this\s+study|that\s+study)\b", re.I)
CONTINUE_RE = re.compile(r"^\s*(and|also|what\s+about|how\s+about|what\s+of|same\s+for|only|just|now)\b", re.I)
PERSON_RE = re.compile(r"\b(my\s+(patient|mother|father|wife|husband|son|daughter|child|friend|sister|brother|mom|dad|partner)|i\s+am|i'm|someone|somebody|a\s+(patient|person|man|woman|boy|girl|child|\d{1,3}[- ]year[- ]old)|an?\s+\d{1,3}[- ]year[- ]old|person\s+who|patient\s+(who|with|on))\b", re.I)
#: a question asking for a value ("what ...", "up to what age ...", "from how many ...")
VALUE_Q_RE = re.compile(r"\s*(?:(?:up|down)\s+)?(?:(?:to|until|till|from|at|of|by|in|for|under|over|between)\s+)?"
                        r"(?:what|which|how)\b", re.I)
OPTION_RE = re.compile(r"\b(an\s+option|a\s+candidate|a\s+fit|suitable|right\s+for|open\s+to\s+(him|her|them|me|someone))\b", re.I)
#: a field question's field -> the filter fields that merely echo it
ASKED_FIELDS = {"status": {"status"}, "phase": {"phase"}, "enrollment": {"enrollment"},
                "sponsor": {"sponsor", "lead_sponsor", "collaborator"}, "start_date": {"start_date"},
                "completion_date": {"completion_date"}, "sex": {"sex"}, "ages": {"age"}, "min_age": {"age"},
                "max_age": {"age"}, "study_type": {"study_type"}, "allocation": {"allocation"},
                "masking": {"masking"}, "intervention_model": {"intervention_model"},
                "primary_purpose": {"primary_purpose"}, "healthy_volunteers": {"healthy_volunteers"},
                "locations": {"country", "city", "facility"}, "interventions": {"intervention_type"}}
PLURAL_RE = re.compile(r"\b(trials|studies|research|ones|projects|protocols|work)\b", re.I)
ANY_RE = re.compile(r"\b(is\s+there|are\s+there|any|anything|anywhere)\b", re.I)
DEFINITE_ONE_RE = re.compile(r"\b(the|this|that)\s+(?:[\w'-]+\s+){0,6}?(trial|study)\b(?!\s*s)", re.I)
#: facts about a particular person: an age, a relative, the asker, a described patient
PERSON_FACTS_RE = re.compile(
    r"\b\d{1,3}[- ](?:years?|months?|yrs?)[- ]old\b|\baged?\s+\d{1,3}\b|\b(?:is|am|i'm|turned|just\s+turned)\s+\d{1,3}\b"
    r"|\bmy\s+(?:patient|mother|father|wife|husband|son|daughter|child|kid|friend|sister|brother|mom|dad|partner|grand\w+)\b"
    r"|\bi'?m\b|\bi\s+am\b|\bi\s+have\b|\ba\s+(?:man|woman|guy|boy|girl|baby|child|patient|person)\b"
    r"|\b(?:healthy|pregnant|breastfeeding)\s+\d|\b(?:he|she)\s+(?:has|is|had|was)\b|\bsomeone\s+(?:who|with)\b", re.I)
#: asking whether someone may take part
ASK_JOIN_RE = re.compile(
    r"\b(join|participate|take\s+part|enrol+|enter|be\s+enrolled|be\s+included|eligible|eligibility|allowed|accept\w*|"
    r"qualify|sign\s+up|admit\w*|an\s+option|a\s+candidate|be\s+(?:a\s+)?(?:participant|subject|considered|recruited|screened)|"
    r"get\s+in(?:to)?|apply|too\s+(?:old|young)|old\s+enough|young\s+enough|volunteer|"
    r"take\s+(?:him|her|them|me|women|men|someone)|take\s+\w+\?|meet|allows?|open\s+to|a\s+fit|suitable|right\s+for)\b", re.I)
#: someone the question asks about ("are pregnant women allowed ...", "can my patient ...")
WHO_RE = re.compile(r"\b(wom[ae]n|m[ae]n|patients?|people|persons?|someone|somebody|anyone|children|kids|adults|"
                    r"smokers|volunteers|girls|boys|mothers?|fathers?|i|he|she|they|we|my|a\s+\d{1,3}[- ]year[- ]old)\b", re.I)
_NUMWORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "ten": 10}
#: words that say what kind of answer is wanted rather than what trials must contain
QUESTION_WORDS = frozenset("""which what how many much list show find give trials studies trial study
any there are is were was do does did have has had whose where when who why number count share
proportion percentage percent fraction total combined altogether largest biggest smallest fewest
earliest latest recent newest oldest first last most least top highest lowest enroll enrolls enrolled
enrolling compare comparison versus vs difference more fewer less larger bigger smaller earlier later
longer higher lower each per broken down grouped split across among those these them ones above
involve involving involves investigate investigating look looking currently still being been
focus focused focusing focuses aimed aiming target targeting targeted deal dealing concerning
regarding related carried conducted done based happening compared comparing examining exploring
assess assessing assessed study studying currently presently right moment now today ever
registered indexed database available open led work exist exists index please count counts
counting well included include including stage anything anywhere let lets i'm i'd i've like proper
combined looked going longest brother sister mother father wife husband son daughter friend partner
mom dad family myself non kind sort type types anymore also either neither yet already tell
add adding get got give gives result
""".split())


def understand(question: str, history: Sequence[Turn], vocab: Vocabulary, index_trials: dict,
               acronym_scope: bool = True) -> Plan:
    """The plan of `question`, given the conversation so far and the index's vocabulary."""
    plan = Plan(question=question)
    t = detect.Text(question)
    prev_plan, prev_trials = _previous(history)
    _scope(plan, t, vocab, index_trials, prev_trials, acronym_scope)
    for fn in (detect.phases, detect.statuses, detect.designs, detect.comparators, detect.results,
               detect.enrollment, detect.dates):
        fn(t)
    detect.places(t, vocab)
    detect.sponsors(t, vocab)  # before ages: "Children's Oncology Group" is a sponsor
    for fn in (detect.ages, detect.sexes, detect.healthy):
        fn(t)
    _intent(plan, question)
    if plan.intent == "share":
        _split_share(plan, t)
    else:
        plan.filters = list(t.found)
    plan.filters += _text_filters(t, vocab, plan)
    if plan.intent == "field":  # the asked field does not describe the trial ("is it still running?")
        asked = ASKED_FIELDS.get(plan.field or "", {plan.field})
        plan.filters = [f for f in plan.filters if getattr(f, "field", None) not in asked]
    if plan.intent == "eligibility":
        plan.person = _person(question)
        plan.filters = []  # the person's facts are checked against the trial, not used to find it
    _follow_up(plan, question, prev_plan, prev_trials)
    return plan


def _person(text: str):
    try:
        from trialqa.answer.eligibility import person_from_text
    except ImportError:  # the eligibility package is optional for understanding
        from trialqa.answer.plan import Person

        return Person()
    return person_from_text(text)


# --- scope -------------------------------------------------------------------------------

def _previous(history: Sequence[Turn]) -> tuple[Plan | None, list[str]]:
    for turn in reversed(history):
        if turn.role == "assistant":
            return turn.plan, list(turn.trials)
    return None, []


def _scope(plan: Plan, t: detect.Text, vocab: Vocabulary, trials: dict, prev: list[str],
           acronym_scope: bool) -> None:
    for m in NCT_RE.finditer(t.original):
        plan.scope.append(normalise_nct(m.group(1)))
        t.blank(m.start(), m.end())
    plan.scope = list(dict.fromkeys(plan.scope))
    if plan.scope:
        plan.scope_reason = "named"
        return
    quoted = QUOTED_RE.search(t.original)
    if quoted:
        phrase = " ".join(words(next(g for g in quoted.groups() if g)))
        hits = [tid for tid, tr in trials.items() if phrase and phrase in " ".join(words(tr.title))]
        if not hits:
            hits = [tid for tid, tr in trials.items()
                    if phrase and phrase in " ".join(words(tr.fields.official_title or ""))]
        if hits:
            plan.scope, plan.scope_reason = hits[:5], "named"
            t.blank(quoted.start(), quoted.end())
            return
    if acronym_scope:
        for m in re.finditer(r"\b[A-Z][A-Z0-9-]{2,}\b", t.original):
            ids = vocab.acronyms.get(m.group(0))
            if ids and len(ids) <= 3 and m.group(0).lower() not in vocab.everyday:
                plan.scope, plan.scope_reason = list(ids), "named"
                t.blank(m.start(), m.end())
                return
    m = ORDINAL_RE.search(t.original)
    if m and prev:
        i = _ORDINALS.get((m.group(1) or "").lower(), int(m.group(2) or 1) - 1)
        if -len(prev) <= i < len(prev):
            plan.scope, plan.scope_reason = [prev[i]], "ordinal"
            t.blank(m.start(), m.end())


# --- intent ------------------------------------------------------------------------------

def _intent(plan: Plan, q: str) -> None:
    many = len(plan.scope) >= 2
    if many and COMPARE_RE.search(q) and (_compared_field(q) or re.search(r"\bwhich\b", q, re.I)):
        plan.intent, plan.field = "compare", _compared_field(q) or "enrollment"
        plan.direction = "min" if re.search(r"\b(fewer|less|smaller|earlier|sooner|lower|first|younger)\b", q, re.I) else "max"
        return
    fld = field_intent(q)
    asks_value = bool(fld and VALUE_Q_RE.match(q))  # "up to what age can someone join ...?"
    if ((len(plan.scope) == 1 or DEFINITE_ONE_RE.search(q)) and PERSON_FACTS_RE.search(q) and ASK_JOIN_RE.search(q)
            and not asks_value):
        plan.intent = "eligibility"  # "my father is 71 - is he too old for NCT...?"
        return
    if SHARE_RE.search(q) and not plan.scope:
        plan.intent = "share"
        return
    if SUM_RE.search(q) and len(plan.scope) != 1:
        plan.intent, plan.field = "sum", "enrollment"
        return
    group = GROUP_RE.search(q)
    if COUNT_RE.search(q) or (group and re.search(r"\b(trials|studies|count|number)\b", q, re.I) and not plan.scope):
        plan.intent = "count"
        if group:
            plan.group_by = GROUP_FIELDS[" ".join(group.group(1).lower().split()).rstrip("s") if group.group(1).lower() not in GROUP_FIELDS else " ".join(group.group(1).lower().split())]  # type: ignore[assignment]
        return
    ext = EXTREME_RE.search(q)
    if ext and not plan.scope and re.search(r"\b(trials?|studies|study|ones?|of\s+(?:them|those|these))\b", q, re.I):
        word = ext.group(1).lower()
        plan.intent = "extreme"
        if re.search(r"sites|locations|centers|centres|facilities|hospitals", word):
            plan.field, plan.direction = "facilities", "max"
        elif re.search(r"earliest|latest|recent|newest|oldest|first|last|longest", word):
            end = re.search(r"\b(complet\w*|finish\w*|end\w*|conclud\w*)\b", q, re.I)
            plan.field = "completion_date" if end else "start_date"
            plan.direction = "min" if re.search(r"earliest|oldest|first|longest", word) else "max"
        else:
            plan.field = "enrollment"
            plan.direction = "min" if re.search(r"smallest|fewest|least|lowest", word) else "max"
        top = TOP_RE.search(q)
        if top:
            plan.limit = _NUMWORDS.get(top.group(1).lower()) or int(top.group(1))
        return
    if ((ELIGIBILITY_Q_RE.search(q) or OPTION_RE.search(q)) and not asks_value
            and (PERSON_RE.search(q) or re.search(r"\b(can|could)\s+(i|he|she|they|someone)\b", q, re.I))):
        plan.intent = "eligibility"
        return
    if (ELIGIBILITY_Q_RE.search(q) and (len(plan.scope) == 1 or DEFINITE_ONE_RE.search(q))
            and WHO_RE.search(q) and not asks_value and not re.match(r"\s*(how\s+many|what|which)\b", q, re.I)):
        plan.intent = "eligibility"  # "are pregnant women allowed in the liver failure trial?"
        return
    if LIST_RE.search(q) and not (plan.scope and len(plan.scope) == 1):
        plan.intent = "list"
        return
    if not plan.scope and (PLURAL_RE.search(q) or ANY_RE.search(q)) and not DEFINITE_ONE_RE.search(q):
        plan.intent = "list"  # "Flu trials in phase 3?", "is there a randomized trial?"
        return
    sec = section_intent(q)
    if sec and (not fld or sec[0] in ("outcomes", "contacts", "email", "phone", "identifiers", "keywords", "criteria")):
        plan.intent, plan.section = "section", sec[0]
        return
    if fld:
        plan.intent, plan.field = "field", fld
        return
    if ELIGIBILITY_Q_RE.search(q) and WHO_RE.search(q) and not re.match(r"\s*(what|which|how)\b", q, re.I):
        plan.intent = "eligibility"
        return
    plan.intent = "open"


def _compared_field(q: str) -> str | None:
    if re.search(r"\b(enrol\w*|participants|patients|people|subjects|larger|bigger|smaller|sample)\b", q, re.I):
        return "enrollment"
    if re.search(r"\b(younger|youngest)\b", q, re.I):
        return "min_age"
    if re.search(r"\b(start\w*|began|begin|launched|under\s*way|earlier|sooner|first|newer)\b", q, re.I):
        return "start_date"
    if re.search(r"\b(complet\w*|finish\w*|end\w*|later)\b", q, re.I):
        return "completion_date"
    if re.search(r"\b(sites|locations|centers|centres|countries|hospitals)\b", q, re.I):
        return "facilities"
    if re.search(r"\b(ages?|older\s+patients|younger)\b", q, re.I):
        return "age"
    return None


def _split_share(plan: Plan, t: detect.Text) -> None:
    """'What share of phase 3 trials are placebo-controlled?': the filters before the verb
    are the base set, those after it the condition whose share is asked."""
    asked = SHARE_RE.search(t.original)
    verb = re.search(r"\b(trials|studies)\b[^?]*?\b(are|were|is|have|has|had|do|does|did|use|used|enrol\w*|include\w*|recruit\w*|accept\w*|test\w*|involve\w*)\b", t.original, re.I)
    if asked and any(at < asked.start() for at in t.starts):  # "Of the X, what share are Y?"
        cut = asked.start()
    else:
        cut = verb.start(2) if verb else len(t.original)
    plan.filters = [f for f, at in zip(t.found, t.starts) if at < cut]
    plan.share_of = [f for f, at in zip(t.found, t.starts) if at >= cut]
    t.share_cut = cut  # type: ignore[attr-defined]


# --- words left over: conditions, interventions, topics -----------------------------------

def _text_filters(t: detect.Text, vocab: Vocabulary, plan: Plan) -> list[Filter]:
    out: list[Filter] = []
    share_cut = getattr(t, "share_cut", None)
    for phrase, variants in detect.lay_terms(t):
        groups = _groups_for(phrase, variants)
        field = "intervention" if _is_treatment(phrase, vocab) else "condition" if _is_condition(variants, vocab) else "topic"
        cond = Cond(field=field, op="contains", value=groups, label=f"{field}: {phrase}")
        _place(out, plan, cond, t.original, phrase, share_cut)
    rest = [w for w in re.findall(r"[A-Za-z][A-Za-z'-]*[A-Za-z]|\d+", t.rest)]
    content = []
    for w in rest:
        low = w.lower().strip("'")
        if low.endswith("'s"):
            low = low[:-2]
        if low in STOPWORDS or low in SCHEMA_WORDS or low in QUESTION_WORDS or len(low) < 3 or low.isdigit():
            continue
        content.append(low)
    if plan.intent in ("field", "section", "open", "eligibility") and plan.scope:
        plan.terms = content
        return out
    plan.terms = content
    i = 0
    while i < len(content):
        word = content[i]
        two = f"{word} {content[i + 1]}" if i + 1 < len(content) else None
        if two and (two in vocab.conditions or two in vocab.interventions):
            phrase, i = two, i + 2
        else:
            phrase, i = word, i + 1
        fixed = phrase if " " in phrase else (vocab.correct(phrase) or phrase)
        if " " not in phrase and fixed == phrase and vocab.text_words and not _known(phrase, vocab):
            plan.unknown.append(phrase)
        if fixed != phrase:
            plan.notes.append(f"read '{phrase}' as '{fixed}'")
        groups = [[_prefix(w)] for w in fixed.split()]
        in_cond, in_treat = _in_phrases(fixed, vocab.conditions), _in_phrases(fixed, vocab.interventions)
        field = "condition" if in_cond else "intervention" if in_treat else "topic"
        _place(out, plan, Cond(field=field, op="contains", value=groups, label=f"{field}: {fixed}"), t.original, phrase, share_cut)
    return out


def _place(out: list[Filter], plan: Plan, cond: Cond, text: str, phrase: str, cut: int | None) -> None:
    if cut is not None and plan.intent == "share":
        m = re.search(re.escape(phrase.split()[0]), text, re.I)
        if m and m.start() >= cut:
            plan.share_of.append(cond)
            return
    out.append(cond)


def _groups_for(phrase: str, variants: tuple[str, ...]) -> list[list[str]]:
    """The registry's words for a lay phrase (the phrase itself only where the lexicon lists it:
    "flu" must not match "fluid")."""
    return [list(dict.fromkeys(variants))]


def _is_condition(variants: tuple[str, ...], vocab: Vocabulary) -> bool:
    return any(_in_phrases(v, vocab.conditions) for v in variants)


def _is_treatment(phrase: str, vocab: Vocabulary) -> bool:
    from trialqa.answer.lexicon import LAY

    return any(_in_phrases(v, vocab.interventions) for v in LAY.get(phrase, ())) and not any(
        _in_phrases(v, vocab.conditions) for v in LAY.get(phrase, ()))


def _in_phrases(word: str, phrases: set[str]) -> bool:
    """True when `word` (or phrase) is a phrase of the set or starts a word of one."""
    if word in phrases:
        return True
    key = _prefix(word.split()[0])
    return any(key in p and re.search(rf"\b{re.escape(word)}", p) for p in _sample(phrases, key))


_SAMPLES: dict[tuple[int, str], list[str]] = {}


def _sample(phrases: set[str], key: str) -> list[str]:
    cache_key = (id(phrases), key)
    if cache_key not in _SAMPLES:
        _SAMPLES[cache_key] = [p for p in phrases if key in p]
    return _SAMPLES[cache_key]


def _known(word: str, vocab: Vocabulary) -> bool:
    p = _prefix(word)
    tw = vocab.text_words
    return word in tw or any(k.startswith(p) for k in _prefixed(tw, p[:3]))


_PREFIXED: dict[tuple[int, str], list[str]] = {}


def _prefixed(tw: dict[str, int], head: str) -> list[str]:
    key = (id(tw), head)
    if key not in _PREFIXED:
        _PREFIXED[key] = [k for k in tw if k.startswith(head)]
    return _PREFIXED[key]


_SUFFIXES = ("ically", "ical", "ly", "ics", "ic", "es", "s", "al", "ia", "y")


def _prefix(word: str) -> str:
    """A light stem for full-text prefix matching ("diabetes" -> "diabet", "cancers" -> "cancer")."""
    w = word.lower()
    if len(w) <= 4:
        return w
    for suf in _SUFFIXES:
        if w.endswith(suf) and len(w) - len(suf) >= 5:
            return w[: -len(suf)]
    return w


# --- follow-ups --------------------------------------------------------------------------

def _follow_up(plan: Plan, q: str, prev: Plan | None, prev_trials: list[str]) -> None:
    if plan.scope or not prev_trials:
        return
    set_ref = SET_REF_RE.search(q)
    if set_ref:
        plan.follow_up = True
        plan.filters.insert(0, Cond(field="trial", op="in", value=list(prev_trials), label=f"among the previous {len(prev_trials)} trials"))
        if plan.intent not in ("count", "share", "sum", "extreme", "compare"):
            plan.intent = "list"
        return
    adds_only = (CONTINUE_RE.search(q) and plan.intent in ("open", "list") and prev is not None
                 and any(getattr(f, "field", "") != "trial" for f in plan.filters) and not PRONOUN_RE.search(q))
    if adds_only and prev is not None and prev.intent in ("list", "count", "share", "sum", "extreme") and not plan.terms[:1] == ["__"]:
        fields = {getattr(f, "field", None) for f in plan.filters}
        kept = [f for f in prev.filters if getattr(f, "field", None) not in fields]
        plan.intent, plan.field, plan.group_by, plan.direction = prev.intent, prev.field, prev.group_by, prev.direction
        plan.filters = kept + plan.filters
        plan.share_of = prev.share_of if plan.intent == "share" else plan.share_of
        plan.follow_up = True
        return
    single = len(prev_trials) == 1
    if plan.intent in ("field", "section", "open", "eligibility") and (single or len(prev_trials) <= 10) and (
            PRONOUN_RE.search(q) or CONTINUE_RE.search(q) or not plan.terms):
        plan.scope, plan.scope_reason, plan.follow_up = list(prev_trials), "follow-up", True
        plan.filters = []
