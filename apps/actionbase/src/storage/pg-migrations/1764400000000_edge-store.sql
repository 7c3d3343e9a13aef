-- Up Migration
-- The core's tables on PostgreSQL (storage/pg-store.ts). Every key column compares bytewise
-- (COLLATE "C"), as SQLite's do, so scans and cursors order alike on both stores.
--
-- Distribution: each edge table leads its primary key with `dkey`, the source side of what it holds
-- (edge_state: the edge's source, or a multi-edge's id; edge_index and edge_count: the start), so a
-- sharded PostgreSQL (Citus: create_distributed_table(..., 'dkey')) keeps one source's rows together.

CREATE TABLE meta_database (name text COLLATE "C" PRIMARY KEY, def text NOT NULL);
CREATE TABLE meta_table (db text COLLATE "C" NOT NULL, name text COLLATE "C" NOT NULL, def text NOT NULL, PRIMARY KEY (db, name));
CREATE TABLE meta_alias (db text COLLATE "C" NOT NULL, name text COLLATE "C" NOT NULL, def text NOT NULL, PRIMARY KEY (db, name));
CREATE TABLE meta_counter (name text COLLATE "C" PRIMARY KEY, value bigint NOT NULL);
CREATE TABLE purge_queue (tbl text COLLATE "C" PRIMARY KEY);

CREATE TABLE edge_state (
  dkey text COLLATE "C" NOT NULL,
  tbl text COLLATE "C" NOT NULL,
  ekey text COLLATE "C" NOT NULL,
  source text NOT NULL,
  target text NOT NULL,
  eid text,
  state text NOT NULL,
  PRIMARY KEY (dkey, tbl, ekey)
);
-- Whole-table work (schema checks, index builds, exports, purge) goes by table.
CREATE INDEX edge_state_by_table ON edge_state (tbl, ekey);

CREATE TABLE edge_index (
  dkey text COLLATE "C" NOT NULL,
  tbl text COLLATE "C" NOT NULL,
  idx text COLLATE "C" NOT NULL,
  dir text COLLATE "C" NOT NULL,
  sortkey bytea NOT NULL,
  ekey text COLLATE "C" NOT NULL,
  -- dkey of the edge's state row, so a scan reads the state by its primary key
  sdkey text COLLATE "C" NOT NULL,
  PRIMARY KEY (dkey, tbl, idx, dir, sortkey, ekey)
);
CREATE INDEX edge_index_by_table ON edge_index (tbl, idx);

CREATE TABLE edge_count (
  dkey text COLLATE "C" NOT NULL,
  tbl text COLLATE "C" NOT NULL,
  dir text COLLATE "C" NOT NULL,
  n bigint NOT NULL,
  PRIMARY KEY (dkey, tbl, dir)
);
CREATE INDEX edge_count_by_table ON edge_count (tbl);

-- CDC records to relay, in commit order: `seq` comes from cdc_clock, whose single row every
-- committing transaction updates last, so sequence order is commit order across all instances.
CREATE TABLE outbox (seq bigint PRIMARY KEY, key text NOT NULL, value text NOT NULL);
CREATE TABLE cdc_clock (id int PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL);
INSERT INTO cdc_clock (id, seq) VALUES (1, 0);

-- Down Migration
DROP TABLE cdc_clock, outbox, edge_count, edge_index, edge_state, purge_queue, meta_counter, meta_alias, meta_table, meta_database;
