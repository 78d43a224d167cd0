"""The assistant: question -> scope -> retrieval -> (fields | per-trial evidence | model) -> cited Answer.

The bundled 1.5B model cannot carry grounded reasoning alone, so the code carries
what it can: structured fields answer exactly, "which trials" questions are checked
trial by trial against sentence-level evidence, and the model only phrases answers
from a few numbered sentences whose keys are mapped back and verified here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from trialqa import prompts
from trialqa.citations import SourceBook, citation, label
from trialqa.errors import BadInput
from trialqa.evidence import NOT_STATED, Sentence, not_stated, rank_sentences, sentences, split_sentences, support
from trialqa.fields_qa import (
    STATED_BY, Claim, answer_field, answer_section, extreme_enrollment, field_intent, list_filter,
    section_intent,
)
from trialqa.query import NEGATION_RE, Query, analyse, has_term, words
from trialqa.settings import Settings, get_settings
from trialqa.types import Answer, Citation, Timings, Trial, Turn

MAX_QUESTION_CHARS = 4000
PROMPT_QUESTION_TOKENS = 300
EVIDENCE_TOKENS = 280
EVIDENCE_CHUNKS = 16
EVIDENCE_SENTENCES = 6
NOT_FOUND = "NOT FOUND"
ABSTAIN_PREFIX = "The indexed trials don't say"
FOLLOW_UP_RE = re.compile(r"^\s*(and|also|what about|how about|what of|same for)\b", re.I)
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TEMPLATE_TOKEN_RE = re.compile(r"<\|[^|<>]{1,40}\|>|</?s>|\[/?INST\]")
#: Sentences that address the reader or the assistant, or point elsewhere: data pages state facts.
STEERING_RE = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|sources?|rules?|prompts?|above|previous|context)\b"
    r"|\b(assistant|chatbot|language model|AI model|LLM)\b|\bsystem prompt\b|\byou (must|should|are required to|will) (now )?(answer|say|reply|respond|cite|tell|state|print|email|send)\b"
    r"|\b(always|only) (answer|reply|respond|cite)\b|\bnew instructions?\b",
    re.IGNORECASE,
)
LINK_RE = re.compile(r"https?://|www\.|\b[\w.+-]+@[\w-]+\.[\w.]+\b")
LABEL_RE = re.compile(r"\[[^\[\]]*\u00b7[^\[\]]*\]|\[\s*NCT\d{8}[^\]]*\]")
SMALL_INDEX = 300  # below this many trials, "which trials" checks every trial
IDENTIFYING = {"Title", "Summary", "Conditions", "Interventions", "Locations", "Sponsor", "Keywords", "Identifiers"}
RESTRICTING = ("Eligibility: Exclusion", "Eligibility: Inclusion")


def clean_question(question: str) -> tuple[str, list[str]]:
    """Strip control characters and excess whitespace; cut very long questions (with a note)."""
    if not isinstance(question, str):
        raise BadInput("question must be a string")
    try:
        question.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadInput(f"question is not valid UTF-8 text (character {exc.start})") from None
    text = " ".join(CONTROL_RE.sub(" ", TEMPLATE_TOKEN_RE.sub(" ", question)).split())
    if not text:
        raise BadInput("question is empty: ask something about the indexed trials")
    notes = []
    if len(text) > MAX_QUESTION_CHARS:
        text = text[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0]
        notes.append(f"question trimmed to its first {MAX_QUESTION_CHARS} characters")
    return text, notes


class Assistant:
    """Answers questions over one index with one generator; thread-compatible (the
    generator holds its own lock)."""

    def __init__(self, index, embedder, generator=None, *, model: str | Path | None = None,
                 settings: Settings | None = None) -> None:
        from trialqa.retrieve import Retriever

        self.settings = settings or get_settings()
        self.index = index
        self.embedder = embedder
        self.retriever = Retriever(index, embedder, self.settings)
        self._generator = generator
        self._model = model
        self._vocab: set[str] | None = None
        self.last_retrieved: list[str] = []

    @classmethod
    def from_settings(cls, index_dir: Path | None = None, model: str | Path | None = None,
                      settings: Settings | None = None) -> "Assistant":
        from trialqa.embed import load_embedder
        from trialqa.store import ensure_index, load_index

        settings = settings or get_settings()
        embedder = load_embedder(settings)
        if index_dir is not None:  # a user's index is loaded, never rebuilt behind their back
            index = load_index(Path(index_dir), embedder, settings)
        else:
            index = ensure_index(Path(settings.index), Path(settings.seeds), embedder, settings)
        return cls(index, embedder, model=model, settings=settings)

    @property
    def generator(self):
        if self._generator is None:
            from trialqa.generate import load_generator

            self._generator = load_generator(self._model, self.settings)
        return self._generator

    @property
    def model_label(self) -> str:
        """The generator's name, without loading the model."""
        if self._generator is not None:
            return str(self._generator.name)
        if self.settings.backend == "openai":
            return f"{self.settings.api_model} (OpenAI-compatible server)"
        path = self._model or self.settings.model
        if path:
            return Path(path).name
        from trialqa.models import bundled_gguf_path

        return bundled_gguf_path(self.settings).name

    # -- public API ------------------------------------------------------------------

    def ask(self, question: str, history: Iterable[Turn] = ()) -> Answer:
        answer = None
        for event in self.stream(question, history):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def converse(self, turns: list[str]) -> Answer:
        """Answer each turn in order, with the earlier turns as history; return the last answer."""
        if not turns:
            raise BadInput("'turns' is empty")
        history: list[Turn] = []
        answer = None
        for q in turns:
            answer = self.ask(q, history)
            history += [Turn(role="user", content=q),
                        Turn(role="assistant", content=answer.text, trials=answer.trials)]
        assert answer is not None
        return answer

    def stream(self, question: str, history: Iterable[Turn] = ()) -> Iterator[str | Answer]:
        """Yield answer text pieces as they are produced, then the final Answer."""
        t0 = time.perf_counter()
        history = list(history)
        question, notes = clean_question(question)
        q = analyse(question)
        scope, reason = self._scope(q, history)
        explicit_scope = bool(scope)
        if reason:
            yield from self._finish(self._abstain(reason), t0, t0, notes, None)
            return
        rq = question
        prev = _last_user(history)
        if prev and scope and (q.refers_back or FOLLOW_UP_RE.search(question)):
            rq = f"{prev} {question}"
        hits = self.retriever.search(rq, None, diverse=q.is_list, trial_ids=scope)
        t_ret = time.perf_counter()
        self.last_retrieved = list(dict.fromkeys(h.chunk.trial_id for h in hits))
        if not q.is_list:
            target = self._single_target(q, scope, hits)
            intent = field_intent(question)
            if target and intent and self._identifies(self.index.trials[target], q):
                trial = self.index.trials[target]
                claims = answer_field(trial, intent)
                if claims:
                    yield from self._finish(self._compose(claims, [target]), t0, t_ret, notes, t_ret)
                    return
                if not_stated(trial, STATED_BY.get(intent, [])):
                    why = f"the page of {trial.nct_id or trial.doc_id} shows no value for {STATED_BY[intent][0].lower()}."
                    yield from self._finish(self._abstain(why), t0, t_ret, notes, None)
                    return
            sec = section_intent(question)
            if target and sec and self._identifies(self.index.trials[target], q):
                trial = self.index.trials[target]
                claims = answer_section(trial, sec[0], sec[1], question)
                if claims:
                    yield from self._finish(self._compose(claims, [target], bullets=True), t0, t_ret, notes, t_ret)
                    return
                if claims is not None:
                    why = f"the {sec[1][0]} section of {trial.nct_id or trial.doc_id} gives no {sec[0]}."
                    yield from self._finish(self._abstain(why), t0, t_ret, notes, None)
                    return
            if target and not scope:
                scope = [target]
            if scope:
                hits = self.retriever.search(rq, EVIDENCE_CHUNKS, trial_ids=scope)
        if q.is_list:
            answer = self._list_answer(q, scope, hits)
            if answer is not None:
                yield from self._finish(answer, t0, t_ret, notes, t_ret)
                return
        missing = [] if explicit_scope else self._missing_terms(q)
        if missing and 2 * len(missing) > len(q.content_terms):
            why = f"no indexed trial mentions {', '.join(repr(m) for m in missing[:3])}."
            yield from self._finish(self._abstain(why), t0, t_ret, notes, None)
            return
        yield from self._generate(q, question, scope, hits, t0, t_ret, notes)

    # -- scope -----------------------------------------------------------------------

    def _scope(self, q: Query, history: list[Turn]) -> tuple[list[str] | None, str | None]:
        """Trials the question is about (None = all), or a reason to abstain at once."""
        trials = self.index.trials
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

    def _single_target(self, q: Query, scope: list[str] | None, hits) -> str | None:
        """The one trial a non-list question is about, when scope or evidence makes it clear."""
        if scope:
            return scope[0] if len(scope) == 1 else None
        if len(self.index.trials) == 1:
            return next(iter(self.index.trials))
        if not q.groups or not hits:
            return None
        ranked = list(dict.fromkeys(h.chunk.trial_id for h in hits))[:10]
        covered = []
        for tid in ranked:
            matched = support(self.index.trials[tid], q).matched
            covered.append(sum(1 for g in q.groups if matched.intersection(g)))
        best = max(range(len(ranked)), key=lambda i: (covered[i], -i))
        others = [c for i, c in enumerate(covered) if i != best]
        if covered[best] >= max(1, round(0.6 * len(q.groups))) and all(c < covered[best] for c in others):
            return ranked[best]
        return ranked[0] if best == 0 and covered[0] == len(q.groups) else None

    def _closest(self, trial: Trial, q: Query, sections: list[str]) -> Sentence | None:
        """The sentence of these sections closest in meaning to the negated clause of the
        question, among those sharing a term with it (what the trial does instead)."""
        cands = [s for s in sentences(trial) if s.section.split(":")[0] in sections]
        sharing = [s for s in cands if any(has_term(s.lower, s.words, t) for t in q.negated_terms)]
        cands = sharing or cands
        if not cands:
            return None
        m = NEGATION_RE.search(q.text)
        clause = q.text[m.end():] if m else " ".join(q.negated_terms)
        vecs = self.embedder.embed([clause] + [s.text for s in cands])
        return cands[int((vecs[1:] @ vecs[0]).argmax())]

    def _identifies(self, trial: Trial, q: Query) -> bool:
        """True when every content term only names the trial (title, condition, place ...),
        so a field answer covers the whole question."""
        text = " ".join([trial.title, *(s.text for s in trial.sections if s.name.split(":")[0] in IDENTIFYING)])
        lower, ws = text.lower(), set(words(text))
        return all(any(has_term(lower, ws, t) for t in g) for g in q.groups)

    # -- "which trials" --------------------------------------------------------------

    def _candidates(self, scope: list[str] | None, hits) -> list[str]:
        if scope:
            return scope
        if len(self.index.trials) <= SMALL_INDEX:
            return list(self.index.trials)
        return list(dict.fromkeys(h.chunk.trial_id for h in hits))

    def _list_answer(self, q: Query, scope: list[str] | None, hits) -> Answer | None:
        trials = self.index.trials
        cands = self._candidates(scope, hits)
        topical = [t for t in cands if _mentions_all(trials[t], q, q.groups)]
        filt = list_filter(q)
        total = len(trials)
        if filt is not None:
            matches, unknown = [], []
            for tid in topical:
                verdict = filt.test(trials[tid])
                if verdict is None:
                    unknown.append(tid)
                elif verdict:
                    matches.append(tid)
            claims = []
            for tid in matches:
                quote = filt.cite(trials[tid])
                claims.append(Claim(filt.explain(trials[tid]), [quote] if quote else []))
            if not claims:
                return self._abstain(f"none of the {len(topical):,} candidate trials {filt.describe}.")
            head = Claim(f"{len(matches)} of the {total:,} indexed trials {filt.describe}:")
            tail = [Claim(f"({len(unknown)} {'trials do' if len(unknown) != 1 else 'trial does'} not state this.)")] if unknown else []
            return self._compose([head, *claims, *tail], matches, bullets=True)
        extreme = extreme_enrollment(q)
        if extreme:
            known = [t for t in topical if trials[t].fields.enrollment is not None]
            if not known:
                return None
            pick = (max if extreme == "max" else min)(known, key=lambda t: trials[t].fields.enrollment or 0)
            claims = answer_field(trials[pick], "enrollment")
            if not claims:
                return None
            word = "largest" if extreme == "max" else "smallest"
            return self._compose([Claim(f"Of the {len(known)} trials that state an enrollment, the {word} is {trials[pick].nct_id or pick}:"), *claims], [pick])
        if not q.content_terms:
            return None
        hints = [h for h in q.section_hints if h in RESTRICTING] or None
        if q.negated and q.negated_terms:
            pred = [g for g in (q.groups or [[t] for t in q.content_terms]) if set(g) & set(q.negated_terms)]
            topic = [g for g in (q.groups or [[t] for t in q.content_terms]) if g not in pred]
            pool = [t for t in cands if _mentions_all(trials[t], q, topic)]
            chosen = [s for s in (support(trials[t], q, hints, groups=pred) for t in pool) if not s.full]
            claims = []
            for s in chosen:
                t = trials[s.trial_id]
                about = self._closest(t, q, ["Interventions", "Arms", "Description"])
                quote = f" \u201c{_clip(about.text)}\u201d" if about else ""
                claims.append(Claim(f"{_name(t)} does not state {' '.join(q.negated_terms)}; it says:{quote}",
                                    [about] if about else []))
        else:
            supports = [support(trials[t], q, hints) for t in cands]
            chosen = [s for s in supports if s.full]
            claims = [Claim(f"{_name(trials[s.trial_id])}: \u201c{_clip(' '.join(x.text for x in s.best))}\u201d", s.best)
                      for s in chosen]
        if not chosen:
            terms = [repr(t) for t in q.content_terms]
            return self._abstain(f"no indexed trial mentions {terms[0]}." if len(terms) == 1
                                 else f"no indexed trial states {' and '.join(terms)} together.")
        head = Claim(f"{len(chosen)} of the {total:,} indexed trials match:")
        return self._compose([head, *claims], [s.trial_id for s in chosen], bullets=True)

    # -- abstention gate -------------------------------------------------------------

    def _vocabulary(self) -> set[str]:
        if self._vocab is None:
            vocab: set[str] = set()
            for chunk in self.index.chunks:
                for w in words(chunk.embed_text):
                    vocab.update(w[:i] for i in range(2, min(len(w), 9) + 1))
            self._vocab = vocab
        return self._vocab

    def _missing_terms(self, q: Query) -> list[str]:
        """Content terms of the question that no indexed trial contains at all."""
        from trialqa.query import term_variants

        vocab = self._vocabulary()
        return [t for t in q.content_terms
                if not any(v[:9] in vocab for v in term_variants(t) if v.isalnum())]

    # -- the model -------------------------------------------------------------------

    def _evidence(self, q: Query, hits, scope: list[str] | None) -> list[Sentence]:
        """Sentences from the retrieved chunks, ranked by meaning (dense similarity to the
        question), shared terms and section hints; the best few go to the model."""
        cands: list[tuple[int, Sentence]] = []
        seen: set[tuple[str, str]] = set()
        for rank, hit in enumerate(hits[:EVIDENCE_CHUNKS]):
            c = hit.chunk
            for j, text in enumerate(split_sentences(c.text)):
                if NOT_STATED in text or (c.trial_id, text) in seen or _steering(text, c.section):
                    continue
                seen.add((c.trial_id, text))
                cands.append((rank, Sentence(c.trial_id, c.section, text, j)))
        if not cands:
            return []
        vecs = self.embedder.embed([q.text] + [s.text for _, s in cands])
        sims = vecs[1:] @ vecs[0]
        hints = [h.split(":")[0] for h in q.section_hints]
        scored = []
        for (rank, s), sim in zip(cands, sims):
            overlap = sum(1 for t in q.content_terms if has_term(s.lower, s.words, t))
            hint = 1.0 if s.section.split(":")[0] in hints else 0.0
            scored.append((2.0 * float(sim) + 0.4 * overlap + hint - 0.03 * rank, s))
        scored.sort(key=lambda x: -x[0])
        return [s for _, s in scored[:EVIDENCE_SENTENCES]]

    def _generate(self, q: Query, question: str, scope, hits, t0: float, t_ret: float,
                  notes: list[str]) -> Iterator[str | Answer]:
        gen = self.generator
        book = SourceBook(self.index.trials)
        evidence = self._evidence(q, hits, scope)
        if not evidence:
            yield from self._finish(self._abstain("no indexed section matches the question."), t0, t_ret, notes, None)
            return
        qtoks = gen.count_tokens(question)
        if qtoks > PROMPT_QUESTION_TOKENS:
            question = question[: int(len(question) * PROMPT_QUESTION_TOKENS / qtoks)].rsplit(" ", 1)[0]
            notes.append(f"question trimmed to about {PROMPT_QUESTION_TOKENS} tokens for the model")
        fixed = sum(gen.count_tokens(m["content"]) for m in prompts.answer_messages("", ""))
        budget = min(EVIDENCE_TOKENS, gen.n_ctx - self.settings.llm.max_tokens - fixed - PROMPT_QUESTION_TOKENS - 64)
        lines, used = [], 0
        for s in evidence:
            trial = self.index.trials[s.trial_id]
            line = f"[{{key}}] ({trial.nct_id or trial.doc_id}, {s.section}) {s.text}"
            cost = gen.count_tokens(line) + 2
            if used + cost > budget and lines:
                continue
            key = book.add(s)
            lines.append(line.format(key=key))
            used += cost
        messages = prompts.answer_messages("\n".join(lines), question)
        first: float | None = None
        raw, shown = "", []
        released = suppressed = False
        pieces = gen.stream(messages, max_tokens=self.settings.llm.max_tokens, stop=["\nQuestion:", "\n\n\n"])
        for piece in book.stream(pieces):
            if first is None:
                first = time.perf_counter()
            raw += piece
            if not released:  # hold the opening back until it cannot be NOT FOUND
                if len(raw.strip()) < len(NOT_FOUND):
                    continue
                released, suppressed, piece = True, raw.strip().upper().startswith(NOT_FOUND), raw
            if not suppressed:
                shown.append(piece)
                yield piece
        raw = LABEL_RE.sub("", raw) if not book.used else raw
        text = book.render(raw)
        cites = book.citations()
        problem = self._ungrounded(text, question, cites)
        if problem:
            yield from self._finish(self._abstain(problem), t0, t_ret, notes, first)
            return
        stripped = _strip_labels(text)
        if NOT_FOUND in raw.upper() and len(stripped) < 40 or not stripped and not cites:
            yield from self._finish(self._abstain("the retrieved sections do not answer this."), t0, t_ret, notes, first)
            return
        if not cites:
            cites = self._attribute(stripped, book)
            if not cites:
                yield from self._finish(self._abstain("the model's answer could not be tied to a source."), t0, t_ret, notes, first)
                return
            text = f"{stripped} {''.join(dict.fromkeys(label(self.index.trials[c.trial_id], c.section) for c in cites))}"
        elif len(stripped) < 3:  # a bare key: say what the source says
            text = " ".join(f"\u201c{_clip(c.quote)}\u201d {label(self.index.trials[c.trial_id], c.section)}" for c in cites)
        text = text.replace(NOT_FOUND, "").strip()
        answer = Answer(text=text, citations=cites, trials=list(dict.fromkeys(c.trial_id for c in cites)))
        if "".join(shown).strip() != text:
            answer.notes.append("answer text was normalised after streaming")
        yield from self._finish(answer, t0, t_ret, notes, first, streamed=bool(shown))

    def _ungrounded(self, text: str, question: str, cites: list[Citation]) -> str | None:
        """Why a model answer cannot be shown, or None: it names a trial outside the index,
        repeats the instructions, or says things that neither its sources nor the question contain."""
        for nct in re.findall(r"NCT\d{8}", text):
            if nct not in self.index.trials:
                return "the model named a trial that is not indexed."
        system = prompts.load("system").lower()
        lines = [l.strip("- ").strip() for l in system.splitlines() if len(l.strip()) > 25]
        if any(l in text.lower() for l in lines):
            return "that request is about the assistant, not the indexed trials."
        if not cites:
            return None
        body = _strip_labels(text)
        support = set(words(" ".join(c.quote for c in cites) + " " + question))
        claimed = [w for w in words(body) if (len(w) > 3 or w.isdigit()) and w not in STOP_FOR_GROUNDING]
        unsupported = [w for w in claimed if w not in support and not any(
            w.startswith(x[:5]) or x.startswith(w[:5]) for x in support if len(x) > 4)]
        if claimed and len(unsupported) > max(2, 0.5 * len(claimed)):
            return "the model's answer is not supported by the cited sections."
        return None

    def _attribute(self, text: str, book: SourceBook) -> list[Citation]:
        """Tie an answer that named no key to the source sharing most of its words (or nothing)."""
        aw = {w for w in words(text) if len(w) > 3 or w.isdigit()}
        best, best_n = None, 0
        for s in book.sources:
            n = len(aw & set(words(s.text)))
            if n > best_n:
                best, best_n = s, n
        if best is None or best_n < 3:
            return []
        return [citation(self.index.trials[best.trial_id], best)]

    # -- composing ---------------------------------------------------------------------

    def _compose(self, claims: list[Claim], trials: list[str], bullets: bool = False) -> Answer:
        parts, cites, seen = [], [], set()
        for i, claim in enumerate(claims):
            labels = []
            for s in claim.sources:
                t = self.index.trials[s.trial_id]
                labels.append(label(t, s.section))
                if (s.trial_id, s.section, s.text) not in seen:
                    seen.add((s.trial_id, s.section, s.text))
                    cites.append(citation(t, s))
            line = claim.text + (" " + "".join(dict.fromkeys(labels)) if labels else "")
            parts.append(("- " + line) if bullets and i > 0 and claim.sources else line)
        return Answer(text=("\n" if bullets else " ").join(parts), citations=cites, trials=trials)

    def _abstain(self, reason: str) -> Answer:
        return Answer(text=f"{ABSTAIN_PREFIX}: {reason}", abstained=True)

    def _finish(self, answer: Answer, t0: float, t_ret: float, notes: list[str],
                first: float | None, streamed: bool = False) -> Iterator[str | Answer]:
        if not streamed:
            for piece in re.findall(r"\S+\s*|\s+", answer.text):
                if first is None:
                    first = time.perf_counter()
                yield piece
        now = time.perf_counter()
        answer.notes = notes + answer.notes
        answer.timings = Timings(retrieve_s=round(t_ret - t0, 4),
                                 first_token_s=round((first or now) - t0, 4), total_s=round(now - t0, 4))
        yield answer


