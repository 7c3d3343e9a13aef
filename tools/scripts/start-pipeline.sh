#!/usr/bin/env bash
# Runs the pipeline on this machine: real Kafka and Elasticsearch (tools/stack; Druid with WITH_DRUID=1),
# the Actionbase core on embedded storage publishing WAL and CDC, the consumer apps, and a small demo
# workload. Each app logs JSON to .data/logs/<app>.log; the terminal shows one short line per event until
# everything is ready, then the banner (and afterwards only warnings and errors). Ctrl-C drains and stops
# the apps; `npm run stack -- down` stops the services.
set -euo pipefail
cd "$(dirname "$0")/../.."
export NX_DAEMON=false NX_NO_CLOUD=true

source tools/scripts/node-env.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
pipeline_native_check
bash tools/scripts/install-system-deps.sh
npx tsx tools/stack/src/cli.ts up kafka
# Elasticsearch for apps/es-indexer (about 30 s on first start; the distribution is cached under .stack/).
npx tsx tools/stack/src/cli.ts up elasticsearch
if [ "${WITH_DRUID:-0}" = "1" ]; then npx tsx tools/stack/src/cli.ts up druid; fi
# STORAGE=postgres: the core keeps its state in PostgreSQL (tools/stack), database `actionbase` unless
# DATABASE_URL names another; the core creates its tables at start.
if [ "${STORAGE:-sqlite}" = "postgres" ]; then
  npx tsx tools/stack/src/cli.ts up postgres
  export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:${PGPORT:-5432}/actionbase}"
  node -e '
    const pg = require("pg");
    const target = new URL(process.env.DATABASE_URL);
    const name = decodeURIComponent(target.pathname.slice(1));
    const admin = new URL(target); admin.pathname = "/postgres";
    (async () => {
      const c = new pg.Client({ connectionString: admin.toString() });
      await c.connect();
      const r = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
      if (r.rowCount === 0) await c.query(`CREATE DATABASE "${name.replace(/"/g, "\"\"")}"`);
      await c.end();
    })().catch((e) => { console.error(`cannot prepare the database ${name}: ${e.message}; check DATABASE_URL`); process.exit(1); });
  '
fi

BOOTSTRAP="${KAFKA_BOOTSTRAP:-127.0.0.1:9092}"
PORT="${PORT:-8080}"
ASYNC_PROCESSOR_PORT="${ASYNC_PROCESSOR_PORT:-8090}"
DRUID_INGEST_PORT="${DRUID_INGEST_PORT:-8093}"
SNAPSHOTTER_PORT="${SNAPSHOTTER_PORT:-8094}"
ES_INDEXER_PORT="${ES_INDEXER_PORT:-8095}"
ES_INDEXER_HEALTH_PORT="${ES_INDEXER_HEALTH_PORT:-8096}"
CONSOLE_PORT="${CONSOLE_PORT:-8097}"
WAREHOUSE_DIR="${WAREHOUSE_DIR:-.data/snapshotter/warehouse}"
LOG_DIR="${LOG_DIR:-.data/logs}"
# Local use: every listener on loopback only (the apps' container images set 0.0.0.0 themselves).
export HOST="${HOST:-127.0.0.1}" API_HOST="${API_HOST:-127.0.0.1}" HTTP_HOST="${HTTP_HOST:-127.0.0.1}"
export KAFKA_BROKERS="$BOOTSTRAP"
mkdir -p "$LOG_DIR"
# The previous run's logs stay one run as <app>.log.1.
for name in actionbase async-processor druid-ingest snapshotter es-indexer console; do
  if [ -s "$LOG_DIR/$name.log" ]; then mv -f "$LOG_DIR/$name.log" "$LOG_DIR/$name.log.1"; fi
done

# One lookup token for the person who runs this (the audit log names who looked up what), made here unless
# LOOKUP_TOKENS is set: 24 random bytes, base64url (32 characters, 192 bits).
lookup_user="$(printf '%s' "${USER:-$(id -un 2>/dev/null || echo me)}" | tr -c 'A-Za-z0-9._@+-' '_' | cut -c1-64)"
if [ -z "${LOOKUP_TOKENS:-}" ]; then
  lookup_token="$(node -e 'process.stdout.write(require("node:crypto").randomBytes(24).toString("base64url"))')"
  LOOKUP_TOKENS="$lookup_user:$lookup_token"
fi

# Every app runs in its own session (setsid, which execs in place so $! stays the app's pid): the terminal's
# Ctrl-C reaches only this script, whose trap then sends each app exactly one SIGTERM and waits for its
# drain. Without that, the apps got the terminal's SIGINT and the trap's SIGTERM and gave up draining.
apps=()
names=()
start_app() { # name, then the command; env set by the caller
  local name="$1"
  shift
  : >"$LOG_DIR/$name.log"
  setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
  apps+=($!)
  names+=("$name")
}

