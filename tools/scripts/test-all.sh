#!/usr/bin/env bash
# The whole test suite: lint, typecheck and unit tests of every project, then the integration tests
# against the real services of tools/stack (started here when not running, stopped again after).
set -euo pipefail
cd "$(dirname "$0")/../.."
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
source tools/scripts/node-env.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
pipeline_native_check

bash tools/scripts/install-system-deps.sh
rm -rf tmp/test-summary

started=()
stack() { npx tsx tools/stack/src/cli.ts "$@"; }
cleanup() {
  for s in "${started[@]}"; do stack down "$s" || true; done
}
trap cleanup EXIT
# Trino (opt-in for `stack up` without names: an 820 MB download the first time) reads the snapshotter's tables.
for s in kafka pyiceberg elasticsearch druid postgres iceberg-rest trino; do
  if ! stack status "$s" >/dev/null 2>&1; then
    stack up "$s"
    started+=("$s")
  fi
done

status=0
npx nx run-many -t lint typecheck test --parallel=2 --outputStyle=stream || status=$?
# Integration tests share the services: one project at a time.
npx nx run-many -t test-integration --parallel=1 --outputStyle=stream || status=$?

node -e '
const fs = require("fs"), dir = "tmp/test-summary";
let p = 0, f = 0, s = 0;
const failures = [];
for (const n of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
  const r = JSON.parse(fs.readFileSync(dir + "/" + n, "utf8"));
  p += r.passed; f += r.failed; s += r.skipped;
  failures.push(...(r.failures ?? []));
}
for (const x of failures) console.log(`FAILED ${x.file} > ${x.test}\n${x.message.replace(/^/gm, "    ")}`);
console.log(`Summary: ${p} passed, ${f} failed, ${s} skipped`);
'
exit $status
