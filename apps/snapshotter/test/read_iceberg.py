"""Independent reader for the snapshotter's tests: opens an Iceberg table with pyiceberg (StaticTable, no catalog
server), scans the current snapshot and, by id, every snapshot the metadata lists (time travel).

usage: read_iceberg.py <table location> [--snapshots]
prints JSON: {"metadata": path, "current": id, "summary": {...}, "rows": [...], "snapshots": [{"id", "summary", "rows"}]}
"""
import json
import os
import sys

from pyiceberg.table import StaticTable


def latest_metadata(location: str) -> str:
    meta_dir = os.path.join(location, "metadata")
    with open(os.path.join(meta_dir, "version-hint.text")) as f:
        hint = int(f.read().strip())
    # The hint may lag behind a crash; a reader takes the highest version present, like Iceberg's Hadoop tables.
    best = hint
    while os.path.exists(os.path.join(meta_dir, f"v{best + 1}.metadata.json")):
        best += 1
    return os.path.join(meta_dir, f"v{best}.metadata.json")


def rows_of(table, snapshot_id=None):
    scan = table.scan(snapshot_id=snapshot_id) if snapshot_id is not None else table.scan()
    arrow = scan.to_arrow()
    out = []
    for r in arrow.to_pylist():
        out.append({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()})
    return out


def main() -> None:
    location = sys.argv[1]
    with_snapshots = "--snapshots" in sys.argv[2:]
    path = latest_metadata(location)
    table = StaticTable.from_metadata(path)
    current = table.current_snapshot()
    result = {
        "metadata": path,
        "formatVersion": table.metadata.format_version,
        "schema": [(f.field_id, f.name, str(f.field_type), f.required) for f in table.schema().fields],
        "current": current.snapshot_id if current else None,
        "summary": dict(current.summary.additional_properties) | {"operation": current.summary.operation.value} if current else None,
        "rows": rows_of(table) if current else [],
    }
    if with_snapshots:
        result["snapshots"] = [
            {"id": s.snapshot_id, "parent": s.parent_snapshot_id, "summary": dict(s.summary.additional_properties), "rows": rows_of(table, s.snapshot_id)}
            for s in table.metadata.snapshots
        ]
        result["snapshotLog"] = [e.snapshot_id for e in table.metadata.snapshot_log]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
