#!/usr/bin/env python3
"""Generate the synthetic "large" FastAPI backend used by scripts/bench.sh.

Layout (deterministic: the same bytes on every run, so redeploys see no change):

  <out>/app/...                 a copy of the example backend's app/ (the real FastAPI app)
  <out>/app/gen/p00..p49/s0..s9/m00..m09.py   5,000 small Python modules in nested packages
                                 (with their __init__.py files)
  <out>/app/static/model.bin    a 3 MiB binary asset (shipped through Git LFS)
  <out>/data/...                20,000 files excluded by `.gitignore` (must never be shipped)
  <out>/requirements.txt        the example backend's requirements (same venv for the stand-in)
  <out>/.gitignore              ignores data/

Usage: gen_large_backend.py EXAMPLE_BACKEND OUT_DIR
Bounded: every loop below has a fixed count.
"""

import os
import random
import shutil
import sys

PACKAGES = 50
SUBPACKAGES = 10
MODULES = 10  # 50 * 10 * 10 = 5,000 modules
ASSET_BYTES = 3 * 1024 * 1024
DATA_DIRS = 100
DATA_FILES_PER_DIR = 200  # 100 * 200 = 20,000 ignored files


def write(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def module_source(p: int, s: int, m: int) -> bytes:
    name = f"p{p:02d}.s{s}.m{m:02d}"
    lines = [
        f'"""Generated module {name} (benchmark filler)."""',
        "",
        "from __future__ import annotations",
        "",
        f"NAME = {name!r}",
        "",
        "",
        f"def compute_{p:02d}_{s}_{m:02d}(values: list[int]) -> int:",
        '    """Return a checksum of `values`."""',
        "    total = 0",
        "    for i, v in enumerate(values):",
        f"        total = (total * 31 + v + i + {p * 100 + s * 10 + m}) % 1_000_003",
        "    return total",
        "",
        "",
        f"class Handler{p:02d}{s}{m:02d}:",
        '    """A small class so the file looks like real code."""',
        "",
        "    def __init__(self, prefix: str = NAME) -> None:",
        "        self.prefix = prefix",
        "",
        "    def describe(self) -> str:",
        '        return f"{self.prefix}: generated"',
        "",
    ]
    return ("\n".join(lines) + "\n").encode()


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: gen_large_backend.py EXAMPLE_BACKEND OUT_DIR", file=sys.stderr)
        return 2
    example, out = sys.argv[1], sys.argv[2]
    if not os.path.isdir(os.path.join(example, "app")):
        print(f"error: `{example}` has no app/ folder", file=sys.stderr)
        return 2
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    shutil.copytree(os.path.join(example, "app"), os.path.join(out, "app"))
    shutil.copy(os.path.join(example, "requirements.txt"), os.path.join(out, "requirements.txt"))
    write(os.path.join(out, ".gitignore"), b"data/\n__pycache__/\n*.pyc\n.env\n")

    gen = os.path.join(out, "app", "gen")
    write(os.path.join(gen, "__init__.py"), b'"""Generated packages (benchmark filler)."""\n')
    for p in range(PACKAGES):
        pdir = os.path.join(gen, f"p{p:02d}")
        write(os.path.join(pdir, "__init__.py"), b"")
        for s in range(SUBPACKAGES):
            sdir = os.path.join(pdir, f"s{s}")
            write(os.path.join(sdir, "__init__.py"), b"")
            for m in range(MODULES):
                write(os.path.join(sdir, f"m{m:02d}.py"), module_source(p, s, m))

    rng = random.Random(20261124)
    write(os.path.join(out, "app", "static", "model.bin"), rng.randbytes(ASSET_BYTES))

    for d in range(DATA_DIRS):
        ddir = os.path.join(out, "data", f"d{d:03d}")
        os.makedirs(ddir)
        for i in range(DATA_FILES_PER_DIR):
            with open(os.path.join(ddir, f"row{i:03d}.json"), "w") as f:
                f.write(f'{{"d": {d}, "i": {i}}}\n')
    return 0


if __name__ == "__main__":
    sys.exit(main())
