"""A throwaway server for benchmarks: Daphne over a fresh SQLite database, anonymous clients."""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.servers import free_port, wait_for_port  # noqa: E402


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class BenchServer:
    """``daphne`` on a free port with its own database; ``env`` adds settings."""

    def __init__(self, **env: str) -> None:
        self.dir = tempfile.mkdtemp(prefix="voice-bench-")
        self.port = free_port()
        self.env = {
            **os.environ,
            "VOICE_VAR_DIR": self.dir,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "VOICE_ALLOW_ANONYMOUS": "true",
            "LOG_LEVEL": "WARNING",
            "JWT_ACCESS_MINUTES": "120",
            # One benchmark user opens many sessions from one address.
            "VOICE_MAX_SESSIONS_PER_USER": "10000",
            "VOICE_MAX_SESSIONS_PER_IP": "10000",
            "VOICE_CONNECTIONS_PER_MINUTE_PER_IP": "100000",
            "VOICE_CONNECTIONS_PER_MINUTE_PER_USER": "100000",
            "VOICE_UTTERANCES_PER_MINUTE": "100000",
            "VOICE_AUDIO_SECONDS_PER_DAY": "10000000",
            **env,
        }
        self.env.pop("DATABASE_URL", None)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def __enter__(self) -> BenchServer:
        manage = [sys.executable, "manage.py", "migrate", "--noinput", "-v0"]
        subprocess.run(manage, cwd=ROOT, env=self.env, check=True)
        command = [
            sys.executable,
            "-m",
            "daphne",
            "-v",
            "0",
            "-b",
            "127.0.0.1",
            "-p",
            str(self.port),
        ]
        self.process = subprocess.Popen(
            [*command, "voiceproject.asgi:application"], cwd=ROOT, env=self.env
        )
        wait_for_port(self.port, self.process)
        return self

    def token(self, username: str = "bench") -> str:
        """An access token of a user made for the benchmark (some endpoints require one)."""
        code = (
            "from django.contrib.auth.models import User;"
            "from rest_framework_simplejwt.tokens import AccessToken;"
            f"user, _ = User.objects.get_or_create(username={username!r});"
            "print(AccessToken.for_user(user))"
        )
        manage = [sys.executable, "manage.py", "shell", "-c", code]
        result = subprocess.run(manage, cwd=ROOT, env=self.env, check=True, capture_output=True)
        return result.stdout.decode().split()[-1]

    def wait_closed(self, count: int, timeout: float = 30.0) -> None:
        """Wait until ``count`` sessions are recorded as ended (their counters are final)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with sqlite3.connect(Path(self.dir) / "db.sqlite3") as db:
                ended = db.execute(
                    "select count(*) from voice_voicesession where ended_at is not null"
                ).fetchone()[0]
            if ended >= count:
                return
            time.sleep(0.1)  # polling the database for a condition, bounded by the deadline
        raise TimeoutError(f"only {ended} of {count} sessions were closed")

    def __exit__(self, *exc: object) -> None:
        stop(self.process)


class FakeProcess:
    """The fake of OpenAI in its own process, so it competes with nothing it measures."""

    def __init__(self, **flags: object) -> None:
        self.port = free_port()
        self.flags = [f"--{k.replace('_', '-')}={v}" for k, v in flags.items()]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    api_key = "sk-test"

    def __enter__(self) -> FakeProcess:
        command = [
            sys.executable,
            "-m",
            "devtools.fake_openai",
            f"--port={self.port}",
        ]
        self.process = subprocess.Popen(
            [*command, "--no-record", "--log-level=WARNING", *self.flags],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,  # it prints its address, which the bench already knows
        )
        wait_for_port(self.port, self.process)
        return self

    def __exit__(self, *exc: object) -> None:
        stop(self.process)
