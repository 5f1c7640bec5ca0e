#!/usr/bin/env python3
"""Issue #11 goal 4: from the moment the app answers healthy to the moment hf-deploy reports it.

Starts the stand-in (`hf-deploy emulator --runtime process`: the app really runs, from the shared
venv cache), runs `hf-deploy deploy` *with* waiting on the example backend, and meanwhile polls the
Space's health URL every 20 ms through the stand-in's proxy. The latency of a run is the time from
the first healthy answer this poller saw to hf-deploy's exit (its report printed; the CORS check
after health included). Each run deploys a fresh Space, deleted after.

    python3 scripts/bench/verify_latency.py --bin target/release/hf-deploy --out target/bench --runs 3
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import speed  # noqa: E402  (the stand-in and environment helpers)

HEALTH = "/api/health"


def health_poller(hub: "speed.Hub", space: str, stop: threading.Event, seen: dict) -> None:
    host = None
    while not stop.is_set() and host is None:
        try:
            info = json.loads(hub.api("GET", f"/api/spaces/{space}"))
            host = info.get("host")
        except OSError:
            pass
        if host is None:
            time.sleep(0.02)
    while not stop.is_set():
        try:
            with urllib.request.urlopen(host.rstrip("/") + HEALTH, timeout=2) as r:
                if r.status == 200:
                    seen["healthy"] = time.perf_counter()
                    return
        except (OSError, urllib.error.HTTPError):
            pass
        time.sleep(0.02)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--runs", type=int, default=3, choices=range(1, 11))
    args = parser.parse_args()
    work = os.path.join(os.path.abspath(args.out), "verify-work")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    src = os.path.join(speed.ROOT, "examples", "rag-chatbot", "backend")
    hub = speed.Hub(args.bin, work, 0, runtime="process")
    latencies = []
    try:
        env = speed.env_for(hub, work)
        for run in range(args.runs):
            space = f"local/verify{run}"
            stop = threading.Event()
            seen: dict = {}
            poller = threading.Thread(target=health_poller, args=(hub, space, stop, seen))
            poller.start()
            cmd = [args.bin, "deploy", src, "--space", space, "--json", "--timeout", "600",
                   "--allow-degraded"]
            err_path = os.path.join(work, f"deploy-{run}.log")
            with open(err_path, "w") as err:
                proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=err)
            done = time.perf_counter()
            stop.set()
            poller.join()
            if proc.returncode != 0 or "healthy" not in seen:
                print(f"run {run}: deploy exit {proc.returncode}, healthy seen: {'healthy' in seen}",
                      file=sys.stderr)
                with open(err_path) as f:
                    sys.stderr.write(f.read()[-3000:])
                sys.stderr.write(proc.stdout.decode(errors="replace")[-3000:])
                return 1
            latency = done - seen["healthy"]
            latencies.append(latency)
            speed.log(f"run {run}: healthy -> reported {latency * 1000:.0f} ms")
            hub.delete(space)
    finally:
        hub.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"runs_ms": [round(x * 1000) for x in latencies],
                      "median_ms": round(statistics.median(latencies) * 1000),
                      "max_ms": round(max(latencies) * 1000)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
