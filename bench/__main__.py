"""`make bench`: run every benchmark script in this folder, one after another.

python -m bench [name ...]     (names without .py; default: all)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
HELPERS = {"__init__", "__main__", "server", "abuse_attacks", "abuse_client"}


def main() -> int:
    scripts = sorted(p for p in HERE.glob("*.py") if p.stem not in HELPERS)
    names = [script.stem for script in scripts]
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run benchmark scripts; each also runs alone as python bench/NAME.py.",
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"{', '.join(names)}; default: all"
    )
    chosen = set(parser.parse_args().names)
    if unknown := chosen.difference(names):
        parser.error(f"no such benchmark: {', '.join(sorted(unknown))}")
    failed = []
    for script in scripts:
        if chosen and script.stem not in chosen:
            continue
        print(f"\n=== {script.stem} ===", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode != 0:
            failed.append(script.stem)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
