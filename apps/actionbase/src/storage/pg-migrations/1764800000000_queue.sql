-- Up Migration
-- queue/v1 (storage/pg-queue-store.ts): queue definitions, and messages keyed by queue tablespace,
-- partition, seq and id, so that a poll is one range read and a commit one range delete. `tbl` leads
-- the key as the edge tables' do; a deleted queue's messages are removed by the background purge
-- (purge_queue), as a deleted table's rows are.
CREATE TABLE meta_queue (ns text COLLATE "C" NOT NULL, name text COLLATE "C" NOT NULL, def text NOT NULL, PRIMARY KEY (ns, name));
CREATE TABLE queue_message (
  tbl text COLLATE "C" NOT NULL,
  part int NOT NULL,
  seq bigint NOT NULL,
  id text COLLATE "C" NOT NULL,
  value text NOT NULL,
  PRIMARY KEY (tbl, part, seq, id)
);

-- Down Migration
DROP TABLE queue_message, meta_queue;
