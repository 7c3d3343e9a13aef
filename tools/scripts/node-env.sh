# Sourced (not run) by .ci/run, test-all.sh and start-pipeline.sh: makes sure a supported Node (22 or 24)
# runs everything that follows. When the machine's Node is older than 22, Node $PIPELINE_NODE_VERSION is
# unpacked from the registry's `node-linux-<arch>` package (an ordinary npm package: nothing is downloaded
# from anywhere but the package registry) into a cache folder and put first on PATH. npm itself stays the
# machine's; it runs on the Node found first on PATH.
#
# Native addons (better-sqlite3) must be compiled for the Node that loads them. Their prebuilt binaries are
# downloaded from outside the registry, which may not be reachable; the fallback, node-gyp, then needs the
# Node headers, which the same package ships under include/node: npm_config_nodedir points node-gyp at them
# so it never tries to download them either.
#
# Settings: PIPELINE_NODE_VERSION (default below), PIPELINE_NODE_CACHE (default ~/.cache/actionbase-pipeline).

PIPELINE_NODE_VERSION="${PIPELINE_NODE_VERSION:-24.22.3}"
PIPELINE_NODE_MIN_MAJOR=22

pipeline_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

pipeline_node_setup() {
  local major
  major="$(pipeline_node_major)"
  if [ "$major" -ge "$PIPELINE_NODE_MIN_MAJOR" ]; then
    echo "node-env: using Node $(node -v) from $(command -v node)" >&2
    return 0
  fi
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "node-env: no node-linux package for $(uname -m); install Node ${PIPELINE_NODE_MIN_MAJOR}+ by hand" >&2; return 1 ;;
  esac
  local cache="${PIPELINE_NODE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/actionbase-pipeline}"
  local dir="$cache/node-v$PIPELINE_NODE_VERSION-linux-$arch"
  if [ ! -x "$dir/bin/node" ]; then
    echo "node-env: the machine's Node is $(node -v 2>/dev/null || echo missing); installing Node $PIPELINE_NODE_VERSION into $dir" >&2
    mkdir -p "$cache"
    local tmp
    tmp="$(mktemp -d "$cache/.partial.XXXXXX")"
    # npm pack fetches the package tarball through npm's own registry settings and cache.
    if ! (cd "$tmp" && npm pack --silent "node-linux-$arch@$PIPELINE_NODE_VERSION" >/dev/null); then
      rm -rf "$tmp"
      echo "node-env: could not fetch node-linux-$arch@$PIPELINE_NODE_VERSION from the npm registry; check npm's registry settings, or install Node ${PIPELINE_NODE_MIN_MAJOR}+ by hand" >&2
      return 1
    fi
    mkdir -p "$tmp/unpacked"
    tar -xzf "$tmp"/node-linux-"$arch"-*.tgz -C "$tmp/unpacked" --strip-components=1
    # Renamed into place only when complete, so an interrupted install is never taken for a good one.
    rm -rf "$dir"
    mv "$tmp/unpacked" "$dir"
    rm -rf "$tmp"
  fi
  export PATH="$dir/bin:$PATH"
  export npm_config_nodedir="$dir"
  hash -r
  echo "node-env: using Node $(node -v) from $dir" >&2
}

# A node_modules installed under another Node holds native addons built for that Node's ABI, which this one
# refuses to load ("compiled against a different Node.js version"): rebuild them, once.
pipeline_native_check() {
  if ! node -e 'new (require("better-sqlite3"))(":memory:").close()' >/dev/null 2>&1; then
    echo "node-env: better-sqlite3 does not load on Node $(node -v); rebuilding it for this Node" >&2
    npm rebuild better-sqlite3
  fi
}

pipeline_node_setup
