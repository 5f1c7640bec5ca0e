#!/usr/bin/env python3
"""Issue #11 goal 3: wall time of a no-change redeploy (`--no-wait`) on loopback.

Starts the stand-in (`--runtime scripted`: no app to build), deploys the example backend once with
two secrets, then times `--runs` redeploys of the same tree (each must report `changed: false`).

    python3 scripts/bench/redeploy_time.py --bin target/release/hf-deploy --out target/bench --runs 5
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import speed  # noqa: E402  (the stand-in and environment helpers)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--runs", type=int, default=5, choices=range(1, 21))
    args = parser.parse_args()
    work = os.path.join(os.path.abspath(args.out), "redeploy-work")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    src = os.path.join(speed.ROOT, "examples", "rag-chatbot", "backend")
    hub = speed.Hub(args.bin, work, 0, runtime="scripted")
    cmd = [args.bin, "deploy", src, "--space", "local/redeploy", "--no-wait", "--json"]
    for secret in speed.SECRETS:
        cmd += ["--secret", secret]
    times = []
    try:
        env = speed.env_for(hub, work)
        for run in range(args.runs + 1):
            start = time.perf_counter()
            proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            wall = time.perf_counter() - start
            if proc.returncode != 0:
                sys.stderr.write(proc.stderr.decode(errors="replace"))
                return 1
            report = json.loads(proc.stdout)
            if run == 0:
                continue  # the first deploy creates the Space
            if report["changed"] or report["secrets_set"]:
                print(f"run {run}: the redeploy changed something: {report}", file=sys.stderr)
                return 1
            times.append(wall)
            speed.log(f"no-change redeploy {run}: {wall * 1000:.0f} ms")
    finally:
        hub.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"runs_ms": [round(x * 1000) for x in times],
                      "median_ms": round(statistics.median(times) * 1000),
                      "min_ms": round(min(times) * 1000)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
