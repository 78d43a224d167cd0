"""Answers from structured fields: exact, instant, and cited to the sentence holding the value.

A field of one trial ("What is its upper age limit?"), a section of one trial, and whether
a stated condition rules a person out; filters over every indexed trial ("Which trials
would accept a 62-year-old?") are in `field_filters`. Each claim carries the sentence it
rests on; a value that no section states is not used.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from trialqa.evidence import DATE_RE, NOT_STATED, Sentence, sentences
from trialqa.field_values import age_quote, age_range_text, age_words, quote_for
from trialqa.types import Trial


@dataclass
class Claim:
    text: str
    sources: list[Sentence] = field(default_factory=list)


# --- single-trial field questions -------------------------------------------------------

#: The record's own history: an intent, the question that asks for it, the words its line's
#: label carries (and must not), and the answer. Every registry format and page states these
#: as "Label: date" lines of the Dates or Status section ("First posted: November 4, 1999
#: (Estimate)", "Last Update Posted: ...", "Status verified: ...", "Estimated Primary Completion
#: Date: ..."); the labels differ, their words do not.
RECORD_DATES: dict[str, tuple[re.Pattern[str], tuple[str, ...], tuple[str, ...], str]] = {
    "first_posted": (re.compile(r"^(?!.*\bresults?\b).*(\bwhen (was|were|did)\b.{0,60}\b(first )?(posted|registered|published|listed)\b|\bfirst (posted|registered|published)\b|\b(registration|posting|first posted) date\b)", re.I | re.S),
     ("first", "posted"), ("results",), "{who} was first posted on {v}."),
    "first_submitted": (re.compile(r"\bwhen (was|were|did)\b.{0,60}\bsubmitted\b|\bfirst submitted\b|\bsubmission date\b", re.I),
     ("first", "submitted"), ("results", "qc"), "{who} was first submitted on {v}."),
    "last_update": (re.compile(r"\bwhen (was|were|did)\b.{0,60}\b(last )?(updated|changed|modified|revised)\b|\blast updated?\b|\b(latest|most recent) (update|revision)\b", re.I),
     ("last", "update"), (), "{who} was last updated on {v}."),
    "last_verified": (re.compile(r"\bwhen (was|were|did)\b.{0,60}\bverified\b|\blast verified\b|\bverification date\b", re.I),
     ("verifi",), (), "The record of {who} was last verified in {v}."),
    "primary_completion": (re.compile(r"\bprimary completion\b", re.I),
     ("primary", "completion"), (), "The primary completion date of {who} is {v}."),
}
#: a record date as its line writes it: a calendar date (`evidence.DATE_RE`), an ISO day, "(Estimate)"
_DATE_RE = re.compile(rf"(?:{DATE_RE.pattern})(?:-[0-3]\d)?(?: \((?:Actual|Estimated?|Anticipated)\))?", re.I)


def answer_record_date(trial: Trial, intent: str) -> list[Claim] | None:
    """The date of one event of the record's history, quoted from its "Label: date" line."""
    _, want, refuse, text = RECORD_DATES[intent]
    for s in sentences(trial):
        if not s.section.startswith(("Dates", "Status")) or ":" not in s.text:
            continue
        label, rest = s.text.split(":", 1)
        label = label.lower()
        date = _DATE_RE.search(rest)
        if date and all(w in label for w in want) and not any(w in label for w in refuse):
            value = date.group(0)
            if "(" not in value and re.search(r"\b(estimated|anticipated|expected)\b", label):
                value += " (estimated)"
            return [Claim(text.format(who=trial.nct_id or trial.doc_id, v=value), [s])]
    return None


