#!/usr/bin/env python3
"""Issue #11 rows of scripts/bench.sh: deploy time against file count for three tools (hf-deploy,
the seed's git CLI flow, huggingface_hub), on loopback and with 25 ms per request; the
10,000-file / 1 GiB scale case with peak RSS (hf-deploy against git CLI + git-lfs); the Space
image build, ours against the seed's Dockerfile, cold and warm (code-only change).

  speed.py --bin BIN --out DIR [--runs N] [--sizes 30,300,3000] [--latencies 0,25]
           [--no-deploys] [--no-scale] [--no-images] [--image-runs N]

Each row's tools run in the same session, alternating order from run to run (run i starts with
tool i mod 3). Every Space gets a fresh name and is deleted after its run, so no app keeps
running. Wall time is measured around the process; peak RSS is `/usr/bin/time -f %M` (for a
shell flow: the largest process it waited for). Writes DIR/speed.json and DIR/speed.md; the plots
are made by plot.py from speed.json. Bounded: every loop has a fixed count; all servers listen on
127.0.0.1; the stand-ins and every container and image this script makes are removed at the end.
"""

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TOKEN = "hf_emulator_write_token_0000"  # the stand-in's fixed, public test token
SECRETS = ["GEMINI_API_KEY=bench-gemini-key-123", "QDRANT_API_KEY=bench-qdrant-key-456"]
EXAMPLE = os.path.join(ROOT, "examples", "rag-chatbot", "backend")
IMAGE_LABEL = "hf-deploy.bench=speed"
TOOLS = ["hf-deploy", "git CLI", "huggingface_hub"]


def log(msg: str) -> None:
    print(f"==> {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- trees -----------------------------------------------------------------------------------


def gen_backend(out: str, files: int) -> None:
    """The example backend plus filler modules, `files` files in all (before scaffolding). Its
    requirements are the example's, whose venv the stand-in's runner keeps in a shared cache."""
    if os.path.isdir(out):
        return
    shutil.copytree(EXAMPLE, out, ignore=shutil.ignore_patterns("tests", ".env*", "__pycache__"))
    existing = sum(len(f) for _, _, f in os.walk(out))
    extra = max(0, files - existing)
    for i in range(extra):
        folder = os.path.join(out, "app", "gen", f"p{i // 100:03d}")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"m{i % 100:02d}.py"), "w") as f:
            f.write(f'"""Filler module {i}."""\n\nVALUE = {i}\n\n\ndef f_{i}(x: int) -> int:\n    return x + VALUE\n')


