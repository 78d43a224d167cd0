"""Login for `trialqa chat` when it serves more than this machine.

    UsersFile(path)                 the users file: one `NAME:scrypt$N$r$p$SALT$HASH` line per user
      .add(name, password)          add or replace a user (atomic write, mode 600)
      .verify(name, password)       constant-time check; unknown names cost the same work
    LoginGuard(users)               (name, password) -> bool, failed logins rate-limited;
                                    `.check` is its async form, given to Gradio's `auth=`
    is_loopback(host)               127.0.0.0/8, ::1 and "localhost"

Passwords are stored as scrypt hashes (N=2^14, r=8, p=1, 32 bytes) with a random 16-byte salt
per user; nothing reversible is kept. Rate limit: after `FREE_FAILURES` failed logins in a row
for a name, further attempts for that name are refused without checking, for a delay that
doubles with each failure (1 s, 2 s, 4 s ... capped at `MAX_LOCK_S`); a success clears it. All
names together get at most `GLOBAL_FAILURES_PER_MIN` failed checks a minute, so guessing many
names cannot keep the CPU busy hashing either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from trialqa.errors import BadInput, ConfigError

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MIN_PASSWORD = 8
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
HASH_BYTES = 32
FREE_FAILURES = 3
MAX_LOCK_S = 300.0
GLOBAL_FAILURES_PER_MIN = 30


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the chat on this machine."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _hash(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=256 * 1024 * 1024, dklen=HASH_BYTES)


def hash_password(password: str) -> str:
    """`scrypt$N$r$p$SALT$HASH` for `password`, with a fresh random salt."""
    salt = secrets.token_bytes(16)
    digest = _hash(password, salt, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${_b64(salt)}${_b64(digest)}"


@dataclass(frozen=True)
class _Entry:
    salt: bytes
    digest: bytes
    n: int
    r: int
    p: int


def _parse(line: str, where: str) -> tuple[str, _Entry]:
    try:
        name, stored = line.split(":", 1)
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt" or not NAME_RE.fullmatch(name):
            raise ValueError(scheme)
        return name, _Entry(base64.b64decode(salt, validate=True), base64.b64decode(digest, validate=True),
                            int(n), int(r), int(p))
    except ValueError as exc:
        raise ConfigError(f"{where}: not a users-file line (NAME:scrypt$N$r$p$SALT$HASH); "
                          "add users with 'trialqa chat add-user NAME'") from exc


class UsersFile:
    """The users file: read once at load; `add` rewrites it atomically."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path).expanduser()
        self.users: dict[str, _Entry] = {}
        if self.path.exists():
            try:
                text = self.path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"cannot read the users file {self.path}: {exc.strerror}") from exc
            for i, line in enumerate(text.splitlines(), 1):
                if line.strip() and not line.lstrip().startswith("#"):
                    name, entry = _parse(line.strip(), f"{self.path}:{i}")
                    self.users[name] = entry
        # the work of one check, done for unknown names so they take as long as known ones
        self._dummy = _Entry(secrets.token_bytes(16), secrets.token_bytes(HASH_BYTES), **SCRYPT)

    def __len__(self) -> int:
        return len(self.users)

    def add(self, name: str, password: str) -> bool:
        """Add `name` (or give it a new password); True when the name is new."""
        if not NAME_RE.fullmatch(name):
            raise BadInput(f"user name {name!r}: use 1-64 letters, digits, '.', '_', '@' or '-', "
                           "starting with a letter or digit")
        if len(password) < MIN_PASSWORD:
            raise BadInput(f"the password must have at least {MIN_PASSWORD} characters")
        new = name not in self.users
        lines = [line for line in self._lines() if line.split(":", 1)[0] != name]
        lines.append(f"{name}:{hash_password(password)}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        os.replace(tmp, self.path)
        self.users[name] = _parse(lines[-1], str(self.path))[1]
        return new

    def _lines(self) -> list[str]:
        if not self.path.exists():
            return ["# trialqa chat users: NAME:scrypt$N$r$p$SALT$HASH (trialqa chat add-user NAME)"]
        return self.path.read_text(encoding="utf-8").splitlines()

    def verify(self, name: str, password: str) -> bool:
        entry = self.users.get(name)
        known = entry is not None
        entry = entry or self._dummy
        digest = _hash(password, entry.salt, entry.n, entry.r, entry.p)
        return hmac.compare_digest(digest, entry.digest) and known


class LoginGuard:
    """`auth=` for Gradio's launch: (name, password) -> bool, with failures rate-limited."""

    def __init__(self, users: UsersFile, *, clock=time.monotonic) -> None:
        self.users = users
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[int, float]] = {}  # name -> (failures in a row, locked until)
        self._recent: deque[float] = deque()  # times of failed checks, all names

    def __call__(self, name: str, password: str) -> bool:
        name, password = str(name or ""), str(password or "")
        now = self._clock()
        with self._lock:
            count, until = self._failures.get(name, (0, 0.0))
            while self._recent and self._recent[0] < now - 60:
                self._recent.popleft()
            if now < until or len(self._recent) >= GLOBAL_FAILURES_PER_MIN:
                return False  # refused without checking (and without spending a hash on it)
        ok = self.users.verify(name, password)
        with self._lock:
            if ok:
                self._failures.pop(name, None)
                return True
            count, _ = self._failures.get(name, (0, 0.0))
            count += 1
            delay = min(MAX_LOCK_S, 2.0 ** (count - FREE_FAILURES)) if count >= FREE_FAILURES else 0.0
            self._failures[name] = (count, now + delay)
            self._recent.append(now)
            if len(self._failures) > 10_000:  # names nobody retries: forget the oldest
                for stale in list(self._failures)[:5_000]:
                    del self._failures[stale]
        return False

    async def check(self, name: str, password: str) -> bool:
        """The same check off the event loop (a hash takes ~50 ms): what Gradio is given."""
        import asyncio

        return await asyncio.to_thread(self, name, password)

    def locked_for(self, name: str) -> float:
        """Seconds until `name` may try again (0 when it may now)."""
        with self._lock:
            return max(0.0, self._failures.get(name, (0, 0.0))[1] - self._clock())


def load_guard(path: Path | None) -> LoginGuard | None:
    """The login check for a users file; None without one. A file with no user is an error:
    serving it would lock everyone out."""
    if path is None:
        return None
    users = UsersFile(path)
    if not len(users):
        raise ConfigError(f"the users file {users.path} has no user: add one with "
                          f"'trialqa chat add-user NAME --auth-file {users.path}'")
    return LoginGuard(users)
