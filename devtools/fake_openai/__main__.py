"""Serve the fake OpenAI in the foreground: ``python -m devtools.fake_openai --port 8765``.

Every ``FakeConfig`` field of a plain type is an option (``--reply``, ``--stt-delay-ms``, ...);
the base URL is printed first, and SIGTERM or Ctrl-C stops the server.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import threading

from .config import FakeConfig
from .openai_server import FakeOpenAI


def _config_from(args: argparse.Namespace) -> FakeConfig:
    """FakeConfig from the --kebab-case options that were given."""
    values = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(FakeConfig)
        if getattr(args, f.name, None) is not None
    }
    return FakeConfig(**values)


def main(argv: list[str] | None = None) -> None:
    """Serve in the foreground until interrupted; prints the base URL first."""
    parser = argparse.ArgumentParser(description="Fake OpenAI server (REST + Realtime WS).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default="sk-test")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--no-record", action="store_true", help="keep no recordings (benchmarks)")
    for f in dataclasses.fields(FakeConfig):
        if f.type in ("str", "float", "int", "int | None"):
            kind = str if f.type == "str" else float if f.type == "float" else int
            parser.add_argument("--" + f.name.replace("_", "-"), dest=f.name, type=kind)
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    fake = FakeOpenAI(
        host=args.host, port=args.port, api_key=args.api_key, config=_config_from(args)
    )
    fake.records.recording = not args.no_record
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    fake.start()
    print(fake.base_url, flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
