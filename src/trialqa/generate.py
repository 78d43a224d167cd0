"""Generators: the `Generator` protocol, llama.cpp in-process, and a scripted fake.

A generator takes chat messages and streams text pieces. It also counts tokens with
the model's own tokenizer, so prompts are budgeted against its real context window.
llama.cpp keeps the previous prompt's tokens: a fixed system prefix placed first is
reused across questions and costs almost nothing.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, runtime_checkable

from trialqa.errors import GenerationError, ModelUnavailable
from trialqa.settings import Settings, get_settings

Messages = list[dict[str, str]]


@runtime_checkable
class Generator(Protocol):
    name: str
    n_ctx: int

    def stream(
        self, messages: Messages, *, max_tokens: int, grammar: str | None = None,
        stop: list[str] | None = None,
    ) -> Iterator[str]: ...

    def count_tokens(self, text: str) -> int: ...


class ScriptedGenerator:
    """Deterministic fake: replies from a list, or from a function of the messages."""

    def __init__(self, replies: list[str] | Callable[[Messages], str], n_ctx: int = 4096) -> None:
        self.name = "scripted"
        self.n_ctx = n_ctx
        self._replies = replies
        self.calls: list[Messages] = []

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text))

    def stream(self, messages: Messages, *, max_tokens: int, grammar: str | None = None,
               stop: list[str] | None = None) -> Iterator[str]:
        self.calls.append(messages)
        if callable(self._replies):
            reply = self._replies(messages)
        else:
            reply = self._replies[min(len(self.calls) - 1, len(self._replies) - 1)]
        for piece in re.findall(r"\S+\s*|\s+", reply):
            yield piece


class LlamaGenerator:
    """A GGUF model run in-process by llama-cpp-python, one instance guarded by a lock."""

    def __init__(self, gguf: Path, settings: Settings | None = None) -> None:
        settings = settings or get_settings()
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelUnavailable("llama-cpp-python is not installed: run 'make setup'") from exc
        try:
            with _model_defaults(use_extra_bufts=settings.llm.repack):
                self._llm = Llama(
                    model_path=str(gguf),
                    n_ctx=settings.llm.n_ctx,
                    n_threads=settings.llm.n_threads or os.cpu_count(),
                    n_threads_batch=settings.llm.n_threads or os.cpu_count(),
                    n_batch=settings.llm.n_batch,
                    use_mmap=settings.llm.use_mmap,
                    flash_attn=settings.llm.flash_attn,
                    seed=settings.llm.seed,
                    verbose=False,
                )
        except Exception as exc:
            raise ModelUnavailable(f"cannot load GGUF model {gguf}: {exc}; point --model or TRIALQA_MODEL at a valid GGUF file") from exc
        self.name = gguf.name
        self.path = gguf
        self._context = [settings.llm.n_ctx, settings.llm.n_batch, settings.llm.repack, settings.llm.flash_attn]
        self.n_ctx = int(self._llm.n_ctx())
        self._temperature = settings.llm.temperature
        self._lookup_draft = settings.llm.lookup_draft
        self._formatter: object | None = None
        #: Counts of the last greedy decode (`lookup.decode_greedy`): prompt tokens evaluated,
        #: steps, tokens, draft tokens proposed and accepted. Read by the bench.
        self.last_decode: dict[str, int] = {}
        self.lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def prime(self, messages: Messages, cache_dir: Path | None = None) -> str:
        """Evaluate a fixed prompt prefix now, so that the first question pays only for its own
        tokens. With `cache_dir`, llama.cpp's state after the prefix is kept in a file there
        (mode 0600, named by model file, llama.cpp version, context settings and the prompt
        text) and later processes restore it instead of evaluating the prefix again.
        Returns "restored" or "evaluated"."""
        with self.lock:
            state = self._state_file(messages, cache_dir) if cache_dir else None
            if state and state.is_file() and self._restore(state):
                return "restored"
            self._llm.reset()
            for _ in self._llm.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0, stream=True):
                pass
            if state:
                self._save(state)
            return "evaluated"

    def _state_file(self, messages: Messages, cache_dir: Path) -> Path:
        import hashlib
        import json

        import llama_cpp

        info = self.path.stat()
        key = json.dumps([str(self.path.resolve()), info.st_size, info.st_mtime_ns, llama_cpp.__version__,
                          self._context, messages])
        return cache_dir / f"prefix-{hashlib.sha256(key.encode()).hexdigest()[:20]}.state"

    def _restore(self, state: Path) -> bool:
        import ctypes

        from llama_cpp import llama_cpp as lib

        llm = self._llm
        tokens = (lib.llama_token * self.n_ctx)()
        count = ctypes.c_size_t(0)
        try:
            ok = lib.llama_state_load_file(llm._ctx.ctx, str(state).encode(), tokens, self.n_ctx, ctypes.byref(count))
        except (AttributeError, OSError):
            ok = False
        if not ok or not 0 < count.value <= self.n_ctx:
            return False  # a stale or damaged file: `prime` resets and evaluates the prefix
        llm.input_ids[: count.value] = tokens[: count.value]
        llm.n_tokens = count.value
        llm._requires_eval = True  # the restored logits are not a live decode's
        return True

    def _save(self, state: Path) -> None:
        from llama_cpp import llama_cpp as lib

        llm = self._llm
        tmp = state.with_name(f"{state.name}.tmp-{os.getpid()}")
        try:
            state.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            tokens = (lib.llama_token * llm.n_tokens)(*llm.input_ids[: llm.n_tokens].tolist())
            if lib.llama_state_save_file(llm._ctx.ctx, str(tmp).encode(), tokens, llm.n_tokens):
                os.chmod(tmp, 0o600)
                os.replace(tmp, state)
        except (AttributeError, OSError):
            pass  # no file: the next process evaluates the prefix, as it would without one
        finally:
            tmp.unlink(missing_ok=True)

    def speed(self, prompt_tokens: int = 64, generated: int = 8) -> dict[str, float]:
        """Evaluate a short prompt and decode a few tokens; their speeds in tokens/s."""
        import time

        with self.lock:
            llm = self._llm
            tokens = llm.tokenize(b" The trial enrolls adults with moderate plaque psoriasis." * 16)[:prompt_tokens]
            llm.reset()
            t0 = time.perf_counter()
            llm.eval(tokens)
            t1 = time.perf_counter()
            for token in tokens[:generated]:
                llm.eval([token])
            t2 = time.perf_counter()
            llm.reset()
        return {"prompt_tokens_per_s": round(len(tokens) / (t1 - t0), 1),
                "generated_tokens_per_s": round(generated / (t2 - t1), 1)}

    def stream(self, messages: Messages, *, max_tokens: int, grammar: str | None = None,
               stop: list[str] | None = None) -> Iterator[str]:
        from llama_cpp import LlamaGrammar

        if not grammar and self._temperature == 0 and self._llm.chat_format == "chat_template.default":
            yield from self._stream_greedy(messages, max_tokens=max_tokens, stop=stop)
            return
        kwargs = {}
        if grammar:
            kwargs["grammar"] = LlamaGrammar.from_string(grammar, verbose=False)
        with self.lock:
            try:
                for part in self._llm.create_chat_completion(
                    messages=messages, max_tokens=max_tokens, temperature=self._temperature,
                    stream=True, stop=stop, **kwargs,
                ):
                    delta = part["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield delta
            except ValueError as exc:  # e.g. prompt longer than the context window
                raise GenerationError(f"generation failed: {exc}") from exc


    def _stream_greedy(self, messages: Messages, *, max_tokens: int, stop: list[str] | None) -> Iterator[str]:
        """Temperature 0 through `lookup.decode_greedy`: the chat template applied as
        `create_chat_completion` applies it, then greedy decoding with prompt-lookup drafts."""
        from trialqa.lookup import decode_greedy

        result = self._chat_formatter()(messages=messages)
        prompt = self._llm.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True)
        stops = [*(stop or []), *([result.stop] if isinstance(result.stop, str) else result.stop or [])]
        with self.lock:
            try:
                self.last_decode = {}
                yield from decode_greedy(self._llm, prompt, max_tokens=max_tokens, stops=stops,
                                         max_draft=self._lookup_draft, stats=self.last_decode)
            except ValueError as exc:  # e.g. prompt longer than the context window
                raise GenerationError(f"generation failed: {exc}") from exc

    def _chat_formatter(self):  # type: ignore[no-untyped-def]
        """The GGUF's own chat template, built as llama-cpp-python builds its default handler."""
        if self._formatter is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            llm = self._llm
            template = llm.metadata.get("tokenizer.chat_template")
            if not template:
                raise ModelUnavailable(f"{self.name} has no chat template in its metadata")
            eos, bos = llm.token_eos(), llm.token_bos()
            self._formatter = Jinja2ChatFormatter(
                template=template, eos_token=llm._model.token_get_text(eos) if eos != -1 else "",
                bos_token=llm._model.token_get_text(bos) if bos != -1 else "", stop_token_ids=[eos])
        return self._formatter


