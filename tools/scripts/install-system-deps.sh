#!/usr/bin/env bash
# Installs, from Debian's packages, the system tools that the tests and the local stack need, when missing.
# Idempotent and quiet when everything is present; runs `apt-get update` at most once.
#   kcat               a Kafka client outside the project (integration tests cross-check with it)
#   maven, JDK 17+     tools/stack fetches Kafka (and later other services) from Maven and runs them on the JVM
# Usage: bash tools/scripts/install-system-deps.sh   (as root, or with sudo available)
set -euo pipefail

missing=()
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
if ! command -v java >/dev/null 2>&1 && [ -z "${JAVA_HOME:-}" ]; then
  missing+=(openjdk-17-jre-headless)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-system-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! $SUDO apt-get update -qq >"$log" 2>&1 ||
  ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
  cat "$log" >&2
  echo "install-system-deps: apt-get could not install ${missing[*]} (output above)" >&2
  exit 1
fi
for tool in "${missing[@]}"; do
  case "$tool" in
    kcat) command -v kcat >/dev/null || { echo "install-system-deps: kcat still missing" >&2; exit 1; } ;;
    maven) command -v mvn >/dev/null || { echo "install-system-deps: mvn still missing" >&2; exit 1; } ;;
  esac
done
echo "install-system-deps: done"
