#!/usr/bin/env bash
# Prints the rows of one of the snapshotter's Iceberg tables with pyiceberg, creating the venv (tools/stack,
# .stack/venv or $STACK_DIR/venv) first when it is missing.
#   tools/scripts/iceberg-query.sh shop/likes                         # every row (at most LIMIT, default 50)
#   tools/scripts/iceberg-query.sh shop/likes "source == 'alice'"     # a pyiceberg row filter
# Settings: WAREHOUSE_DIR (default .data/snapshotter/warehouse), LIMIT.
set -euo pipefail
cd "$(dirname "$0")/../.."
table="${1:-}"
warehouse="${WAREHOUSE_DIR:-.data/snapshotter/warehouse}"
if [ -z "$table" ]; then
  echo "usage: $0 <database>/<table> [row filter]; tables in $warehouse:" >&2
  (cd "$warehouse" 2>/dev/null && ls -d */*/metadata 2>/dev/null | sed 's#/metadata$##; s#^#  #') >&2 || echo "  (none yet: is the snapshotter running?)" >&2
  exit 2
fi
python="${STACK_DIR:-.stack}/venv/bin/python"
if ! "$python" -c 'import pyiceberg, pyarrow' >/dev/null 2>&1; then
  source tools/scripts/node-env.sh >/dev/null 2>&1
  npx tsx tools/stack/src/cli.ts up pyiceberg >&2
fi
# The newest vN.metadata.json is the table's current state (the snapshotter commits a new one every interval).
"$python" - "$warehouse/$table" "${2:-}" "${LIMIT:-50}" <<'PY'
import glob, os, re, sys
from pyiceberg.table import StaticTable
path, row_filter, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
versions = sorted(glob.glob(os.path.join(path, "metadata", "v*.metadata.json")),
                  key=lambda p: int(re.search(r"v(\d+)\.metadata\.json$", p).group(1)))
# A JDBC-catalog table names its metadata files <n>-<uuid>.metadata.json: the newest file is the current one.
versions = versions or sorted(glob.glob(os.path.join(path, "metadata", "*.metadata.json")), key=os.path.getmtime)
if not versions:
    sys.exit(f"no Iceberg metadata under {path}/metadata yet: check the table name, or wait for the snapshotter's next commit")
table = StaticTable.from_metadata(versions[-1])
scan = table.scan(row_filter=row_filter, limit=limit) if row_filter else table.scan(limit=limit)
rows = scan.to_arrow()
snap = table.current_snapshot()
print(f"{path}: snapshot {snap.snapshot_id if snap else '-'}, {rows.num_rows} row(s) shown (LIMIT={limit})")
for r in rows.to_pylist():
    print("  " + " ".join(f"{k}={v}" for k, v in r.items() if v is not None))
PY
