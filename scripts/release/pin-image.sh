#!/usr/bin/env bash
# Pins the action's image by digest: rewrites `runs.image` of an action.yml to
# `docker://REPOSITORY@sha256:<64 hex>`, so that a release tag (and any commit a workflow pins)
# runs exactly one image, whatever a moving tag such as `:v1` points to later.
#
#   scripts/release/pin-image.sh ACTION_YML REPOSITORY DIGEST
#   scripts/release/pin-image.sh action.yml ghcr.io/hf-deploy/hf-deploy sha256:0123…
#
# .github/workflows/release.yml calls it with the digest of the manifest list it pushed and
# attested; hf-deploy-action/tests/it/release.rs calls it on a copy of action.yml.
#
# Only the one `image:` line under the top-level `runs:` changes; every other byte stays. Refused,
# with the file untouched and exit status 1: a DIGEST that is not `sha256:` followed by 64
# lower-case hex digits (a tag, a short or upper-case digest, another algorithm), a REPOSITORY
# with a tag or digest, a file whose `runs:` has no `image:` or more than one, or whose image is
# not REPOSITORY (`docker://REPOSITORY:TAG` or `docker://REPOSITORY@sha256:…`): the workflow's
# image name and action.yml disagree. Prints the new reference on success.
set -euo pipefail
# Byte-wise matching: in some locales a range such as [a-f] also matches upper-case letters.
export LC_ALL=C

refuse() {
    echo "pin-image: $*" >&2
    exit 1
}

if [[ $# -ne 3 ]]; then
    echo "usage: $0 ACTION_YML REPOSITORY DIGEST" >&2
    exit 2
fi
file=$1
repository=$2
digest=$3

hex='[0123456789abcdef]'
if ! [[ $digest =~ ^sha256:${hex}{64}$ ]]; then
    refuse "refusing digest '${digest}': expected sha256: followed by 64 lower-case hex digits"
fi
# registry[:port]/path, lower case, no tag and no digest.
name='[a-z0-9]+([._-][a-z0-9]+)*'
if ! [[ $repository =~ ^[a-z0-9.-]+(:[0-9]+)?(/${name})+$ ]]; then
    refuse "refusing repository '${repository}': expected registry/name in lower case, without tag or digest"
fi
[[ -f $file ]] || refuse "no such file: ${file}"

# The `image:` keys directly under the top-level `runs:` mapping (the indent of its first key),
# as "LINE<TAB>VALUE".
found=$(awk '
    /^runs:[ \t]*(#.*)?$/ { inside = 1; indent = ""; next }
    inside && /^[^ \t#]/ { inside = 0 }
    inside && /^[ \t]*(#.*)?$/ { next }
    inside {
        match($0, /^[ \t]*/)
        lead = substr($0, 1, RLENGTH)
        if (indent == "") indent = lead
        if (lead == indent && substr($0, RLENGTH + 1, 6) == "image:") {
            print NR "\t" substr($0, RLENGTH + 7)
        }
    }
' "$file")
count=$(grep -c . <<<"$found" || true)
if [[ $count -ne 1 ]]; then
    refuse "${file}: expected one runs.image, found ${count}"
fi
line=${found%%$'\t'*}
old=${found#*$'\t'}
# The old value: trimmed, unquoted.
old=${old#"${old%%[![:space:]]*}"}
old=${old%"${old##*[![:space:]]}"}
if [[ $old =~ ^\"(.*)\"$ || $old =~ ^\'(.*)\'$ ]]; then
    old=${BASH_REMATCH[1]}
fi
if ! [[ $old == "docker://${repository}:"* || $old == "docker://${repository}@sha256:"* ]] ||
    [[ ${old#"docker://${repository}"} == */* ]]; then
    refuse "${file}: runs.image is '${old}', not docker://${repository}:TAG or @sha256:… (does the workflow's image name match action.yml?)"
fi

new="docker://${repository}@${digest}"
tmp=$(mktemp "${file}.XXXXXX")
trap 'rm -f "$tmp"' EXIT
# The repository and the digest were checked above: neither holds `|`, `&` or a backslash.
sed -e "${line}s|^\([[:space:]]*image:\).*\$|\1 ${new}|" "$file" >"$tmp"
cat "$tmp" >"$file"
echo "$new"
