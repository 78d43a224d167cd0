"""Login for the chat off loopback: the users file, the rate-limited check, `trialqa chat
add-user`, the refusal to serve a network address without login, and /healthz's verdict."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from trialqa import auth
from trialqa.auth import LoginGuard, UsersFile, is_loopback
from trialqa.cli import cli
from trialqa.errors import BadInput, ConfigError
from trialqa.settings import Settings
from trialqa.ui.health import health

PASSWORD = "correct horse battery"


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True), ("[::1]", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), ("chat.example.org", False), ("", False),
])
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


def test_users_file_keeps_salted_hashes_only(tmp_path):
    path = tmp_path / "sub" / "users"
    users = UsersFile(path)
    assert users.add("alice", PASSWORD) and users.add("bob", PASSWORD)
    text = path.read_text()
    assert PASSWORD not in text and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert [line.split(":")[0] for line in lines] == ["alice", "bob"]
    salts = {line.split("$")[4] for line in lines}
    hashes = {line.split("$")[5] for line in lines}
    assert len(salts) == 2 and len(hashes) == 2  # same password, different salt, different hash
    again = UsersFile(path)  # read back from disk
    assert again.verify("alice", PASSWORD) and again.verify("bob", PASSWORD)
    assert not again.verify("alice", PASSWORD + "!") and not again.verify("alice", "")
    assert not again.verify("carol", PASSWORD)  # unknown name: same work, still False


def test_add_user_again_changes_the_password(tmp_path):
    users = UsersFile(tmp_path / "users")
    users.add("alice", PASSWORD)
    assert users.add("alice", "another password") is False
    again = UsersFile(tmp_path / "users")
    assert len(again) == 1 and again.verify("alice", "another password") and not again.verify("alice", PASSWORD)


@pytest.mark.parametrize("name, password", [("alice", "short"), ("no spaces", PASSWORD), ("", PASSWORD),
                                            ("a:b", PASSWORD), ("-dash", PASSWORD)])
def test_bad_names_and_short_passwords_are_refused(tmp_path, name, password):
    with pytest.raises(BadInput):
        UsersFile(tmp_path / "users").add(name, password)
    assert not (tmp_path / "users").exists()


def test_a_damaged_users_file_is_a_one_line_error(tmp_path):
    path = tmp_path / "users"
    path.write_text("alice:plaintext-password\n")
    with pytest.raises(ConfigError, match=r"users:1: not a users-file line"):
        UsersFile(path)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counting_guard(tmp_path, clock):
    users = UsersFile(tmp_path / "users")
    users.add("alice", PASSWORD)
    checks = []
    verify = users.verify
    users.verify = lambda n, p: checks.append(n) or verify(n, p)  # type: ignore[method-assign]
    return LoginGuard(users, clock=clock), checks


def test_failed_logins_lock_the_name_with_a_doubling_delay(tmp_path):
    clock = Clock()
    guard, checks = counting_guard(tmp_path, clock)
    for _ in range(auth.FREE_FAILURES):
        assert guard("alice", "wrong password") is False
    assert guard.locked_for("alice") == 1.0
    assert guard("alice", PASSWORD) is False  # locked: refused without even checking
    assert len(checks) == auth.FREE_FAILURES
    assert guard("bob", "whatever pw") is False and guard.locked_for("bob") == 0.0  # other names unaffected
    clock.now += 1.01
    assert guard("alice", "wrong again") is False and guard.locked_for("alice") == pytest.approx(2.0)
    clock.now += 2.01
    assert guard("alice", PASSWORD) is True and guard.locked_for("alice") == 0.0  # success clears it
    assert guard("alice", "wrong once") is False and guard.locked_for("alice") == 0.0


def test_the_lock_is_capped(tmp_path):
    clock = Clock()
    guard, _ = counting_guard(tmp_path, clock)
    for _ in range(20):
        guard("alice", "wrong password")
        clock.now += guard.locked_for("alice") + 0.01
    assert guard("alice", "wrong password") is False
    assert guard.locked_for("alice") == auth.MAX_LOCK_S


def test_guessing_many_names_is_capped_per_minute(tmp_path):
    clock = Clock()
    guard, checks = counting_guard(tmp_path, clock)
    for i in range(auth.GLOBAL_FAILURES_PER_MIN + 10):
        guard(f"user{i}", "guess guess")
    assert len(checks) == auth.GLOBAL_FAILURES_PER_MIN
    assert guard("alice", PASSWORD) is False  # the cap holds for everyone for that minute
    clock.now += 61
    assert guard("alice", PASSWORD) is True


def run_cli(args, input=None, env=None):
    return CliRunner().invoke(cli, args, input=input, env=env)


def test_add_user_from_stdin_and_with_a_prompt(tmp_path):
    path = tmp_path / "users"
    r = run_cli(["chat", "add-user", "alice", "--auth-file", str(path), "--password-stdin"], input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    assert "added alice" in r.output and PASSWORD not in r.output
    r = run_cli(["chat", "add-user", "bob"], input="pass word 2\npass word 2\n",
                env={"TRIALQA_CHAT__AUTH_FILE": str(path)})
    assert r.exit_code == 0, r.output
    users = UsersFile(path)
    assert users.verify("alice", PASSWORD) and users.verify("bob", "pass word 2")


def test_add_user_errors_are_one_line(tmp_path):
    r = run_cli(["chat", "add-user", "alice", "--password-stdin"], input=PASSWORD + "\n",
                env={"TRIALQA_CHAT__AUTH_FILE": None})
    assert r.exit_code == 2 and r.output.strip() == ("trialqa: error: no users file: give --auth-file FILE or "
                                                     "set TRIALQA_CHAT__AUTH_FILE")
    r = run_cli(["chat", "add-user", "alice", "--auth-file", str(tmp_path / "u"), "--password-stdin"], input="short\n")
    assert r.exit_code == 2 and r.output.strip().startswith("trialqa: error: the password must have")
    assert "Traceback" not in r.output


@pytest.fixture
def no_model(monkeypatch):
    """`trialqa chat` must refuse before it loads anything."""
    from trialqa.assistant import Assistant

    loaded = []
    monkeypatch.setattr(Assistant, "from_settings", classmethod(lambda cls, *a, **k: loaded.append(a) or 1 / 0))
    return loaded


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::"])
def test_chat_refuses_a_network_address_without_login(no_model, host):
    r = run_cli(["chat", "--host", host], env={"TRIALQA_CHAT__AUTH_FILE": None})
    assert r.exit_code == 2, r.output
    line = r.output.strip().splitlines()[-1]
    assert line.startswith(f"trialqa: error: refusing to serve {host} without a login") and "add-user" in line
    assert no_model == []


def test_chat_refuses_a_users_file_without_users(no_model, tmp_path):
    (tmp_path / "users").write_text("# nobody yet\n")
    r = run_cli(["chat", "--host", "0.0.0.0", "--auth-file", str(tmp_path / "users")])
    assert r.exit_code == 2 and "has no user: add one with 'trialqa chat add-user NAME" in r.output
    assert no_model == []


def test_chat_help_lists_add_user():
    r = run_cli(["chat", "--help"])
    assert r.exit_code == 0 and "add-user" in r.output and "--auth-file" in r.output


def fake_assistant(trials: int = 5, backend: str = "llama", base_url: str | None = None, loaded: bool = True):
    settings = Settings(backend=backend, base_url=base_url)
    index = SimpleNamespace(path=Path("indexes/seeds"), trials={f"t{i}": None for i in range(trials)})
    return SimpleNamespace(settings=settings, index=index, _generator=object() if loaded else None)


def test_health_in_process():
    status, body = health(fake_assistant())
    assert status == 200 and body == {"ready": True, "index": {"ready": True, "name": "seeds", "trials": 5},
                                      "backend": {"ready": True, "kind": "in-process", "slots": 1}}
    status, body = health(fake_assistant(loaded=False))
    assert status == 503 and body["backend"]["ready"] is False and body["index"]["ready"] is True
    status, body = health(fake_assistant(trials=0))
    assert status == 503 and body["index"]["ready"] is False


def test_health_with_a_server_that_is_down():
    from test_ui_client import free_port

    status, body = health(fake_assistant(backend="openai", base_url=f"http://127.0.0.1:{free_port()}/v1"), slots=4)
    assert status == 503 and body["backend"] == {"ready": False, "kind": "openai", "slots": 4, "error": "ConnectError"}
