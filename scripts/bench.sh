#!/usr/bin/env bash
# The project's benchmarks (README: "Benchmarks"; numbers and their reading in BENCHMARKS.md).
#
#   scripts/bench.sh [--runs N] [--no-build] [--no-hyperfine] [--only-speed] [--speed-args "..."]
#
# Builds the release binary if needed, starts the local Hub stand-in on a free 127.0.0.1 port and
# measures, N times each (default 5, after one untimed warm-up run), wall time (median, min) and peak
# RSS of:
#   1. `hf-deploy scaffold` of the example backend and of a generated large backend
#      (5,000 modules in nested packages, a 3 MiB binary, 20,000 files ignored by .gitignore),
#      next to a `cp -r` of the scaffolded tree as the machine's file-writing baseline;
#   2. a first deploy (`--no-wait`, a fresh Space each run), a no-change redeploy and a dry run;
#   3. the same first deploy and redeploy done with the official `huggingface_hub` client
#      (scripts/bench/peer_deploy.py: create_repo + upload_folder + 2 secrets + 1 variable);
#   4. first deploy and redeploy of the large backend, hf-deploy and the peer.
# Timing uses hyperfine when installed (installed with apt-get when running as root), else a bash
# loop with `date +%s%N`; peak RSS comes from `/usr/bin/time -f %M`. Commits are counted in the
# stand-in's bare repos. Results: stdout and target/bench/results.md (raw data in target/bench/work).
# --no-hyperfine forces the bash loop; --no-build uses target/release/hf-deploy as it is.
#
# Then the issue #11 rows (scripts/bench/speed.py, plots by scripts/bench/plot.py into docs/bench/):
#   5. first deploy (`--no-wait`) against file count (30, 300, 3,000), hf-deploy against the git CLI
#      flow (scripts/bench/git_flow.sh) and huggingface_hub, alternating order, on loopback and with
#      25 ms per request (`hf-deploy emulator --latency-ms 25`);
#   6. the Space image build of a seed-shaped backend, ours against the seed's Dockerfile, cold and
#      warm (a code-only change), on the Docker engine (BuildKit);
#   7. the 10,000-file / 1 GiB scale case (ten 50 MiB LFS files): time and peak RSS, hf-deploy
#      against git CLI + git-lfs.
# --only-speed runs only these; --speed-args passes options to speed.py (e.g. "--runs 5").
#
# Bounded: every loop has a fixed count; everything stays on 127.0.0.1; the script stops the
# processes it started (the stand-in, and through it the apps it ran). Not part of CI.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

