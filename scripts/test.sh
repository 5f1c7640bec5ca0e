#!/usr/bin/env bash
# The project's test command (README: "Run the tests"). Installs its own prerequisites first
# (scripts/bootstrap.sh), then checks formatting and lints, then runs every test of the workspace:
# unit tests, the Hub stand-in's conformance tests (official Python and JS clients, real git),
# the end-to-end deploy tests, and the example backend's pytest suite.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# A Docker engine that bootstrap starts for this run is stopped when the run ends (an engine that
# was already running is left alone). HF_DEPLOY_KEEP_DOCKERD=1 keeps it (faster next run).
started_dockerd="$(mktemp)"
stop_dockerd() {
  local pid
  pid="$(cat "$started_dockerd" 2>/dev/null || true)"
  rm -f "$started_dockerd"
  if [ -n "$pid" ] && [ "${HF_DEPLOY_KEEP_DOCKERD:-0}" != "1" ]; then
    echo "==> stopping the dockerd started for this run (pid $pid)" >&2
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
}
trap stop_dockerd EXIT
HF_DEPLOY_STARTED_DOCKERD_FILE="$started_dockerd" bash scripts/bootstrap.sh

echo "==> cargo fmt --check" >&2
cargo fmt --all -- --check

echo "==> cargo clippy -D warnings" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings

cargo clippy -p hf-deploy-action --no-default-features --locked -- -D warnings  # the lean action build
RUSTDOCFLAGS="-D warnings" cargo doc -p hf-deploy-core --no-deps --locked  # the library's public docs

echo "==> tests" >&2
# nextest runs each test in its own process (tests start servers and child processes).
cargo nextest run --workspace --locked --no-fail-fast "$@"
cargo test --workspace --locked --doc

echo "==> the example backend's own tests (pytest)" >&2
(cd examples/rag-chatbot/backend && ../../../.venv/bin/python -m pytest -q -p no:cacheprovider)
