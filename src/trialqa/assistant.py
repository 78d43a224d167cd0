"""The assistant: question -> Plan (answer/understand.py) -> handler (answer/handlers/) ->
(evidence -> model -> claim verification) -> cited Answer.

The bundled 1.5B model cannot carry grounded reasoning alone, so the code carries what it
can: lists, counts, totals, shares, extremes and comparisons are computed over every indexed
trial; fields and sections of one trial are answered from the record; the model only phrases
answers from a few numbered sentences whose keys are mapped back and whose claims are
checked against what they cite.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from pathlib import Path

from trialqa import prompts
from trialqa.citations import SourceBook, citation, label, tidy
from trialqa.errors import BadInput
from trialqa.answer.handlers import dispatch
from trialqa.answer.evidence_prompt import choose_evidence, question_for_sources, sources_block
from trialqa.answer.handlers.single import SingleTrial
from trialqa.answer.plan import Plan, Table
from trialqa.answer.result import Context
from trialqa.answer.understand import understand
from trialqa.evidence import clip
from trialqa.fields_qa import Claim
from trialqa.guards import abbreviated, clean_question, strip_labels
from trialqa.query import Query, term_variants, words
from trialqa.settings import Settings, get_settings
from trialqa.types import Answer, SourcesReady, Timings, Turn

PROMPT_QUESTION_TOKENS = 300
NOT_FOUND = "NOT FOUND"
ABSTAIN_PREFIX = "The indexed trials don't say"


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
        self._loading: Future | None = None  # the model being loaded in the background
        self._load_lock = threading.Lock()
        self._vocab: set[str] | None = None
        self._context: Context | None = None
        self._single_trial = SingleTrial(self)
        self._local = threading.local()  # per answering thread: the chat answers several at once

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
        """The model, loaded (and its prompt prefix primed) at the first answer that needs it."""
        if self._generator is None:
            return self.load_generator_soon().result()
        return self._generator

    def load_generator_soon(self) -> Future:
        """Start loading the model in a background thread, unless it is loaded or loading, so
        that a model answer can select its evidence meanwhile. A failed load is not kept: the
        next answer that needs the model tries again (and raises the same clear error)."""
        with self._load_lock:
            if self._generator is not None:
                done: Future = Future()
                done.set_result(self._generator)
                return done
            if self._loading is None:
                self._loading = Future()
                threading.Thread(target=self._load, args=(self._loading,), name="trialqa-model-load",
                                 daemon=True).start()
            return self._loading

    def _load(self, future: Future) -> None:
        from trialqa.generate import load_generator

        try:
            generator = load_generator(self._model, self.settings)
            prime_generator(generator, self.settings)
        except BaseException as exc:  # handed to the waiting answer, raised there
            with self._load_lock:
                self._loading = None
            future.set_exception(exc)
            return
        with self._load_lock:
            self._generator = generator
        future.set_result(generator)

    @property
    def last_retrieved(self) -> list[str]:
        """Trials the latest retrieval in this thread returned (thread-local: the chat answers
        several questions at once, and Gradio may resume one answer in another thread)."""
        return getattr(self._local, "retrieved", [])

    @last_retrieved.setter
    def last_retrieved(self, trials: list[str]) -> None:
        self._local.retrieved = trials

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

    def ask(self, question: str, history: Iterable[Turn] = (), plan: Plan | None = None) -> Answer:
        answer = None
        for event in self.stream(question, history, plan):
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
                        Turn(role="assistant", content=answer.text, trials=answer.trials, plan=answer.plan)]
        assert answer is not None
        return answer

    def stream(self, question: str, history: Iterable[Turn] = (), plan: Plan | None = None
               ) -> Iterator[str | SourcesReady | Answer]:
        """The pipeline: understand -> plan -> handler -> (evidence -> model) -> verified Answer.
        Yields text pieces as they are produced (and SourcesReady before a model writes),
        then the final Answer, which carries its plan. Given a `plan` (an edited one, say),
        answers that plan instead of understanding the question again."""
        t0 = time.perf_counter()
        history = list(history)
        question, notes = clean_question(plan.question if plan is not None else question)
        if plan is None:
            plan = understand(question, history, self.context.vocab, self.index.trials)
        handler = dispatch(plan, self.context)
        if handler is not None:
            result = handler(plan, self.context)
            if result is not None:
                answer = self._abstain(result.abstain) if result.abstain else self._compose(
                    result.claims, result.trials, bullets=result.bullets, table=result.table)
                answer.plan, answer.retrieved = plan, list(result.trials)
                yield from self._finish(answer, t0, t0, notes + plan.notes, None)
                return
        self.last_retrieved = []
        retrieved: list[str] | None = None
        for event in self._single_trial.answer(question, history, plan, t0, notes):
            if retrieved is None:  # made in the same step, so the same thread, as the retrieval
                retrieved = list(self.last_retrieved)
            if isinstance(event, Answer):
                event.plan = plan
                event.retrieved = retrieved
            yield event

    @property
    def context(self) -> Context:
        """What the plan's handlers read (the vocabulary is read from the index once)."""
        if self._context is None:
            from trialqa.answer.vocab import Vocabulary

            self._context = Context(self.index.trials, self.index.db, Vocabulary.load(self.index.db),
                                    self.retriever, self.embedder)
        return self._context

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
        vocab = self._vocabulary()
        return [t for t in q.content_terms
                if not any(v[:9] in vocab for v in term_variants(t) if v.isalnum())]

    def _outside_terms(self, q: Query, hits) -> str | None:
        """A model answer to a question with a specialised term no indexed trial contains is
        outside knowledge, whether it repeats the term ("scurvy is caused by ...") or only
        answers it ("Vitamin C deficiency", quoting a trial that never names scurvy): what links
        the answer to that term is not in the records. Specialised: the embedder's general
        vocabulary splits it into several word pieces ("scurvy", "eczema"), unlike everyday
        words a tiny index may lack ("goes"). A term the retrieved text abbreviates is not
        missing: "prothrombin time" where the record writes "PT"."""
        base, texts = self.embedder.count_tokens(""), [h.chunk.text for h in hits]
        used = [t for t in self._missing_terms(q)
                if self.embedder.count_tokens(t) - base > 1 and not abbreviated(t, q.text, texts)]
        return f"no indexed trial mentions {', '.join(repr(t) for t in used[:3])}." if used else None

    # -- the model -------------------------------------------------------------------

    def _generate(self, q: Query, question: str, scope, hits, t0: float, t_ret: float,
                  notes: list[str]) -> Iterator[str | SourcesReady | Answer]:
        """Evidence -> SourcesReady -> the model's streamed text -> claim-level verification
        (trialqa.answer.verify): sentences their cited sources do not state are removed; when
        none stands, an abstention says what the records do hold."""
        from trialqa.answer.verify import question_phrases, render, split_claims, verify, what_records_hold

        outside = self._outside_terms(q, hits)
        if outside:  # whatever the model wrote, its link to that term would be outside knowledge
            yield from self._finish(self._abstain(outside), t0, t_ret, notes, None)
            return
        self.load_generator_soon()  # a first model answer: the model loads while evidence is chosen
        book = SourceBook(self.index.trials)
        evidence = choose_evidence(q, hits, scope, self.index.trials, self.embedder, self.settings.llm)
        if not evidence:
            yield from self._finish(self._abstain("no indexed section matches the question."), t0, t_ret, notes, None)
            return
        gen = self.generator
        qtoks = gen.count_tokens(question)
        if qtoks > PROMPT_QUESTION_TOKENS:
            question = question[: int(len(question) * PROMPT_QUESTION_TOKENS / qtoks)].rsplit(" ", 1)[0]
            notes.append(f"question trimmed to about {PROMPT_QUESTION_TOKENS} tokens for the model")
        fixed = sum(gen.count_tokens(m["content"]) for m in prompts.answer_messages("", ""))
        budget = min(self.settings.llm.evidence_tokens, gen.n_ctx - self.settings.llm.max_tokens - fixed - PROMPT_QUESTION_TOKENS - 64)
        block = sources_block(evidence, book, self.index.trials, gen.count_tokens, budget)
        messages = prompts.answer_messages(block, question_for_sources(question, book, self.index.trials))
        yield SourcesReady(citations=[citation(self.index.trials[s.trial_id], s) for s in book.sources])
        first: float | None = None
        raw, shown, keyed = "", [], []
        released = suppressed = False

        def tee(pieces: Iterator[str]) -> Iterator[str]:
            for p in pieces:
                keyed.append(p)
                yield p

        pieces = gen.stream(messages, max_tokens=self.settings.llm.max_tokens, stop=["\nQuestion:", "\n\n\n"])
        for piece in book.stream(tee(pieces)):
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
        text = tidy(raw)  # keys were mapped while streaming
        said = " ".join(text.lower().split())
        if any(line in said for line in prompts.prompt_leak_lines()):
            yield from self._finish(self._abstain("that request is about the assistant, not the indexed trials."),
                                    t0, t_ret, notes, first)
            return
        trials = list(dict.fromkeys([*(scope or []), *(s.trial_id for s in book.sources)]))
        holds = what_records_hold(question_phrases(question, q.content_terms), trials, self.index.trials)
        body = re.sub(r"\s*\bNOT FOUND\b\.?", "", "".join(keyed), flags=re.I).strip()
        claims = split_claims(body)
        if not body or NOT_FOUND in raw.upper() and len(strip_labels(text)) < 40:
            why = "the retrieved sections do not answer this." + (f" {holds}" if holds else "")
            yield from self._finish(self._abstain(why), t0, t_ret, notes, first)
            return
        if not any(c.keys for c in claims):
            body = self._attribute(body, book)
        elif all(len(c.text) < 3 for c in claims):  # bare keys: say what the sources say
            keys = [k for c in claims for k in c.keys if 1 <= k <= len(book.sources)]
            body = " ".join(f"\u201c{clip(book.sources[k - 1].text)}\u201d [S{k}]." for k in dict.fromkeys(keys))
        checks = verify(body, book.sources, question, self.index.trials, self.embedder)
        text, cites = render(checks, book.sources, self.index.trials)
        removed = [c for c in checks if not c.supported]
        if not cites:
            why = "the cited sections do not state what the model wrote." + (f" {holds}" if holds else "")
            answer = self._abstain(why)
        else:
            answer = Answer(text=text, citations=cites, trials=list(dict.fromkeys(c.trial_id for c in cites)))
            if removed:
                answer.notes.append(f"{len(removed)} sentence(s) removed: not stated by the cited sources "
                                    f"(\u201c{clip(removed[0].claim.text, 80)}\u201d: {removed[0].reason})")
            if recited := sum(c.recited for c in checks):
                answer.notes.append(f"{recited} sentence(s) cited to the source that states them, not the one the model named")
        if shown and "".join(shown).strip() != answer.text:
            answer.notes.append("the streamed text was replaced by the checked answer")
        yield from self._finish(answer, t0, t_ret, notes, first, streamed=bool(shown))

    def _attribute(self, text: str, book: SourceBook) -> str:
        """An answer that named no key: give each sentence the key of the source sharing most
        of its words (at least three), so the verifier can check it; the rest stay uncited."""
        from trialqa.answer.verify import split_claims

        out = []
        for claim in split_claims(text):
            aw = {w for w in words(claim.text) if len(w) > 3 or w.isdigit()}
            best, best_n = 0, 0
            for i, s in enumerate(book.sources, 1):
                n = len(aw & set(words(s.text)))
                if n > best_n:
                    best, best_n = i, n
            out.append(f"{claim.raw} [S{best}]" if best_n >= 3 else claim.raw)
        return "\n".join(out)

    # -- composing ---------------------------------------------------------------------

    def _compose(self, claims: list[Claim], trials: list[str], bullets: bool = False,
                 table: Table | None = None) -> Answer:
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
        if table is not None:
            first = {}
            for i, c in enumerate(cites):
                first.setdefault(c.trial_id, i)
            for row in table.rows:
                row.cite = first.get(row.trial_id)
        return Answer(text=("\n" if bullets else " ").join(parts), citations=cites, trials=trials, table=table)

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


def prime_generator(generator, settings: Settings) -> str | None:
    """Put the fixed answer prefix (system prompt and worked example) into a local model's
    context at load, from the state file of an earlier process when there is one, or into
    every slot of a llama.cpp server. Off with TRIALQA_LLM__PREFIX_CACHE=false; a generator
    without `prime` is left alone."""
    prime = getattr(generator, "prime", None)
    if prime is None or not settings.llm.prefix_cache:
        return None
    return prime(prompts.answer_messages("", ""), Path(settings.home).expanduser() / "prompt-cache")
