"""Checks that every data file any snapshot of an Iceberg table references exists, has exactly the size the
manifest says, and is a readable Parquet file with the rows the manifest says (pyiceberg plans, pyarrow reads).

usage: check_files.py <metadata json path>
prints JSON: {"snapshots": n, "files": n, "problems": [...]}
"""
import json
import os
import sys

import pyarrow.parquet as pq
from pyiceberg.table import StaticTable


def main() -> None:
    table = StaticTable.from_metadata(sys.argv[1])
    problems, seen = [], set()
    for s in table.metadata.snapshots:
        for task in table.scan(snapshot_id=s.snapshot_id).plan_files():
            f = task.file
            if f.file_path in seen:
                continue
            seen.add(f.file_path)
            if not os.path.exists(f.file_path):
                problems.append(f"missing: {f.file_path}")
                continue
            size = os.path.getsize(f.file_path)
            if size != f.file_size_in_bytes:
                problems.append(f"size {size} != {f.file_size_in_bytes}: {f.file_path}")
            try:
                n = pq.read_metadata(f.file_path).num_rows
                if n != f.record_count:
                    problems.append(f"rows {n} != {f.record_count}: {f.file_path}")
            except Exception as e:  # noqa: BLE001
                problems.append(f"unreadable {f.file_path}: {e}")
    print(json.dumps({"snapshots": len(table.metadata.snapshots), "files": len(seen), "problems": problems}))


if __name__ == "__main__":
    main()
