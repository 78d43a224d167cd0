"""OpenAIGenerator against a tiny fake OpenAI-compatible server on 127.0.0.1 (no model)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from trialqa import generate_openai
from trialqa.errors import ConfigError, GenerationError
from trialqa.generate import Generator, load_generator
from trialqa.generate_openai import OpenAIGenerator
from trialqa.settings import Settings

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi?"}]


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/event-stream"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    hang_up: bool = False  # close the connection without answering


def sse(*pieces: str, finish: str | None = "stop", done: bool = True) -> bytes:
    events = [{"choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]} for p in pieces]
    if finish:
        events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    text = "".join(f"data: {json.dumps(e)}\r\n\r\n" for e in events)
    return (text + ("data: [DONE]\r\n\r\n" if done else "")).encode()


def tokens(n: int) -> Reply:
    return Reply(body=json.dumps({"tokens": list(range(n))}).encode(), content_type="application/json")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # e.g. the client timed out and closed first: expected here


class FakeServer:
    """Answers each path from a list of replies (the last one repeats); 404 elsewhere."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[tuple[str, dict[str, str], object]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                self.answer(None)

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.answer(json.loads(raw or b"null"))

            def answer(self, body: object) -> None:
                fake.requests.append((self.path, dict(self.headers), body))
                replies = fake.routes.get(self.path) or [Reply(404, b'{"detail": "Not Found"}', "application/json")]
                reply = replies.pop(0) if len(replies) > 1 else replies[0]
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.hang_up:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.requests]

    def chats(self) -> list[tuple[dict[str, str], dict]]:
        """(headers, body) of each chat-completions request."""
        return [(headers, body) for path, headers, body in self.requests if path == "/v1/chat/completions"]  # type: ignore[misc]

    def chat_bodies(self) -> list[dict]:
        return [body for _, body in self.chats()]


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    server = FakeServer()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def make() -> Iterator[Callable[..., OpenAIGenerator]]:
    made: list[OpenAIGenerator] = []

    def _make(base_url: str, **overrides: object) -> OpenAIGenerator:
        settings = Settings(backend="openai", base_url=base_url, api_retries=2, **overrides)
        gen = OpenAIGenerator(settings, backoff_s=0.01)
        made.append(gen)
        return gen

    yield _make
    for gen in made:
        gen.close()


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_streams_pieces_and_sends_the_openai_request(fake, make):
    fake.routes["/v1/chat/completions"] = [Reply(body=sse("The ", "answer", "."))]
    gen = make(fake.url, api_key="s3cret", api_model="qwen", llm={"temperature": 0.0, "seed": 7})
    assert isinstance(gen, Generator)
    assert "".join(gen.stream(MESSAGES, max_tokens=32, stop=["\n\n"])) == "The answer."
    (headers, body), = fake.chats()
    assert headers["Authorization"] == "Bearer s3cret"
    assert body == {"model": "qwen", "messages": MESSAGES, "max_tokens": 32, "temperature": 0.0,
                    "seed": 7, "stream": True, "stop": ["\n\n"]}
    assert gen.name == "qwen" and gen.n_ctx == 2048


def test_no_authorization_header_without_api_key(fake, make):
    fake.routes["/v1/chat/completions"] = [Reply(body=sse("ok"))]
    assert list(make(fake.url).stream(MESSAGES, max_tokens=4)) == ["ok"]
    assert all("Authorization" not in headers for _, headers, _ in fake.requests)


def test_skips_comments_fields_and_usage_only_events(fake, make):
    body = (b": ping\r\n\r\nevent: message\r\nid: 1\r\n" + sse("a", "b", done=False)
            + b'data: {"choices": [], "usage": {"completion_tokens": 2}}\n\ndata: [DONE]\n\n')
    fake.routes["/v1/chat/completions"] = [Reply(body=body)]
    assert list(make(fake.url).stream(MESSAGES, max_tokens=4)) == ["a", "b"]


def test_stream_ending_after_finish_reason_without_done_is_complete(fake, make):
    fake.routes["/v1/chat/completions"] = [Reply(body=sse("a", done=False))]
    assert list(make(fake.url).stream(MESSAGES, max_tokens=4)) == ["a"]


def test_llama_cpp_python_server_gets_grammar_and_counts_tokens(fake, make):
    fake.routes["/extras/tokenize"] = [tokens(1), tokens(5)]
    fake.routes["/v1/chat/completions"] = [Reply(body=sse("yes"))]
    gen = make(fake.url)
    assert gen.count_tokens("some text") == 5
    assert gen.server == "llama-cpp-python"
    list(gen.stream(MESSAGES, max_tokens=4, grammar='root ::= "yes"'))
    body = fake.chat_bodies()[0]
    assert body["grammar"] == 'root ::= "yes"' and body["repeat_penalty"] == 1.0
    assert fake.requests[1][2] == {"model": "local", "input": "some text"}


