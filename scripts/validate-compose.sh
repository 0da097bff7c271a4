#!/bin/sh
# Validates docker-compose.yml without a Docker engine: Debian's docker-compose (v1) parses the file,
# checks it against the Compose schema and resolves interpolation. Installs that package when it is
# missing (quietly; `apt-get update` only if the first install attempt fails). Exits non-zero when
# the tool cannot be had or the file is invalid. Called from .ci/run.
set -eu

cd "$(dirname "$0")/.."
file=docker-compose.yml

if ! command -v docker-compose >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "validate-compose: docker-compose is not installed and apt-get is not available to install it" >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; else
      echo "validate-compose: docker-compose is missing; install it as root: apt-get install -y docker-compose" >&2
      exit 1
    fi
  fi
  echo "validate-compose: installing Debian's docker-compose…" >&2
  log=$(mktemp)
  if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >"$log" 2>&1; then
    if ! { $sudo apt-get update -q && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose; } >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      echo "validate-compose: could not install docker-compose (see the apt-get output above)" >&2
      exit 1
    fi
  fi
  rm -f "$log"
fi

# Interpolation warnings (an unset ${VAR}) and schema errors go to stderr; -q prints nothing on success.
if docker-compose -f "$file" config -q; then
  echo "validate-compose: $file is valid ($(docker-compose version --short 2>/dev/null || echo docker-compose))"
else
  echo "validate-compose: $file is INVALID (see the docker-compose message above)" >&2
  exit 1
fi
