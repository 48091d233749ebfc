"""A throwaway server for benchmarks: Daphne over a fresh SQLite database, anonymous clients."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import free_port, wait_for_port  # noqa: E402


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

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


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
        command = [sys.executable, "-m", "tests.fakes.openai_server", f"--port={self.port}"]
        self.process = subprocess.Popen(
            [*command, "--no-record", "--log-level=WARNING", *self.flags], cwd=ROOT
        )
        wait_for_port(self.port, self.process)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
