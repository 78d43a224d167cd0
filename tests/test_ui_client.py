"""The launched chat app through `gradio_client` and raw HTTP: the "/chat" API, session
isolation, the queue limit, and that no file outside the app is ever served."""

from __future__ import annotations

import contextlib
import http.client
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_ui import FakeAssistant, echo

from trialqa import ui

ROOT = Path(__file__).resolve().parent.parent
PASSWD_MARK = "root:x:0:0"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def launched(assistant, *, auth=None, routes=None, **kw) -> Iterator[str]:
    """Serve `build_app(assistant)` in this process on a free port; yields its URL.
    `auth` (a LoginGuard) and `routes` go to `ui.serve`."""
    app = ui.build_app(assistant, **kw)
    port = free_port()
    ui.serve(app, port=port, prevent_thread_lock=True, quiet=True, auth=auth, routes=routes)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.close()


def client(url: str, auth: tuple[str, str] | None = None):
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False, auth=auth)


def fake_pipeline(out: Path, seeds: Path, reply: str):
    """The real Assistant over the seed pages, with the hashing embedder and a scripted model."""
    from trialqa.assistant import Assistant
    from trialqa.embed import HashingEmbedder
    from trialqa.generate import ScriptedGenerator
    from trialqa.parse import ingest
    from trialqa.index_build import build_index
    from trialqa.store import load_index

    embedder = HashingEmbedder()
    build_index(ingest([seeds]).trials, out, embedder, progress=False)
    return Assistant(load_index(out, embedder), embedder, ScriptedGenerator([reply]))


def real_assistant(tmp_dir: Path):
    """The real Assistant (bundled embedder and model) over a private index of the seed pages."""
    from trialqa.assistant import Assistant
    from trialqa.settings import Settings

    # the default index of these settings is built from the seeds when missing
    return Assistant.from_settings(settings=Settings(index=tmp_dir / "seeds", seeds=ROOT / "seeds"))


@pytest.fixture(scope="module")
def pipeline_url(tmp_path_factory, seeds_dir):
    assistant = fake_pipeline(tmp_path_factory.mktemp("ui") / "seeds", seeds_dir, "Given intravenously [S1].")
    with launched(assistant) as url:
        yield url


@pytest.fixture(scope="module")
def echo_url():
    with launched(FakeAssistant(echo)) as url:
        yield url


def test_chat_endpoint_returns_answer_with_citations(pipeline_url):
    text = client(pipeline_url).predict("What is the enrollment of NCT05106972?", api_name="/chat")
    assert "30" in text.split("\n")[0] and "[NCT05106972 · Enrollment]" in text
    assert "\nSources:\n[1] NCT05106972 · Enrollment" in text
    assert "https://clinicaltrials.gov/study/NCT05106972" in text


def test_chat_endpoint_streams(pipeline_url):
    job = client(pipeline_url).submit("Does the HPV study use stem cells?", api_name="/chat")
    final = job.result(timeout=60)
    partials = job.outputs()
    assert len(partials) > 2 and partials[0] != final and partials[0].startswith("Given")
    assert "Sources:" not in partials[0]
    # the checked answer ends the stream: the model's cited text, or the verifier's abstention
    assert ("Sources:" in final and final.startswith("Given intravenously")) or \
        final.startswith("The indexed trials don't say"), final


def test_follow_ups_stay_in_their_session(echo_url):
    a, b = client(echo_url), client(echo_url)
    a.predict("Enrollment of NCT05106972?", api_name="/chat")
    assert "prior=NCT05106972" in a.predict("And its sponsor?", api_name="/chat")
    assert "prior=none" in b.predict("And its sponsor?", api_name="/chat")


def test_empty_question_is_a_one_line_error(echo_url):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="question is empty"):
        client(echo_url).predict("   ", api_name="/chat")


def test_only_chat_is_in_the_api(echo_url):
    info = client(echo_url).view_api(print_info=False, return_format="dict")
    assert set(info["named_endpoints"]) == {"/chat"} and not info["unnamed_endpoints"]


def raw_get(url: str, path: str) -> tuple[int, str, str]:
    """GET `path` exactly as written (no client-side normalisation of '..')."""
    host, port = url.split("//")[1].rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.putrequest("GET", path, skip_accept_encoding=True)
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read(200_000).decode("utf-8", "replace")
    location = resp.getheader("location") or ""
    conn.close()
    return resp.status, body, location


