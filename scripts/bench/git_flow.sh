#!/usr/bin/env bash
# The seed's manual deploy, a peer in scripts/bench.sh: create the Space with curl, `git clone`,
# copy the scaffolded tree in, `git add/commit/push`, then set the secrets with curl.
#
#   git_flow.sh SPACE FOLDER WORKDIR [SECRET=VALUE]...
#
# Large files go through git-lfs with the Hub's default patterns (the tree's `.gitattributes`).
# Reads HF_ENDPOINT and HF_TOKEN. The token reaches git through an `http.extraHeader` given on the
# command line of each git call (never in a URL, a file or the log). Everything stays on 127.0.0.1.
set -euo pipefail
space="$1" folder="$2" work="$3"
shift 3
ns="${space%%/*}" name="${space#*/}"
auth="authorization: Bearer $HF_TOKEN"
basic="authorization: Basic $(printf 'hf_user:%s' "$HF_TOKEN" | base64 -w0)"

curl -fsS -o /dev/null -X POST "$HF_ENDPOINT/api/repos/create" -H "$auth" -H 'content-type: application/json' \
    -d "{\"type\": \"space\", \"name\": \"$name\", \"organization\": \"$ns\", \"sdk\": \"docker\"}"
rm -rf "$work"
git -c http.extraHeader="$basic" clone -q "$HF_ENDPOINT/spaces/$space" "$work"
cp -r "$folder"/. "$work"/
cd "$work"
git lfs install --local >/dev/null
git add -A
git -c user.name=bench -c user.email=bench@localhost commit -q -m "Deploy with git"
git -c http.extraHeader="$basic" push -q origin HEAD:main
for pair in "$@"; do
    key="${pair%%=*}" value="${pair#*=}"
    curl -fsS -o /dev/null -X POST "$HF_ENDPOINT/api/spaces/$space/secrets" -H "$auth" \
        -H 'content-type: application/json' -d "{\"key\": \"$key\", \"value\": \"$value\"}"
done
