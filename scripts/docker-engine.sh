#!/usr/bin/env bash
# Makes sure a Docker engine answers: when `docker info` fails, starts `dockerd` in the background
# (log: ${HF_DEPLOY_DOCKERD_LOG:-/var/log/hf-deploy-dockerd.log}) and waits for it, at most 60 s.
# When it started one and HF_DEPLOY_STARTED_DOCKERD_FILE names a file, writes dockerd's pid there
# (scripts/test.sh stops that engine when the tests end). DOCKER_HOST pointing at another engine is
# respected: nothing is started then, the engine must answer.
set -euo pipefail
log() { printf '==> %s\n' "$*" >&2; }

if docker info >/dev/null 2>&1; then
  exit 0
fi
if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST}" != "unix:///var/run/docker.sock" ]; then
  echo "no Docker engine answers at DOCKER_HOST=$DOCKER_HOST (start it, or unset DOCKER_HOST)" >&2
  exit 1
fi
command -v dockerd >/dev/null 2>&1 || {
  echo "dockerd is missing: run scripts/bootstrap.sh (or apt-get install docker.io)" >&2
  exit 1
}
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
logfile="${HF_DEPLOY_DOCKERD_LOG:-/var/log/hf-deploy-dockerd.log}"
log "starting dockerd (log: $logfile)"
# setsid: the engine outlives this script and is not in the caller's process group (a Ctrl-C
# in the test run does not kill it half-way).
$SUDO setsid dockerd >"$logfile" 2>&1 </dev/null &
pid=$!
for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then
    if [ -n "${HF_DEPLOY_STARTED_DOCKERD_FILE:-}" ]; then
      echo "$pid" >"$HF_DEPLOY_STARTED_DOCKERD_FILE"
    fi
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    tail -n 20 "$logfile" >&2
    echo "dockerd exited at start (log above)" >&2
    exit 1
  fi
  sleep 0.5
done
tail -n 20 "$logfile" >&2
echo "dockerd did not answer within 60 s (log above)" >&2
exit 1