_DEFAULTS_LOCK = threading.Lock()


@contextmanager
def _model_defaults(**fields: object) -> Iterator[None]:
    """Set llama_model_params fields that llama-cpp-python's `Llama()` has no argument for
    (`use_extra_bufts`), on the defaults it starts from, for one construction only.
    A field (or a binding layout) this llama-cpp-python does not have is left alone."""
    try:
        from llama_cpp import llama_cpp as lib

        original = lib.llama_model_default_params
        known = {name for name, _ in lib.llama_model_params._fields_}
    except (ImportError, AttributeError):  # another binding layout: nothing to set
        yield
        return

    def defaults():  # type: ignore[no-untyped-def]
        params = original()
        for name, value in fields.items():
            if name in known:
                setattr(params, name, value)
        return params

    with _DEFAULTS_LOCK:
        lib.llama_model_default_params = defaults
        try:
            yield
        finally:
            lib.llama_model_default_params = original


_CACHE: dict[str, Generator] = {}


def load_generator(model: str | Path | None = None, settings: Settings | None = None) -> Generator:
    """The configured generator (llama.cpp in-process, or an OpenAI-compatible server), loaded once."""
    settings = settings or get_settings()
    if settings.backend == "openai":
        from trialqa.generate_openai import OpenAIGenerator

        key = f"openai:{settings.base_url}:{settings.api_model}"
        if key not in _CACHE:
            _CACHE[key] = OpenAIGenerator(settings)
        return _CACHE[key]
    from trialqa.models import resolve_gguf

    gguf = resolve_gguf(model, settings)
    key = f"llama:{gguf}"
    if key not in _CACHE:
        _CACHE[key] = LlamaGenerator(gguf, settings)
    return _CACHE[key]
