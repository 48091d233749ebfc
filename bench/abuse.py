"""Issue 14's attacks, run from outside against one real Daphne process each: what it answered.

    python bench/abuse.py        (or python -m bench abuse; about 1-2 minutes)

One row per attack: the answers counted (error codes, close codes, HTTP statuses), the server
process's CPU seconds (utime + stime from /proc/<pid>/stat) and its RSS before and after
(VmRSS), and PASS/FAIL against the words of PROTOCOL.md section 7. The servers run with the
contract's default limits (the benchmark server's loosened ones are put back), anonymous
clients refused; the ephemeral-key attack lowers the concurrent sessions per user to 5.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.abuse_attacks import (  # noqa: E402
    Outcome,
    Target,
    auth_waiters,
    config_storm,
    junk_flood,
    message_flood,
    realtime_storm,
    strict_types,
    surrogates,
    unauthenticated,
)
from bench.abuse_client import JSON_PATH, Client, render  # noqa: E402
from bench.server import ROOT, BenchServer  # noqa: E402
from devtools.fake_openai.openai_server import FakeOpenAI  # noqa: E402

# BenchServer loosens these for load benchmarks; an attack meets the defaults a fresh install has.
LOOSENED = (
    "VOICE_MAX_SESSIONS_PER_USER",
    "VOICE_MAX_SESSIONS_PER_IP",
    "VOICE_CONNECTIONS_PER_MINUTE_PER_IP",
    "VOICE_CONNECTIONS_PER_MINUTE_PER_USER",
    "VOICE_UTTERANCES_PER_MINUTE",
    "VOICE_AUDIO_SECONDS_PER_DAY",
)
USERS = ("flood", "text", "types", "storm", "victim", "bystander", "keys")
KEY_SESSIONS = 5  # concurrent sessions per user on the ephemeral-key server

Attack = Callable[[Target], Awaitable[Outcome]]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return float(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def contract_server(**env: str) -> BenchServer:
    server = BenchServer(VOICE_ALLOW_ANONYMOUS="false", LOG_LEVEL="CRITICAL", **env)
    for name in LOOSENED:
        if name not in env:
            server.env.pop(name, None)
    return server


@contextmanager
def server_log(path: Path) -> Iterator[None]:
    """Processes started inside write their stderr to ``path``: the table is this run's output."""
    saved = os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def make_users(server: BenchServer) -> dict[str, str]:
    """The attack's users (password: the name twice) and an access token of each."""
    code = (
        "from django.contrib.auth.models import User;"
        "from rest_framework_simplejwt.tokens import AccessToken\n"
        f"for name in {USERS!r}:\n"
        "    user, _ = User.objects.get_or_create(username=name)\n"
        "    user.set_password(name * 2); user.save()\n"
        "    print(name, AccessToken.for_user(user))"
    )
    manage = [sys.executable, "manage.py", "shell", "-c", code]
    result = subprocess.run(manage, cwd=ROOT, env=server.env, check=True, capture_output=True)
    pairs = [line.split() for line in result.stdout.decode().splitlines()]
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2 and pair[0] in USERS}