FIELD_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    *((name, pattern) for name, (pattern, *_) in RECORD_DATES.items()),
    ("max_age", re.compile(r"\b(upper|maximum|max|oldest|highest|top)\b[\w\s-]{0,20}\bage\b|\bage\b[\w\s-]{0,15}\b(upper|maximum|max|cut-?off|ceiling)\b|\bhow old can\b|\boldest\b", re.I)),
    ("min_age", re.compile(r"\b(lower|minimum|min|youngest|lowest)\b[\w\s-]{0,20}\bage\b|\bage\b[\w\s-]{0,15}\b(lower|minimum|min)\b|\bhow young\b|\byoungest\b", re.I)),
    ("ages", re.compile(r"\bage (range|limits?|requirements?|criteria|eligibility)\b|\bhow old\b|\bwhat ages?\b|\bwhich ages\b|\bages?\b.*\b(eligible|accepted|allowed|enrol)", re.I)),
    ("enrollment", re.compile(r"\bhow many (participants|patients|subjects|people|volunteers|women|men|individuals)\b(?!\s+(?:have\s+|had\s+)?(?:died|were\s+killed|passed\s+away|survived|recovered|responded|improved|withdrew|dropped|experienced|suffered|developed|had\s+side|got\s+(?:better|worse)))|\benrol+(ment|s|ed|ing)?\b|\bsample size\b|\btarget recruitment\b|\bhow (big|large) is\b", re.I)),
    ("sponsor", re.compile(r"(?<![-\w])(lead )?sponsor(s|ed|ing)?\b|\bfund(ed|er|s|ing)\b|\bwho (runs|is running|conducts|pays)\b", re.I)),
    ("phase", re.compile(r"\bphase\b|\bwhat stage\b", re.I)),
    ("status", re.compile(r"\b(recruitment |overall )?status\b|\bstill recruiting\b|\bis (it|the trial|the study) (still )?(recruiting|open|active|completed)\b|\b(looking for|accepting|seeking|recruiting) (new )?(participants|patients|volunteers|subjects)\b|\bopen (for|to) (enrol|recruit)|\bstill (running|going|ongoing|open|active|underway)\b|\b(has|is) (it|the trial|the study) (finished|ended|over|done|completed)\b|\bhas it (finished|ended|completed)\b", re.I)),
    ("sex", re.compile(r"\btake (men|women|males|females)\b|\b(men|women|males|females),? (or|and) (women|men|males|females)\b|\bboth sexes\b|\bwhich sex(es)?\b|\b(male|female) participants\b|\b(sex|sexes|gender|genders)\b|\b(men|women|males?|females?)\b.{0,30}\b(eligible|allowed|accepted|enrol|participate|join)", re.I)),
    ("conditions", re.compile(r"\b(what|which) (conditions?|diseases?|illness|indications?)\b|\b(condition|disease)s? (is|are|does) .*\b(stud|treat|target)", re.I)),
    ("start_date", re.compile(r"\bwhen did\b.*\b(start|begin)|\bstart(ing)? date\b|\bwhen (does|will|did) .*\b(start|begin)\b|\bwhen was it started\b", re.I)),
    ("completion_date", re.compile(r"\bcompletion date\b|\bwhen (was|is|were) (it|the trial|the study|[\w-]+) (completed|finished|over)\b|\bwhen (does|will|did) .*\b(end|finish|complete)\b|\bexpected to (end|finish|complete)\b", re.I)),
    ("site_count", re.compile(r"\bhow many (locations|sites|centers|centres|hospitals|facilities)\b|\bat how many (locations|sites|centers|centres|places)\b|\bnumber of (locations|sites|centers|centres)\b", re.I)),
    ("collaborators", re.compile(r"\bcollaborat\w*\b|\bpartner (organi[sz]ations?|institutions?)\b", re.I)),
    ("locations", re.compile(r"\bwhere\b|\b(locations?|sites?)\b.{0,20}\b(of|for)\b|\bwhich (city|cities|country|countries|hospitals?|sites?|centers?|centres?)\b|\bin which (city|country)\b", re.I)),
    ("interventions", re.compile(r"\bwhat (kind|type|sort) of (intervention|treatment|therapy|drug|product)\b|\bwhat does (it|the trial|the study|[\w-]+ (trial|study)) test\b|\b(what|which)\b.{0,25}\b(interventions?|drugs?|treatments?|vaccines?|therap(y|ies)|products?|devices?)\b.{0,40}\b(tested|studied|given|used|evaluated|compared|investigated|administered|received)\b|\bwhat (is|are) (being )?(tested|studied|evaluated|investigated|compared)\b|\bwhat (is|are) the interventions?\b", re.I)),
    ("arms", re.compile(r"\b(what|which|how many|list|name|describe)\b.{0,30}\b(arms|groups|cohorts)\b|\b(arms|groups|cohorts) (are there|does it have)\b", re.I)),
    ("allocation", re.compile(r"\bassigned (at random|randomly)\b|\brandomly assigned\b|\bat random\b|\brandomi[sz]ed\b|\ballocation\b", re.I)),
    ("intervention_model", re.compile(r"\bintervention(al)? model\b|\b(parallel|crossover|cross-over|factorial) (assignment|design|group)", re.I)),
    ("primary_purpose", re.compile(r"\bprimary purpose\b", re.I)),
    ("masking", re.compile(r"\bmask(ing|ed)?\b|\bblind(ed|ing)?\b|\bopen[- ]label\b", re.I)),
    ("study_type", re.compile(r"\binterventional\b.{0,30}\bor\b.{0,20}\bobservational\b|\bobservational\b.{0,30}\bor\b.{0,20}\binterventional\b|\bstudy type\b|\binterventional or observational\b|\bobservational\b", re.I)),
    ("healthy_volunteers", re.compile(r"\bhealthy volunteers?\b", re.I)),
]


