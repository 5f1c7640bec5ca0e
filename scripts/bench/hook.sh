#!/usr/bin/env bash
# Untimed steps that scripts/bench.sh runs between timed runs (hyperfine --prepare, or its own loop).
#
#   hook.sh next CASE PREFIX   finish the Space of the previous run of CASE (count its commits, then
#                              delete it so its app stops using CPU) and name the next one PREFIX-<n>
#   hook.sh finish CASE        finish the Space of the last run of CASE
#   hook.sh commits SPACE      print the number of commits on `main` of local/SPACE (or nothing)
#   hook.sh pause SPACE        pause local/SPACE (setting a secret then restarts nothing)
#
# Needs BENCH_WORK, BENCH_EMU_TMP, BENCH_BIN, HF_ENDPOINT, HF_TOKEN (exported by scripts/bench.sh).
# Everything talks to the stand-in on 127.0.0.1 only.
set -euo pipefail

state="$BENCH_WORK/state"
mkdir -p "$state"

# The bare repo of local/NAME inside the stand-in's data directory (TMPDIR of the stand-in).
bare_repo() {
    local d
    for d in "$BENCH_EMU_TMP"/hf-hub-emulator-*/repos/local/"$1".git; do
        if [[ -d "$d" ]]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

commits() {
    local repo
    repo="$(bare_repo "$1")" || return 0
    git --git-dir "$repo" rev-list --count main 2>/dev/null || true
}

finish() {
    local case="$1" name n
    [[ -f "$state/$case.name" ]] || return 0
    name="$(cat "$state/$case.name")"
    rm -f "$state/$case.name"
    n="$(commits "$name")"
    echo "${n:-?}" >>"$state/$case.commits"
    # Delete through the CLI (exit code and message checked: a failure here is reported).
    if ! "$BENCH_BIN" delete --space "local/$name" --yes >>"$state/$case.delete.log" 2>&1; then
        echo "delete of local/$name failed (exit $?)" >>"$state/$case.delete-failures"
    fi
}

case "${1:-}" in
next)
    finish "$2"
    n=$(($(cat "$state/$2.counter" 2>/dev/null || echo 0) + 1))
    echo "$n" >"$state/$2.counter"
    echo "$3-$n" >"$state/$2.name"
    ;;
finish)
    finish "$2"
    ;;
commits)
    commits "$2"
    ;;
pause)
    curl -fsS -o /dev/null -X POST -H "authorization: Bearer $HF_TOKEN" "$HF_ENDPOINT/api/spaces/local/$2/pause"
    ;;
*)
    echo "usage: hook.sh next CASE PREFIX | finish CASE | commits SPACE | pause SPACE" >&2
    exit 2
    ;;
esac
