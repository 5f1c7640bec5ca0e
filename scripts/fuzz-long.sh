#!/usr/bin/env bash
# The fuzzing long mode: runs one property-test target again and again, each run with a fresh
# random seed and PROPTEST_CASES cases, until at least MINUTES minutes have passed; stops at the
# first failure (proptest shrinks it and writes its seed to the crate's proptest-regressions/,
# which every later run replays first). Prints the runs, the cases and the time.
#
#   scripts/fuzz-long.sh TARGET [MINUTES] [CASES_PER_RUN]
#
# TARGET is one of: door, dotenv, front-matter, requirements, sse, pkt-line, fingerprint,
# frontend (the library), outputs, inputs, commands (the binary). MINUTES defaults to 10.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${1:?usage: scripts/fuzz-long.sh TARGET [MINUTES] [CASES_PER_RUN]}"
minutes="${2:-10}"
cases="${3:-20000}"

case "$target" in
  door) crate=hf-deploy-core filter=untrusted::proptests ;;
  dotenv) crate=hf-deploy-core filter=settings::proptests ;;
  front-matter) crate=hf-deploy-core filter=scaffold::render::proptests ;;
  requirements) crate=hf-deploy-core filter=scaffold::requirements::proptests ;;
  sse) crate=hf-deploy-core filter=hub::sse::proptests ;;
  pkt-line) crate=hf-deploy-core filter=push::smart_http::proptests ;;
  fingerprint) crate=hf-deploy-core filter=fingerprint::proptests ;;
  frontend) crate=hf-deploy-core filter=frontend::proptests ;;
  outputs | inputs | commands) crate=hf-deploy-action filter="fuzz::$target" ;;
  *) echo "error: unknown fuzz target \`$target\`" >&2; exit 2 ;;
esac
case "$minutes$cases" in *[!0-9]*) echo "error: MINUTES and CASES_PER_RUN are whole numbers" >&2; exit 2 ;; esac

# Build once (the library's tests optimised; the binary's as the test run builds them), copy the
# test program aside, then run it alone (no cargo between runs).
kind=(--lib --release)
[ "$crate" = hf-deploy-action ] && kind=(--bin hf-deploy)
cargo test -p "$crate" --locked "${kind[@]}" --no-run >&2
built="$(cargo test -p "$crate" --locked "${kind[@]}" --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("profile", {}).get("test") and m.get("executable"):
        print(m["executable"])' | tail -n 1)"
[ -x "$built" ] || { echo "error: could not build the tests of $crate" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bin="$work/$(basename "$built")"
cp "$built" "$bin"
log="$work/run.log"

start=$(date +%s)
runs=0
while :; do
  # In the crate's folder, as cargo runs its tests.
  if ! (cd "$crate" && PROPTEST_CASES="$cases" "$bin" --test-threads 1 --quiet "$filter") >"$log" 2>&1; then
    cat "$log" >&2
    echo "FAILED: $target after $runs runs of $cases cases ($(( $(date +%s) - start )) s)" >&2
    exit 1
  fi
  runs=$((runs + 1))
  elapsed=$(( $(date +%s) - start ))
  [ "$elapsed" -ge $((minutes * 60)) ] && break
done
tests="$(grep -o '[0-9]* passed' "$log" | head -n 1)"
echo "ok: $target ($crate $filter): $runs runs x $cases cases ($tests properties a run) in $elapsed s, no failure"
