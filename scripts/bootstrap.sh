#!/usr/bin/env bash
# Install every prerequisite of the test suite on a fresh machine. Idempotent and quick when
# everything is already there. Installs only into this checkout (./.venv, ./.tools), except the
# Debian packages (git-lfs, libssl-dev, pkg-config, postgresql, docker.io, debootstrap) that it installs
# with apt-get when they are missing, a Docker engine (dockerd, started in the background when none
# answers: scripts/docker-engine.sh) and the base image python:3.11-slim (scripts/docker-base-image.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

log() { printf '==> %s\n' "$*" >&2; }

# --- Debian packages ---------------------------------------------------------------------------
need_apt=()
command -v git-lfs >/dev/null 2>&1 || need_apt+=(git-lfs)
dpkg -s libssl-dev >/dev/null 2>&1 || need_apt+=(libssl-dev)
dpkg -s pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
# A Docker engine and what makes the base images here (no container registry is reachable).
{ [ -n "${DOCKER_HOST:-}" ] || command -v dockerd >/dev/null 2>&1; } || need_apt+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || need_apt+=(debootstrap)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
[ -x /usr/lib/git-core/git-http-backend ] || [ -x "$(git --exec-path)/git-http-backend" ] || {
  echo "git-http-backend not found (install Debian's git package)" >&2; exit 1; }

# --- Python venv ---------------------------------------------------------------------------------
stamp=".venv/.stamp-$(cat scripts/requirements-test.txt examples/rag-chatbot/backend/requirements.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  log "creating .venv with the test's Python packages"
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  (cd scripts && ../.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-test.txt)
  rm -f .venv/.stamp-*; touch "$stamp"
fi

# --- npm packages (official JS Hub client, GitHub fixtures) --------------------------------------
if [ ! -f .tools/node/.stamp-1 ]; then
  log "installing npm packages into .tools/node"
  mkdir -p .tools/node
  (cd .tools/node && [ -f package.json ] || echo '{"name":"hf-deploy-test-tools","private":true}' > package.json)
  (cd .tools/node && npm install --silent --no-audit --no-fund \
      @huggingface/hub@2 @octokit/openapi @octokit/webhooks-examples >/dev/null)
  touch .tools/node/.stamp-1
fi
# --- Docker engine and base image ----------------------------------------------------------------
# The Docker end-to-end tests need an engine: start one when none answers, then make the base
# image the scaffolded Dockerfile names (python:3.11-slim) when the engine lacks it.
bash scripts/docker-engine.sh
bash scripts/docker-base-image.sh
log "prerequisites ready"
