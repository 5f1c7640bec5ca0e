#!/usr/bin/env bash
# Docker measurements (BENCHMARKS.md, "Docker"). Needs an engine and the base image:
# `bash scripts/bootstrap.sh`. Usage: scripts/bench-docker.sh [all|space|action] (default all).
#
# space: Space image build times on the local Docker engine: the example's scaffolded tree built
# cold (`--no-cache`, the base image python:3.11-slim already present) and again after a
# code-only change (one line appended to app/main.py: only the last COPY layer is rebuilt).
#
# action: the action's image from the root Dockerfile, as tests/tests/it/action_container.rs builds
# it (the lean binary `cargo build --release -p hf-deploy-action --no-default-features` through
# the `prebuilt` stage, on RUNTIME_BASE, default the local python:3.11-slim, since distroless
# cannot be pulled here): the binary's size, the image's size (uncompressed, and `docker save |
# gzip | wc -c`), the layer the binary adds, the median over RUNS (default 9) runs of the time
# from `docker run` to the first line of `hf-deploy --version`, and an estimate of
# gcr.io/distroless/cc-debian12 from the installed sizes of its Debian 12 packages.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/docker-engine.sh
bash scripts/docker-base-image.sh
what="${1:-all}"
case "$what" in all|space|action) ;; *) echo "usage: $0 [all|space|action]" >&2; exit 2 ;; esac
# DOCKER_BUILDKIT=1 with the CLI that has BuildKit (see hf-hub-emulator/src/docker.rs).
cli="${HF_DEPLOY_DOCKER:-docker}"
if ! "$cli" buildx version >/dev/null 2>&1 && [ -x /usr/bin/docker ]; then cli=/usr/bin/docker; fi
work="$(mktemp -d)"
tag="hf-deploy-bench/example:latest"
action_tag="hf-deploy-bench/action:latest"
trap 'rm -rf "$work"; docker image rm -f "$tag" "$action_tag" >/dev/null 2>&1 || true' EXIT

bench_action() {
  local base="${RUNTIME_BASE:-python:3.11-slim}" runs="${RUNS:-9}" bin size base_size times
  cargo build --release -p hf-deploy-action --no-default-features --locked >&2
  bin="${CARGO_TARGET_DIR:-target}/release/hf-deploy"
  mkdir -p "$work/action"
  cp "$bin" "$work/action/hf-deploy"
  DOCKER_BUILDKIT=1 "$cli" build -q -f Dockerfile --build-arg BUILDER=prebuilt \
    --build-arg RUNTIME_BASE="$base" -t "$action_tag" "$work/action" >/dev/null
  size=$(docker image inspect --format '{{.Size}}' "$action_tag")
  base_size=$(docker image inspect --format '{{.Size}}' "$base")
  times=()
  for _ in $(seq 1 "$runs"); do
    times+=("$(s=$(date +%s%N); docker run --rm "$action_tag" --version | { read -r _; e=$(date +%s%N); cat >/dev/null; echo $(( (e - s) / 1000000 )); })")
  done
  printf '| lean binary (`--release --no-default-features`, stripped) | %s bytes (%s MB) |\n' \
    "$(stat -c %s "$bin")" "$(( $(stat -c %s "$bin") / 1000000 ))"
  printf '| action image on `%s`, uncompressed | %s MB (base %s MB + binary layer %s MB) |\n' \
    "$base" "$(( size / 1000000 ))" "$(( base_size / 1000000 ))" "$(( (size - base_size) / 1000000 ))"
  printf '| action image on `%s`, `docker save \| gzip \| wc -c` | %s MB |\n' \
    "$base" "$(( $(docker save "$action_tag" | gzip | wc -c) / 1000000 ))"
  printf '| `docker run` to the first line of `hf-deploy --version`, median of %s | %s ms (all: %s) |\n' \
    "$runs" "$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")" "${times[*]}"
  # distroless/cc-debian12 = distroless/static (base-files, netbase, tzdata, ca-certificates) plus
  # libc6, libssl3, libgcc-s1, libstdc++6 and libgomp1: their installed sizes in Debian 12, read
  # in the local python:3.11-slim (which lacks netbase and libgomp1, about 0.3 MB together).
  printf '| estimate: distroless/cc-debian12 from its packages'"'"' installed sizes (Debian 12) | %s MB |\n' \
    "$(docker run --rm --entrypoint sh python:3.11-slim -c \
      "dpkg-query -W -f '\${Installed-Size}\n' base-files tzdata ca-certificates libc6 libssl3 libgcc-s1 libstdc++6 2>/dev/null" \
      | awk '{ s += $1 } END { printf "%d", s * 1024 / 1000000 }')"
}

if [ "$what" = action ]; then bench_action; exit 0; fi
bin="${HF_DEPLOY_BIN:-${CARGO_TARGET_DIR:-target}/release/hf-deploy}"
[ -x "$bin" ] || cargo build --release -p hf-deploy-action
"$bin" scaffold examples/rag-chatbot/backend --out "$work/space" >/dev/null 2>&1
build() { local s e; s=$(date +%s%N); DOCKER_BUILDKIT=1 "$cli" build -q "$@" -t "$tag" "$work/space" >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
cold=$(build --no-cache)
echo "# code-only change" >>"$work/space/app/main.py"
code=$(build)
size=$(docker image inspect --format '{{.Size}}' "$tag")
printf '| Space image build, example, cold (`--no-cache`) | %s ms |\n' "$cold"
printf '| Space image build, example, after a code-only change | %s ms |\n' "$code"
printf '| Space image size, example (uncompressed) | %s MB |\n' "$(( size / 1000000 ))"
[ "$what" = all ] && bench_action
exit 0
