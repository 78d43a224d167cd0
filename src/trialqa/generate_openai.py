"""Generation through an OpenAI-compatible chat-completions server (llama.cpp, vLLM, ...).

`OpenAIGenerator` POSTs {base_url}/chat/completions with `stream: true` and reads the
server-sent events: one `data: {json}` line per piece of text, then `data: [DONE]`.
Connection errors, 5xx and 429 are retried with exponential backoff, but only until
the first piece was yielded: after that a retry would repeat text the caller already has.

Servers differ in what they offer beyond the OpenAI API. The first call that needs
to know probes for a tokenizer endpoint, which also tells which server this is:

    llama-cpp-python  POST {root}/extras/tokenize {"input": t}   -> {"tokens": [...]}
    llama.cpp server  POST {root}/tokenize        {"content": t} -> {"tokens": [...]}
    anything else     tokens estimated as len(text) / 3

where {root} is base_url without its trailing /v1. The two llama.cpp servers also get
`grammar` and `repeat_penalty`; other servers get the plain OpenAI request.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from trialqa.errors import ConfigError, GenerationError
from trialqa.generate import Messages
from trialqa.settings import Settings, get_settings

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")

#: characters per token assumed when the server offers no tokenizer (low, so budgets stay safe)
CHARS_PER_TOKEN = 3
#: longest wait between two attempts, whatever backoff or Retry-After say
MAX_DELAY_S = 30.0
#: llama-cpp-python's in-process default, sent so a llama.cpp server answers exactly like
#: LlamaGenerator (llama-cpp-python's server would otherwise penalise repeats with 1.1)
REPEAT_PENALTY = 1.0


class _Flavour(NamedTuple):
    name: str
    tokenize_path: str
    tokenize_field: str
    llama_extras: bool  # accepts llama.cpp's "grammar" and "repeat_penalty"


_FLAVOURS = (
    _Flavour("llama-cpp-python", "/extras/tokenize", "input", True),
    _Flavour("llama.cpp", "/tokenize", "content", True),
)
_PLAIN = _Flavour("openai", "", "", False)


class _Busy(Exception):
    """A 5xx or 429 answer: worth another attempt."""

    def __init__(self, status: int, detail: str, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.retry_after = retry_after


class _Refused(GenerationError):
    """A 4xx answer other than 429: another attempt would be refused too."""


class OpenAIGenerator:
    """A `Generator` served over HTTP by an OpenAI-compatible server; safe to share between threads."""

    def __init__(self, settings: Settings | None = None, *, backoff_s: float = 0.5) -> None:
        settings = settings or get_settings()
        if not settings.base_url:
            raise ConfigError(
                "TRIALQA_BACKEND=openai needs TRIALQA_BASE_URL, e.g. TRIALQA_BASE_URL=http://127.0.0.1:8000/v1"
            )
        if not settings.base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"TRIALQA_BASE_URL must start with http:// or https://, got {settings.base_url!r}"
            )
        import httpx

        headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
        timeout = httpx.Timeout(settings.api_timeout_s, connect=min(settings.api_timeout_s, 10.0))
        self._client = httpx.Client(timeout=timeout, headers=headers)
        self.base_url = settings.base_url.rstrip("/")
        self.root = self.base_url.removesuffix("/v1")
        self.name = settings.api_model
        self.n_ctx = settings.llm.n_ctx
        self._settings = settings
        self._backoff_s = backoff_s
        self._flavour: _Flavour | None = None
        #: answers streamed at once: the server's slots (the chat works on more questions than that)
        self._slots = threading.BoundedSemaphore(settings.chat.concurrency)

    def close(self) -> None:
        self._client.close()

    @property
    def server(self) -> str:
        """Which kind of server answers: 'llama-cpp-python', 'llama.cpp' or 'openai' (probed once)."""
        return self._probe().name

    def count_tokens(self, text: str) -> int:
        flavour = self._probe()
        if not flavour.tokenize_path:
            return math.ceil(len(text) / CHARS_PER_TOKEN)
        url = self.root + flavour.tokenize_path
        body = {"model": self.name, flavour.tokenize_field: text}
        response = self._retrying(url, lambda: self._checked(self._client.post(url, json=body), url))
        tokens = _json_object(response.text, url).get("tokens")
        if not isinstance(tokens, list):
            raise GenerationError(f"the generation server at {url} answered garbage: no 'tokens' list")
        return len(tokens)

    def stream(
        self, messages: Messages, *, max_tokens: int, grammar: str | None = None,
        stop: list[str] | None = None,
    ) -> Iterator[str]:
        body = self._body(messages, max_tokens, grammar, stop)
        with self._slots:
            yield from self._stream(f"{self.base_url}/chat/completions", body)

    def _body(self, messages: Messages, max_tokens: int, grammar: str | None = None,
              stop: list[str] | None = None) -> dict[str, Any]:
        """A streamed chat completion request (llama.cpp's extras where the server has them)."""
        llm = self._settings.llm
        body: dict[str, Any] = {
            "model": self.name, "messages": messages, "max_tokens": max_tokens,
            "temperature": llm.temperature, "seed": llm.seed, "stream": True,
        }
        if stop:
            body["stop"] = stop
        if self._probe().llama_extras:
            body["repeat_penalty"] = REPEAT_PENALTY
            if grammar:
                body["grammar"] = grammar
        return body

    def _stream(self, url: str, body: dict[str, Any]) -> Iterator[str]:
        import httpx

        def first_piece() -> tuple[httpx.Response, Iterator[str], str | None]:
            response = self._client.send(self._client.build_request("POST", url, json=body), stream=True)
            try:
                self._checked(response, url)
                pieces = _pieces(response, url)
                return response, pieces, next(pieces, None)
            except BaseException:
                response.close()
                raise

        response, pieces, head = self._retrying(url, first_piece)
        try:
            if head is None:
                return
            yield head
            try:
                yield from pieces
            except httpx.TransportError as exc:
                raise GenerationError(
                    f"the generation server at {url} stopped mid-answer: {_describe(exc)}"
                ) from exc
        finally:
            response.close()

    def prime(self, messages: Messages, cache_dir: object = None) -> str | None:
        """Put the fixed prompt prefix into every slot of a llama.cpp server now, so the first
        question in each slot pays only for its own tokens (a slot keeps its prompt cached and
        reuses the longest common prefix; 4 empty slots otherwise each read the ~300-token prefix
        beside users' answers). One 1-token request per slot, pinned with `id_slot`, all at once.
        Other servers, or a failure, leave things as they are: returns None then, else
        "primed N slots". `cache_dir` is for the local model's state file and unused here."""
        from concurrent.futures import ThreadPoolExecutor

        import httpx

        try:
            if self._probe().name != "llama.cpp":
                return None
            props = self._client.get(self.root + "/props")
            slots = int(props.json().get("total_slots") or 0) if props.status_code == 200 else 0
        except (httpx.HTTPError, GenerationError, ValueError, AttributeError):
            return None
        if slots < 1:
            return None
        url = f"{self.base_url}/chat/completions"

        def one(slot: int) -> bool:
            body = {**self._body(messages, 1), "temperature": 0.0, "stream": False, "cache_prompt": True,
                    "id_slot": slot}
            try:
                return self._client.post(url, json=body).status_code == 200
            except httpx.HTTPError:
                return False

        with ThreadPoolExecutor(max_workers=min(slots, 16)) as pool:
            done = sum(pool.map(one, range(slots)))
        return f"primed {done} slots" if done else None

    def _probe(self) -> _Flavour:
        if self._flavour is None:
            self._flavour = next((f for f in _FLAVOURS if self._offers_tokenizer(f)), _PLAIN)
        return self._flavour

    def _offers_tokenizer(self, flavour: _Flavour) -> bool:
        url = self.root + flavour.tokenize_path
        body = {"model": self.name, flavour.tokenize_field: "probe"}
        try:
            response = self._retrying(url, lambda: self._checked(self._client.post(url, json=body), url))
        except _Refused:  # 404, 405, 422...: not this kind of server
            return False
        return _has_tokens(response.text)

    def _checked(self, response: httpx.Response, url: str) -> httpx.Response:
        """The response if it succeeded; `_Busy` if worth retrying; GenerationError otherwise."""
        status = response.status_code
        if status < 400:
            return response
        detail = _detail(response.read().decode("utf-8", "replace"))
        if status == 429 or status >= 500:
            raise _Busy(status, detail, _retry_after(response.headers.get("retry-after")))
        hint = {
            401: "set TRIALQA_API_KEY to a key the server accepts",
            403: "set TRIALQA_API_KEY to a key the server accepts",
            404: "TRIALQA_BASE_URL should be the server's OpenAI API root, e.g. http://127.0.0.1:8000/v1",
        }.get(status, "check TRIALQA_API_MODEL and the prompt size against the server's context window")
        raise _Refused(f"the generation server at {url} refused the request (HTTP {status}: {detail}); {hint}")

    def _retrying(self, url: str, attempt: Callable[[], T]) -> T:
        """Run `attempt`, retrying connection failures, 5xx and 429 with exponential backoff."""
        import httpx

        retryable = (httpx.NetworkError, httpx.ConnectTimeout, httpx.RemoteProtocolError, _Busy)
        retries = max(self._settings.api_retries, 0)
        n = 0
        while True:
            try:
                return attempt()
            except retryable as exc:
                if n == retries:
                    raise self._final_error(url, exc, retries + 1) from exc
                backoff = self._backoff_s * 2**n
                if isinstance(exc, _Busy) and exc.retry_after is not None:
                    backoff = max(backoff, exc.retry_after)
                time.sleep(min(backoff, MAX_DELAY_S))
                n += 1
            except httpx.TimeoutException as exc:
                raise GenerationError(
                    f"the generation server at {url} did not answer within {self._settings.api_timeout_s:g} s; "
                    "raise TRIALQA_API_TIMEOUT_S or use a faster server"
                ) from exc
            except httpx.HTTPError as exc:
                raise GenerationError(f"cannot reach the generation server at {self.base_url}: {_describe(exc)}; "
                                      "start it or fix TRIALQA_BASE_URL") from exc

    def _final_error(self, url: str, exc: Exception, attempts: int) -> GenerationError:
        if isinstance(exc, _Busy):
            return GenerationError(f"the generation server at {url} failed {attempts} times, last with {exc}")
        return GenerationError(
            f"cannot reach the generation server at {self.base_url}: {_describe(exc)} (tried {attempts} times); "
            "start it or fix TRIALQA_BASE_URL"
        )


def _pieces(response: httpx.Response, url: str) -> Iterator[str]:
    """The text pieces of a chat-completions event stream, checked line by line."""
    finished = False
    for line in response.iter_lines():
        if not line or line.startswith(":"):  # event separator or keep-alive comment
            continue
        field, _, value = line.partition(":")
        if field in ("event", "id", "retry"):
            continue
        if field != "data":
            raise _garbage(url, f"not a server-sent event: {line[:60]!r}")
        value = value.strip()
        if value == "[DONE]":
            if not finished:  # llama-cpp-python's server ends an interrupted answer like this
                raise GenerationError(
                    f"the generation server at {url} ended the answer early (no finish_reason); if it is "
                    "llama-cpp-python's server serving several users, start it with --interrupt_requests False"
                )
            return
        chunk = _json_object(value, url)
        if "error" in chunk:
            raise GenerationError(f"the generation server at {url} reported an error: {_detail(value)}")
        choices = chunk.get("choices")
        if not isinstance(choices, list):
            raise _garbage(url, "an event without 'choices'")
        if not choices:  # e.g. a final usage-only event
            continue
        choice = choices[0]
        if not isinstance(choice, dict):
            raise _garbage(url, "a choice that is not an object")
        content = (choice.get("delta") or {}).get("content")
        if content:
            yield content
        finished = finished or bool(choice.get("finish_reason"))
    if not finished:
        raise GenerationError(f"the generation server at {url} closed the stream mid-answer (no [DONE]); check its log")


def _json_object(text: str, url: str) -> dict[str, Any]:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        raise _garbage(url, f"not JSON: {text[:60]!r}") from None
    if not isinstance(obj, dict):
        raise _garbage(url, f"not a JSON object: {text[:60]!r}")
    return obj


def _has_tokens(text: str) -> bool:
    try:
        return isinstance(json.loads(text).get("tokens"), list)
    except (json.JSONDecodeError, AttributeError):
        return False


def _garbage(url: str, what: str) -> GenerationError:
    return GenerationError(
        f"the generation server at {url} answered garbage ({what}); "
        "is TRIALQA_BASE_URL an OpenAI-compatible API root such as http://127.0.0.1:8000/v1?"
    )


def _detail(body: str) -> str:
    """The message inside an error body ({"error": {"message": ...}} or {"detail": ...}), shortened."""
    try:
        obj = json.loads(body)
    except json.JSONDecodeError:
        obj = None
    if isinstance(obj, dict):
        err = obj.get("error", obj.get("detail", obj))
        if isinstance(err, dict):
            err = err.get("message", err)
        body = err if isinstance(err, str) else json.dumps(err)
    return " ".join(body.split())[:200] or "empty body"


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:  # an HTTP date: fall back to our own backoff
        return None


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