orig_args="$*"
runs=5
build=1
use_hyperfine=1
only_speed=0
speed_args=""
while (($# > 0)); do
    case "$1" in
    --runs)
        [[ "${2:-}" =~ ^[1-9][0-9]?$ ]] || { echo "error: --runs needs a number from 1 to 99" >&2; exit 2; }
        runs="$2"
        shift 2
        ;;
    --no-build) build=0; shift ;;
    --no-hyperfine) use_hyperfine=0; shift ;;
    --only-speed) only_speed=1; shift ;;
    --speed-args)
        [[ $# -ge 2 ]] || { echo "error: --speed-args needs a value" >&2; exit 2; }
        speed_args="$2"
        shift 2
        ;;
    -h | --help) sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument \`$1\` (try --help)" >&2; exit 2 ;;
    esac
done

out_dir="$root/target/bench"
work="$out_dir/work"
bin="$root/target/release/hf-deploy"
py="$root/.venv/bin/python"
example="$root/examples/rag-chatbot/backend"
large="$out_dir/large-backend"
results="$out_dir/results.md"

log() { printf '==> %s\n' "$*" >&2; }

# ---- tools ---------------------------------------------------------------------------------------
apt_install() {
    # Only as root, only the named Debian package; a failure just means "use the fallback".
    [[ "$(id -u)" == 0 ]] || return 1
    command -v apt-get >/dev/null || return 1
    log "installing Debian package $1"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null 2>&1 && return 0
    apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null 2>&1
}
have_hyperfine=0
if ((use_hyperfine)); then
    command -v hyperfine >/dev/null || apt_install hyperfine || true
    command -v hyperfine >/dev/null && have_hyperfine=1
fi
if [[ ! -x /usr/bin/time ]]; then apt_install time || true; fi
if [[ ! -x /usr/bin/time ]]; then
    echo "error: /usr/bin/time is missing (Debian package \`time\`); install it to measure peak RSS" >&2
    exit 1
fi
for tool in git curl jq python3; do
    command -v "$tool" >/dev/null || { echo "error: \`$tool\` is required" >&2; exit 1; }
done
if [[ ! -x "$py" ]] || ! "$py" -c 'import huggingface_hub' 2>/dev/null; then
    log "no .venv with huggingface_hub: running scripts/bootstrap.sh"
    bash scripts/bootstrap.sh
fi
if ((build)); then
    log "cargo build --release -p hf-deploy-action (no-op when up to date)"
    cargo build --release -p hf-deploy-action
fi
[[ -x "$bin" ]] || { echo "error: $bin is missing (drop --no-build)" >&2; exit 1; }

# Issue #11 rows: speed.py measures, plot.py draws (matplotlib in its own venv under target/bench).
run_speed() {
    local plot_venv="$root/target/bench/plot-venv"
    if [[ ! -x "$plot_venv/bin/python" ]] || ! "$plot_venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
        log "installing matplotlib into $plot_venv"
        python3 -m venv "$plot_venv"
        "$plot_venv/bin/pip" install -q "matplotlib>=3.8,<4"
    fi
    log "issue #11 rows: scripts/bench/speed.py ${speed_args}"
    # shellcheck disable=SC2086 # speed_args holds several options
    "$py" scripts/bench/speed.py --bin "$bin" --out "$root/target/bench" $speed_args
    "$plot_venv/bin/python" scripts/bench/plot.py "$root/target/bench/speed.json" "$root/docs/bench"
    cp "$root/target/bench/speed.md" "$root/docs/bench/speed.md"
    log "tables: docs/bench/speed.md; plots: docs/bench/*.png"
}
if ((only_speed)); then
    run_speed
    exit 0
fi

# ---- work area, large backend --------------------------------------------------------------------
rm -rf "$work"
mkdir -p "$work"/{state,rss,times,out,emu-tmp,hf-home}
stamp="$(sha256sum scripts/bench/gen_large_backend.py "$example/requirements.txt" | sha256sum | cut -c1-16)"
if [[ "$(cat "$large.stamp" 2>/dev/null)" != "$stamp" ]]; then
    log "generating the large backend in $large"
    python3 scripts/bench/gen_large_backend.py "$example" "$large"
    echo "$stamp" >"$large.stamp"
fi

# ---- the Hub stand-in ----------------------------------------------------------------------------
# Its TMPDIR is ours, so its bare repos are found under $work/emu-tmp; the venv cache of its Space
# runtime stays the shared one (keyed by requirements, built atomically) so no pip runs in our timing.
shared_venvs="${TMPDIR:-/tmp}/hf-hub-emulator-venvs"
mkdir -p "$shared_venvs"
ln -s "$shared_venvs" "$work/emu-tmp/hf-hub-emulator-venvs"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
TMPDIR="$work/emu-tmp" setsid "$bin" emulator --port "$port" >"$work/emulator.log" 2>&1 &
emu_pid=$!

stop_all() {
    local i
    if [[ -n "${emu_pid:-}" ]] && kill -0 "$emu_pid" 2>/dev/null; then
        kill -INT "$emu_pid" 2>/dev/null || true
        for i in $(seq 1 50); do
            kill -0 "$emu_pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL -- "-$emu_pid" 2>/dev/null || true
    fi
    emu_pid=""
    # The apps the stand-in ran have their own process groups and their cwd under $work: if any
    # outlived it, stop them by id.
    local p cwd
    for p in /proc/[0-9]*; do
        cwd="$(readlink "$p/cwd" 2>/dev/null || true)"
        if [[ "$cwd" == "$work"/* ]]; then
            echo "warning: stopping leftover process ${p#/proc/} (cwd $cwd)" >&2
            kill -KILL "${p#/proc/}" 2>/dev/null || true
        fi
    done
}
trap stop_all EXIT
trap 'exit 130' INT TERM

export HF_ENDPOINT="http://127.0.0.1:$port"
export HF_TOKEN="hf_emulator_write_token_0000" # the stand-in's fixed public test token
export HF_HUB_DISABLE_XET=1 HF_HUB_DISABLE_TELEMETRY=1 HF_HUB_DISABLE_PROGRESS_BARS=1
export HF_HOME="$work/hf-home" NO_COLOR=1
export BENCH_WORK="$work" BENCH_EMU_TMP="$work/emu-tmp" BENCH_BIN="$bin"
ready=0
for i in $(seq 1 100); do
    if curl -fsS -o /dev/null "$HF_ENDPOINT/api/whoami-v2" -H "authorization: Bearer $HF_TOKEN" 2>/dev/null; then
        ready=1
        break
    fi
    kill -0 "$emu_pid" 2>/dev/null || { cat "$work/emulator.log" >&2; echo "error: the stand-in exited" >&2; exit 1; }
    sleep 0.1
done
((ready)) || { cat "$work/emulator.log" >&2; echo "error: the stand-in did not answer within 10 s" >&2; exit 1; }
log "Hub stand-in at $HF_ENDPOINT (pid $emu_pid)"

hook="bash $root/scripts/bench/hook.sh"
q() { printf '%q' "$1"; }
secrets_args="--secret GEMINI_API_KEY=bench-gemini-key-123 --secret QDRANT_API_KEY=bench-qdrant-key-456"
variable_args="--variable LOG_LEVEL=info"

# Untimed warm-up: one full deploy that waits for the build, so the stand-in's venv for the
# example's requirements exists before anything is timed (its first build may use PyPI).
log "warm-up: full deploy of the example (waits for the build; fills the stand-in's venv cache)"
warm_start=$(date +%s)
if ! "$bin" deploy "$example" --space local/bench-warmup --allow-degraded --timeout 300 --json \
    >"$work/out/warmup.json" 2>"$work/out/warmup.err"; then
    echo "warning: the warm-up deploy failed (exit $?); see $work/out/warmup.err" >&2
fi
log "warm-up took $(($(date +%s) - warm_start)) s, stage $(jq -r '.stage // "?"' "$work/out/warmup.json" 2>/dev/null || echo '?')"
"$bin" delete --space local/bench-warmup --yes >/dev/null 2>&1 || echo "warning: deleting local/bench-warmup failed" >&2

# The peer uploads exactly what hf-deploy would push: scaffold each backend once.
"$bin" scaffold "$example" --out "$work/peer-example" --space local/bench >/dev/null
"$bin" scaffold "$large" --out "$work/peer-large" --space local/bench >/dev/null
# `.hf-deploy-scaffold` marks a scaffold output folder; hf-deploy does not push it, so neither does the peer.
rm -f "$work/peer-example/.hf-deploy-scaffold" "$work/peer-large/.hf-deploy-scaffold"

# ---- measuring -----------------------------------------------------------------------------------
declare -a rows=()
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
declare -a notes=()

# measure KEY CASE TOOL PREPARE CMD: one warm-up run and $runs timed runs of the shell command CMD
# (PREPARE, untimed, before each). Leaves times in $work/times/KEY (seconds, one a line) and
# "peak-RSS-KiB user-s sys-s" in $work/rss/KEY (one a line, warm-up first). Returns 1 if a run failed.
measure() {
    local key="$1" case="$2" tool="$3" prepare="$4" cmd="$5"
    local rss="$work/rss/$key" times="$work/times/$key" i t0 t1
    : >"$rss"
    : >"$times"
    local full
    full="/usr/bin/time -a -o $(q "$rss") -f '%M %U %S' $cmd"
    log "$case / $tool"
    if ((have_hyperfine)); then
        local hf_args=(--runs "$runs" --warmup 1 --style basic --export-json "$work/times/$key.json")
        if [[ -n "$prepare" ]]; then hf_args+=(--prepare "$prepare"); fi
        if ! hyperfine "${hf_args[@]}" "$full" >"$work/times/$key.log" 2>&1; then
            cat "$work/times/$key.log" >&2
            return 1
        fi
        jq -r '.results[0].times[]' "$work/times/$key.json" >"$times"
    else
        for i in $(seq 0 "$runs"); do
            if [[ -n "$prepare" ]]; then sh -c "$prepare" || return 1; fi
            t0=$(date +%s%N)
            sh -c "$full" || return 1
            t1=$(date +%s%N)
            if ((i > 0)); then awk -v ns="$((t1 - t0))" 'BEGIN { printf "%.6f\n", ns / 1e9 }' >>"$times"; fi
        done
    fi
}

fmt_time() { python3 -c 'import sys; v=float(sys.argv[1]); print(f"{v*1000:.0f} ms" if v < 1 else f"{v:.2f} s")' "$1"; }

# row KEY CASE TOOL COMMITS: appends the table row from the files measure left.
row() {
    local key="$1" case="$2" tool="$3" commits="$4"
    local stats median min rss cpu n
    stats="$(python3 - "$work/times/$key" "$work/rss/$key" <<'EOF'
import statistics, sys
times = [float(l) for l in open(sys.argv[1]) if l.strip()]
# /usr/bin/time lines "KiB user sys"; it adds other lines when a command fails: skip those.
res = []
for line in open(sys.argv[2]):
    parts = line.split()
    try:
        res.append((int(parts[0]), float(parts[1]), float(parts[2])))
    except (ValueError, IndexError):
        continue
res = res[1:]  # the first line is the warm-up run
rss = max(r[0] for r in res) if res else 0
user = statistics.median(r[1] for r in res) if res else 0.0
system = statistics.median(r[2] for r in res) if res else 0.0
print(len(times), statistics.median(times), min(times), rss, f"{user:.2f}+{system:.2f}")
EOF
)"
    read -r n median min rss cpu <<<"$stats"
    rows+=("| $case | $tool | $n | $(fmt_time "$median") | $(fmt_time "$min") | $((rss / 1024)) MiB | ${cpu/+/ + } s | $commits |")
}

failed() { rows+=("| $2 | $3 | - | FAILED | - | - | - | see \`target/bench/work/times/$1.log\`, \`work/out/$1.err\` |"); }

# Commits made by each first deploy: commits on main minus the stand-in's own initial commit.
first_commits() {
    python3 - "$work/state/$1.commits" <<'EOF'
import sys
vals = [l.strip() for l in open(sys.argv[1]) if l.strip()]
nums = sorted(int(v) - 1 for v in vals if v.isdigit())
if not nums or len(nums) != len(vals):
    print("? (" + ",".join(vals) + ")")
elif nums[0] == nums[-1]:
    print(f"{nums[0]} per run")
else:
    print(f"{nums[0]}-{nums[-1]} per run")
EOF
}

# case_scaffold KEY CASE SOURCE
case_scaffold() {
    local key="$1" case="$2" src="$3" dest="$work/scaffold-$1"
    if measure "$key" "$case" hf-deploy "rm -rf $(q "$dest")" \
        "$(q "$bin") scaffold $(q "$src") --out $(q "$dest") --space local/bench >/dev/null 2>>$(q "$work/out/$key.err")"; then
        row "$key" "$case" hf-deploy "-"
        notes+=("\`$case\`: $(find "$dest" -type f | wc -l) files written.")
    else
        failed "$key" "$case" hf-deploy
    fi
}

# case_first KEY CASE TOOL PREFIX CMD (CMD uses \$(cat NAMEFILE) for the fresh Space name)
case_first() {
    local key="$1" case="$2" tool="$3" prefix="$4" cmd="$5"
    if measure "$key" "$case" "$tool" "$hook next $key $prefix" "$cmd"; then
        $hook finish "$key"
        row "$key" "$case" "$tool" "$(first_commits "$key")"
    else
        $hook finish "$key" || true
        failed "$key" "$case" "$tool"
    fi
}

# case_again KEY CASE TOOL SPACE CMD: CMD run on an existing (paused) Space; commits counted around.
case_again() {
    local key="$1" case="$2" tool="$3" space="$4" cmd="$5" before after
    before="$($hook commits "$space")"
    if measure "$key" "$case" "$tool" "" "$cmd"; then
        after="$($hook commits "$space")"
        row "$key" "$case" "$tool" "$((${after:-0} - ${before:-0})) in $((runs + 1)) runs"
    else
        failed "$key" "$case" "$tool"
    fi
}

hfd_deploy() { # SOURCE SPACE-EXPR KEY [extra flags]
    echo "$(q "$bin") deploy $(q "$1") --space local/$2 --no-wait --json $secrets_args $variable_args ${4:-} >>$(q "$work/out/$3.jsonl") 2>>$(q "$work/out/$3.err")"
}
peer_deploy() { # FOLDER SPACE-EXPR KEY
    echo "$(q "$py") $(q "$root/scripts/bench/peer_deploy.py") --space local/$2 --folder $(q "$1") $secrets_args $variable_args >>$(q "$work/out/$3.jsonl") 2>>$(q "$work/out/$3.err")"
}
name_of() { echo "\$(cat $(q "$work/state/$1.name"))"; }

# setup_space TOOL SOURCE SPACE: an untimed first deploy, then pause (a later secret update would
# otherwise restart the app in the stand-in, in the background of the next timed run).
setup_space() {
    if [[ "$1" == hf-deploy ]]; then
        sh -c "$(hfd_deploy "$2" "$3" "setup-$3")"
    else
        sh -c "$(peer_deploy "$2" "$3" "setup-$3")"
    fi
    $hook pause "$3"
}

bench_size() { # LABEL SOURCE PEER_FOLDER TAG
    local label="$1" src="$2" tree="$3" tag="$4"
    case_first "first-hfd-$tag" "first deploy ($label)" hf-deploy "hfd-$tag" \
        "$(hfd_deploy "$src" "$(name_of "first-hfd-$tag")" "first-hfd-$tag")"
    case_first "first-peer-$tag" "first deploy ($label)" "huggingface_hub" "peer-$tag" \
        "$(peer_deploy "$tree" "$(name_of "first-peer-$tag")" "first-peer-$tag")"

    setup_space hf-deploy "$src" "hfd-$tag-again"
    setup_space peer "$tree" "peer-$tag-again"
    case_again "again-hfd-$tag" "no-change redeploy ($label)" hf-deploy "hfd-$tag-again" \
        "$(hfd_deploy "$src" "hfd-$tag-again" "again-hfd-$tag")"
    case_again "again-peer-$tag" "no-change redeploy ($label)" "huggingface_hub" "peer-$tag-again" \
        "$(peer_deploy "$tree" "peer-$tag-again" "again-peer-$tag")"
    case_again "dry-hfd-$tag" "dry run on the deployed Space ($label)" hf-deploy "hfd-$tag-again" \
        "$(hfd_deploy "$src" "hfd-$tag-again" "dry-hfd-$tag" --dry-run)"

    local unchanged total
    total="$(jq -s length "$work/out/again-hfd-$tag.jsonl")"
    unchanged="$(jq -s '[.[] | select(.changed == false)] | length' "$work/out/again-hfd-$tag.jsonl")"
    notes+=("\`no-change redeploy ($label)\` hf-deploy: \`changed: false\` in $unchanged of $total reports.")
    local k
    for k in first again; do
        notes+=("\`$k-hfd-$tag\` phase medians from hf-deploy's own report (ms): $(jq -s -r \
            '[.[] | .durations // {}] as $d | ["scaffold_ms","push_ms","total_ms"] | map(. as $k | "\($k)=\([$d[][$k] | select(. != null)] | sort | if length > 0 then .[length/2|floor] else "n/a" end)") | join(", ")' \
            "$work/out/$k-hfd-$tag.jsonl" 2>/dev/null || echo n/a).")
    done
    local hfd_files peer_files
    hfd_files="$(git --git-dir "$(ls -d "$work"/emu-tmp/hf-hub-emulator-*/repos/local/"hfd-$tag-again.git")" ls-tree -r --name-only main | wc -l)"
    peer_files="$(git --git-dir "$(ls -d "$work"/emu-tmp/hf-hub-emulator-*/repos/local/"peer-$tag-again.git")" ls-tree -r --name-only main | wc -l)"
    notes+=("$label: files on \`main\` after the deploy: hf-deploy $hfd_files, huggingface_hub $peer_files (the stand-in's initial commit adds \`.gitattributes\`).")
}

case_scaffold scaffold-example "scaffold (example)" "$example"
case_scaffold scaffold-large "scaffold (large)" "$large"
# Baseline: what merely writing the same files costs on this machine (file creation is kernel time,
# and on a shared VM it varies a lot from run to run).
if measure copy-large "copy of the scaffolded large tree (baseline)" "cp -r" "rm -rf $(q "$work/copy-large")" \
    "cp -r $(q "$work/peer-large") $(q "$work/copy-large")"; then
    row copy-large "copy of the scaffolded large tree (baseline)" "cp -r" "-"
else
    failed copy-large "copy of the scaffolded large tree (baseline)" "cp -r"
fi
bench_size example "$example" "$work/peer-example" ex
bench_size large "$large" "$work/peer-large" lg

# ---- report --------------------------------------------------------------------------------------
stop_all
trap - EXIT

{
    echo "# hf-deploy benchmarks"
    echo
    echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'). Command: \`scripts/bench.sh${orig_args:+ $orig_args}\` ($runs runs)."
    echo "Timing: $( ((have_hyperfine)) && hyperfine --version || echo 'bash loop (date +%s%N)'), 1 warm-up run + $runs timed runs per row; peak RSS: max over the timed runs (\`/usr/bin/time -f %M\`)."
    echo
    echo "Machine: $(nproc) CPUs ($(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)), Linux $(uname -r)."
    echo "Load average (1, 5, 15 min) when measuring started: $load_start; at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo '```'
    free -g
    echo '```'
    echo
    echo "Versions: $("$bin" --version), huggingface_hub $("$py" -c 'import huggingface_hub as h; print(h.__version__)') on $("$py" --version 2>&1), $(git --version)."
    echo
    echo "| case | tool | runs | median | min | peak RSS | client CPU user + sys | commits made |"
    echo "|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "Notes:"
    echo
    printf -- '- %s\n' "${notes[@]}"
    echo "- Client CPU: median user and system CPU time of the measured process (10 ms resolution) (the stand-in's own work, such as its pre-receive hook, is not in it)."
    echo "- Commits made: for a first deploy, commits on \`main\` minus the stand-in's initial commit; for the other rows, new commits over all runs (warm-up included)."
    for f in "$work"/state/*.delete-failures; do
        if [[ -e "$f" ]]; then
            echo "- $(basename "$f" .delete-failures): $(wc -l <"$f") \`hf-deploy delete\` failures."
        fi
    done
} | tee "$results"
log "results written to $results"
run_speed