tail_pid=''
stopping=0
stop_all() {
  [ "$stopping" = 1 ] && return
  stopping=1
  trap '' INT TERM
  local pid
  # Signals first: if the terminal (or a pipe reading this script) is already gone, the drain still happens.
  for pid in "${apps[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  echo "stopping: one SIGTERM sent to each app; waiting for them to drain (logs in $LOG_DIR/)" 2>/dev/null || true
  for pid in "${apps[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -z "$tail_pid" ] || kill "$tail_pid" 2>/dev/null || true
  echo "stopped." 2>/dev/null || true
}
trap 'stop_all; exit 130' INT TERM
trap stop_all EXIT

# Readable lines on the terminal while the apps start (the files keep the JSON).
show_logs() { # minimum level, tail's -n (+1: from the start of each file, 0: only new lines)
  # tail is $! (the filter ends when its input closes), so killing it stops both.
  tail -n "$2" -F "$LOG_DIR"/{actionbase,async-processor,snapshotter,es-indexer,console}.log \
    $([ "${WITH_DRUID:-0}" = "1" ] && echo "$LOG_DIR/druid-ingest.log") 2>/dev/null \
    > >(node tools/scripts/log-lines.mjs --min-level "$1") &
  tail_pid=$!
}

wait_ready() { # name, url, pid
  local i
  for i in $(seq 1 300); do
    curl -sf -o /dev/null "$2" && return 0
    if ! kill -0 "$3" 2>/dev/null; then
      echo "$1 exited during start; its log: $LOG_DIR/$1.log" >&2
      tail -n 20 "$LOG_DIR/$1.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "$1 was not ready after 60 s at $2; its log: $LOG_DIR/$1.log" >&2
  exit 1
}

STORAGE_PATH="${STORAGE_PATH:-.data/actionbase/actionbase.db}" PORT="$PORT" \
  start_app actionbase node --import tsx apps/actionbase/src/main.ts
core=${apps[-1]}
show_logs info +1
wait_ready actionbase "http://127.0.0.1:$PORT/graph/health/readiness" "$core"

# The async processor applies the queued writes of ASYNC tables (the demo's recent_views) through the core.
CORE_URL="http://127.0.0.1:$PORT" HTTP_PORT="$ASYNC_PROCESSOR_PORT" KEEP_NEWEST="${KEEP_NEWEST:-shop.recent_views:recent:50}" \
  start_app async-processor node --import tsx apps/async-processor/src/main.ts

# Druid (optional, heavy: ~2 GB of memory, ~40 s to start): WITH_DRUID=1 npm start. apps/druid-ingest applies
# the CDC supervisor spec to it and serves the dashboard queries.
if [ "${WITH_DRUID:-0}" = "1" ]; then
  PORT="$DRUID_INGEST_PORT" start_app druid-ingest node --import tsx apps/druid-ingest/src/main.ts
fi

# The snapshotter turns CDC into Iceberg tables of current state (one per table) and a Parquet change log
# under WAREHOUSE_DIR; see apps/snapshotter.
HTTP_PORT="$SNAPSHOTTER_PORT" WAREHOUSE_DIR="$WAREHOUSE_DIR" STAGING_DIR="${SNAPSHOTTER_STAGING_DIR:-.data/snapshotter/staging}" \
  COMMIT_INTERVAL_MS="${SNAPSHOT_COMMIT_INTERVAL_MS:-10000}" start_app snapshotter node --import tsx apps/snapshotter/src/main.ts

# The es-indexer puts every WAL and CDC record into Elasticsearch and serves the support lookup (API + page).
ES_URL="${ES_URL:-http://127.0.0.1:9200}" HTTP_PORT="$ES_INDEXER_HEALTH_PORT" API_PORT="$ES_INDEXER_PORT" \
  LOOKUP_TOKENS="$LOOKUP_TOKENS" AUDIT_LOG_PATH="${AUDIT_LOG_PATH:-.data/es-indexer/audit.jsonl}" \
  start_app es-indexer node --import tsx apps/es-indexer/src/main.ts