def field_intent(question: str) -> str | None:
    for name, pattern in FIELD_PATTERNS:
        if pattern.search(question):
            return name
    return None


#: The page labels whose lost value means a field question cannot be answered.
STATED_BY: dict[str, list[str]] = {
    "max_age": ["Ages"], "min_age": ["Ages"], "ages": ["Ages"], "sex": ["Sex"],
    "enrollment": ["Enrollment"], "phase": ["Status and phase"], "status": ["Status and phase"],
    "conditions": ["Conditions"], "study_type": ["Study type"], "allocation": ["Allocation"],
    "masking": ["Masking"], "healthy_volunteers": ["Volunteers"],
    "start_date": ["Start date", "Study Start Date"], "completion_date": ["Completion date", "Study Completion Date"],
    "intervention_model": ["Interventional model"], "primary_purpose": ["Primary purpose"],
}


def answer_field(trial: Trial, intent: str) -> list[Claim] | None:
    """Claims answering `intent` for one trial, or None when the record does not state it."""
    f, who = trial.fields, trial.nct_id or trial.doc_id
    if intent in RECORD_DATES:
        return answer_record_date(trial, intent)
    if intent in ("max_age", "min_age", "ages"):
        if not (f.min_age or f.max_age):
            return None
        q = age_quote(trial)
        if intent == "max_age":
            text = (f"The upper age limit of {who} is {age_words(f.max_age)}." if f.max_age
                    else f"{who} states no upper age limit (minimum age {age_words(f.min_age or '')}).")
        elif intent == "min_age":
            text = (f"The minimum age for {who} is {age_words(f.min_age)}." if f.min_age
                    else f"{who} states no minimum age (upper limit {age_words(f.max_age or '')}).")
        else:
            text = age_range_text(trial)
        return [Claim(text, [q] if q else [])] if q else None
    if intent == "enrollment" and f.enrollment is not None:
        q = quote_for(trial, [str(f.enrollment)], ["Enrollment", "Design", "Status"])
        verb = "enrolled" if (f.enrollment_type or "").lower().startswith("actual") else "plans to enroll"
        return [Claim(f"{who} {verb} {f.enrollment} participants.", [q])] if q else None
    simple: dict[str, tuple[Callable[[], str | None], list[str], Callable[[str], str]]] = {
        "sponsor": (lambda: f.sponsor, ["Sponsor"], lambda v: f"The lead sponsor of {who} is {v}."),
        "phase": (lambda: f.phase, ["Status", "Design", "Identifiers"], lambda v: f"{who} is in {v}." if v.lower().startswith(("phase", "early")) else f"The phase of {who} is {v}."),
        "status": (lambda: f.status, ["Status"], lambda v: f"The recruitment status of {who} is {v}."),
        "start_date": (lambda: f.start_date, ["Dates", "Status"], lambda v: f"{who} started in {v}."),
        "completion_date": (lambda: f.completion_date, ["Dates", "Status"], lambda v: f"The completion date of {who} is {v}."),
        "allocation": (lambda: f.allocation, ["Design"], lambda v: f"The allocation of {who} is {v}."),
        "masking": (lambda: f.masking, ["Design"], lambda v: f"The masking of {who} is {v}."),
        "intervention_model": (lambda: f.intervention_model, ["Design"], lambda v: f"The intervention model of {who} is {v}."),
        "primary_purpose": (lambda: f.primary_purpose, ["Design"], lambda v: f"The primary purpose of {who} is {v}."),
        "study_type": (lambda: f.study_type, ["Design", "Status"], lambda v: f"{who} is an {v.lower()} study."),
    }
    if intent in simple:
        get, prefer, render = simple[intent]
        value = get()
        if not value:
            return None
        q = quote_for(trial, [value], prefer)
        return [Claim(render(value).replace("..", "."), [q])] if q else None
    if intent == "sex" and f.sex:
        q = quote_for(trial, [f.sex], ["Eligibility"])
        text = {"All": f"{who} accepts participants of all sexes.",
                "Female": f"{who} accepts female participants only.",
                "Male": f"{who} accepts male participants only."}[f.sex]
        return [Claim(text, [q])] if q else None
    if intent == "healthy_volunteers" and f.healthy_volunteers is not None:
        q = quote_for(trial, ["healthy"], ["Eligibility"])
        text = f"{who} {'accepts' if f.healthy_volunteers else 'does not accept'} healthy volunteers."
        return [Claim(text, [q])] if q else None
    if intent == "arms" and f.arms:
        claims = [Claim(f"{who} has {len(f.arms)} arm{'s' if len(f.arms) != 1 else ''}:")]
        for arm in f.arms:
            q = quote_for(trial, [arm.label or ""], ["Arms"])
            kind = f" ({arm.type})" if arm.type else ""
            desc = f": {arm.description}" if arm.description and arm.description != arm.label else ""
            claims.append(Claim(f"{arm.label}{kind}{desc}", [q] if q else []))
        return claims if any(c.sources for c in claims) else None
    if intent == "conditions" and f.conditions:
        q = quote_for(trial, [f.conditions[0]], ["Conditions", "Title"])
        return [Claim(f"{who} studies {_join(f.conditions)}.", [q])] if q else None
    if intent == "interventions" and f.interventions:
        claims = []
        for iv in f.interventions[:6]:
            if not iv.name:
                continue
            q = quote_for(trial, [iv.name], ["Interventions", "Arms"])
            if q:
                kind = f" ({iv.type.lower()})" if iv.type else ""
                claims.append(Claim(f"{who} tests {iv.name}{kind}.", [q]))
        return claims or None
    if intent == "site_count" and f.locations:
        first = f.locations[0]
        q = quote_for(trial, [first.facility or first.city or ""], ["Locations"])
        n = len(f.locations)
        return [Claim(f"{who} lists {n} site{'s' if n != 1 else ''}.", [q])] if q else None
    if intent == "collaborators" and f.collaborators:
        q = quote_for(trial, [f.collaborators[0]], ["Sponsor"])
        return [Claim(f"{who} lists as collaborator{'s' if len(f.collaborators) > 1 else ''}: {_join(f.collaborators)}.", [q])] if q else None
    if intent == "locations" and f.locations:
        claims = []
        for loc in f.locations[:5]:
            parts = [p for p in (loc.facility, loc.city, loc.country) if p]
            q = quote_for(trial, [loc.facility or loc.city or ""], ["Locations"])
            if q:
                claims.append(Claim(f"{who} is conducted at {', '.join(parts)}.", [q]))
        if len(f.locations) > 5 and claims:
            claims.append(Claim(f"({len(f.locations)} locations in all.)"))
        return claims or None
    return None


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# --- can a person with X join? ------------------------------------------------------------