def gen_scale(out: str) -> None:
    """10,000 files, 1 GiB: ten 50 MiB `.bin` files (Git LFS) and 9,990 files of ~52 KiB."""
    if os.path.isfile(os.path.join(out, ".complete")):
        return
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(EXAMPLE, out, ignore=shutil.ignore_patterns("tests", ".env*", "__pycache__"))
    rng = random.Random(11)
    for i in range(10):
        path = os.path.join(out, "app", "models", f"model{i}.bin")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            for _ in range(50):
                f.write(rng.randbytes(1024 * 1024))
    existing = sum(len(f) for _, _, f in os.walk(out))
    remaining = 10_000 - existing
    small = (1024**3 - 10 * 50 * 1024 * 1024) // remaining
    for i in range(remaining):
        folder = os.path.join(out, "app", "data", f"d{i // 100:03d}")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"f{i % 100:02d}.txt"), "w") as f:
            f.write(rng.randbytes(small // 2).hex())
    open(os.path.join(out, ".complete"), "w").close()


def scaffold(bin_: str, src: str, out: str) -> None:
    if os.path.isdir(out):
        return
    subprocess.run([bin_, "scaffold", src, "--out", out, "--space", "local/bench"], check=True, stdout=subprocess.DEVNULL)
    os.remove(os.path.join(out, ".hf-deploy-scaffold"))
    os.remove(os.path.join(out, ".complete")) if os.path.exists(os.path.join(out, ".complete")) else None


# ---- the stand-in ----------------------------------------------------------------------------


class Hub:
    def __init__(self, bin_: str, work: str, latency_ms: int, runtime: str | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmp = os.path.join(work, f"emu-{latency_ms}")
        os.makedirs(self.tmp, exist_ok=True)
        # The runner's venv cache stays the machine's shared one (as in bench.sh): no pip in timings.
        shared = os.path.join(os.environ.get("TMPDIR", "/tmp"), "hf-hub-emulator-venvs")
        os.makedirs(shared, exist_ok=True)
        link = os.path.join(self.tmp, "hf-hub-emulator-venvs")
        if not os.path.islink(link):
            os.symlink(shared, link)
        env = dict(os.environ, TMPDIR=self.tmp)
        self.log = open(os.path.join(work, f"emulator-{latency_ms}.log"), "w")
        self.proc = subprocess.Popen(
            [bin_, "emulator", "--port", str(self.port), "--latency-ms", str(latency_ms)]
            + (["--runtime", runtime] if runtime else []),
            env=env, stdout=self.log, stderr=self.log, start_new_session=True,
        )
        for _ in range(100):
            try:
                self.api("GET", "/api/whoami-v2")
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise SystemExit(f"the stand-in exited; see {self.log.name}")
                time.sleep(0.1)
        raise SystemExit("the stand-in did not answer within 10 s")

    def api(self, method: str, path: str, body: dict | None = None) -> bytes:
        req = urllib.request.Request(
            self.url + path, method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"authorization": f"Bearer {TOKEN}", "content-type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.read()

    def delete(self, space: str) -> None:
        ns, name = space.split("/")
        try:
            self.api("DELETE", "/api/repos/delete", {"type": "space", "name": name, "organization": ns})
        except OSError as e:
            log(f"warning: deleting {space} failed: {e}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


# ---- measuring -------------------------------------------------------------------------------


def timed(cmd: list[str], env: dict, err_path: str) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of `cmd`; raises on failure."""
    rss_file = err_path + ".rss"
    start = time.perf_counter()
    with open(err_path, "a") as err:
        proc = subprocess.run(["/usr/bin/time", "-o", rss_file, "-f", "%M", *cmd], env=env,
                              stdout=subprocess.DEVNULL, stderr=err)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed (exit {proc.returncode}); see {err_path}")
    with open(rss_file) as f:
        rss = int(f.read().split()[-1])
    return wall, rss


def deploy_cmd(tool: str, args, hub: Hub, space: str, src: str, tree: str, work: str) -> list[str]:
    if tool == "hf-deploy":
        cmd = [args.bin, "deploy", src, "--space", space, "--no-wait", "--json"]
        for s in SECRETS:
            cmd += ["--secret", s]
        return cmd
    if tool == "git CLI":
        return ["bash", os.path.join(HERE, "git_flow.sh"), space, tree, os.path.join(work, "clone"), *SECRETS]
    cmd = [args.python, os.path.join(HERE, "peer_deploy.py"), "--space", space, "--folder", tree]
    for s in SECRETS:
        cmd += ["--secret", s]
    return cmd


def env_for(hub: Hub, work: str) -> dict:
    return dict(os.environ, HF_ENDPOINT=hub.url, HF_TOKEN=TOKEN, HF_HUB_DISABLE_XET="1",
                HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_PROGRESS_BARS="1",
                HF_HOME=os.path.join(work, "hf-home"), NO_COLOR="1", GIT_TERMINAL_PROMPT="0")


def deploy_rows(args, work: str, results: list) -> None:
    sizes = [int(s) for s in args.sizes.split(",")]
    trees = {}
    for n in sizes:
        src = os.path.join(work, f"backend-{n}")
        gen_backend(src, n)
        tree = os.path.join(work, f"tree-{n}")
        scaffold(args.bin, src, tree)
        trees[n] = (src, tree)
    counter = 0
    for latency in [int(x) for x in args.latencies.split(",")]:
        hub = Hub(args.bin, work, latency)
        env = env_for(hub, work)
        try:
            for n in sizes:
                src, tree = trees[n]
                samples = {t: [] for t in TOOLS}
                rss = {t: [] for t in TOOLS}
                for run in range(args.runs + 1):  # run 0: untimed warm-up
                    order = TOOLS[run % 3:] + TOOLS[:run % 3]
                    for tool in order:
                        counter += 1
                        space = f"local/b{counter}-{tool.split()[0].replace('_', '-').lower()}"
                        key = f"first-{n}-{latency}-{tool.split()[0]}"
                        err = os.path.join(work, "out", key + ".err")
                        wall, peak = timed(deploy_cmd(tool, args, hub, space, src, tree, work), env, err)
                        hub.delete(space)
                        if run > 0:
                            samples[tool].append(wall)
                            rss[tool].append(peak)
                for tool in TOOLS:
                    results.append({"row": "first deploy --no-wait", "files": n, "latency_ms": latency,
                                    "tool": tool, "times": samples[tool], "rss_kib": max(rss[tool])})
                    log(f"{n} files, {latency} ms, {tool}: median {statistics.median(samples[tool]):.3f} s")
        finally:
            hub.stop()


def scale_rows(args, work: str, results: list) -> None:
    src = os.path.join(args.scale_dir, "scale-backend")
    log(f"generating the 10,000-file / 1 GiB backend in {src} (once)")
    gen_scale(src)
    tree = os.path.join(args.scale_dir, "scale-tree")
    scaffold(args.bin, src, tree)
    hub = Hub(args.bin, work, 0)
    env = env_for(hub, work)
    try:
        for run in range(args.scale_runs):
            for tool in (["hf-deploy", "git CLI"] if run % 2 == 0 else ["git CLI", "hf-deploy"]):
                space = f"local/scale{run}-{tool.split()[0].lower()}"
                err = os.path.join(work, "out", f"scale-{tool.split()[0]}.err")
                try:
                    wall, peak = timed(deploy_cmd(tool, args, hub, space, src, tree, work), env, err)
                except RuntimeError as e:
                    log(f"scale {tool}: {e}")
                    results.append({"row": "scale 10,000 files / 1 GiB", "tool": tool, "failed": str(e)})
                    hub.delete(space)
                    continue
                hub.delete(space)
                results.append({"row": "scale 10,000 files / 1 GiB", "tool": tool, "times": [wall], "rss_kib": peak})
                log(f"scale {tool}: {wall:.1f} s, peak RSS {peak // 1024} MiB")
    finally:
        hub.stop()
        shutil.rmtree(os.path.join(work, "clone"), ignore_errors=True)


# ---- image builds ----------------------------------------------------------------------------


def docker_cli() -> str:
    """A docker client that builds with BuildKit (see tests/tests/it/space_image.rs)."""
    for candidate in ["docker", "/usr/bin/docker"]:
        ok = subprocess.run([candidate, "buildx", "version"], capture_output=True).returncode == 0 if shutil.which(candidate) else False
        if ok:
            return candidate
    if os.path.exists("/usr/bin/docker"):
        return "/usr/bin/docker"  # Debian's docker.io client has BuildKit built in
    raise SystemExit("no Docker client with BuildKit: install Docker (see the Docker issue's bootstrap)")


def build(docker: str, context: str, dockerfile: str, tag: str, cold: bool) -> float:
    cmd = [docker, "build", "-q", "--label", IMAGE_LABEL, "-f", dockerfile, "-t", tag]
    if cold:
        cmd.append("--no-cache")
        # uv's cache mount survives --no-cache: empty it (only cache mounts; layers stay).
        subprocess.run([docker, "builder", "prune", "-f", "--filter", "type=exec.cachemount"],
                       capture_output=True, env=dict(os.environ, DOCKER_BUILDKIT="1"))
    start = time.perf_counter()
    proc = subprocess.run(cmd + [context], capture_output=True, text=True, env=dict(os.environ, DOCKER_BUILDKIT="1"))
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"docker build of {dockerfile} failed:\n{proc.stderr[-3000:]}")
    return wall


def image_rows(args, work: str, results: list) -> None:
    docker = docker_cli()
    ours = os.path.join(work, "image-ours")
    seed = os.path.join(work, "image-seed")
    shutil.rmtree(ours, ignore_errors=True)
    shutil.rmtree(seed, ignore_errors=True)
    scaffold(args.bin, os.path.join(HERE, "seed-backend"), ours)
    shutil.copytree(os.path.join(HERE, "seed-backend"), seed)
    shutil.copy(os.path.join(HERE, "Dockerfile.seed"), os.path.join(seed, "Dockerfile"))
    kinds = {"ours (hf-deploy scaffold)": ours, "seed's Dockerfile": seed}
    times = {(k, c): [] for k in kinds for c in ("cold", "warm")}
    tags = []
    try:
        for run in range(args.image_runs):
            order = list(kinds) if run % 2 == 0 else list(reversed(kinds))
            for kind in order:
                context = kinds[kind]
                tag = f"hf-deploy-bench-{'ours' if context == ours else 'seed'}:{os.getpid()}"
                tags.append(tag)
                cold = build(docker, context, os.path.join(context, "Dockerfile"), tag, cold=True)
                with open(os.path.join(context, "app", "main.py"), "a") as f:
                    f.write(f"\n# code-only change {run}-{time.time_ns()}\n")
                warm = build(docker, context, os.path.join(context, "Dockerfile"), tag, cold=False)
                times[(kind, "cold")].append(cold)
                times[(kind, "warm")].append(warm)
                log(f"image {kind}: cold {cold:.1f} s, warm {warm:.1f} s")
        for (kind, cache), values in times.items():
            results.append({"row": f"image build, {cache}", "tool": kind, "times": values})
    finally:
        ids = subprocess.run([docker, "images", "-q", "--filter", f"label={IMAGE_LABEL}"],
                             capture_output=True, text=True).stdout.split()
        for image in sorted(set(tags)) + ids:
            subprocess.run([docker, "rmi", "-f", image], capture_output=True)


# ---- report ----------------------------------------------------------------------------------


def fmt(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def markdown(results: list) -> str:
    lines = ["| row | files | latency | tool | runs | median | min | peak RSS | vs git CLI / seed |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "failed" in r:
            lines.append(f"| {r['row']} | | | {r['tool']} | - | FAILED | | | {r['failed'][:80]} |")
            continue
        med = statistics.median(r["times"])
        peer = None
        for p in results:
            if p.get("times") and p["row"] == r["row"] and p.get("files") == r.get("files") \
                    and p.get("latency_ms") == r.get("latency_ms") and p["tool"] in ("git CLI", "seed's Dockerfile"):
                peer = statistics.median(p["times"])
        ratio = f"{med / peer:.2f}x" if peer else ""
        rss = f"{r['rss_kib'] // 1024} MiB" if "rss_kib" in r else ""
        latency = f"{r['latency_ms']} ms" if "latency_ms" in r else ""
        lines.append(f"| {r['row']} | {r.get('files', '')} | {latency} | {r['tool']} | {len(r['times'])} | "
                     f"{fmt(med)} | {fmt(min(r['times']))} | {rss} | {ratio} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--python", default=os.path.join(ROOT, ".venv", "bin", "python"))
    parser.add_argument("--runs", type=int, default=3, choices=range(1, 21))
    parser.add_argument("--sizes", default="30,300,3000")
    parser.add_argument("--latencies", default="0,25")
    parser.add_argument("--scale-runs", type=int, default=1, choices=range(1, 6))
    parser.add_argument("--scale-dir", default=None, help="where the 1 GiB backend is kept (default: OUT)")
    parser.add_argument("--image-runs", type=int, default=2, choices=range(1, 11))
    parser.add_argument("--no-deploys", action="store_true")
    parser.add_argument("--no-scale", action="store_true")
    parser.add_argument("--no-images", action="store_true")
    args = parser.parse_args()
    args.scale_dir = args.scale_dir or args.out
    work = os.path.join(args.out, "speed-work")
    shutil.rmtree(os.path.join(work, "out"), ignore_errors=True)
    os.makedirs(os.path.join(work, "out"), exist_ok=True)
    results: list = []
    path = os.path.join(args.out, "speed.json")
    # Rows of the sections skipped this time are kept from the previous results.
    ran = {name for name, skip in [("first", args.no_deploys), ("image", args.no_images),
                                   ("scale", args.no_scale)] if not skip}
    kept: list = []
    if os.path.exists(path):
        with open(path) as f:
            kept = [r for r in json.load(f)["results"] if r["row"].split()[0] not in ran]

    def save() -> None:
        with open(path, "w") as f:
            json.dump({"results": kept + results, "argv": sys.argv[1:]}, f, indent=1)

    try:
        if not args.no_deploys:
            deploy_rows(args, work, results)
            save()
        if not args.no_images:
            image_rows(args, work, results)
            save()
        if not args.no_scale:
            scale_rows(args, work, results)
            save()
    finally:
        save()
        with open(os.path.join(args.out, "speed.md"), "w") as f:
            f.write(markdown(kept + results))
    print(markdown(kept + results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