def test_llama_cpp_server_tokenize_endpoint(fake, make):
    fake.routes["/tokenize"] = [tokens(1), tokens(3)]
    gen = make(fake.url)
    assert gen.count_tokens("abc def") == 3
    assert gen.server == "llama.cpp"
    assert fake.paths() == ["/extras/tokenize", "/tokenize", "/tokenize"]


def json_reply(obj: object) -> Reply:
    return Reply(body=json.dumps(obj).encode(), content_type="application/json")


@pytest.mark.parametrize("slots", [1, 2])
def test_streams_at_once_are_limited_to_the_servers_slots(fake, make, slots):
    fake.routes["/v1/chat/completions"] = [Reply(body=sse("ok"), delay_s=0.4)]
    gen = make(fake.url, chat={"concurrency": slots})

    def ask() -> None:
        assert list(gen.stream(MESSAGES, max_tokens=4)) == ["ok"]

    threads = [threading.Thread(target=ask) for _ in range(2)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    took = time.perf_counter() - t0
    assert len(fake.chat_bodies()) == 2
    assert (took >= 0.8) if slots == 1 else (took < 0.75), took


def test_prime_puts_the_prefix_into_every_llama_cpp_server_slot(fake, make):
    fake.routes["/tokenize"] = [tokens(1)]
    fake.routes["/props"] = [json_reply({"total_slots": 3})]
    fake.routes["/v1/chat/completions"] = [json_reply({"choices": [{"message": {"content": "x"}}]})]
    assert make(fake.url).prime(MESSAGES) == "primed 3 slots"
    bodies = fake.chat_bodies()
    assert sorted(body["id_slot"] for body in bodies) == [0, 1, 2]
    assert all(body["messages"] == MESSAGES and body["max_tokens"] == 1 and body["cache_prompt"] for body in bodies)


@pytest.mark.parametrize("tokenizer", ["/extras/tokenize", None])
def test_prime_leaves_other_servers_alone(fake, make, tokenizer):
    if tokenizer:  # llama-cpp-python's server: one slot, its own prompt cache
        fake.routes[tokenizer] = [tokens(1)]
    fake.routes["/props"] = [json_reply({"total_slots": 4})]
    assert make(fake.url).prime(MESSAGES) is None
    assert fake.chat_bodies() == []


def test_prime_survives_a_server_without_props(fake, make):
    fake.routes["/tokenize"] = [tokens(1)]
    assert make(fake.url).prime(MESSAGES) is None
    assert fake.chat_bodies() == []


def test_plain_openai_server_estimates_tokens_and_gets_no_grammar(fake, make):
    fake.routes["/v1/chat/completions"] = [Reply(body=sse("x"))]
    gen = make(fake.url)
    assert gen.count_tokens("a" * 10) == 4  # ceil(10 / 3): never below the truth for ~4 chars/token
    assert gen.count_tokens("") == 0
    list(gen.stream(MESSAGES, max_tokens=4, grammar='root ::= "x"'))
    assert "grammar" not in fake.chat_bodies()[0] and "repeat_penalty" not in fake.chat_bodies()[0]
    assert fake.paths().count("/extras/tokenize") == 1  # probed once, then remembered


def test_retries_5xx_and_429_before_the_first_token(fake, make, monkeypatch):
    sleeps: list[float] = []
    monkeypatch.setattr(generate_openai.time, "sleep", sleeps.append)
    fake.routes["/v1/chat/completions"] = [
        Reply(500, b'{"error": {"message": "boom"}}', "application/json"),
        Reply(429, b"slow down", "text/plain", headers={"Retry-After": "2"}),
        Reply(body=sse("fine")),
    ]
    assert list(make(fake.url).stream(MESSAGES, max_tokens=4)) == ["fine"]
    assert len(fake.chat_bodies()) == 3
    assert sleeps == [0.01, 2.0]  # exponential backoff, then the server's Retry-After


def test_gives_up_after_the_configured_retries(fake, make):
    fake.routes["/v1/chat/completions"] = [Reply(503, b'{"error": {"message": "loading model"}}', "application/json")]
    with pytest.raises(GenerationError) as exc:
        list(make(fake.url).stream(MESSAGES, max_tokens=4))
    assert "failed 3 times, last with HTTP 503: loading model" in one_line(exc)
    assert len(fake.chat_bodies()) == 3


def test_retries_a_connection_closed_before_answering(fake, make):
    fake.routes["/v1/chat/completions"] = [Reply(hang_up=True), Reply(body=sse("back"))]
    assert list(make(fake.url).stream(MESSAGES, max_tokens=4)) == ["back"]
    assert len(fake.chat_bodies()) == 2


def test_unreachable_server_is_one_clear_line(make):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    gen = make(f"http://127.0.0.1:{port}/v1")
    with pytest.raises(GenerationError) as exc:
        list(gen.stream(MESSAGES, max_tokens=4))
    message = one_line(exc)
    assert message.startswith(f"cannot reach the generation server at http://127.0.0.1:{port}/v1: ")
    assert "(tried 3 times); start it or fix TRIALQA_BASE_URL" in message
    with pytest.raises(GenerationError, match="cannot reach the generation server"):
        gen.count_tokens("x")


@pytest.mark.parametrize("body, what", [
    (b"data: not json\n\n", "not JSON: 'not json'"),
    (b'data: {"id": "x", "object": "chat.completion.chunk"}\n\n', "an event without 'choices'"),
    (b'data: [1, 2]\n\n', "not a JSON object"),
    (b"<html><body>It works!</body></html>\n", "not a server-sent event: '<html>"),
])
def test_garbage_is_reported_and_not_retried(fake, make, body, what):
    fake.routes["/v1/chat/completions"] = [Reply(body=body)]
    with pytest.raises(GenerationError) as exc:
        list(make(fake.url).stream(MESSAGES, max_tokens=4))
    assert f"answered garbage ({what}" in one_line(exc)
    assert len(fake.chat_bodies()) == 1


def test_garbage_tokenizer_answer(fake, make):
    fake.routes["/extras/tokenize"] = [tokens(1), Reply(body=b'{"count": 3}', content_type="application/json")]
    with pytest.raises(GenerationError, match="answered garbage: no 'tokens' list"):
        make(fake.url).count_tokens("abc")


def test_error_event_in_the_stream(fake, make):
    fake.routes["/v1/chat/completions"] = [Reply(body=b'data: {"error": {"message": "context overflow"}}\n\n')]
    with pytest.raises(GenerationError, match="reported an error: context overflow$"):
        list(make(fake.url).stream(MESSAGES, max_tokens=4))


def test_stream_cut_after_the_first_token_is_not_retried(fake, make):
    fake.routes["/v1/chat/completions"] = [Reply(body=sse("partial ", "answ", finish=None, done=False))]
    got: list[str] = []
    with pytest.raises(GenerationError) as exc:
        for piece in make(fake.url).stream(MESSAGES, max_tokens=4):
            got.append(piece)
    assert got == ["partial ", "answ"]
    assert "closed the stream mid-answer" in one_line(exc)
    assert len(fake.chat_bodies()) == 1


def test_done_without_finish_reason_is_an_interrupted_answer(fake, make):
    fake.routes["/v1/chat/completions"] = [Reply(body=sse("cut", finish=None))]
    with pytest.raises(GenerationError) as exc:
        list(make(fake.url).stream(MESSAGES, max_tokens=4))
    assert "ended the answer early (no finish_reason)" in one_line(exc)
    assert "--interrupt_requests False" in str(exc.value)


@pytest.mark.parametrize("status, hint", [
    (401, "set TRIALQA_API_KEY"),
    (404, "TRIALQA_BASE_URL should be the server's OpenAI API root"),
    (400, "check TRIALQA_API_MODEL"),
])
def test_client_errors_are_not_retried(fake, make, status, hint):
    fake.routes["/v1/chat/completions"] = [Reply(status, b'{"detail": "nope"}', "application/json")]
    with pytest.raises(GenerationError) as exc:
        list(make(fake.url).stream(MESSAGES, max_tokens=4))
    assert f"(HTTP {status}: nope); {hint}" in one_line(exc)
    assert len(fake.chat_bodies()) == 1


def test_slow_server_times_out_once(fake, make):
    fake.routes["/v1/chat/completions"] = [Reply(body=sse("late"), delay_s=1.0)]
    with pytest.raises(GenerationError) as exc:
        list(make(fake.url, api_timeout_s=0.2).stream(MESSAGES, max_tokens=4))
    assert "did not answer within 0.2 s; raise TRIALQA_API_TIMEOUT_S" in one_line(exc)
    assert len(fake.chat_bodies()) == 1


@pytest.mark.parametrize("base_url, match", [
    (None, "TRIALQA_BACKEND=openai needs TRIALQA_BASE_URL"),
    ("127.0.0.1:8000/v1", "TRIALQA_BASE_URL must start with http:// or https://"),
])
def test_bad_base_url_is_a_config_error(base_url, match):
    with pytest.raises(ConfigError, match=match):
        OpenAIGenerator(Settings(backend="openai", base_url=base_url))


def test_load_generator_selects_the_server_backend(fake):
    gen = load_generator(settings=Settings(backend="openai", base_url=fake.url))
    assert isinstance(gen, OpenAIGenerator) and gen.base_url == fake.url


def test_importing_the_backend_does_not_import_httpx():
    code = "import sys, trialqa.generate_openai; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
