"""Independent reader through a catalog: pyiceberg's SqlCatalog on the same PostgreSQL tables
(iceberg_tables / iceberg_namespace_properties) the snapshotter commits to, or pyiceberg's RestCatalog on an
Iceberg REST catalog server (an http(s):// URL); scans like read_iceberg.py.

usage: read_catalog.py <postgres url | REST catalog URL> <catalog name> <namespace.table> [--snapshots]
prints the JSON of read_iceberg.py, plus "tables": every table the catalog lists
"""
import json
import sys

from pyiceberg.catalog.rest import RestCatalog
from pyiceberg.catalog.sql import SqlCatalog

from read_iceberg import rows_of


def main() -> None:
    url, name, ident = sys.argv[1], sys.argv[2], sys.argv[3]
    with_snapshots = "--snapshots" in sys.argv[4:]
    if url.startswith(("http://", "https://")):
        catalog = RestCatalog(name, uri=url)
    else:
        catalog = SqlCatalog(name, uri="postgresql+psycopg2://" + url.split("://", 1)[1], init_catalog_tables="false")
    table = catalog.load_table(ident)
    current = table.current_snapshot()
    namespaces = [".".join(n) for n in catalog.list_namespaces()]
    result = {
        "metadata": table.metadata_location,
        "formatVersion": table.metadata.format_version,
        "schema": [(f.field_id, f.name, str(f.field_type), f.required) for f in table.schema().fields],
        "current": current.snapshot_id if current else None,
        "summary": dict(current.summary.additional_properties) | {"operation": current.summary.operation.value} if current else None,
        "rows": rows_of(table) if current else [],
        "tables": sorted(".".join(t) for ns in namespaces for t in catalog.list_tables(ns)),
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
