#!/usr/bin/env bash
# Runs the pipeline on this machine: real Kafka and Elasticsearch (tools/stack; Druid with WITH_DRUID=1),
# the Actionbase core on embedded storage publishing WAL and CDC, the consumer apps, and a small demo
# workload. Ctrl-C stops the apps; `npm run stack -- down` stops the services.
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
BOOTSTRAP="${KAFKA_BOOTSTRAP:-127.0.0.1:9092}"
PORT="${PORT:-8080}"

export KAFKA_BROKERS="$BOOTSTRAP" PORT STORAGE_PATH="${STORAGE_PATH:-.data/actionbase/actionbase.db}"
npx tsx apps/actionbase/src/main.ts &
core=$!
trap 'kill -TERM $core 2>/dev/null; wait $core 2>/dev/null' EXIT INT TERM

for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/graph/health/readiness" >/dev/null 2>&1 && break
  kill -0 $core 2>/dev/null || { echo "the core exited during start; see the log above" >&2; exit 1; }
  sleep 0.2
done

# The async processor applies the queued writes of ASYNC tables (the demo's recent_views) through the core.
# Plain node (not npx) so that $! is the processor itself and the trap stops it.
KAFKA_BROKERS="$BOOTSTRAP" CORE_URL="http://127.0.0.1:$PORT" HTTP_PORT="${ASYNC_PROCESSOR_PORT:-8090}" \
  KEEP_NEWEST="${KEEP_NEWEST:-shop.recent_views:recent:50}" node --import tsx apps/async-processor/src/main.ts &
async_processor=$!
trap 'kill -TERM $core $async_processor 2>/dev/null; wait $core $async_processor 2>/dev/null' EXIT INT TERM

# Druid (optional, heavy: ~2 GB of memory, ~40 s to start): WITH_DRUID=1 npm start. apps/druid-ingest applies
# the CDC supervisor spec to it and serves the dashboard queries. Plain node so that $! is the app.
if [ "${WITH_DRUID:-0}" = "1" ]; then
  npx tsx tools/stack/src/cli.ts up druid
  KAFKA_BROKERS="$BOOTSTRAP" PORT="${DRUID_INGEST_PORT:-8093}" node --import tsx apps/druid-ingest/src/main.ts &
  druid_ingest=$!
  trap 'kill -TERM $core $async_processor $druid_ingest 2>/dev/null; wait $core $async_processor $druid_ingest 2>/dev/null' EXIT INT TERM
fi

# The snapshotter turns CDC into Iceberg tables of current state (one per table) and a Parquet change log
# under WAREHOUSE_DIR; see apps/snapshotter. Plain node so that $! is the process the trap stops.
KAFKA_BROKERS="$BOOTSTRAP" HTTP_PORT="${SNAPSHOTTER_PORT:-8094}" WAREHOUSE_DIR="${WAREHOUSE_DIR:-.data/snapshotter/warehouse}" \
  STAGING_DIR="${SNAPSHOTTER_STAGING_DIR:-.data/snapshotter/staging}" COMMIT_INTERVAL_MS="${SNAPSHOT_COMMIT_INTERVAL_MS:-10000}" \
  node --import tsx apps/snapshotter/src/main.ts &
snapshotter=$!
trap 'kill -TERM $core $async_processor ${druid_ingest:-} $snapshotter 2>/dev/null; wait $core $async_processor ${druid_ingest:-} $snapshotter 2>/dev/null' EXIT INT TERM

# The es-indexer puts every WAL and CDC record into Elasticsearch and serves the support lookup (API + page);
# see apps/es-indexer. A random lookup token unless LOOKUP_TOKENS is set. Plain node so that $! is the indexer.
LOOKUP_TOKENS="${LOOKUP_TOKENS:-support:$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')}"
KAFKA_BROKERS="$BOOTSTRAP" ES_URL="${ES_URL:-http://127.0.0.1:9200}" HTTP_PORT="${ES_INDEXER_HEALTH_PORT:-8096}" \
  API_PORT="${ES_INDEXER_PORT:-8095}" LOOKUP_TOKENS="$LOOKUP_TOKENS" AUDIT_LOG_PATH="${AUDIT_LOG_PATH:-.data/es-indexer/audit.jsonl}" \
  node --import tsx apps/es-indexer/src/main.ts &
es_indexer=$!
trap 'kill -TERM $core ${async_processor:-} ${druid_ingest:-} ${snapshotter:-} $es_indexer 2>/dev/null; wait $core ${async_processor:-} ${druid_ingest:-} ${snapshotter:-} $es_indexer 2>/dev/null' EXIT INT TERM

npx tsx tools/scripts/demo-workload.ts "http://127.0.0.1:$PORT"
cat <<MSG

The pipeline is running.
  core REST API   http://127.0.0.1:$PORT/graph/v3/databases
  WAL records     kcat -b $BOOTSTRAP -C -t actionbase.wal -o beginning -e
  CDC records     kcat -b $BOOTSTRAP -C -t actionbase.cdc -o beginning -e
  WAL replay      KAFKA_BROKERS=$BOOTSTRAP npx tsx apps/wal-replay/src/main.ts check --target-url http://127.0.0.1:$PORT (also rebuild, migrate; apps/wal-replay)
  async processor http://127.0.0.1:${ASYNC_PROCESSOR_PORT:-8090}/metrics (applies recent_views, keeps the newest 50 per user)
  Iceberg tables  ${WAREHOUSE_DIR:-.data/snapshotter/warehouse}/<database>/<table> (snapshotter, a commit every ${SNAPSHOT_COMMIT_INTERVAL_MS:-10000} ms)
  support lookup  http://127.0.0.1:${ES_INDEXER_PORT:-8095}/ (token: ${LOOKUP_TOKENS#*:}; CLI: LOOKUP_URL=http://127.0.0.1:${ES_INDEXER_PORT:-8095} LOOKUP_TOKEN=... npx tsx apps/es-indexer/src/lookup.cli.ts user <id>)
Ctrl-C stops the apps; 'npm run stack -- down' stops the services.
MSG
if [ "${WITH_DRUID:-0}" = "1" ]; then
  echo "  Druid queries   http://127.0.0.1:${DRUID_INGEST_PORT:-8093}/queries/top-targets?table=likes (druid-ingest; 'npm run stack -- down druid' stops Druid)"
fi
wait $core