TRAVERSALS = [
    "/gradio_api/file=/etc/passwd",
    "/gradio_api/file=../../etc/passwd",
    "/gradio_api/file=../../../../../../../../etc/passwd",
    "/gradio_api/file=..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/gradio_api/file=%2Fetc%2Fpasswd",
    "/gradio_api/file=%252Fetc%252Fpasswd",
    "/gradio_api/file=%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/gradio_api/file=//etc/passwd",
    "/gradio_api/file=/etc/./passwd",
    "/gradio_api/file=file:///etc/passwd",
    "/gradio_api/file/etc/passwd",
    "/gradio_api/file/../../../../etc/passwd",
    "/file=/etc/passwd",
    "/file=../../etc/passwd",
    "/file=%2Fetc%2Fpasswd",
    "/static/../../../../../../etc/passwd",
    "/static/..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/assets/..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/gradio_api/static/..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/favicon.ico/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_passwd_is_never_served(echo_url, path):
    status, body, _ = raw_get(echo_url, path)
    assert PASSWD_MARK not in body, f"{path} served /etc/passwd (HTTP {status})"


@pytest.mark.parametrize("rel", ["pyproject.toml", "src/trialqa/ui.py", "seeds/000_414e8bcef8da9792.txt"])
def test_project_files_are_not_served(echo_url, rel):
    for path in (f"/gradio_api/file={ROOT / rel}", f"/gradio_api/file={rel}"):
        status, _, _ = raw_get(echo_url, path)
        assert status >= 400, f"{path} answered HTTP {status}"


def test_file_route_is_no_redirect_or_proxy_to_internal_hosts(echo_url):
    port = echo_url.rstrip("/").rsplit(":", 1)[1]
    for target in (f"http://127.0.0.1:{port}/config", "http://169.254.169.254/latest/meta-data/"):
        status, body, location = raw_get(echo_url, f"/gradio_api/file={target}")
        assert status >= 400 and not location, f"{target}: HTTP {status} -> {location!r}"


def test_uploads_are_refused(echo_url):
    import httpx

    r = httpx.post(echo_url + "gradio_api/upload", files={"files": ("x.txt", b"hello world")}, timeout=10)
    assert r.status_code >= 400


def test_full_queue_turns_callers_away_politely():
    from gradio_client.exceptions import AppError
    from gradio_client.utils import QueueError, Status

    slow = FakeAssistant(delay=0.25)  # about 2 s an answer
    with launched(slow, concurrency_limit=1, max_queue=1) as url:
        first = client(url).submit("first?", api_name="/chat")
        deadline = time.time() + 30
        while first.status().code != Status.PROCESSING and time.time() < deadline:
            time.sleep(0.05)
        second = client(url).submit("second?", api_name="/chat")  # waits in the queue
        time.sleep(0.3)
        with pytest.raises((QueueError, AppError), match="(?i)queue is full.*try again"):
            client(url).predict("third?", api_name="/chat")
        assert "Sources:" in first.result(timeout=60) and "Sources:" in second.result(timeout=60)
    assert [q for q, _ in slow.calls] == ["first?", "second?"]


@pytest.mark.integration
def test_chat_endpoint_with_the_real_assistant(tmp_path):
    with launched(real_assistant(tmp_path)) as url:
        c = client(url)
        text = c.predict("What is the enrollment of NCT05106972?", api_name="/chat")
        assert "30" in text.split("\n")[0] and "[NCT05106972 · Enrollment]" in text
        follow = c.predict("Who is its lead sponsor?", api_name="/chat")
        assert "Asia Stem Cell" in follow and "NCT05106972 · Sponsor" in follow


def test_chat_command_serves_on_localhost_and_reports_a_taken_port(monkeypatch):
    from click.testing import CliRunner

    from trialqa.assistant import Assistant
    from trialqa.cli import cli

    monkeypatch.setattr(Assistant, "from_settings", classmethod(lambda cls, index_dir=None, model=None: FakeAssistant()))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["chat"], env={"GRADIO_SERVER_PORT": str(port)})
    assert result.exit_code == 2, result.output
    message = result.output.strip().splitlines()[-1]
    assert message.startswith(f"trialqa: error: cannot serve on 127.0.0.1:{port}") and "--port" in message


USERS = {"alice": "alice's long password", "bob": "bob's long password"}


@pytest.fixture(scope="module")
def login_url(tmp_path_factory):
    from trialqa.auth import LoginGuard, UsersFile
    from trialqa.ui.health import route

    users = UsersFile(tmp_path_factory.mktemp("auth") / "users")
    for name, password in USERS.items():
        users.add(name, password)
    assistant = FakeAssistant(echo)
    with launched(assistant, auth=LoginGuard(users), routes=[route(assistant)]) as url:
        yield url


def test_login_lets_only_listed_users_in(login_url):
    import httpx

    for name, password in USERS.items():
        assert "Q=Enrollment?" in client(login_url, auth=(name, password)).predict("Enrollment?", api_name="/chat")
    for creds in (("alice", USERS["bob"]), ("carol", "carol's password"), ("", "")):
        with pytest.raises(Exception, match="(?i)login|credentials"):
            client(login_url, auth=creds)
    with pytest.raises(Exception):  # noqa: B017 - no login: the app's config is refused
        client(login_url)
    assert httpx.get(login_url + "config", timeout=10).status_code == 401
    r = httpx.post(login_url + "gradio_api/queue/join", json={"data": ["x", []], "fn_index": 0,
                                                               "session_hash": "abc"}, timeout=10)
    assert r.status_code in (401, 403)


def test_failed_logins_are_rate_limited(login_url):
    import httpx

    def login(password: str) -> int:
        return httpx.post(login_url + "login", data={"username": "bob", "password": password}, timeout=10).status_code

    assert [login("not bob's password") for _ in range(3)] == [400, 400, 400]
    assert login(USERS["bob"]) == 400  # locked for a second: even the right password is refused
    time.sleep(1.1)
    assert login(USERS["bob"]) == 200


def test_healthz_needs_no_login_and_says_ready(login_url):
    import httpx

    r = httpx.get(login_url + "healthz", timeout=10)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["ready"] is True and body["backend"] == {"ready": True, "kind": "in-process", "slots": 1}
    assert body["index"]["ready"] is True and body["index"]["name"] == "seeds"
