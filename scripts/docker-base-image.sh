#!/usr/bin/env bash
# Makes the base image `python:3.11-slim` in the local Docker engine when the engine does not have
# it, for machines that cannot pull from a container registry (the test machines: only Debian's
# mirror is reachable). On a user's machine the real image is pulled as usual and this script is
# not needed.
#
# What it builds: Debian 12 "bookworm" (the official image's OS) from `debootstrap
# --variant=minbase`, with Debian's Python 3.11, pip, venv, ca-certificates and passwd (`useradd`,
# which the scaffolded Dockerfile runs), without Debian's PEP 668 marker (`EXTERNALLY-MANAGED`, so
# that `pip install` works as in the official image), `python`, `python3`, `pip`, `pip3` in
# /usr/local/bin and the official image's ENV and CMD. It is imported with `docker import`.
#
# Other Python versions: the scaffolder picks the version from `.python-version`, `runtime.txt` or
# `pyproject.toml` (default 3.11). Debian bookworm ships only 3.11, so only `python:3.11-slim` is
# made here; the Docker end-to-end tests use 3.11. A Space scaffolded for another version builds
# only where that image can be pulled (or was made by other means).
#
# The machine's CA bundle: /etc/ssl/certs/ca-certificates.crt and /usr/local/share/ca-certificates
# of this machine are copied into the image (a last, small layer), so that `pip install` in a
# Space build trusts what the machine trusts (e.g. a TLS-inspecting egress proxy).
#
# Cache: the root filesystem tarball is kept in ${HF_DEPLOY_CACHE:-~/.cache/hf-deploy}/base-images/,
# keyed by the recipe below, so a second run on the same machine only runs `docker import` and
# the small CA layer. The image carries the label hf-deploy.base-image=<hash of the recipe and the
# CA bundle>: an image with the current hash is left alone; an image without the label (a pulled,
# official one) is never replaced.
#
# Usage: scripts/docker-base-image.sh [--force]
set -euo pipefail
log() { printf '==> %s\n' "$*" >&2; }

image="python:3.11-slim"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# Bump the version at the end when the rootfs steps below change.
recipe="bookworm minbase python3.11,python3-pip,python3-venv,ca-certificates,passwd no-pep668 local-bin v1"
rootfs_hash="$(printf '%s' "$recipe" | sha256sum | cut -c1-16)"
ca_bundle=/etc/ssl/certs/ca-certificates.crt
hash="$( { printf '%s' "$recipe"; cat "$ca_bundle" 2>/dev/null || true; } | sha256sum | cut -c1-16)"
cache="${HF_DEPLOY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hf-deploy}/base-images"
tarball="$cache/python-3.11-slim-bookworm-$rootfs_hash.tar.gz"
force=0
[ "${1:-}" = "--force" ] && force=1

if [ "$force" -eq 0 ] && docker image inspect "$image" >/dev/null 2>&1; then
  have="$(docker image inspect --format '{{ index .Config.Labels "hf-deploy.base-image" }}' "$image" 2>/dev/null || true)"
  if [ -z "$have" ] || [ "$have" = "<no value>" ] || [ "$have" = "$hash" ]; then
    exit 0
  fi
  log "$image was made by an older version of this script: rebuilding"
fi

if [ ! -f "$tarball" ]; then
  command -v debootstrap >/dev/null 2>&1 || {
    echo "debootstrap is missing: run scripts/bootstrap.sh (or apt-get install debootstrap)" >&2
    exit 1
  }
  [ "$(id -u)" -eq 0 ] || { echo "making the base image needs root (debootstrap chroots)" >&2; exit 1; }
  mkdir -p "$cache"
  work="$(mktemp -d "$cache/.rootfs-XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  log "debootstrap bookworm (minbase + python3.11) from $mirror: about a minute"
  debootstrap --variant=minbase \
    --include=python3.11,python3-pip,python3-venv,ca-certificates,passwd \
    bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
      tail -n 30 "$work/debootstrap.log" >&2
      echo "debootstrap failed (log above)" >&2
      exit 1
    }
  r="$work/rootfs"
  # No PEP 668 marker: the official image's pip installs into the system (or --user) freely.
  rm -f "$r"/usr/lib/python3*/EXTERNALLY-MANAGED
  # The official image's commands on PATH.
  mkdir -p "$r/usr/local/bin"
  ln -sf /usr/bin/python3.11 "$r/usr/local/bin/python"
  ln -sf /usr/bin/python3.11 "$r/usr/local/bin/python3"
  ln -sf /usr/bin/pip3 "$r/usr/local/bin/pip"
  ln -sf /usr/bin/pip3 "$r/usr/local/bin/pip3"
  # Slim: no package lists, caches or docs.
  rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb \
    "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/locale/* "$r"/var/log/*
  # The mirror debootstrap used, so that `apt-get install` works in derived images.
  printf 'deb %s bookworm main\n' "$mirror" >"$r/etc/apt/sources.list"
  tar -C "$r" --numeric-owner -czf "$work/rootfs.tar.gz" .
  mv "$work/rootfs.tar.gz" "$tarball"
  rm -rf "$work"
  trap - EXIT
  # Tarballs of older versions of this script are not needed any more.
  find "$cache" -maxdepth 1 -name 'python-3.11-slim-bookworm-*.tar.gz' ! -name "$(basename "$tarball")" -delete
fi

log "docker import $image (rootfs cached in $tarball), with this machine's CA bundle"
os_image="hf-deploy-base-os:bookworm-$rootfs_hash"
docker image inspect "$os_image" >/dev/null 2>&1 || docker import "$tarball" "$os_image" >/dev/null
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/local-ca"
if [ -f "$ca_bundle" ]; then cp "$ca_bundle" "$ctx/ca-certificates.crt"; else : >"$ctx/ca-certificates.crt"; fi
cp /usr/local/share/ca-certificates/*.crt "$ctx/local-ca/" 2>/dev/null || true
# The legacy builder: it needs no buildx plugin (a CLI >= 23 without buildx has no BuildKit).
cat >"$ctx/Dockerfile" <<EOF
FROM $os_image
COPY local-ca/ /usr/local/share/ca-certificates/
COPY ca-certificates.crt /tmp/host-ca.crt
RUN if [ -s /tmp/host-ca.crt ]; then cp /tmp/host-ca.crt /etc/ssl/certs/ca-certificates.crt; fi; rm -f /tmp/host-ca.crt
ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 PYTHON_VERSION=3.11
LABEL hf-deploy.base-image=$hash
CMD ["python3"]
EOF
DOCKER_BUILDKIT=0 docker build -q -t "$image" "$ctx" >/dev/null 2>"$ctx/build.log" || {
  cat "$ctx/build.log" >&2; echo "building $image from $os_image failed (log above)" >&2; exit 1; }
