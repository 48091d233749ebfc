"""`make bench`: run every benchmark script in this folder, one after another.

python -m bench [name ...]     (names without .py; default: all)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
HELPERS = {"__init__", "__main__", "server"}


def main() -> int:
    chosen = set(sys.argv[1:])
    scripts = sorted(p for p in HERE.glob("*.py") if p.stem not in HELPERS)
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
