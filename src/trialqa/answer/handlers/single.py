"""Questions about one trial, or answered from its evidence: the plan's scope (or the
conversation's, or the trial a question describes), then a field answer, a quoted section,
eligibility by criterion, a list checked sentence by sentence on a small index, or the
model over evidence sentences (`Assistant._generate`)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from trialqa.answer.doses import dose_claim_text, extreme_dose
from trialqa.answer.plan import Plan
from trialqa.evidence import not_stated, states_a_date, support
from trialqa.fields_qa import (
    ELIGIBILITY_Q_RE, RECORD_DATES, RESULTS_Q_RE, SECTION_ONLY, STATED_BY, WHERE_RUN_RE, Claim, answer_field,
    answer_section, eligibility_check, field_intent, has_results, lists_locations, section_intent,
)
from trialqa.lists import answer_list
from trialqa.query import Query, analyse, has_term, words
from trialqa.types import Answer, SourcesReady, Trial, Turn

if TYPE_CHECKING:
    from trialqa.assistant import Assistant

EVIDENCE_CHUNKS = 60  # for a scoped question: every chunk of the trial, in practice
FOLLOW_UP_RE = re.compile(r"^\s*(and|also|what about|how about|what of|same for)\b", re.I)
DATE_INTENTS = {"start_date", "completion_date", *RECORD_DATES}  # field questions answered by a date
REGISTRY_FORMATS = {"ctgov-xml", "ctgov-api-v2", "ctgov-classic-json"}  # records whose fields are complete
DEFINITE_RE = re.compile(r"\b(the|that|this)\b[^?.;:]{0,80}\b(trial|study)\b", re.I)  # "the NIH trial of X"
SMALL_INDEX = 300  # below this many trials, "which trials" checks every trial
NAMING = {"Title", "Conditions", "Keywords"}  # what a question uses to point at one trial
IDENTIFYING = {"Title", "Summary", "Conditions", "Interventions", "Locations", "Sponsor", "Keywords", "Identifiers"}


class SingleTrial:
    """The evidence path of one assistant."""

    def __init__(self, assistant: "Assistant") -> None:
        self.a = assistant

    def answer(self, question: str, history: list[Turn], plan: Plan, t0: float,
                notes: list[str]) -> Iterator[str | SourcesReady | Answer]:
        """Questions about one trial or answered from evidence: fields, sections, eligibility
        by criterion, and open questions phrased by the model."""
        q = analyse(question)
        scope, reason = self._scope(q, history)
        if not reason and plan.scope and (plan.scope_reason != "named" or not scope):  # a name the plan read
            scope = [t for t in plan.scope if t in self.a.index.trials] or scope
        elif not reason and not scope and plan.filters:
            scope = self._described(plan, question)
        explicit_scope = bool(scope)
        if reason:
            yield from self.a._finish(self.a._abstain(reason), t0, t0, notes, None)
            return
        rq = question
        prev = _last_user(history)
        if prev and scope and (q.refers_back or FOLLOW_UP_RE.search(question)):
            rq = f"{prev} {question}"
        hits = self.a.retriever.search(rq, None, diverse=q.is_list, trial_ids=scope)
        t_ret = time.perf_counter()
        self.a.last_retrieved = list(dict.fromkeys(h.chunk.trial_id for h in hits))
        if not q.is_list:
            target = self._single_target(q, scope, hits)
            last = _last_trials(history)
            if not scope and last and (target is None or self._stays_on(last, target, q)):
                scope = last  # nothing points elsewhere: stay on the conversation's trial
                target = scope[0] if len(scope) == 1 else None
            trial = self.a.index.trials[target] if target else None
            if target and plan.intent == "eligibility":  # criterion by criterion, once the trial is known
                from trialqa.answer.handlers.eligibility import check

                found = check(plan.model_copy(update={"scope": [target]}), self.a.context)
                if found is not None:
                    answer = self.a._compose(found.claims, found.trials, bullets=found.bullets)
                    yield from self.a._finish(answer, t0, t_ret, notes, t_ret)
                    return
            if target and ELIGIBILITY_Q_RE.search(question):
                condition = [g for g in q.groups if not self._identifies(trial, g)]
                claims = eligibility_check(trial, condition)
                if claims:
                    yield from self.a._finish(self.a._compose(claims, [target]), t0, t_ret, notes, t_ret)
                    return
            if target and RESULTS_Q_RE.search(question) and not has_results(trial):
                why = f"{trial.nct_id or trial.doc_id} has no results posted in its indexed record."
                yield from self.a._finish(self.a._abstain(why), t0, t_ret, notes, None)
                return
            if target and (dose := extreme_dose(question, trial)):
                claim = Claim(dose_claim_text(question, trial, *dose), [dose[1].sentence])
                yield from self.a._finish(self.a._compose([claim], [target]), t0, t_ret, notes, t_ret)
                return
            intent = field_intent(question)
            if target and intent in DATE_INTENTS and not states_a_date(trial):  # "when ...?" needs a date
                why = f"the indexed record of {trial.nct_id or trial.doc_id} gives no dates."
                yield from self.a._finish(self.a._abstain(why), t0, t_ret, notes, None)
                return
            # the plan picked the trial out: by its name, or by the filters the question describes it with
            named = plan.scope_reason in ("named", "described") and plan.intent in ("field", "section")
            if target and intent and (named or self._identifies(trial, q)):
                claims = answer_field(trial, intent)
                if claims:
                    yield from self.a._finish(self.a._compose(claims, [target]), t0, t_ret, notes, t_ret)
                    return
                if trial.source.format in REGISTRY_FORMATS and intent in STATED_BY:
                    why = f"the indexed record of {trial.nct_id or trial.doc_id} states no {intent.replace('_', ' ')}."
                    yield from self.a._finish(self.a._abstain(why), t0, t_ret, notes, None)
                    return
                if not_stated(trial, STATED_BY.get(intent, [])):
                    why = f"the page of {trial.nct_id or trial.doc_id} shows no value for {STATED_BY[intent][0].lower()}."
                    yield from self.a._finish(self.a._abstain(why), t0, t_ret, notes, None)
                    return
                if intent == "locations" and WHERE_RUN_RE.search(question):
                    if not lists_locations(trial):
                        why = f"the indexed record of {trial.nct_id or trial.doc_id} lists no trial locations."
                        yield from self.a._finish(self.a._abstain(why), t0, t_ret, notes, None)
                        return
                    claims = answer_section(trial, "locations", ["Locations"], question)
                    if claims:  # no structured locations: quote the section
                        yield from self.a._finish(self.a._compose(claims, [target], bullets=True), t0, t_ret, notes, t_ret)
                        return
            sec = section_intent(question)
            if target and sec and (named or self._identifies(trial, q)):
                claims = answer_section(trial, sec[0], sec[1], question)
                if claims:
                    yield from self.a._finish(self.a._compose(claims, [target], bullets=True), t0, t_ret, notes, t_ret)
                    return
                if claims is not None:
                    why = f"the {sec[1][0]} section of {trial.nct_id or trial.doc_id} gives no {sec[0]}."
                    yield from self.a._finish(self.a._abstain(why), t0, t_ret, notes, None)
                    return
                if sec[0] in SECTION_ONLY:
                    why = f"the indexed record of {trial.nct_id or trial.doc_id} has no {sec[1][0]} section."
                    yield from self.a._finish(self.a._abstain(why), t0, t_ret, notes, None)
                    return
            if target and not scope:
                scope = [target]
            if scope:
                hits = self.a.retriever.search(rq, EVIDENCE_CHUNKS, trial_ids=scope)
        if q.is_list:
            answer = self._list_answer(q, scope, hits)
            if answer is not None:
                yield from self.a._finish(answer, t0, t_ret, notes, t_ret)
                return
        missing = [] if explicit_scope else self.a._missing_terms(q)
        if missing and 2 * len(missing) > len(q.content_terms):
            why = f"no indexed trial mentions {', '.join(repr(m) for m in missing[:3])}."
            yield from self.a._finish(self.a._abstain(why), t0, t_ret, notes, None)
            return
        for event in self.a._generate(q, question, scope, hits, t0, t_ret, notes):
            if isinstance(event, Answer) and not event.trials and scope and len(scope) == 1:
                event.trials = list(scope)  # the conversation stays on the trial it was about
            yield event

    # -- scope -----------------------------------------------------------------------

    def _scope(self, q: Query, history: list[Turn]) -> tuple[list[str] | None, str | None]:
        """Trials the question is about (None = all), or a reason to abstain at once."""
        trials = self.a.index.trials
        if q.nct_ids:
            known = [n for n in q.nct_ids if n in trials]
            unknown = [n for n in q.nct_ids if n not in trials]
            if not known:
                return None, f"{', '.join(unknown)} is not among the {len(trials):,} indexed trials."
            return known, None
        if q.title_phrase:
            phrase = _norm(q.title_phrase)
            matched = [tid for tid, t in trials.items() if phrase in _norm(t.title) or (t.title and _norm(t.title) in phrase)]
            if matched:
                return matched[:5], None
        last = _last_trials(history)
        if last and (q.refers_back or FOLLOW_UP_RE.search(q.text) or (not q.content_terms and not q.is_list)):
            return last, None
        return None, None

    def _described(self, plan: Plan, question: str) -> list[str] | None:
        """The one trial a question describes instead of naming ("the NIH trial of X for Y"):
        the trials meeting its filters, and among several the one the trial ranking puts first."""
        from trialqa.answer.match import matching

        ids = matching(self.a.index.db, plan.filters)
        if len(ids) == 1:
            plan.scope, plan.scope_reason = ids, "described"
            return ids
        if not ids or len(self.a.index.trials) <= 1 or not DEFINITE_RE.search(question):
            return None
        wanted = set(ids)
        for tid, _ in self.a.retriever.rank_trials(question, 50):
            if tid in wanted:
                plan.scope, plan.scope_reason = [tid], "described"
                return [tid]
        return None

    def _single_target(self, q: Query, scope: list[str] | None, hits) -> str | None:
        """The one trial a non-list question is about, when scope or evidence makes it clear."""
        if scope:
            return scope[0] if len(scope) == 1 else None
        if len(self.a.index.trials) == 1:
            return next(iter(self.a.index.trials))
        if not q.groups or not hits:
            return None
        ranked = list(dict.fromkeys(h.chunk.trial_id for h in hits))[:10]
        covered = []
        for tid in ranked:
            matched = support(self.a.index.trials[tid], q).matched
            covered.append(sum(1 for g in q.groups if matched.intersection(g)))
        best = max(range(len(ranked)), key=lambda i: (covered[i], -i))
        others = [c for i, c in enumerate(covered) if i != best]
        if covered[best] >= max(1, round(0.6 * len(q.groups))) and all(c < covered[best] for c in others):
            return ranked[best]
        return ranked[0] if best == 0 and covered[0] == len(q.groups) else None

    def _stays_on(self, last: list[str], target: str, q: Query) -> bool:
        """A follow-up stays on the conversation's one trial unless the question names
        another trial: a term of its title, conditions or keywords that the conversation's
        trial does not contain ("... in the psoriasis trial?" moves on, "the cells" does not)."""
        if len(last) != 1 or target == last[0] or not q.groups:
            return False
        naming = _text_of(self.a.index.trials[target], NAMING).lower()
        naming_words = set(words(naming))
        current = support(self.a.index.trials[last[0]], q).matched
        return not any(any(has_term(naming, naming_words, t) for t in g) and not current.intersection(g)
                       for g in q.groups)

    def _identifies(self, trial: Trial, q: Query | list[str]) -> bool:
        """True when every content term only names the trial (title, condition, place ...),
        so a field answer covers the whole question. Takes a Query or one term group."""
        text = _text_of(trial, IDENTIFYING)
        lower, ws = text.lower(), set(words(text))
        groups = q.groups if isinstance(q, Query) else [q]
        return all(any(has_term(lower, ws, t) for t in g) for g in groups)

    # -- "which trials" --------------------------------------------------------------

    def _list_answer(self, q: Query, scope: list[str] | None, hits) -> Answer | None:
        if scope:
            cands = scope
        elif len(self.a.index.trials) <= SMALL_INDEX:
            cands = list(self.a.index.trials)
        else:
            cands = list(dict.fromkeys(h.chunk.trial_id for h in hits))
        result = answer_list(q, self.a.index.trials, cands, self.a.embedder)
        if result is None:
            return None
        if result.abstain:
            return self.a._abstain(result.abstain)
        return self.a._compose(result.claims, result.trials, bullets=True)


def _last_user(history: list[Turn]) -> str | None:
    return next((t.content for t in reversed(history) if t.role == "user"), None)


def _last_trials(history: list[Turn]) -> list[str]:
    return next((t.trials for t in reversed(history) if t.role == "assistant" and t.trials), [])


def _text_of(trial: Trial, sections: set[str]) -> str:
    """The trial's title and the text of its sections of these kinds ("X: Y" counts as "X")."""
    return " ".join([trial.title, *(s.text for s in trial.sections if s.name.split(":")[0] in sections)])


def _norm(text: str) -> str:
    return " ".join(words(text))