ELIGIBILITY_Q_RE = re.compile(
    r"\b(can|could|may|is|are|would|will)\b.{0,80}\b(join|participate|take part|enrol+|be enrolled|be included|"
    r"eligible|allowed|accepted|qualify|sign up|admitted)\b", re.I)
#: A question about what a trial found, as opposed to what it measures or plans.
RESULTS_Q_RE = re.compile(
    r"\bhow\s+many\b.{0,40}\b(died|deaths?|survived|recovered|responded|improved|dropped\s+out|withdrew|were\s+cured)\b|"
    r"\b(results?|findings?)\b.{0,60}\b(report|reported|post|posted|publish|published|show|showed|shown|found|so far)\b"
    r"|\b(what|which|any|are there|were there|have there been)\b.{0,20}\b(results|findings)\b"
    r"|\bwhat did (it|they|the (trial|study)|[\w-]+ (trial|study))\b.{0,40}\b(find|show|conclude)\b"
    r"|\b(side effects?|adverse (events?|effects?|reactions?)|complications?|deaths?)\b.{0,60}"
    r"\b(did|were|was|have been|has been|occurred|reported|observed|experienced|seen)\b"
    r"|\b(did|were there|have there been|has there been)\b.{0,60}\b(side effects?|adverse|complications?|deaths?)\b",
    re.I,
)
#: A question about where a trial is carried out (not where something comes from).
WHERE_RUN_RE = re.compile(
    r"\bwhere\b.{0,60}\b(run|running|conducted|held|located|take place|taking place|based|carried out|recruit\w*|done)\b"
    r"|\b(locations?|sites?|cities|countries|hospitals?|centers?|centres?)\b",
    re.I,
)
_LOCATION_HEADING = re.compile(r"^\W*(trial |study )?(contacts? and )?locations?\W*\d*\W*$", re.I)


