"""Reads an ml-export dataset with pyarrow and DuckDB, independently of the exporter, and prints one JSON object.

usage: check_dataset.py <dataset dir>

- pyarrow: the Hive-partitioned dataset (split=, day=), its schema and row counts;
- DuckDB: per item and per user, the active edges at the end (the latest labelled example of each pair), the
  final counts implied by the features (last example's count +1 or -1), and how many examples' features differ
  from a running sum over the earlier examples (window over event_time, seq): 0 when no feature looked ahead.
"""
import json
import sys

import duckdb
import pyarrow.dataset as ds

root = sys.argv[1]
d = ds.dataset(root, format="parquet", partitioning="hive")
table = d.to_table()
schema = {f.name: str(f.type) for f in d.schema}

con = duckdb.connect()
con.execute(f"CREATE VIEW x AS SELECT * FROM read_parquet('{root}/**/*.parquet', hive_partitioning = true)")
# `user` is a keyword in SQL: the view names it u.
con.execute("""CREATE VIEW labelled AS SELECT "user" AS u, item, label, event_time, seq, item_in_count, user_out_count FROM x WHERE label <> 'negative'""")

def pairs(sql):
    return {str(k): int(v) for k, v in con.execute(sql).fetchall()}

final_in = pairs("""
  SELECT item, count(*) FROM (
    SELECT item, arg_max(label, (event_time, seq)) AS last FROM labelled GROUP BY u, item
  ) WHERE last = 'active' GROUP BY item""")
final_out = pairs("""
  SELECT u, count(*) FROM (
    SELECT u, arg_max(label, (event_time, seq)) AS last FROM labelled GROUP BY u, item
  ) WHERE last = 'active' GROUP BY u""")
in_from_features = pairs("""
  SELECT item, arg_max(item_in_count + CASE label WHEN 'active' THEN 1 ELSE -1 END, (event_time, seq)) FROM labelled GROUP BY item""")
out_from_features = pairs("""
  SELECT u, arg_max(user_out_count + CASE label WHEN 'active' THEN 1 ELSE -1 END, (event_time, seq)) FROM labelled GROUP BY u""")
step = "CASE label WHEN 'active' THEN 1 ELSE -1 END"
def replay_mismatches(feature, key):
    return con.execute(f"""
      SELECT count(*) FROM (
        SELECT {feature} AS got,
               coalesce(sum({step}) OVER (PARTITION BY {key} ORDER BY event_time, seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS replayed
        FROM labelled) WHERE got <> replayed""").fetchone()[0]

bad_in = replay_mismatches("item_in_count", "item")
bad_out = replay_mismatches("user_out_count", "u")
splits = {str(s): {"rows": int(n), "min_ms": int(lo), "max_ms": int(hi)} for s, n, lo, hi in con.execute(
    "SELECT split, count(*), epoch_ms(min(event_time)), epoch_ms(max(event_time)) FROM x GROUP BY split").fetchall()}
labels = pairs("SELECT label, count(*) FROM x GROUP BY label")
days_ok = con.execute("SELECT count(*) FROM x WHERE CAST(day AS VARCHAR) <> strftime(event_time AT TIME ZONE 'UTC', '%Y-%m-%d')").fetchone()[0] == 0

print(json.dumps({
    "rows": table.num_rows,
    "schema": schema,
    "splits": splits,
    "labels": labels,
    "final_in": final_in,
    "final_out": final_out,
    "in_from_features": in_from_features,
    "out_from_features": out_from_features,
    "feature_mismatches_in": int(bad_in),
    "feature_mismatches_out": int(bad_out),
    "days_match_event_time": days_ok,
}))
