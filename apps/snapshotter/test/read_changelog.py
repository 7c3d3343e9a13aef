"""Independent reader of the snapshotter's change log: pyarrow reads every Parquet file under the Hive-style
table=/hour= folders (dot-files, i.e. temp files of a crashed write, are skipped as by any Hive reader).

usage: read_changelog.py <changelog dir>
prints JSON: {"files": n, "rows": n, "coordinates": [[partition, offset], ...], "tables": {table: n}, "hours": [...],
              "seqs": [...], "statuses": {status: n}}
"""
import json
import sys

import pyarrow.dataset as ds


def main() -> None:
    dataset = ds.dataset(sys.argv[1], format="parquet", partitioning="hive")
    table = dataset.to_table()
    rows = table.to_pylist()
    tables, statuses = {}, {}
    for r in rows:
        tables[r["table"]] = tables.get(r["table"], 0) + 1
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    print(json.dumps({
        "files": len(dataset.files),
        "rows": len(rows),
        "schema": [f"{f.name}:{f.type}" for f in table.schema],
        "coordinates": [[r["kafka_partition"], r["kafka_offset"]] for r in rows],
        "tables": tables,
        "hours": sorted({str(r["hour"]) for r in rows}),
        "seqs": [r["seq"] for r in rows],
        "statuses": statuses,
    }))


if __name__ == "__main__":
    main()