def _names_a_place(sent: Sentence) -> bool:
    """A Locations sentence that is more than a leftover heading ("Trial contacts and locations: 1")."""
    return not _LOCATION_HEADING.match(sent.text) and NOT_STATED not in sent.text


def lists_locations(trial: Trial) -> bool:
    """True when the record names any place the trial runs (fields, or a Locations sentence)."""
    if trial.fields.locations:
        return True
    return any(_names_a_place(x) for x in sentences(trial) if x.section.split(":")[0] == "Locations")


#: Section intents that only their own section can answer: no section, no answer.
SECTION_ONLY = {"contacts", "email", "phone"}


def has_results(trial: Trial) -> bool:
    """True when the record carries posted results (a Results section)."""
    return any(sec.name.split(":")[0].strip() == "Results" for sec in trial.sections)


_NEGATIVE_ITEM = re.compile(r"^\s*(no|not|without|absence of|free of|never|none|must not|non-)\b", re.I)


def eligibility_check(trial: Trial, terms: list[list[str]]) -> list[Claim] | None:
    """Whether the criteria exclude (or require) the condition named by `terms` (term groups),
    quoting the criterion; None when no single criterion names all of it."""
    from trialqa.query import has_term

    who = trial.nct_id or trial.doc_id
    if not terms:
        return None
    for prefix, excluded in (("Eligibility: Exclusion", True), ("Eligibility: Inclusion", False)):
        for sent in sentences(trial):
            if not sent.section.startswith(prefix):
                continue
            if all(any(has_term(sent.lower, sent.words, t) for t in g) for g in terms):
                if excluded:
                    return [Claim(f"No, {who} excludes them; its exclusion criteria list:", [sent]),
                            Claim(f"\u201c{sent.text}\u201d")]
                if _NEGATIVE_ITEM.match(sent.text):
                    return [Claim(f"No, {who}'s inclusion criteria require its absence:", [sent]),
                            Claim(f"\u201c{sent.text}\u201d")]
                return [Claim(f"Yes, as far as this criterion goes; {who}'s inclusion criteria say:", [sent]),
                        Claim(f"\u201c{sent.text}\u201d (all other criteria apply too).")]
    return None