def post(url: str, body: dict[str, str], token: str | None = None) -> tuple[int, bool]:
    """POST JSON: the status, and whether a Retry-After came with it."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Retry-After") is not None
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Retry-After") is not None


async def password_guessing(target: Target) -> Outcome:
    """30 wrong passwords for one username; then another user signs in."""
    url = f"{target.http_url}/api/auth/token/"
    answers = [
        await asyncio.to_thread(post, url, {"username": "victim", "password": f"guess{n}"})
        for n in range(30)
    ]
    other, _ = await asyncio.to_thread(
        post, url, {"username": "bystander", "password": "bystander" * 2}
    )
    heard = Counter(f"HTTP {status}" for status, _ in answers)
    statuses = [status for status, _ in answers]
    told_when = all(retry for status, retry in answers if status == 429)
    passed = statuses == [401] * 10 + [429] * 20 and told_when and other == 200
    return Outcome(heard, passed, f"then another user: HTTP {other}")


async def key_minting(target: Target) -> Outcome:
    """Ephemeral keys past the concurrent sessions of one user, then a socket of that user."""
    url, token = f"{target.http_url}/api/realtime/session", target.tokens["keys"]
    answers = [await asyncio.to_thread(post, url, {}, token) for _ in range(KEY_SESSIONS + 3)]
    heard = Counter(f"HTTP {status}" for status, _ in answers)
    client = await Client.open(target.ws_url, JSON_PATH, token)
    refused = await client.wait_closed(2.0) == 4429 or client.ws is None
    heard += client.heard
    await client.close()
    statuses = [status for status, _ in answers]
    passed = statuses == [200] * KEY_SESSIONS + [429] * 3 and refused
    figures = "then a socket: " + ("refused" if refused else "admitted")
    return Outcome(heard, passed, figures)


ROWS: list[tuple[str, str, Attack]] = [
    ("message flood 5 s (JSON)", "one rate_limited, 4429 after 2 s", message_flood),
    ("junk frames 5 s (/voice-ws)", "bad_frame <=1/s, rate_limited, 4429", junk_flood),
    ("lone surrogate in 9 fields", "bad_message, connection stays", surrogates),
    ("string/bool for number", "bad_message", strict_types),
    ("unauthenticated first message", "close 4401", unauthenticated),
    ("40 sockets waiting for auth", "20 wait per IP, the rest 4429", auth_waiters),
    ("30 wrong passwords, one user", "10 x 401, then 429 + Retry-After", password_guessing),
    ("1000 configs, local engine", "RSS growth < 5 MiB", config_storm),
]
REALTIME_ROWS: list[tuple[str, str, Attack]] = [
    ("300 same configs, Realtime", "no engine work: <=1 session.update", realtime_storm),
    (
        f"{KEY_SESSIONS + 3} keys, {KEY_SESSIONS} sessions/user",
        "keys are sessions: 429",
        key_minting,
    ),
]


async def run_rows(
    server: BenchServer, rows: list[tuple[str, str, Attack]], **extra: object
) -> None:
    assert server.process is not None
    pid = server.process.pid
    target = Target(
        server.ws_url,
        f"http://127.0.0.1:{server.port}",
        await asyncio.to_thread(make_users, server),
        lambda: rss_kib(pid),
        dict(extra),
    )
    for name, contract, attack in rows:
        cpu, rss = cpu_seconds(pid), rss_kib(pid)
        outcome = await attack(target)
        cpu, after = cpu_seconds(pid) - cpu, rss_kib(pid)
        rss = outcome.rss_from or rss
        verdict = "PASS" if outcome.passed else "FAIL"
        print(
            f"{name:32} {verdict:4} {cpu:6.2f} {rss / 1024:7.1f} {after / 1024:7.1f}"
            f"  {render(outcome.heard)}" + (f"; {outcome.figures}" if outcome.figures else ""),
            flush=True,
        )
        print(f"{'':32} {'':4} contract: {contract}", flush=True)


def main() -> None:
    print(f"{'attack':32} {'':4} {'CPU s':>6} {'RSS MiB':>7} {'after':>7}  answered")
    server = contract_server(VOICE_ENGINE="local")
    with server_log(Path(server.dir) / "server.log"), server:
        asyncio.run(run_rows(server, ROWS))
    logs = [Path(server.dir) / "server.log"]
    with FakeOpenAI() as fake:
        env = {
            "VOICE_ENGINE": "openai-realtime",
            "OPENAI_API_KEY": fake.api_key,
            "OPENAI_BASE_URL": fake.base_url,
            "VOICE_MAX_SESSIONS_PER_USER": str(KEY_SESSIONS),
        }
        server = contract_server(**env)
        logs.append(Path(server.dir) / "server.log")

        def session_updates() -> int:
            return sum(e.type == "session.update" for e in fake.records.ws_events)

        with server_log(logs[-1]), server:
            asyncio.run(run_rows(server, REALTIME_ROWS, session_updates=session_updates))
    print(f"the servers' logs: {', '.join(map(str, logs))}")


if __name__ == "__main__":
    main()