# The operations console reads every app's health and metrics, Kafka's offsets and the sinks; same token as the lookup.
# (CORE_URL before PORT: an assignment sees the ones made before it on the same line.)
CORE_URL="http://127.0.0.1:$PORT" PORT="$CONSOLE_PORT" CONSOLE_TOKENS="$LOOKUP_TOKENS" \
  CONSUMERS="async-processor=http://127.0.0.1:$ASYNC_PROCESSOR_PORT,es-indexer=http://127.0.0.1:$ES_INDEXER_HEALTH_PORT,snapshotter=http://127.0.0.1:$SNAPSHOTTER_PORT" \
  ES_URL="${ES_URL:-http://127.0.0.1:9200}" WAREHOUSE_DIR="$WAREHOUSE_DIR" \
  start_app console env $([ "${WITH_DRUID:-0}" = "1" ] && echo "DRUID_INGEST_URL=http://127.0.0.1:$DRUID_INGEST_PORT") \
  node --import tsx apps/console/src/main.ts

for n in "${!names[@]}"; do
  case "${names[$n]}" in
    async-processor) wait_ready async-processor "http://127.0.0.1:$ASYNC_PROCESSOR_PORT/health/readiness" "${apps[$n]}" ;;
    druid-ingest) wait_ready druid-ingest "http://127.0.0.1:$DRUID_INGEST_PORT/health" "${apps[$n]}" ;;
    snapshotter) wait_ready snapshotter "http://127.0.0.1:$SNAPSHOTTER_PORT/health/readiness" "${apps[$n]}" ;;
    console) wait_ready console "http://127.0.0.1:$CONSOLE_PORT/health" "${apps[$n]}" ;;
    es-indexer)
      wait_ready es-indexer "http://127.0.0.1:$ES_INDEXER_HEALTH_PORT/health/readiness" "${apps[$n]}"
      wait_ready es-indexer "http://127.0.0.1:$ES_INDEXER_PORT/" "${apps[$n]}"
      ;;
  esac
done

echo "demo workload:"
npx tsx tools/scripts/demo-workload.ts "http://127.0.0.1:$PORT" | sed 's/^/  /'

# From here on the terminal shows only warnings and errors, so the banner stays in view.
kill "$tail_pid" 2>/dev/null || true
wait "$tail_pid" 2>/dev/null || true
if [ -n "${lookup_token:-}" ]; then
  lookup_link="http://127.0.0.1:$ES_INDEXER_PORT/#token=$lookup_token"
  console_link="http://127.0.0.1:$CONSOLE_PORT/#token=$lookup_token"
  lookup_cli="LOOKUP_TOKEN=$lookup_token"
else
  lookup_link="http://127.0.0.1:$ES_INDEXER_PORT/ (sign in with your token from LOOKUP_TOKENS)"
  console_link="http://127.0.0.1:$CONSOLE_PORT/ (sign in with your token from LOOKUP_TOKENS)"
  lookup_cli="LOOKUP_TOKEN=<yours>"
fi
cat <<MSG

The pipeline is running (apps on 127.0.0.1; JSON logs in $LOG_DIR/<app>.log).
  console         $console_link
  support lookup  $lookup_link
                  signed in as $([ -n "${lookup_token:-}" ] && echo "$lookup_user; this token is shown only here" || echo "a LOOKUP_TOKENS user")
  lookup CLI      LOOKUP_URL=http://127.0.0.1:$ES_INDEXER_PORT $lookup_cli npx tsx apps/es-indexer/src/lookup.cli.ts user <id>
  core REST API   http://127.0.0.1:$PORT/graph/v3/databases
  WAL records     kcat -b $BOOTSTRAP -C -t actionbase.wal -o beginning -e
  CDC records     kcat -b $BOOTSTRAP -C -t actionbase.cdc -o beginning -e
  WAL replay      KAFKA_BROKERS=$BOOTSTRAP npx tsx apps/wal-replay/src/main.ts check --target-url http://127.0.0.1:$PORT (also rebuild, migrate)
  async processor http://127.0.0.1:$ASYNC_PROCESSOR_PORT/metrics (applies recent_views, keeps the newest 50 per user)
  Iceberg tables  WAREHOUSE_DIR=$WAREHOUSE_DIR tools/scripts/iceberg-query.sh shop/likes ["source == 'alice'"] (pyiceberg; makes the venv when missing)
MSG
if [ "${WITH_DRUID:-0}" = "1" ]; then
  echo "  Druid queries   http://127.0.0.1:$DRUID_INGEST_PORT/queries/top-targets?table=likes ('npm run stack -- down druid' stops Druid)"
fi
echo "Ctrl-C drains and stops the apps; 'npm run stack -- down' stops the services. Warnings and errors follow below."
show_logs warn 0
# Ends when any app exits (then the EXIT trap stops the others) or on Ctrl-C (the INT trap).
wait -n "${apps[@]}" || true
echo "an app exited; see $LOG_DIR/" >&2