# --- single-trial questions a section answers verbatim -----------------------------------

_PHONE_RE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
SECTION_PATTERNS: list[tuple[str, re.Pattern[str], list[str]]] = [
    ("email", re.compile(r"\be-?mail", re.I), ["Contacts"]),
    ("phone", re.compile(r"\b(tele)?phone\b|\bcall\b", re.I), ["Contacts"]),
    ("contacts", re.compile(r"\bcontacts?\b|\bget in touch\b|\bwho (can|should|do) i (call|ask|talk|speak|reach)", re.I), ["Contacts"]),
    ("identifiers", re.compile(r"\b(secondary|other|organi[sz]ation'?s?|study|protocol) (id|ids|identifiers?|numbers?)\b|\bidentifiers?\b", re.I), ["Identifiers"]),
    ("keywords", re.compile(r"\bkey ?words?\b", re.I), ["Keywords"]),
    ("outcomes", re.compile(r"\boutcomes?\b|\bend ?points?\b", re.I), ["Outcomes"]),
    ("title", re.compile(r"\b(official|full|brief|scientific) title\b|\bwhat is (it|the trial|the study) called\b|\btitle of\b", re.I), ["Title"]),
    ("criteria", re.compile(r"^\W*(what|which|list|show|give)\b[^?]{0,30}\b(inclusion|exclusion|eligibility) criteria\b(?![^?]*\b(about|on|regarding|for|mention\w*|say)\b)"
                            r"|^\W*(and |so |ok |okay )?(what about |how about |and )?(its|their|the) (inclusion|exclusion|eligibility) criteria\W*$", re.I), ["Eligibility"]),
]


def section_intent(question: str) -> tuple[str, list[str]] | None:
    for name, pattern, sections in SECTION_PATTERNS:
        if pattern.search(question):
            return name, sections
    return None


def answer_section(trial: Trial, intent: str, sections: list[str], question: str) -> list[Claim] | None:
    """Quote the section that answers the question: contacts, identifiers, keywords, outcomes, title.

    Returns [] when the section exists but holds nothing of the kind asked (an email address,
    a phone number): the caller abstains. None when the trial has no such section.
    """
    who = trial.nct_id or trial.doc_id
    sents = [x for x in sentences(trial) if x.section.split(":")[0] in sections]
    if not sents:
        return None
    if intent == "email":
        sents = [x for x in sents if "@" in x.text]
    elif intent == "phone":
        sents = [x for x in sents if _PHONE_RE.search(x.text)]
    elif intent == "identifiers":
        sents = [x for x in sents if x.text.strip() != trial.nct_id and "identifier" not in x.lower]
    elif intent == "outcomes":
        want = re.search(r"\b(primary|secondary)\b", question, re.I)
        if want and any(want.group(1).lower() in x.section.lower() for x in sents):
            sents = [x for x in sents if want.group(1).lower() in x.section.lower()]
    elif intent == "title":
        sents = sents[:1]
    elif intent == "criteria":
        want = re.search(r"\b(inclusion|exclusion)\b", question, re.I)
        part = [x for x in sents if want and x.section.lower().endswith(want.group(1).lower())]
        sents = part or [x for x in sents if ":" in x.section] or sents
    elif intent == "locations":
        sents = [x for x in sents if _names_a_place(x)]
    if not sents:
        return []
    shown = sents[:6]
    kind = {"email": "email addresses", "phone": "phone numbers", "contacts": "contacts",
            "identifiers": "identifiers", "keywords": "keywords", "outcomes": "outcome measures",
            "title": "title", "locations": "locations", "criteria": "criteria"}[intent]
    claims = [Claim(f"{who} gives these {kind}:" if intent != "title" else f"The title of {who} is:")]
    claims += [Claim(f"\u201c{x.text}\u201d", [x]) for x in shown]
    if len(sents) > len(shown):
        claims.append(Claim(f"({len(sents) - len(shown)} more in the {sections[0]} section.)"))
    return claims
