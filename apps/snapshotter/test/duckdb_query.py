"""DuckDB over the snapshotter's tables: the iceberg and avro extensions are loaded from the PyPI packages'
files (duckdb-ext-iceberg, duckdb-ext-avro), so nothing is downloaded at run time.

usage: duckdb_query.py <metadata file> <sql>    (the SQL names the table as `t`)
prints JSON: {"columns": [...], "rows": [[...], ...]}
"""
import glob
import json
import os
import sys

import duckdb
import duckdb_ext


def extension(name: str) -> str:
    root = list(duckdb_ext.__path__)[0]
    found = sorted(glob.glob(os.path.join(root, "extensions", f"v{duckdb.__version__}", "*", f"{name}.duckdb_extension")))
    if not found:
        raise SystemExit(f"no {name} extension for DuckDB {duckdb.__version__} under {root}: install duckdb-ext-{name}=={duckdb.__version__}.*")
    return found[0]


def main() -> None:
    metadata, sql = sys.argv[1], sys.argv[2]
    con = duckdb.connect(config={"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"})
    for name in ("avro", "iceberg"):
        con.execute(f"LOAD '{extension(name)}'")
    con.execute(f"CREATE VIEW t AS SELECT * FROM iceberg_scan('{metadata}')")
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    rows = [[v if isinstance(v, (int, float, str, bool)) or v is None else str(v) for v in r] for r in cur.fetchall()]
    print(json.dumps({"columns": cols, "rows": rows}))


if __name__ == "__main__":
    main()
