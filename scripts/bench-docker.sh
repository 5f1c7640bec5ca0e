#!/usr/bin/env bash
# Space image build times on the local Docker engine (BENCHMARKS.md, "Docker"): the example's
# scaffolded tree built cold (`--no-cache`, the base image python:3.11-slim already present) and
# again after a code-only change (one line appended to app/main.py: only the last COPY layer is
# rebuilt). Needs an engine and the base image: `bash scripts/bootstrap.sh`.
# Not measured here yet: the action image (see BENCHMARKS.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/docker-engine.sh
bash scripts/docker-base-image.sh
bin="${HF_DEPLOY_BIN:-${CARGO_TARGET_DIR:-target}/release/hf-deploy}"
[ -x "$bin" ] || cargo build --release -p hf-deploy-action
work="$(mktemp -d)"
tag="hf-deploy-bench/example:latest"
trap 'rm -rf "$work"; docker image rm -f "$tag" >/dev/null 2>&1 || true' EXIT
"$bin" scaffold examples/rag-chatbot/backend --out "$work/space" >/dev/null 2>&1
# DOCKER_BUILDKIT=1 with the CLI that has BuildKit (see hf-hub-emulator/src/docker.rs).
cli="${HF_DEPLOY_DOCKER:-docker}"
if ! "$cli" buildx version >/dev/null 2>&1 && [ -x /usr/bin/docker ]; then cli=/usr/bin/docker; fi
build() { local s e; s=$(date +%s%N); DOCKER_BUILDKIT=1 "$cli" build -q "$@" -t "$tag" "$work/space" >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
cold=$(build --no-cache)
echo "# code-only change" >>"$work/space/app/main.py"
code=$(build)
size=$(docker image inspect --format '{{.Size}}' "$tag")
printf '| Space image build, example, cold (`--no-cache`) | %s ms |\n' "$cold"
printf '| Space image build, example, after a code-only change | %s ms |\n' "$code"
printf '| Space image size, example (uncompressed) | %s MB |\n' "$(( size / 1000000 ))"