STOP_FOR_GROUNDING = frozenset(
    "with from that this they their there these those have been were will would which what when where "
    "about into also only than then them such each other more most some very does given gives using used "
    "participants patients trial study studies subjects according sources source answer".split()
)


def _mentions_all(trial: Trial, q: Query, groups: list[list[str]]) -> bool:
    """Every term group occurs somewhere in the trial (presence, not co-occurrence)."""
    matched = support(trial, q, groups=groups).matched
    return all(matched.intersection(g) for g in groups)


def _steering(text: str, section: str) -> bool:
    """A sentence that instructs the reader or the assistant, or sends them elsewhere."""
    if STEERING_RE.search(text) or TEMPLATE_TOKEN_RE.search(text) or LABEL_RE.search(text):
        return True
    return bool(LINK_RE.search(text)) and not section.startswith(("Contacts", "Locations"))


def _last_user(history: list[Turn]) -> str | None:
    return next((t.content for t in reversed(history) if t.role == "user"), None)


def _last_trials(history: list[Turn]) -> list[str]:
    return next((t.trials for t in reversed(history) if t.role == "assistant" and t.trials), [])


def _name(trial: Trial) -> str:
    """'NCT… (short title)' for list answers."""
    title = f" ({_clip(trial.title, 90)})" if trial.title else ""
    return f"{trial.nct_id or trial.doc_id}{title}"


def _norm(text: str) -> str:
    return " ".join(words(text))


def _clip(text: str, n: int = 220) -> str:
    return text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + "\u2026"


def _strip_labels(text: str) -> str:
    return re.sub(r"\[[^\]]*\u00b7[^\]]*\]", "", text).strip()
